"""Storing and reading submissions: idempotent acceptance with its analysis job, one transaction."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from civicpulse.annotations import TOPIC_REVIEW, PiiOut, PlacesOut, TopicOut, UrgencyOut, stored_redacted_text
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
from civicpulse.store.cases import RUNNING, case_summaries
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.labels import current_labels
from civicpulse.store.search_text import matching, store_folded_texts
from civicpulse.store.tables import AnnotationRow, CaseMemberRow, CaseRow, LabelRow, SubmissionRow, utcnow
from civicpulse.store.themes import stored_theme_members
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
    store_folded_texts(
        session, [(outcomes[key].id, item.text) for key, item in firsts.items() if outcomes[key].created]
    )
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


class Sort(StrEnum):
    """Orders of a submission list: ``id`` (import order, the API's), the time the citizen sent it
    (newest first), urgency (highest first) or the case's due date (soonest first); ties newest id first."""

    id = "id"
    received = "received"
    urgency = "urgency"
    due = "due"


class Due(StrEnum):
    """Filters on the case's clock: past its deadline, or within its warning time."""

    overdue = "overdue"
    soon = "soon"


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
    topic: str | None = None  # the analyst's topic when corrected, else the model's
    province: str | None = None  # the province code the ``places`` stage found
    agency: str | None = None
    min_urgency: float | None = None
    due: Due | None = None
    theme: int | None = None  # the members of this theme in its latest stored run
    now: datetime | None = None  # the clock of ``due`` (now when unset)

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
        if self.text:  # folded on both sides; only admins search the raw text (it may hold personal data)
            query = query.where(SubmissionRow.id.in_(matching(self.text, raw=self.search_raw)))
        if self.agencies is not None:
            query = query.where(SubmissionRow.agency.in_(self.agencies))
        if self.agency:
            query = query.where(SubmissionRow.agency == self.agency)
        if self.review:
            unsure = _stage_ids(TopicOut.stage, AnnotationRow.data[TOPIC_REVIEW].as_boolean().is_(True))
            query = query.where(SubmissionRow.id.in_(unsure), SubmissionRow.id.not_in(_topic_labelled()))
        if self.topic:
            modelled = _stage_ids(TopicOut.stage, AnnotationRow.data["code"].as_string() == self.topic)
            labelled = select(LabelRow.submission_id).where(
                LabelRow.id.in_(_latest_topic_labels()), LabelRow.value == self.topic
            )
            query = query.where(
                or_(
                    and_(SubmissionRow.id.in_(modelled), SubmissionRow.id.not_in(_topic_labelled())),
                    SubmissionRow.id.in_(labelled),
                )
            )
        if self.province:
            code = AnnotationRow.data[("province", "code")].as_string()
            query = query.where(SubmissionRow.id.in_(_stage_ids(PlacesOut.stage, code == self.province)))
        if self.min_urgency is not None:
            score = AnnotationRow.data["score"].as_float()
            query = query.where(SubmissionRow.id.in_(_stage_ids(UrgencyOut.stage, score >= self.min_urgency)))
        if self.due is not None:
            query = query.where(SubmissionRow.id.in_(self._due_ids()))
        if self.theme is not None:
            query = query.where(SubmissionRow.id.in_(stored_theme_members(self.theme)))
        return query

    def _due_ids(self) -> Select[Any]:
        now = self.now or utcnow()
        clock = (
            CaseRow.due_at < now
            if self.due == Due.overdue
            else and_(CaseRow.warn_at <= now, CaseRow.due_at >= now)
        )
        return (
            select(CaseMemberRow.submission_id)
            .join(CaseRow, CaseRow.id == CaseMemberRow.case_id)
            .where(CaseRow.state.in_(RUNNING), clock)
        )


def _stage_ids(stage: str, condition: ColumnElement[bool]) -> Select[Any]:
    return select(AnnotationRow.submission_id).where(AnnotationRow.stage == stage, condition)


def _topic_labelled() -> Select[Any]:
    return select(LabelRow.submission_id).where(LabelRow.task == "topic")


def _latest_topic_labels() -> Select[Any]:
    return select(func.max(LabelRow.id)).where(LabelRow.task == "topic").group_by(LabelRow.submission_id)


def encode_cursor(last_id: int) -> str:
    """An opaque cursor for the page after ``last_id``."""
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[str, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        version, value = base64.urlsafe_b64decode(padded.encode()).decode().split(":", 1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("cursor is malformed; pass the next_cursor of a previous page") from exc
    return version, value


def decode_cursor(cursor: str) -> int:
    """The id a cursor points after; a malformed cursor is a ``BadRequest``."""
    version, value = _decode(cursor)
    try:
        if version != "v1":
            raise ValueError(version)
        return int(value)
    except ValueError as exc:
        raise BadRequest("cursor is malformed; pass the next_cursor of a previous page") from exc


def _encode_keyed(sort: Sort, key: datetime | float | None, last_id: int) -> str:
    value = key.isoformat() if isinstance(key, datetime) else key
    raw = "v2:" + json.dumps([sort.value, value, last_id])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_keyed(cursor: str, sort: Sort) -> tuple[datetime | float | None, int]:
    version, value = _decode(cursor)
    try:
        name, key, last_id = json.loads(value) if version == "v2" else (None, None, None)
        if name != sort.value or not isinstance(last_id, int):
            raise ValueError(value)
        if key is None:
            return None, last_id
        return (datetime.fromisoformat(key) if sort != Sort.urgency else float(key)), last_id
    except (ValueError, TypeError) as exc:
        raise BadRequest("cursor is malformed or from another sort; start again from the first page") from exc


def _sorted(query: Select[Any], sort: Sort) -> tuple[Select[Any], Any, bool]:
    """The query with what it sorts on joined, the sort key and whether it runs highest first."""
    if sort == Sort.urgency:
        urgency = aliased(AnnotationRow)
        query = query.outerjoin(
            urgency, and_(urgency.submission_id == SubmissionRow.id, urgency.stage == UrgencyOut.stage)
        )
        return query, urgency.data["score"].as_float(), True
    if sort == Sort.due:
        query = query.outerjoin(CaseMemberRow, CaseMemberRow.submission_id == SubmissionRow.id).outerjoin(
            CaseRow, CaseRow.id == CaseMemberRow.case_id
        )
        return query, CaseRow.due_at, False
    return query, SubmissionRow.received_at, True


def _keyed_page(
    session: Session, filters: SubmissionFilter, sort: Sort, limit: int, cursor: str | None
) -> tuple[list[SubmissionRow], str | None]:
    query, key, descending = _sorted(filters.apply(select(SubmissionRow)), sort)
    query = query.add_columns(key).order_by(key.is_(None), key.desc() if descending else key.asc())
    query = query.order_by(SubmissionRow.id.desc())
    if cursor:
        last_key, last_id = _decode_keyed(cursor, sort)
        if last_key is None:
            query = query.where(key.is_(None), SubmissionRow.id < last_id)
        else:
            after = key < last_key if descending else key > last_key
            query = query.where(or_(key.is_(None), after, and_(key == last_key, SubmissionRow.id < last_id)))
    found = session.execute(query.limit(limit + 1)).all()
    rows = [row[0] for row in found[:limit]]
    more = len(found) > limit
    last = found[limit - 1] if more else None
    return rows, _encode_keyed(sort, last[-1], last[0].id) if last is not None else None


def list_submissions(
    session: Session,
    filters: SubmissionFilter,
    *,
    limit: int = 50,
    cursor: str | None = None,
    sort: Sort = Sort.id,
) -> SubmissionPage:
    """``limit`` submissions in ``sort`` order (newest id first by default), with the next page's cursor."""
    if sort == Sort.id:
        query = filters.apply(select(SubmissionRow)).order_by(SubmissionRow.id.desc())
        if cursor:
            query = query.where(SubmissionRow.id < decode_cursor(cursor))
        rows = list(session.scalars(query.limit(limit + 1)))
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].id) if more and rows else None
    else:
        rows, next_cursor = _keyed_page(session, filters, sort, limit, cursor)
    return SubmissionPage(items=with_annotations(session, rows), next_cursor=next_cursor)


def with_annotations(session: Session, rows: Sequence[SubmissionRow]) -> list[SubmissionOut]:
    """Stored submissions with their annotations and cases, in the same order."""
    by_submission: dict[int, list[AnnotationRow]] = {}
    if rows:
        annotations = session.scalars(
            select(AnnotationRow).where(AnnotationRow.submission_id.in_([r.id for r in rows]))
        )
        for annotation in annotations:
            by_submission.setdefault(annotation.submission_id, []).append(annotation)
    ids = [r.id for r in rows]
    cases, labels = case_summaries(session, ids), current_labels(session, ids)
    return [
        to_out(r, by_submission.get(r.id, ())).model_copy(
            update={"case": cases.get(r.id), "corrections": labels.get(r.id, {})}
        )
        for r in rows
    ]


def known_provinces(session: Session) -> list[tuple[str, str]]:
    """``(code, name)`` of the provinces the ``places`` stage found in any submission, by name."""
    code = AnnotationRow.data[("province", "code")].as_string()
    name = AnnotationRow.data[("province", "name")].as_string()
    rows = session.execute(
        select(code, func.max(name))
        .where(AnnotationRow.stage == PlacesOut.stage, code.is_not(None))
        .group_by(code)
    ).all()
    return sorted(((c, n or c) for c, n in rows), key=lambda pair: pair[1])


def count_submissions(session: Session, filters: SubmissionFilter) -> int:
    """How many submissions match the filters."""
    return session.scalar(filters.apply(select(func.count(SubmissionRow.id)))) or 0
