"""Users, argon2 password hashes and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.domain import Role
from civicpulse.errors import Conflict, NotFound, Unprocessable
from civicpulse.identity import Principal
from civicpulse.store.tables import ApiTokenRow, UserRow

_hasher = PasswordHasher()
TOKEN_PREFIX = "cp_"
MIN_PASSWORD_LENGTH = 8


def _normalise_email(email: str) -> str:
    email = email.strip().lower()
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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    if role == Role.agency_officer and not agencies:
        raise Unprocessable("an agency officer needs at least one agency")
    row = UserRow(email=email, password_hash=_hasher.hash(password), role=role.value, agencies=list(agencies))
    session.add(row)
    session.flush()
    return row


def find_user(session: Session, email: str) -> UserRow:
    """The user with this e-mail, or ``NotFound``."""
    row = session.scalar(select(UserRow).where(UserRow.email == email.strip().lower()))
    if row is None:
        raise NotFound(f"no user with e-mail {email}")
    return row


def authenticate(session: Session, email: str, password: str) -> UserRow | None:
    """The active user whose password matches, else ``None`` (same cost either way)."""
    row = session.scalar(select(UserRow).where(UserRow.email == email.strip().lower()))
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


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: UserRow, name: str | None = None) -> str:
    """A new bearer token for ``user``; only its hash is stored, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiTokenRow(user_id=user.id, token_hash=_token_hash(token), name=name))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> UserRow | None:
    """The active user a valid, unrevoked token belongs to."""
    row = session.scalar(
        select(UserRow)
        .join(ApiTokenRow, ApiTokenRow.user_id == UserRow.id)
        .where(ApiTokenRow.token_hash == _token_hash(token), ApiTokenRow.revoked.is_(False))
    )
    if row is None or not row.active:
        return None
    return row


def list_users(session: Session) -> list[UserRow]:
    """Every user, oldest first."""
    return list(session.scalars(select(UserRow).order_by(UserRow.id)))
