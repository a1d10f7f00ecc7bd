"""Keeping the data safe: ``backup`` and ``restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.filesize import decimal
from rich.table import Table

from civicpulse.cli.base import app, cannot_write, err, fail, load_settings
from civicpulse.errors import CivicPulseError


def _rows_table(title: str, rows: dict[str, int]) -> Table:
    table = Table("table", "rows", title=title)
    for name, count in rows.items():
        table.add_row(name, f"{count:,}")
    return table


@app.command()
def backup(
    file: Annotated[Path, typer.Argument(help="The backup file to write (replaced only when complete).")],
) -> None:
    """Back up the database into FILE, consistent while the service writes.

    SQLite: the online backup API, one self-contained file; PostgreSQL: pg_dump's custom format."""
    from civicpulse.store.backup import backup_database
    from civicpulse.store.db import Database

    settings = load_settings()
    db = Database.from_settings(settings)
    try:
        summary = backup_database(db, file)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    except OSError as exc:
        raise cannot_write(file, exc) from exc
    finally:
        db.dispose()
    Console().print(_rows_table(f"Backup of the {summary.dialect} database", summary.rows))
    err.print(f"wrote {summary.path} ({decimal(summary.size)})")


@app.command()
def restore(
    file: Annotated[Path, typer.Argument(help="A backup written by civicpulse backup.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Replace the database without asking.")] = False,
) -> None:
    """Replace the configured database with the backup FILE, then upgrade its schema.

    Refuses a backup whose contact details the configured contact key cannot decrypt."""
    from civicpulse.store.backup import check_backup, restore_database
    from civicpulse.store.contacts import ContactCipher
    from civicpulse.store.db import Database

    settings = load_settings()
    db = Database.from_settings(settings)
    cipher = ContactCipher(settings.fernet_key)
    try:
        check = check_backup(db, file, cipher)
        if check.rows:
            Console().print(_rows_table(f"Backup {check.path}", check.rows))
        err.print(
            f"{check.path}: a CivicPulse {check.dialect} backup (schema {check.revision or 'empty'}); "
            f"the configured key opens the {check.keys_checked} encrypted values sampled"
        )
        if not yes:
            typer.confirm(f"Replace everything in {db.engine.url!r} with this backup?", abort=True)
        restore_database(db, file, cipher)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    finally:
        db.dispose()
    err.print(f"restored {file} into the configured database; schema upgraded")
