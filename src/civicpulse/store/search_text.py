"""The folded search copies (``search_texts``): written at acceptance and when redaction is stored,
matched with one ``LIKE`` of the folded query on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from civicpulse.store.tables import SearchTextRow
from civicpulse.textkit.folding import fold


def store_folded_texts(session: Session, texts: Sequence[tuple[int, str]]) -> None:
    """Fold and store the raw text of newly accepted submissions: ``(submission_id, text)`` pairs."""
    if texts:
        session.execute(
            SearchTextRow.__table__.insert(),
            [
                {"submission_id": sid, "text_folded": fold(text), "redacted_folded": None}
                for sid, text in texts
            ],
        )


def store_folded_redaction(session: Session, submission_id: int, redacted_text: str) -> None:
    """Fold and store a submission's redacted text (the ``pii`` stage's output, new or redone)."""
    session.execute(
        update(SearchTextRow)
        .where(SearchTextRow.submission_id == submission_id)
        .values(redacted_folded=fold(redacted_text))
    )


def matching(query: str, *, raw: bool) -> Select[Any]:
    """The ids of submissions whose folded raw text (``raw``) or redacted text contains ``query``."""
    column = SearchTextRow.text_folded if raw else SearchTextRow.redacted_folded
    return select(SearchTextRow.submission_id).where(column.contains(fold(query), autoescape=True))
