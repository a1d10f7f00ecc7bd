"""Stored official documents and their passages (ids are stable: claims and answers cite them)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, defer

from civicpulse.store.tables import DocumentRow, PassageRow, utcnow


@dataclass(frozen=True)
class IndexedPassage:
    """What the retrieval index needs of a passage."""

    id: int
    document_id: int
    text: str
    title: str
    published: date | None


def add_document(session: Session, document: DocumentRow, passages: Sequence[PassageRow]) -> DocumentRow:
    """Store a document and its passages (``document_id`` is filled in); both get their ids."""
    document.created_at = document.created_at or utcnow()
    session.add(document)
    session.flush()
    for passage in passages:
        passage.document_id = document.id
    session.add_all(passages)
    session.flush()
    return document


def document_by_sha(session: Session, sha256: str) -> DocumentRow | None:
    """The document whose text has this SHA-256, if stored."""
    return session.scalar(select(DocumentRow).where(DocumentRow.sha256 == sha256))


def get_document(session: Session, document_id: int, *, lock: bool = False) -> DocumentRow | None:
    """The document of ``document_id``, if any."""
    return session.get(DocumentRow, document_id, with_for_update=lock)


def list_documents(session: Session, *, limit: int = 100, offset: int = 0) -> list[DocumentRow]:
    """Documents, newest first, without their full text."""
    query = (
        select(DocumentRow)
        .options(defer(DocumentRow.text))
        .order_by(DocumentRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(session.scalars(query))


def count_documents(session: Session) -> int:
    """How many documents are stored."""
    return int(session.scalar(select(func.count()).select_from(DocumentRow)) or 0)


def passage_counts(session: Session, document_ids: Iterable[int]) -> dict[int, int]:
    """How many passages each of those documents has."""
    ids = list(document_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(PassageRow.document_id, func.count())
        .where(PassageRow.document_id.in_(ids))
        .group_by(PassageRow.document_id)
    )
    return {document_id: int(n) for document_id, n in rows}


def passages_of(session: Session, document_id: int) -> list[PassageRow]:
    """A document's passages in reading order."""
    return list(
        session.scalars(
            select(PassageRow).where(PassageRow.document_id == document_id).order_by(PassageRow.position)
        )
    )


def passages_by_ids(session: Session, ids: Iterable[int]) -> dict[int, PassageRow]:
    """The stored passages among ``ids``, by id (unknown ids are left out)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row.id: row for row in session.scalars(select(PassageRow).where(PassageRow.id.in_(wanted)))}


def documents_by_ids(session: Session, ids: Iterable[int]) -> dict[int, DocumentRow]:
    """The stored documents among ``ids``, by id, without their full text."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = select(DocumentRow).options(defer(DocumentRow.text)).where(DocumentRow.id.in_(wanted))
    return {row.id: row for row in session.scalars(query)}


def passages_after(session: Session, after_id: int, *, limit: int | None = None) -> list[IndexedPassage]:
    """Passages with an id above ``after_id`` (all of them from 0), by id, with their document's
    title and date, for the retrieval index."""
    query = (
        select(
            PassageRow.id,
            PassageRow.document_id,
            PassageRow.text,
            DocumentRow.title,
            func.coalesce(DocumentRow.effective_on, DocumentRow.issued_on),
        )
        .join(DocumentRow, DocumentRow.id == PassageRow.document_id)
        .where(PassageRow.id > after_id)
        .order_by(PassageRow.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [IndexedPassage(*row) for row in session.execute(query)]


def last_passage_id(session: Session) -> int:
    """The highest passage id stored (0 without any): the index's mark of what it has seen."""
    return int(session.scalar(select(func.max(PassageRow.id))) or 0)


def supersede(session: Session, old: DocumentRow, new: DocumentRow) -> None:
    """Record that ``new`` replaces ``old``; ``old``'s passages stay, marked superseded."""
    old.superseded_by = new.id
    new.supersedes = old.id
    session.execute(
        update(PassageRow).where(PassageRow.document_id == old.id).values(superseded=True),
        execution_options={"synchronize_session": False},
    )
    session.flush()
