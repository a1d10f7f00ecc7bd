"""Taking in and handing out: ``ingest``, ``export`` and ``feeds poll``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from civicpulse.cli.base import app, cannot_write, err, fail, load_settings, open_store
from civicpulse.domain import Channel
from civicpulse.errors import CivicPulseError


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
    shift_dates_to_today: Annotated[
        bool,
        typer.Option(
            help="Move every row's time by the same whole number of days so that the latest falls in "
            "the last 24 hours (demo data; order, weekdays and hours kept)."
        ),
    ] = False,
) -> None:
    """Import files; good rows are stored, bad rows are reported with their line and reason.

    Exits with 1 when a file cannot be read at all, or when rows were read and none was good.
    """
    import getpass

    from civicpulse.intake.files import ColumnMapping, import_files, shift_to_now

    settings = load_settings()
    db = open_store(settings)
    mapping = ColumnMapping(
        text=text_column, source_id=id_column, received_at=time_column, locality=locality_column
    )
    if actor is None:
        try:
            actor = f"cli:{getpass.getuser()}"
        except (KeyError, OSError):
            actor = "cli:import"
    shift = shift_to_now(settings, files, mapping=mapping) if shift_dates_to_today else None
    if shift:
        err.print(f"dates shifted by {shift.days} days")
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
            shift=shift,
        )
    except CivicPulseError as exc:
        raise fail(exc) from exc
    raise typer.Exit(report.exit_code)


@app.command()
def export(
    output: Annotated[Path, typer.Argument(help="File to write: .csv, .jsonl or .parquet.")],
    include_contact: Annotated[
        bool,
        typer.Option(help="Include contact details, the raw text and typed fields (audited; take care)."),
    ] = False,
    actor: Annotated[str, typer.Option(help="Who exports, for the audit log.")] = "cli",
) -> None:
    """Export submissions with their annotations (the file is replaced only once it is complete)."""
    from civicpulse.store.export import export_submissions

    settings = load_settings()
    db = open_store(settings)
    try:
        count = export_submissions(db, settings, output, include_contact=include_contact, actor=actor)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    except OSError as exc:
        raise cannot_write(output, exc) from exc
    err.print(f"wrote {count} submissions to {output}")


feeds_app = typer.Typer(help="RSS and Atom feeds of the feed channel.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")


@feeds_app.command("poll")
def feeds_poll() -> None:
    """Fetch every configured feed once and store its new entries.

    Exits with 1 when a feed could not be fetched or read (the others are stored all the same).
    """
    from civicpulse.intake.feeds import poll_feeds

    settings = load_settings()
    if not settings.feeds:
        err.print("no feeds configured: set CIVICPULSE_FEEDS or [[feeds]] in the TOML file")
        raise typer.Exit(0)
    db = open_store(settings)
    try:
        report = poll_feeds(db, settings, console=err)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    raise typer.Exit(report.exit_code)
