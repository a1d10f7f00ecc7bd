"""Storing and reading submissions: idempotent acceptance with its analysis job, one transaction."""

from __future__ import annotations

import base64
import hashlib
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from civicpulse.domain import (
    Accepted,
    AnnotationOut,
    Attachment,
    CaseStatus,
    SubmissionIn,
    SubmissionOut,
    SubmissionPage,
)
from civicpulse.errors import BadRequest, NotFound
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.tables import AnnotationRow, ContactRow, JobRow, SubmissionRow, utcnow

_TRACKING_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L


def content_hash(text: str) -> str:
    """SHA-256 of the text after NFC and whitespace folding: the same words hash the same."""
    folded = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(folded.encode()).hexdigest()


def dedup_key(item: SubmissionIn, text_hash: str) -> str:
    """The identity of a submission: channel + source id, or channel + content hash."""
    if item.source_id is not None:
        raw = f"id\0{item.channel}\0{item.source_id}"
    else:
        raw = f"text\0{item.channel}\0{text_hash}"
    return hashlib.sha256(raw.encode()).hexdigest()


def new_tracking_code() -> str:
    """A short public code such as ``CP-7K3M-9QXD`` (about 40 bits of randomness)."""
    number = secrets.randbelow(len(_TRACKING_ALPHABET) ** 8)
    chars = []
    for _ in range(8):
        number, digit = divmod(number, len(_TRACKING_ALPHABET))
        chars.append(_TRACKING_ALPHABET[digit])
    return f"CP-{''.join(chars[:4])}-{''.join(chars[4:])}"


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    return insert(table)


def accept_submissions(
    session: Session,
    items: Sequence[SubmissionIn],
    cipher: ContactCipher,
    *,
    default_agency: dict[str, str] | None = None,
) -> list[Accepted]:
    """Store new submissions with their analysis jobs; return one result per item, in order.

    Items already stored (same source id, or same channel and text) are not stored again: their
    existing id comes back with ``duplicate=True``. The caller's transaction makes it atomic.
    """
    now = utcnow()
    keyed: list[tuple[str, SubmissionIn, str]] = []
    for item in items:
        text_hash = content_hash(item.text)
        keyed.append((dedup_key(item, text_hash), item, text_hash))
    keys = list({key for key, _, _ in keyed})
    existing = dict(
        session.execute(
            select(SubmissionRow.dedup_key, SubmissionRow.id).where(SubmissionRow.dedup_key.in_(keys))
        ).all()
    )
    rows: list[dict[str, Any]] = []
    pending: dict[str, SubmissionIn] = {}
    for key, item, text_hash in keyed:
        if key in existing or key in pending:
            continue
        pending[key] = item
        rows.append(
            {
                "tracking_code": new_tracking_code(),
                "dedup_key": key,
                "content_hash": text_hash,
                "channel": item.channel.value,
                "source_id": item.source_id,
                "text": item.text,
                "received_at": item.received_at or now,
                "created_at": now,
                "updated_at": now,
                "language_hint": item.language_hint,
                "locality": item.locality,
                "lat": item.lat,
                "long": item.long,
                "service_code": item.service_code,
                "status": CaseStatus.open.value,
                "analysis_state": "pending",
                "agency": (default_agency or {}).get(item.service_code or ""),
                "has_contact": item.contact is not None and not item.contact.is_empty(),
                "attachments": [a.model_dump(exclude_none=True) for a in item.attachments],
            }
        )
    created: dict[str, int] = {}
    if rows:
        statement = (
            _insert(session, SubmissionRow.__table__)
            .on_conflict_do_nothing(index_elements=["dedup_key"])
            .returning(SubmissionRow.__table__.c.dedup_key, SubmissionRow.__table__.c.id)
        )
        created = dict(session.execute(statement, rows).all())
        lost = [key for key in pending if key not in created]
        if lost:  # another transaction stored them first: they are duplicates now
            existing.update(
                session.execute(
                    select(SubmissionRow.dedup_key, SubmissionRow.id).where(SubmissionRow.dedup_key.in_(lost))
                ).all()
            )
        jobs = [{"submission_id": sid, "run_after": now, "created_at": now} for sid in created.values()]
        if jobs:
            session.execute(insert(JobRow.__table__), jobs)
        contacts = [
            {"submission_id": created[key], "ciphertext": cipher.encrypt(item.contact), "created_at": now}
            for key, item in pending.items()
            if key in created and item.contact is not None and not item.contact.is_empty()
        ]
        if contacts:
            session.execute(insert(ContactRow.__table__), contacts)
    codes = {row["dedup_key"]: row["tracking_code"] for row in rows}
    duplicate_codes = _tracking_codes(session, [existing[k] for k, _, _ in keyed if k in existing])
    results: list[Accepted] = []
    seen_new: set[str] = set()
    for key, _, _ in keyed:
        if key in created and key not in seen_new:
            seen_new.add(key)
            results.append(Accepted(id=created[key], tracking_code=codes[key], duplicate=False))
        elif key in created:
            results.append(Accepted(id=created[key], tracking_code=codes[key], duplicate=True))
        else:
            sid = existing[key]
            results.append(Accepted(id=sid, tracking_code=duplicate_codes[sid], duplicate=True))
    return results


def _tracking_codes(session: Session, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(SubmissionRow.id, SubmissionRow.tracking_code).where(SubmissionRow.id.in_(ids))
    return dict(session.execute(query).all())


def to_out(row: SubmissionRow, annotations: Sequence[AnnotationRow] = ()) -> SubmissionOut:
    """The API view of a stored submission."""
    return SubmissionOut(
        id=row.id,
        tracking_code=row.tracking_code,
        text=row.text,
        redacted_text=_redacted_text(annotations),
        channel=row.channel,
        source_id=row.source_id,
        received_at=row.received_at,
        created_at=row.created_at,
        language_hint=row.language_hint,
        locality=row.locality,
        lat=row.lat,
        long=row.long,
        service_code=row.service_code,
        status=row.status,
        analysis_state=row.analysis_state,
        agency=row.agency,
        has_contact=row.has_contact,
        attachments=[Attachment.model_validate(a) for a in row.attachments or []],
        annotations={
            a.stage: AnnotationOut(stage=a.stage, data=a.data, created_at=a.created_at) for a in annotations
        },
    )


def _redacted_text(annotations: Sequence[AnnotationRow]) -> str | None:
    for annotation in annotations:
        if annotation.stage == "pii" and isinstance(annotation.data.get("redacted_text"), str):
            return annotation.data["redacted_text"]
    return None


def get_submission(session: Session, submission_id: int) -> SubmissionOut:
    """One submission with its annotations, or ``NotFound``."""
    row = session.get(SubmissionRow, submission_id)
    if row is None:
        raise NotFound(f"submission {submission_id} does not exist")
    annotations = session.scalars(
        select(AnnotationRow).where(AnnotationRow.submission_id == submission_id)
    ).all()
    return to_out(row, annotations)


def get_by_tracking_code(session: Session, code: str) -> SubmissionRow:
    """The submission with this public tracking code, or ``NotFound``."""
    row = session.scalar(select(SubmissionRow).where(SubmissionRow.tracking_code == code.strip().upper()))
    if row is None:
        raise NotFound("no submission has this tracking code")
    return row


@dataclass(frozen=True)
class SubmissionFilter:
    """What the inbox and the list API filter on."""

    channel: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    agencies: tuple[str, ...] | None = None  # None: every agency; a tuple limits to those

    def apply(self, query: Select[Any]) -> Select[Any]:
        """The query narrowed by every filter that is set."""
        if self.channel:
            query = query.where(SubmissionRow.channel == self.channel)
        if self.status:
            query = query.where(SubmissionRow.status == self.status)
        if self.since:
            query = query.where(SubmissionRow.received_at >= self.since)
        if self.until:
            query = query.where(SubmissionRow.received_at < self.until)
        if self.text:
            query = query.where(SubmissionRow.text.icontains(self.text, autoescape=True))
        if self.agencies is not None:
            query = query.where(SubmissionRow.agency.in_(self.agencies))
        return query


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for the page after ``last_id``."""
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The id a cursor points after; a malformed cursor is a ``BadRequest``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, value = base64.urlsafe_b64decode(padded.encode()).decode().split(":", 1)
        if version != "v1":
            raise ValueError(version)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("cursor is malformed; pass the next_cursor of a previous page") from exc


def list_submissions(
    session: Session, filters: SubmissionFilter, *, limit: int = 50, cursor: str | None = None
) -> SubmissionPage:
    """Newest first, ``limit`` at a time, with the cursor of the next page."""
    query = filters.apply(select(SubmissionRow)).order_by(SubmissionRow.id.desc())
    if cursor:
        query = query.where(SubmissionRow.id < decode_cursor(cursor))
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    by_submission: dict[int, list[AnnotationRow]] = {}
    if rows:
        annotations = session.scalars(
            select(AnnotationRow).where(AnnotationRow.submission_id.in_([r.id for r in rows]))
        )
        for annotation in annotations:
            by_submission.setdefault(annotation.submission_id, []).append(annotation)
    return SubmissionPage(
        items=[to_out(r, by_submission.get(r.id, ())) for r in rows],
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )


def count_submissions(session: Session, filters: SubmissionFilter) -> int:
    """How many submissions match the filters."""
    return session.scalar(filters.apply(select(func.count(SubmissionRow.id)))) or 0
