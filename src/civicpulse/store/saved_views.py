"""Each user's named inbox views (filters and sort kept as the inbox's query string)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from civicpulse.errors import Conflict, NotFound
from civicpulse.store.tables import SavedViewRow, utcnow

MAX_VIEWS = 50


def list_views(session: Session, user_id: int) -> list[SavedViewRow]:
    """The user's views, by name."""
    return list(
        session.scalars(
            select(SavedViewRow).where(SavedViewRow.user_id == user_id).order_by(SavedViewRow.name)
        )
    )


def save_view(session: Session, user_id: int, name: str, query: str) -> SavedViewRow:
    """Store (or replace, same name) one view of the user; ``Conflict`` past ``MAX_VIEWS``."""
    existing = session.scalar(
        select(SavedViewRow).where(SavedViewRow.user_id == user_id, SavedViewRow.name == name)
    )
    if existing is not None:
        existing.query = query
        return existing
    if len(list_views(session, user_id)) >= MAX_VIEWS:
        raise Conflict(f"at most {MAX_VIEWS} saved views per user")
    row = SavedViewRow(user_id=user_id, name=name, query=query, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def delete_view(session: Session, user_id: int, view_id: int) -> None:
    """Remove one of the user's views; ``NotFound`` when it is not theirs or does not exist."""
    result = session.execute(
        delete(SavedViewRow).where(SavedViewRow.id == view_id, SavedViewRow.user_id == user_id)
    )
    if result.rowcount == 0:
        raise NotFound(f"saved view {view_id} does not exist")
