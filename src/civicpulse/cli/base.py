"""The ``civicpulse`` command line: the Typer app and what every command needs."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from civicpulse.errors import CivicPulseError
from civicpulse.settings import Settings
from civicpulse.store.db import Database

app = typer.Typer(help="CivicPulse: hear citizens at scale.", no_args_is_help=True)

err = Console(stderr=True)

LOADING_MODELS = "loading the analysis models (the first batch takes longer) ..."


def load_settings() -> Settings:
    """The settings from the environment; exit 2 with the reason when they are not valid."""
    try:
        return Settings()
    except ValueError as exc:
        err.print(f"[red]configuration error:[/red] {exc}")
        raise typer.Exit(2) from exc


def open_store(settings: Settings) -> Database:
    """The database of ``settings``, upgraded to the current schema."""
    db = Database.from_settings(settings)
    db.upgrade()
    return db


def fail(exc: CivicPulseError) -> typer.Exit:
    """Print the error's message; exit 1."""
    err.print(f"[red]error:[/red] {exc.message}")
    return typer.Exit(1)


def cannot_write(output: Path, exc: OSError) -> typer.Exit:
    """Print why ``output`` cannot be written; exit 1."""
    err.print(f"[red]error:[/red] cannot write {output}: {exc.strerror or exc}")
    return typer.Exit(1)
