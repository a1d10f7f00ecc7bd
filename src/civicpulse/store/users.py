"""Users, argon2 password hashes and bearer tokens; disabling users and revoking their access."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civicpulse.domain import Role
from civicpulse.errors import Conflict, NotFound, Unprocessable
from civicpulse.identity import Principal
from civicpulse.store.audit import record_audit
from civicpulse.store.sessions import revoke_user_sessions
from civicpulse.store.tables import ApiTokenRow, UserRow

_hasher = PasswordHasher()
TOKEN_PREFIX = "cp_"
MIN_PASSWORD_LENGTH = 8


def email_key(email: str) -> str:
    """An e-mail as accounts are looked up (and login attempts counted): trimmed, lower case."""
    return email.strip().lower()


def _normalise_email(email: str) -> str:
    email = email_key(email)
    if "@" not in email or len(email) > 254:
        raise Unprocessable(f"{email!r} is not an e-mail address")
    return email


def principal_of(row: UserRow) -> Principal:
    """The principal of a stored user, as routes and pages see it."""
    return Principal(row.id, row.email, Role(row.role), tuple(row.agencies or ()))


def create_user(
    session: Session,
    email: str,
    password: str,
    role: Role,
    agencies: Sequence[str] = (),
    *,
    exist_ok: bool = False,
) -> UserRow:
    """Add a user; with ``exist_ok`` an existing user of that e-mail is returned unchanged."""
    email = _normalise_email(email)
    existing = session.scalar(select(UserRow).where(UserRow.email == email))
    if existing is not None:
        if exist_ok:
            return existing
        raise Conflict(f"a user with e-mail {email} already exists")
    _check_password(password)
    if role == Role.agency_officer and not agencies:
        raise Unprocessable("an agency officer needs at least one agency")
    row = UserRow(email=email, password_hash=_hasher.hash(password), role=role.value, agencies=list(agencies))
    session.add(row)
    session.flush()
    return row


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"password must have at least {MIN_PASSWORD_LENGTH} characters")


def find_user(session: Session, email: str) -> UserRow:
    """The user with this e-mail, or ``NotFound``."""
    row = session.scalar(select(UserRow).where(UserRow.email == email_key(email)))
    if row is None:
        raise NotFound(f"no user with e-mail {email}")
    return row


def authenticate(session: Session, email: str, password: str) -> UserRow | None:
    """The active user whose password matches, else ``None`` (same cost either way)."""
    row = session.scalar(select(UserRow).where(UserRow.email == email_key(email)))
    if row is None or not row.active:
        _hasher.hash(password)  # keep timing similar for unknown users
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    return row


def token_hash(token: str) -> str:
    """What the table stores of a token (and what rate limits count it by)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: UserRow, name: str | None = None) -> str:
    """A new bearer token for ``user``; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiTokenRow(user_id=user.id, token_hash=token_hash(token), name=name))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> UserRow | None:
    """The active user a valid, unrevoked token belongs to."""
    row = session.scalar(
        select(UserRow)
        .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
        .where(ApiTokenRow.token_hash == token_hash(token), ApiTokenRow.revoked.is_(False))
    )
    if row is None or not row.active:
        return None
    return row


def list_users(session: Session) -> list[UserRow]:
    """Every user, oldest first."""
    return list(session.scalars(select(UserRow).order_by(UserRow.id)))


def set_password(session: Session, email: str, password: str, *, actor: str) -> int:
    """Give the user a new password and end all their sessions (audited); how many were ended."""
    _check_password(password)
    row = find_user(session, email)
    row.password_hash = _hasher.hash(password)
    ended = revoke_user_sessions(session, row.id)
    record_audit(
        session,
        actor=actor,
        action="user.password",
        target=f"user:{row.id}",
        detail={"sessions_revoked": ended},
    )
    return ended


def disable_user(session: Session, email: str, *, actor: str) -> tuple[int, int]:
    """Mark the user inactive, end their sessions and revoke their tokens (audited); the counts."""
    row = find_user(session, email)
    row.active = False
    ended = revoke_user_sessions(session, row.id)
    revoked = _revoke_all_tokens(session, row.id)
    record_audit(
        session,
        actor=actor,
        action="user.disable",
        target=f"user:{row.id}",
        detail={"sessions_revoked": ended, "tokens_revoked": revoked},
    )
    return ended, revoked


def enable_user(session: Session, email: str, *, actor: str) -> None:
    """Let a disabled user sign in again (audited); revoked tokens stay revoked."""
    row = find_user(session, email)
    if not row.active:
        row.active = True
        record_audit(session, actor=actor, action="user.enable", target=f"user:{row.id}")


def revoke_token(session: Session, token: str, *, actor: str) -> ApiTokenRow:
    """Revoke the token of this value (audited); ``NotFound`` when there is none, live or revoked."""
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash(token.strip())))
    if row is None:
        raise NotFound("no such token")
    if not row.revoked:
        row.revoked = True
        _audit_token_revocation(session, actor, [row])
    return row


def revoke_user_tokens(session: Session, email: str, name: str | None, *, actor: str) -> int:
    """Revoke the user's live tokens of this name (every one when ``name`` is ``None``), audited."""
    user = find_user(session, email)
    query = select(ApiTokenRow).where(ApiTokenRow.user_id == user.id, ApiTokenRow.revoked.is_(False))
    if name is not None:
        query = query.where(ApiTokenRow.name == name)
    rows = list(session.scalars(query))
    for row in rows:
        row.revoked = True
    _audit_token_revocation(session, actor, rows)
    return len(rows)


def list_tokens(session: Session, email: str | None = None) -> list[tuple[ApiTokenRow, str]]:
    """Tokens (never their values) with their user's e-mail, oldest first; one user's with ``email``."""
    query = select(ApiTokenRow, UserRow.email).join(UserRow, UserRow.id == ApiTokenRow.user_id)
    if email is not None:
        query = query.where(UserRow.email == email_key(email))
    return [(row, owner) for row, owner in session.execute(query.order_by(ApiTokenRow.id))]


def _revoke_all_tokens(session: Session, user_id: int) -> int:
    result = session.execute(
        update(ApiTokenRow)
        .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked.is_(False))
        .values(revoked=True)
    )
    return int(result.rowcount or 0)


def _audit_token_revocation(session: Session, actor: str, rows: Sequence[ApiTokenRow]) -> None:
    for row in rows:
        record_audit(
            session,
            actor=actor,
            action="token.revoke",
            target=f"token:{row.id}",
            detail={"user_id": row.user_id},
        )
