"""The ``civicpulse`` command line."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from civicpulse.atomic import atomic_output
from civicpulse.domain import Channel, Role
from civicpulse.errors import CivicPulseError
from civicpulse.settings import Settings
from civicpulse.store.db import Database

if TYPE_CHECKING:
    from civicpulse.insight.themes.models import ThemesOut

app = typer.Typer(help="CivicPulse: hear citizens at scale.", no_args_is_help=True)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(token_app, name="token")

err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return Settings()
    except ValueError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _store(settings: Settings) -> Database:
    db = Database.from_settings(settings)
    db.upgrade()
    return db


def _fail(exc: CivicPulseError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc.message}")
    return typer.Exit(1)


def _cannot_write(output: Path, exc: OSError) -> typer.Exit:
    err.print(f"[red]error:[/red] cannot write {output}: {exc.strerror or exc}")
    return typer.Exit(1)


@app.command()
def init(
    admin_email: Annotated[str, typer.Option(help="E-mail of the first admin.")],
    admin_password: Annotated[str, typer.Option(help="Password of the first admin.")],
) -> None:
    """Create or upgrade the database and the first admin (safe to run twice)."""
    from civicpulse.store.users import create_user

    settings = _settings()
    db = _store(settings)
    try:
        with db.write() as session:
            user = create_user(session, admin_email, admin_password, Role.admin, exist_ok=True)
            email = user.email
    except CivicPulseError as exc:
        raise _fail(exc) from exc
    err.print(f"database ready at {settings.database_url}; admin: {email}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None, typer.Option(help="Analysis worker threads (default from settings; 0: none).")
    ] = None,
) -> None:
    """Serve the API, Open311, the citizen form and the dashboard, with analysis workers."""
    import uvicorn

    from civicpulse.service import create_app

    settings = _settings()
    if workers is not None:
        settings = settings.model_copy(update={"worker_threads": workers})
    # Hand the GIL over more often, so that the event loop answers while intake and analysis
    # threads work (shorter tail latency; measured with bench/intake.py).
    sys.setswitchinterval(0.001)
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", timeout_graceful_shutdown=10)


@app.command()
def worker(
    threads: Annotated[int | None, typer.Option(help="Worker threads.")] = None,
    drain: Annotated[bool, typer.Option(help="Process what is queued, then exit.")] = False,
) -> None:
    """Run analysis workers (several processes may run at once on PostgreSQL)."""
    from civicpulse.runtime.process import Runtime
    from civicpulse.store.jobs import queue_counts

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = _settings()
    db = _store(settings)
    runtime = Runtime(settings, db)
    if drain:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        with db.read() as session:
            queued = queue_counts(session).get("queued", 0)
        drainer = runtime.worker()
        columns = ("analysing", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        handled = 0
        with Progress(*columns, console=err) as progress:
            task = progress.add_task("analysing", total=queued or None)
            while batch := drainer.run_once():
                handled += batch
                progress.update(task, completed=handled)
        with db.read() as session:
            counts = queue_counts(session)
        err.print(f"analysed {handled} submissions; queue: {counts}")
        return
    count = settings.worker_threads if threads is None else threads
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    runtime.start_workers(count)
    err.print(f"{count} worker threads running; Ctrl-C to stop")
    stopped.wait()
    runtime.close()


@app.command()
def ingest(
    files: Annotated[list[Path], typer.Argument(help="CSV, TSV, XLSX, JSONL, .eml or mbox files.")],
    channel: Annotated[Channel, typer.Option(help="Channel when a row names none.")] = (Channel.file_import),
    text_column: Annotated[str | None, typer.Option(help="Column holding the text.")] = None,
    id_column: Annotated[str | None, typer.Option(help="Column holding the source id.")] = None,
    time_column: Annotated[str | None, typer.Option(help="Column holding the time.")] = None,
    locality_column: Annotated[str | None, typer.Option(help="Column holding the place.")] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Write rejected rows (file, line, reason) to this CSV.")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Who imports, for the audit log.")] = None,
) -> None:
    """Import files; good rows are stored, bad rows are reported with their line and reason.

    Exits with 1 when a file cannot be read at all, or when rows were read and none was good.
    """
    import getpass

    from civicpulse.intake.files import ColumnMapping, import_files

    settings = _settings()
    db = _store(settings)
    mapping = ColumnMapping(
        text=text_column, source_id=id_column, received_at=time_column, locality=locality_column
    )
    if actor is None:
        try:
            actor = f"cli:{getpass.getuser()}"
        except (KeyError, OSError):
            actor = "cli:import"
    try:
        report = import_files(
            db,
            settings,
            files,
            mapping=mapping,
            default_channel=channel,
            rejects_path=rejects,
            console=err,
            actor=actor,
        )
    except CivicPulseError as exc:
        raise _fail(exc) from exc
    raise typer.Exit(report.exit_code)


@app.command()
def export(
    output: Annotated[Path, typer.Argument(help="File to write: .csv, .jsonl or .parquet.")],
    include_contact: Annotated[
        bool, typer.Option(help="Include contact details (audited; handle with care).")
    ] = False,
    actor: Annotated[str, typer.Option(help="Who exports, for the audit log.")] = "cli",
) -> None:
    """Export submissions with their annotations (the file is replaced only once it is complete)."""
    from civicpulse.store.export import export_submissions

    settings = _settings()
    db = _store(settings)
    try:
        count = export_submissions(db, settings, output, include_contact=include_contact, actor=actor)
    except CivicPulseError as exc:
        raise _fail(exc) from exc
    except OSError as exc:
        raise _cannot_write(output, exc) from exc
    err.print(f"wrote {count} submissions to {output}")


@app.command()
def analyze(
    files: Annotated[list[Path], typer.Argument(help="CSV, TSV, XLSX, JSONL, .eml or mbox files.")],
    output: Annotated[Path | None, typer.Option(help="JSONL file to write (default: stdout).")] = None,
    stages: Annotated[
        str | None, typer.Option(help="Comma-separated stages (default: the configured ones).")
    ] = None,
    text_column: Annotated[str | None, typer.Option(help="Column holding the text.")] = None,
    batch_size: Annotated[int, typer.Option(help="Items per batch.")] = 256,
) -> None:
    """Analyse files with the worker's stages and write one JSON line per record; stores nothing.

    ``--output`` is replaced only when the analysis succeeds; on failure the old file stays as it was.
    """
    from civicpulse.intake.files import ColumnMapping
    from civicpulse.runtime.batch import analyze_files

    settings = _settings()
    if stages:
        settings = settings.model_copy(update={"stages": [s.strip() for s in stages.split(",") if s.strip()]})
    mapping = ColumnMapping(text=text_column)
    try:
        if output is None:
            report = analyze_files(settings, files, sys.stdout, mapping=mapping, batch_size=batch_size)
        else:
            with atomic_output(output) as partial, partial.open("w", encoding="utf-8") as handle:
                report = analyze_files(settings, files, handle, mapping=mapping, batch_size=batch_size)
    except CivicPulseError as exc:
        raise _fail(exc) from exc
    except OSError as exc:  # the output (or an input the readers did not catch) is not accessible
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    err.print(f"analysed {report.analysed}, rejected {report.rejected}, failed {report.failed}")


@app.command()
def train(
    task: Annotated[
        list[str] | None, typer.Option(help="topic, sentiment or toxicity (repeatable; default: all).")
    ] = None,
    min_examples: Annotated[int, typer.Option(help="Fewest corrected items to train on.")] = 20,
) -> None:
    """Learn models from analysts' corrections; running stages pick them up on their next batch."""
    from civicpulse.analysis.features import embedder_for, model_dir
    from civicpulse.analysis.training import TRAINERS, Example, train_and_save
    from civicpulse.store.labels import labelled_texts

    settings = _settings()
    db = _store(settings)
    unknown = sorted(set(task or ()) - set(TRAINERS))
    if unknown:
        err.print(f"[red]error:[/red] unknown task {', '.join(unknown)}; known: {', '.join(TRAINERS)}")
        raise typer.Exit(2)
    embedder = embedder_for(settings)
    for name in task or list(TRAINERS):
        with db.read() as session:
            examples = [Example(text=text, label=label) for text, label in labelled_texts(session, name)]
        labels = {example.label for example in examples}
        if len(examples) < min_examples or len(labels) < 2:
            err.print(
                f"{name}: {len(examples)} corrected items with {len(labels)} labels; "
                f"need {min_examples} with at least two labels: skipped"
            )
            continue
        path = train_and_save(name, examples, model_dir(settings), embedder)
        err.print(f"{name}: trained on {len(examples)} corrected items -> {path}")


@app.command()
def themes(
    since: Annotated[datetime | None, typer.Option("--from", help="Received at or after (ISO 8601).")] = None,
    until: Annotated[datetime | None, typer.Option("--to", help="Received before (ISO 8601).")] = None,
    topic: Annotated[str | None, typer.Option(help="Only this topic code.")] = None,
    place: Annotated[str | None, typer.Option(help="Only this province (code or name).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="table, json or html.")] = "table",
    output: Annotated[Path | None, typer.Option(help="Write json or html to this file, not stdout.")] = None,
    lang: Annotated[str, typer.Option(help="Language of the html report: vi or en.")] = "vi",
    store: Annotated[bool, typer.Option(help="Store the run (stable ids, new badges, incremental).")] = True,
) -> None:
    """Themes of a slice: labels, senders, quotes; themes of too few senders are held back.
    ``--format html`` writes one self-contained report (inline CSS, no scripts). A stored run asks
    the chat model for cited labels when CIVICPULSE_LLM_ENDPOINT is set."""
    from civicpulse.insight.themes.service import ThemeSlice, refresh_themes, themes_view
    from civicpulse.llm import ChatClient
    from civicpulse.web.i18n import LANGUAGES

    if output_format not in ("table", "json", "html"):
        raise typer.BadParameter("choose table, json or html", param_hint="--format")
    if output is not None and output_format == "table":
        raise typer.BadParameter("--output needs --format json or html", param_hint="--output")
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of: {', '.join(LANGUAGES)}", param_hint="--lang")
    settings = _settings()
    db = _store(settings)
    cut = ThemeSlice(since=since, until=until, topic=topic, place=place)
    try:
        if store:
            with db.write() as session:
                _, view = refresh_themes(
                    session, cut, k_anonymity=settings.k_anonymity, llm=ChatClient.from_settings(settings)
                )
        else:
            with db.read() as session:
                view = themes_view(session, cut, k_anonymity=settings.k_anonymity)
    except CivicPulseError as exc:
        raise _fail(exc) from exc
    if output_format in ("json", "html"):
        html = output_format == "html"
        text = _themes_html(view, settings, lang) if html else view.model_dump_json(indent=2)
        if output is None:
            typer.echo(text)
            return
        try:
            with atomic_output(output) as partial:
                partial.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise _cannot_write(output, exc) from exc
        err.print(f"wrote {len(view.themes)} themes to {output}")
        return
    from rich.table import Table

    table = Table("id", "theme", "senders", "new", "quote")
    for theme in view.themes:
        quote = theme.quotes[0].text if theme.quotes else ""
        table.add_row(str(theme.id), theme.label, str(theme.senders), "new" if theme.is_new else "", quote)
    Console().print(table)
    err.print(
        f"{view.items} items, unassigned {view.unassigned_share:.1%}, "
        f"{view.suppressed} themes held back (fewer than {view.k_anonymity} senders)"
    )


def _themes_html(view: ThemesOut, settings: Settings, lang: str) -> str:
    """The themes report, with the topic's and the province's names in the report's language."""
    from civicpulse.analysis.gazetteer import gazetteer
    from civicpulse.store.tables import utcnow
    from civicpulse.taxonomy import load_taxonomy
    from civicpulse.web.theme_cards import report_html

    topic_name = None
    if view.topic:
        topics = {t.code: t for t in load_taxonomy(settings.taxonomy_file).topics}
        found = topics.get(view.topic)
        topic_name = (found.name_en if lang == "en" else found.name_vi) if found else None
    province = gazetteer().provinces.get(view.place) if view.place else None
    return report_html(
        view,
        lang=lang,
        generated_at=utcnow(),
        topic_name=topic_name,
        place_name=province.name if province else None,
    )


@users_app.command("create")
def users_create(
    email: str,
    role: Annotated[Role, typer.Option(help="admin, analyst, agency_officer or viewer.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    agency: Annotated[list[str] | None, typer.Option(help="Agency code (repeatable).")] = None,
) -> None:
    """Add a user."""
    from civicpulse.store.users import create_user

    db = _store(_settings())
    try:
        with db.write() as session:
            create_user(session, email, password, role, agency or [])
    except CivicPulseError as exc:
        raise _fail(exc) from exc
    err.print(f"created {role.value} {email}")


@users_app.command("list")
def users_list() -> None:
    """List users."""
    from civicpulse.store.users import list_users

    db = _store(_settings())
    table = Table("id", "email", "role", "agencies", "active")
    with db.read() as session:
        for row in list_users(session):
            table.add_row(
                str(row.id), row.email, row.role, ", ".join(row.agencies or []), "yes" if row.active else "no"
            )
    Console().print(table)


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="E-mail of the token's user.")],
    name: Annotated[str | None, typer.Option(help="A label for the token.")] = None,
) -> None:
    """Create an API token and print it alone on stdout (it is shown only once)."""
    from civicpulse.store.users import create_token, find_user

    db = _store(_settings())
    try:
        with db.write() as session:
            token = create_token(session, find_user(session, user), name)
    except CivicPulseError as exc:
        raise _fail(exc) from exc
    typer.echo(token)


feeds_app = typer.Typer(help="RSS and Atom feeds of the feed channel.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("poll")
def feeds_poll() -> None:
    """Fetch every configured feed once and store its new entries.

    Exits with 1 when a feed could not be fetched or read (the others are stored all the same).
    """
    from civicpulse.intake.feeds import poll_feeds

    settings = _settings()
    if not settings.feeds:
        err.print("no feeds configured: set CIVICPULSE_FEEDS or [[feeds]] in the TOML file")
        raise typer.Exit(0)
    db = _store(settings)
    try:
        report = poll_feeds(db, settings, console=err)
    except CivicPulseError as exc:
        raise _fail(exc) from exc
    raise typer.Exit(report.exit_code)


@app.command("channels")
def list_channels() -> None:
    """The intake channels, built-in and added, with what they take in."""
    from civicpulse.intake.channels import describe_all

    table = Table("name", "channel", "polled", "description", title="Channels")
    for info in describe_all():
        table.add_row(info.name, info.channel.value, "yes" if info.poll else "", info.description)
    Console().print(table)
