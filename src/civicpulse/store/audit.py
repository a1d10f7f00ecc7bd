"""The audit log: append-only records of who did what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from civicpulse.store.db import Database
from civicpulse.store.tables import AuditRow, utcnow

TEXT_READ = "text.read"
"""A user was shown submissions' raw text and typed fields (the handler's view), like ``contact.read``."""
TEXT_SEARCH = "text.search"
"""A user searched the raw text of every submission (admins)."""


@dataclass(frozen=True)
class AuditEvent:
    """One event to record; ``record_audits`` writes many in one statement."""

    actor: str
    action: str
    target: str | None = None
    client: str | None = None
    status: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    client: str | None = None,
    status: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one audit event to the session's transaction."""
    record_audits(
        session,
        [
            AuditEvent(
                actor=actor, action=action, target=target, client=client, status=status, detail=detail or {}
            )
        ],
    )


def record_text_reads(
    session: Session,
    submission_ids: Sequence[int],
    *,
    actor: str,
    client: str | None,
    via: str,
    search: str | None = None,
) -> None:
    """Audit a response that showed raw text (and the raw typed fields): one ``text.read`` event per
    submission shown; a raw-text search adds one ``text.search`` event with its query and hits."""
    events = [
        AuditEvent(actor, TEXT_READ, f"submission:{sid}", client, 200, {"via": via}) for sid in submission_ids
    ]
    if search is not None:
        detail = {"via": via, "q": search, "shown": len(submission_ids)}
        events.append(AuditEvent(actor=actor, action=TEXT_SEARCH, client=client, status=200, detail=detail))
    record_audits(session, events)


def audit_text_reads(
    db: Database,
    submission_ids: Sequence[int],
    *,
    actor: str,
    client: str | None,
    via: str,
    search: str | None = None,
) -> None:
    """``record_text_reads`` in a transaction of its own, committed before the response goes out."""
    if not submission_ids and search is None:
        return
    with db.write() as session:
        record_text_reads(session, submission_ids, actor=actor, client=client, via=via, search=search)


def record_audits(session: Session, events: Sequence[AuditEvent]) -> None:
    """Add several audit events, all stamped with the same time, to the session's transaction."""
    if not events:
        return
    now = utcnow()
    rows = [
        {
            "at": now,
            "actor": event.actor,
            "action": event.action,
            "target": event.target,
            "client": event.client,
            "status": event.status,
            "detail": event.detail,
        }
        for event in events
    ]
    session.execute(insert(AuditRow.__table__), rows)
