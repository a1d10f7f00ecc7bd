"""Analysts' decisions about themes (rename, merge, dismiss), stored as facts of their own."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.errors import NotFound, Unprocessable
from civicpulse.store.themes import DECISIONS, ThemeDecisionRow, ThemeRow


def decisions(session: Session) -> dict[int, dict[str, ThemeDecisionRow]]:
    """The latest decision of each kind per theme id."""
    latest: dict[int, dict[str, ThemeDecisionRow]] = {}
    for row in session.scalars(select(ThemeDecisionRow).order_by(ThemeDecisionRow.id)):
        latest.setdefault(row.theme_id, {})[row.action] = row
    return latest


def decide(
    session: Session,
    theme_id: int,
    action: str,
    *,
    actor: str,
    value: str | None = None,
    target_id: int | None = None,
) -> ThemeDecisionRow:
    """Record an analyst's decision: ``rename`` (value), ``merge`` (into target_id) or ``dismiss``."""
    if action not in DECISIONS:
        raise Unprocessable(f"unknown decision {action!r}; choose one of: {', '.join(DECISIONS)}")
    known = set(session.scalars(select(ThemeRow.theme_id).distinct()))
    if theme_id not in known:
        raise NotFound(f"theme {theme_id} does not exist")
    if action == "rename" and not (value and value.strip() and len(value) <= 300):
        raise Unprocessable("a rename needs a new label of 1 to 300 characters")
    if action == "merge" and (target_id is None or target_id == theme_id or target_id not in known):
        raise Unprocessable("a merge needs another existing theme as target_id")
    row = ThemeDecisionRow(
        theme_id=theme_id,
        action=action,
        value=value.strip() if value else None,
        target_id=target_id,
        actor=actor,
    )
    session.add(row)
    session.flush()
    return row
