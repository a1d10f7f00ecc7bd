"""``civicpulse docs add`` and ``docs list``: official documents into the library, and what it holds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from civicpulse.cli.base import err, fail, load_settings, open_store
from civicpulse.cli.knowledge import docs_app
from civicpulse.errors import CivicPulseError, Unprocessable
from civicpulse.knowledge.documents import MAX_DOCUMENT_BYTES, add_document
from civicpulse.knowledge.parsing_metadata import read_meta
from civicpulse.store import documents as stored

__all__ = ["docs_add", "docs_list"]


@docs_app.command("add")
def docs_add(
    file: Annotated[Path, typer.Argument(help="PDF, DOCX, HTML or plain-text file.")],
    issuer: Annotated[str | None, typer.Option(help="Who issued it.")] = None,
    number: Annotated[str | None, typer.Option(help="Its number, e.g. 15/2024/NĐ-CP.")] = None,
    type: Annotated[str | None, typer.Option("--type", help="Nghị định, Quyết định, FAQ ...")] = None,
    date: Annotated[str | None, typer.Option(help="Date issued: 2024-07-01 or 01/07/2024.")] = None,
    effective: Annotated[str | None, typer.Option(help="Date it takes effect.")] = None,
    expires: Annotated[str | None, typer.Option(help="Date it stops applying.")] = None,
    url: Annotated[str | None, typer.Option(help="Where it is published.")] = None,
    language: Annotated[str | None, typer.Option(help="vi or en (guessed when left out).")] = None,
    title: Annotated[str | None, typer.Option(help="Its title (else the file's own).")] = None,
    supersedes: Annotated[int | None, typer.Option(help="Id of the document it replaces.")] = None,
) -> None:
    """Add an official document: read, cut into passages along its structure, stored and indexed."""
    values = {
        "title": title,
        "issuer": issuer,
        "number": number,
        "doc_type": type,
        "issued_on": date,
        "effective_on": effective,
        "expires_on": expires,
        "url": url,
        "language": language,
        "supersedes": supersedes,
    }
    try:
        if not file.is_file():
            raise Unprocessable("not a readable file")
        if file.stat().st_size > MAX_DOCUMENT_BYTES:
            raise Unprocessable(f"larger than {MAX_DOCUMENT_BYTES} bytes")
        meta = read_meta(values)
        data = file.read_bytes()
        db = open_store(load_settings())
        try:
            with db.write() as session:
                added = add_document(session, data, meta, actor="cli", filename=file.name)
                document_id, count = added.document.id, len(added.passages)
        finally:
            db.dispose()
    except CivicPulseError as exc:
        raise fail(exc.__class__(f"{escape(str(file))}: {escape(exc.message)}")) from exc
    err.print(f"document {document_id}: {count} passages from {escape(file.name)}")
    typer.echo(document_id)


@docs_app.command("list")
def docs_list(limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100) -> None:
    """The stored documents, newest first."""
    db = open_store(load_settings())
    try:
        with db.read() as session:
            rows = stored.list_documents(session, limit=limit)
            counts = stored.passage_counts(session, (row.id for row in rows))
    finally:
        db.dispose()
    table = Table("id", "type", "number", "title", "passages", "superseded by")
    for row in rows:
        table.add_row(
            str(row.id),
            row.doc_type,
            escape(row.number or ""),
            escape(row.title),
            str(counts.get(row.id, 0)),
            str(row.superseded_by or ""),
        )
    typer.echo(f"{len(rows)} document(s)")
    err.print(table)
