"""Server-side dashboard sessions: a random id in the cookie, its SHA-256 and state in the table."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from civicpulse.store.tables import UserRow, UserSessionRow, utcnow

TOUCH_EVERY = timedelta(minutes=1)
MAX_SESSION_ID = 100


def session_hash(session_id: str) -> str:
    """What the table stores of a session id."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def start_session(session: Session, user: UserRow, lifetime: timedelta) -> str:
    """A new session of ``user`` ending after ``lifetime``; returns the id for the cookie.

    The user's sessions that have already ended are deleted on the way."""
    now = utcnow()
    session.execute(
        delete(UserSessionRow).where(UserSessionRow.user_id == user.id, UserSessionRow.expires_at < now)
    )
    session_id = secrets.token_urlsafe(32)
    session.add(
        UserSessionRow(
            session_hash=session_hash(session_id),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return session_id


def live_session(session: Session, session_id: str) -> tuple[UserSessionRow, UserRow] | None:
    """The session and its active user, when the id is known, unrevoked and unexpired."""
    if not session_id or len(session_id) > MAX_SESSION_ID:
        return None
    found = session.execute(
        select(UserSessionRow, UserRow)
        .join(UserRow, UserRow.id == UserSessionRow.user_id)
        .where(
            UserSessionRow.session_hash == session_hash(session_id),
            UserSessionRow.revoked_at.is_(None),
            UserSessionRow.expires_at > utcnow(),
            UserRow.active.is_(True),
        )
    ).first()
    return None if found is None else (found[0], found[1])


def needs_touch(row: UserSessionRow, now: datetime | None = None) -> bool:
    """Whether the session's last-seen time is old enough to be written again."""
    return (now or utcnow()) - row.last_seen_at >= TOUCH_EVERY


def touch_session(session: Session, session_row_id: int) -> None:
    """Record that the session was just used."""
    session.execute(
        update(UserSessionRow).where(UserSessionRow.id == session_row_id).values(last_seen_at=utcnow())
    )


def revoke_session(session: Session, session_id: str) -> UserSessionRow | None:
    """End one session; the row when it was live, else ``None``."""
    row = session.scalar(
        select(UserSessionRow).where(UserSessionRow.session_hash == session_hash(session_id))
    )
    if row is None or row.revoked_at is not None:
        return None
    row.revoked_at = utcnow()
    session.flush()
    return row


def revoke_user_sessions(session: Session, user_id: int) -> int:
    """End every live session of a user; how many there were."""
    result = session.execute(
        update(UserSessionRow)
        .where(
            UserSessionRow.user_id == user_id,
            UserSessionRow.revoked_at.is_(None),
            UserSessionRow.expires_at > utcnow(),
        )
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)
