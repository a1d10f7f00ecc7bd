"""``civicpulse claims import FILE`` and ``claims export``: the claim base as ClaimReview JSON-LD."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from civicpulse.atomic import atomic_output
from civicpulse.cli.base import cannot_write, err, fail, load_settings, open_store
from civicpulse.cli.knowledge import claims_app
from civicpulse.errors import CivicPulseError, Unprocessable


@claims_app.command("import")
def claims_import(
    file: Annotated[Path, typer.Argument(help="A JSON-LD list of ClaimReview objects (or one object).")],
) -> None:
    """Store the ClaimReviews of FILE (those stored before are skipped); any invalid object and
    nothing is imported."""
    from civicpulse.knowledge.claimreview import fields_of, read_file
    from civicpulse.knowledge.claims import import_many

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]error:[/red] cannot read {file}: {exc}")
        raise typer.Exit(1) from exc
    try:
        objects = read_file(text)
        problems = []
        for position, obj in enumerate(objects):
            try:
                fields_of(obj)
            except Unprocessable as exc:
                problems.append(f"object {position}: {exc.message}")
        if problems:
            for problem in problems:
                err.print(f"  {problem}")
            err.print(f"[red]error:[/red] {len(problems)} problem(s) in {file}; nothing imported")
            raise typer.Exit(1)
        db = open_store(load_settings())
        with db.write() as session:
            result = import_many(session, objects, actor="cli")
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(
        f"imported {len(objects)} ClaimReviews from {file}: {len(result.added)} new, "
        f"{len(result.existing)} stored before"
    )


@claims_app.command("export")
def claims_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write; stdout if absent.")
    ] = None,
) -> None:
    """Write every claim as a JSON-LD list of the ClaimReview objects stored, unchanged."""
    from civicpulse.knowledge.claims import export

    db = open_store(load_settings())
    with db.read() as session:
        objects = export(session)
    text = json.dumps(objects, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    try:
        with atomic_output(output) as partial:
            partial.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise cannot_write(output, exc) from exc
    err.print(f"exported {len(objects)} ClaimReviews to {output}")
