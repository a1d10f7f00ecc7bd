"""Analysis from the command line: ``analyze``, ``train`` and ``themes``."""

from __future__ import annotations

import functools
import importlib.util
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape

from civicpulse.atomic import atomic_output
from civicpulse.cli.base import LOADING_MODELS, app, cannot_write, err, fail, load_settings, open_store
from civicpulse.errors import CivicPulseError
from civicpulse.settings import Settings

if TYPE_CHECKING:
    from civicpulse.insight.themes.models import ThemesOut
    from civicpulse.runtime.ray_themes import SampledThemes


@app.command()
def analyze(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="CSV, TSV, XLSX, JSONL, Parquet (Ray), .eml or mbox files; none: the store."),
    ] = None,
    output: Annotated[Path | None, typer.Option(help="JSONL file to write (default: stdout).")] = None,
    stages: Annotated[
        str | None, typer.Option(help="Comma-separated stages (default: the configured ones).")
    ] = None,
    text_column: Annotated[str | None, typer.Option(help="Column holding the text.")] = None,
    batch_size: Annotated[int, typer.Option(help="Items per batch.")] = 256,
    engine: Annotated[str, typer.Option(help="local or ray (pip install 'civicpulse[ray]').")] = "local",
    address: Annotated[
        str | None, typer.Option(help='Ray cluster to join ("auto": the one "ray start" started here).')
    ] = None,
) -> None:
    """Analyse files with the worker's stages and write one JSON line per record; stores nothing.
    Without files: analyse the stored submissions waiting for analysis and store the results.

    --output is replaced only when the analysis succeeds; on failure the old file stays as it was.
    """
    from civicpulse.intake.files import ColumnMapping
    from civicpulse.runtime.batch import analyze_files

    settings = _with_stages(load_settings(), stages)
    check_engine(engine, address)
    if not files:
        _analyze_store(settings, "queued", engine, address)
        return
    run = analyze_files
    if engine == "ray":
        from civicpulse.runtime.ray_engine import analyze_files_ray

        run = functools.partial(analyze_files_ray, address=address)
    mapping = ColumnMapping(text=text_column)
    err.print(LOADING_MODELS)
    try:
        if output is None:
            report = run(settings, files, sys.stdout, mapping=mapping, batch_size=batch_size)
        else:
            with atomic_output(output) as partial, partial.open("w", encoding="utf-8") as handle:
                report = run(settings, files, handle, mapping=mapping, batch_size=batch_size)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    except OSError as exc:  # the output (or an input the readers did not catch) is not accessible
        err.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    err.print(f"analysed {report.analysed}, rejected {report.rejected}, failed {report.failed}")


@app.command()
def reanalyze(
    stages: Annotated[
        str | None, typer.Option(help="Comma-separated stages (default: the configured ones).")
    ] = None,
    engine: Annotated[str, typer.Option(help="local or ray (pip install 'civicpulse[ray]').")] = "local",
    address: Annotated[
        str | None, typer.Option(help='Ray cluster to join ("auto": the one "ray start" started here).')
    ] = None,
) -> None:
    """Analyse every stored submission again (after a model or stage change); each stage's output
    replaces the earlier one."""
    settings = _with_stages(load_settings(), stages)
    check_engine(engine, address)
    _analyze_store(settings, "all", engine, address)


def _with_stages(settings: Settings, stages: str | None) -> Settings:
    """``settings`` with the stages of ``--stages`` when given."""
    if not stages:
        return settings
    return settings.model_copy(update={"stages": [s.strip() for s in stages.split(",") if s.strip()]})


def check_engine(engine: str, address: str | None) -> None:
    """Refuse an unknown engine, ``--address`` without Ray, and Ray when it is not installed."""
    if engine not in ("local", "ray"):
        raise typer.BadParameter("choose local or ray", param_hint="--engine")
    if address is not None and engine != "ray":
        raise typer.BadParameter("--address needs --engine ray", param_hint="--address")
    if engine == "ray" and importlib.util.find_spec("ray") is None:
        err.print("[red]error:[/red] the Ray engine needs Ray: pip install 'civicpulse[ray]'")
        raise typer.Exit(2)


def _analyze_store(
    settings: Settings, which: Literal["queued", "all"], engine: str, address: str | None
) -> None:
    """Analyse stored submissions (``queued`` or ``all``) with ``engine``; print the counts."""
    from civicpulse.runtime.store_runs import analyze_store_local

    db = open_store(settings)
    db.dispose()
    err.print(LOADING_MODELS)
    try:
        if engine == "ray":
            from civicpulse.runtime.ray_engine import analyze_store_ray

            report = analyze_store_ray(settings, which, address=address)
        else:
            report = analyze_store_local(settings, which)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(f"analysed {report.analysed}, failed {report.failed}")


@app.command()
def train(
    task: Annotated[
        list[str] | None,
        typer.Option(help="topic, sentiment, toxicity or agency (repeatable; default: all)."),
    ] = None,
    min_examples: Annotated[int, typer.Option(help="Fewest corrected items to train on.")] = 20,
) -> None:
    """Learn models from analysts' corrections (agency: from assignments); running stages pick them up
    on their next batch."""
    from civicpulse.analysis.features import embedder_for, model_dir
    from civicpulse.analysis.training import TRAINERS, Example, train_and_save
    from civicpulse.store.labels import labelled_texts
    from civicpulse.store.routing import assignment_texts

    settings = load_settings()
    db = open_store(settings)
    unknown = sorted(set(task or ()) - set(TRAINERS))
    if unknown:
        err.print(f"[red]error:[/red] unknown task {', '.join(unknown)}; known: {', '.join(TRAINERS)}")
        raise typer.Exit(2)
    embedder = embedder_for(settings)
    for name in task or list(TRAINERS):
        with db.read() as session:
            pairs = assignment_texts(session) if name == "agency" else labelled_texts(session, name)
            examples = [Example(text=text, label=label) for text, label in pairs]
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
    store: Annotated[
        bool, typer.Option(help="Store the run (stable ids, new badges, incremental); off by default.")
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            help="local or ray: on Ray, a slice of more than CIVICPULSE_THEMES_FIT_SAMPLE items is "
            "fitted on a sample of that many and the rest are assigned to the nearest theme."
        ),
    ] = "local",
    address: Annotated[
        str | None, typer.Option(help='Ray cluster to join ("auto": the one "ray start" started here).')
    ] = None,
) -> None:
    """Themes of a slice: labels, senders, quotes; themes of too few senders are held back.
    --format html writes one self-contained report (inline CSS, no scripts). Nothing is stored
    unless --store is given; a stored run asks the chat model for cited labels when
    CIVICPULSE_LLM_ENDPOINT is set. --engine ray fits a slice of more than
    CIVICPULSE_THEMES_FIT_SAMPLE items on a sample of that many and assigns every other item on Ray;
    a smaller slice gets the local themes."""
    from civicpulse.insight.themes.service import ThemeSlice, refresh_themes, themes_view
    from civicpulse.llm import ChatClient
    from civicpulse.web.i18n import LANGUAGES

    if output_format not in ("table", "json", "html"):
        raise typer.BadParameter("choose table, json or html", param_hint="--format")
    if output is not None and output_format == "table":
        raise typer.BadParameter("--output needs --format json or html", param_hint="--output")
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of: {', '.join(LANGUAGES)}", param_hint="--lang")
    check_engine(engine, address)
    settings = load_settings()
    db = open_store(settings)
    cut = ThemeSlice(since=since, until=until, topic=topic, place=place)
    discover = _sampled_themes(settings, address) if engine == "ray" else None
    try:
        if store:
            with db.write() as session:
                _, view = refresh_themes(
                    session,
                    cut,
                    k_anonymity=settings.k_anonymity,
                    llm=ChatClient.from_settings(settings),
                    discover=discover,
                )
        else:
            with db.read() as session:
                view = themes_view(session, cut, k_anonymity=settings.k_anonymity, discover=discover)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    if discover is not None:
        err.print(
            f"fitted on {discover.fitted} items; {discover.assigned} assigned to the nearest theme on Ray"
        )
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
            raise cannot_write(output, exc) from exc
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


def _sampled_themes(settings: Settings, address: str | None) -> SampledThemes:
    """The Ray engine's themes: fitted on a sample, the rest assigned on Ray."""
    from civicpulse.runtime.ray_themes import SampledThemes

    return SampledThemes(settings, address=address)


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
