"""The audit log: append-only records of who did what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from civicpulse.store.tables import AuditRow, utcnow


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
