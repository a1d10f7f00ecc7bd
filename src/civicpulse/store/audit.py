"""The audit log: append-only records of who did what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.store.tables import AuditRow


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
    session.add(
        AuditRow(
            actor=actor,
            action=action,
            target=target,
            client=client,
            status=status,
            detail=detail or {},
        )
    )


def recent_audit(
    session: Session, *, limit: int = 100, since: datetime | None = None, action: str | None = None
) -> list[AuditRow]:
    """The newest audit events first."""
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if since is not None:
        query = query.where(AuditRow.at >= since)
    if action is not None:
        query = query.where(AuditRow.action == action)
    return list(session.scalars(query))
