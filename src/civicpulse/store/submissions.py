"""Storing and reading submissions: idempotent acceptance with its analysis job, one transaction."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from civicpulse.annotations import PII_TEXT, TOPIC_REVIEW, PiiOut, TopicOut, stored_redacted_text
from civicpulse.domain import (
    Accepted,
    AnalysisState,
    AnnotationOut,
    AttachmentOut,
    CaseStatus,
    SubmissionIn,
    SubmissionOut,
    SubmissionPage,
)
from civicpulse.errors import BadRequest, NotFound
from civicpulse.store import bulk
from civicpulse.store.cases import case_summaries
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.labels import current_labels
from civicpulse.store.tables import AnnotationRow, LabelRow, SubmissionRow, utcnow
from civicpulse.store.tracking import new_tracking_codes
from civicpulse.textkit.fingerprint import content_hash


def dedup_key(item: SubmissionIn, text_hash: str, sender_key: str | None) -> str:
    """The identity of a submission (ADR 0002): channel + source id when the channel gives one;
    otherwise channel + content hash, plus the sender key (``ContactCipher.sender_key``) when the
    citizen gave an e-mail or phone, so that two citizens sending the same words stay two."""
    if item.source_id is not None:
        raw = f"id\0{item.channel}\0{item.source_id}"
    elif sender_key is not None:
        raw = f"text\0{item.channel}\0{text_hash}\0sender\0{sender_key}"
    else:
        raw = f"text\0{item.channel}\0{text_hash}"  # anonymous: unchanged, old keys still match
    return hashlib.sha256(raw.encode()).hexdigest()


def accept_submissions(
    session: Session,
    items: Sequence[SubmissionIn],
    cipher: ContactCipher,
    *,
    default_agency: Mapping[str, str] | None = None,
) -> list[Accepted]:
    """Store new submissions with their analysis jobs; return one result per item, in order.

    Items already stored (same source id, or same channel, text and sender: see ``dedup_key``) are
    not stored again: their existing id comes back with ``duplicate=True``. The caller's
    transaction makes it atomic.
    """
    now = utcnow()
    agencies = default_agency or {}
    open_status, pending_state = CaseStatus.open.value, AnalysisState.pending.value
    keys: list[str] = []
    firsts: dict[str, SubmissionIn] = {}
    rows: list[tuple[Any, ...]] = []
    codes = iter(new_tracking_codes(len(items)))  # one each, whether or not it is new
    for item in items:
        text_hash = content_hash(item.text)
        sender = cipher.sender_key(item.contact)
        key = dedup_key(item, text_hash, sender)
        keys.append(key)
        if key in firsts:
            continue
        firsts[key] = item
        rows.append(  # the values in ``bulk.COLUMNS`` order
            (
                next(codes),
                key,
                text_hash,
                item.channel.value,
                item.source_id,
                item.text,
                item.received_at or now,
                now,
                now,
                item.language_hint,
                item.locality,
                item.lat,
                item.long,
                item.service_code,
                open_status,
                pending_state,
                agencies.get(item.service_code or ""),
                _has_contact(item),
                [a.model_dump(exclude_none=True) for a in item.attachments] if item.attachments else [],
                sender,
            )
        )
    outcomes = bulk.insert_submissions(session, rows, new_tracking_codes, now)
    contacts = [
        (outcomes[key].id, cipher.encrypt(item.contact))
        for key, item in firsts.items()
        if outcomes[key].created and _has_contact(item)
    ]
    bulk.insert_contacts(session, contacts, now)
    results: list[Accepted] = []
    answered: set[str] = set()
    for key in keys:
        outcome = outcomes[key]
        duplicate = not outcome.created or key in answered
        answered.add(key)
        results.append(Accepted(id=outcome.id, tracking_code=outcome.tracking_code, duplicate=duplicate))
    return results


def _has_contact(item: SubmissionIn) -> bool:
    return item.contact is not None and not item.contact.is_empty()


def to_out(row: SubmissionRow, annotations: Sequence[AnnotationRow] = ()) -> SubmissionOut:
    """A stored submission as its handler sees it (``identity.shown_to`` makes the others' view)."""
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
        attachments=[AttachmentOut.model_validate(a) for a in row.attachments or []],
        annotations={
            a.stage: AnnotationOut(stage=a.stage, data=a.data, created_at=a.created_at) for a in annotations
        },
    )


def _redacted_text(annotations: Sequence[AnnotationRow]) -> str | None:
    for annotation in annotations:
        if annotation.stage == PiiOut.stage and (text := stored_redacted_text(annotation.data)) is not None:
            return text
    return None


def redacted_texts(session: Session, submission_ids: Sequence[int]) -> dict[int, str]:
    """The stored redacted text (``pii`` stage) of those submissions that have one."""
    if not submission_ids:
        return {}
    rows = session.scalars(
        select(AnnotationRow).where(
            AnnotationRow.submission_id.in_(list(submission_ids)), AnnotationRow.stage == PiiOut.stage
        )
    )
    return {row.submission_id: text for row in rows if (text := _redacted_text([row])) is not None}


def get_submission(session: Session, submission_id: int) -> SubmissionOut:
    """One submission with its annotations, or ``NotFound``."""
    row = session.get(SubmissionRow, submission_id)
    if row is None:
        raise NotFound(f"submission {submission_id} does not exist")
    annotations = session.scalars(
        select(AnnotationRow).where(AnnotationRow.submission_id == submission_id)
    ).all()
    corrections = current_labels(session, [submission_id]).get(submission_id, {})
    case = case_summaries(session, [submission_id]).get(submission_id)
    return to_out(row, annotations).model_copy(update={"corrections": corrections, "case": case})


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
    review: bool = False  # only those whose topic the model was unsure of and no analyst has set
    search_raw: bool = False  # ``text`` searches the raw text (admins); else the redacted text

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
        if self.text and self.search_raw:
            query = query.where(SubmissionRow.text.icontains(self.text, autoescape=True))
        elif self.text:  # nobody can probe raw text for personal data they may not see
            redacted = AnnotationRow.data[PII_TEXT].as_string()
            matching = select(AnnotationRow.submission_id).where(
                AnnotationRow.stage == PiiOut.stage, redacted.icontains(self.text, autoescape=True)
            )
            query = query.where(SubmissionRow.id.in_(matching))
        if self.agencies is not None:
            query = query.where(SubmissionRow.agency.in_(self.agencies))
        if self.review:
            unsure = select(AnnotationRow.submission_id).where(
                AnnotationRow.stage == TopicOut.stage, AnnotationRow.data[TOPIC_REVIEW].as_boolean().is_(True)
            )
            labelled = select(LabelRow.submission_id).where(LabelRow.task == "topic")
            query = query.where(SubmissionRow.id.in_(unsure), SubmissionRow.id.not_in(labelled))
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
    cases = case_summaries(session, [r.id for r in rows])
    return SubmissionPage(
        items=[
            to_out(r, by_submission.get(r.id, ())).model_copy(update={"case": cases.get(r.id)}) for r in rows
        ],
        next_cursor=encode_cursor(rows[-1].id) if more and rows else None,
    )


def count_submissions(session: Session, filters: SubmissionFilter) -> int:
    """How many submissions match the filters."""
    return session.scalar(filters.apply(select(func.count(SubmissionRow.id)))) or 0
