"""Stored claims (fact-checks, official statements), their supporting passages, rumour signals and
sourced responses. Rules live in ``civicpulse.knowledge``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from civicpulse.store.tables import (
    ClaimPassageRow,
    ClaimResponseRow,
    ClaimRow,
    DocumentRow,
    PassageRow,
    RumourSignalRow,
    SubmissionRow,
    utcnow,
)

DRAFT, RETURNED, APPROVED, PUBLISHED = "draft", "returned", "approved", "published"
SHOW, CERTAIN = "show", "certain"

# ---------------------------------------------------------------------------- claims


def add_claim(session: Session, values: dict[str, Any], *, actor: str) -> ClaimRow:
    """Store a claim (``values``: the columns of ``ClaimRow``)."""
    now = utcnow()
    row = ClaimRow(**values, actor=actor, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    return row


def claim_by_fingerprint(session: Session, fingerprint: str) -> ClaimRow | None:
    """The claim stored from the same JSON-LD, if any."""
    return session.scalar(select(ClaimRow).where(ClaimRow.fingerprint == fingerprint))


def get_claim(session: Session, claim_id: int) -> ClaimRow | None:
    """The claim of ``claim_id``, if any."""
    return session.get(ClaimRow, claim_id)


def list_claims(session: Session, *, kind: str | None = None, limit: int | None = None) -> list[ClaimRow]:
    """Claims in the order they were stored."""
    query = select(ClaimRow).order_by(ClaimRow.id)
    if kind is not None:
        query = query.where(ClaimRow.kind == kind)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def claim_versions(session: Session) -> dict[int, datetime]:
    """``{claim id: updated_at}`` of every claim (what a claim index must hold)."""
    return {cid: at for cid, at in session.execute(select(ClaimRow.id, ClaimRow.updated_at))}


def claims_by_ids(session: Session, ids: Iterable[int]) -> dict[int, ClaimRow]:
    """The claims of ``ids`` that exist."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {row.id: row for row in session.scalars(select(ClaimRow).where(ClaimRow.id.in_(wanted)))}


# ---------------------------------------------------------------------------- passages


@dataclass(frozen=True)
class PassageQuote:
    """A supporting passage with its document, as a response quotes it."""

    passage_id: int
    document_id: int
    document_title: str
    document_number: str | None
    url: str | None
    path: str
    start: int
    end: int
    text: str
    superseded: bool


def existing_passages(session: Session, passage_ids: Sequence[int]) -> set[int]:
    """Those of ``passage_ids`` that are stored passages."""
    if not passage_ids:
        return set()
    return set(session.scalars(select(PassageRow.id).where(PassageRow.id.in_(list(passage_ids)))))


def link_passages(session: Session, claim_id: int, passage_ids: Sequence[int], *, actor: str) -> list[int]:
    """Add supporting passages after those the claim has (already linked ones stay where they are);
    the passage ids the claim has afterwards, in order."""
    current = linked_passage_ids(session, claim_id)
    position = len(current)
    for passage_id in passage_ids:
        if passage_id in current:
            continue
        session.add(ClaimPassageRow(claim_id=claim_id, passage_id=passage_id, position=position, actor=actor))
        current.append(passage_id)
        position += 1
    session.flush()
    return current


def unlink_passage(session: Session, claim_id: int, passage_id: int) -> bool:
    """Remove one supporting passage; whether it was linked."""
    result = session.execute(
        delete(ClaimPassageRow).where(
            ClaimPassageRow.claim_id == claim_id, ClaimPassageRow.passage_id == passage_id
        )
    )
    return bool(result.rowcount)


def linked_passage_ids(session: Session, claim_id: int) -> list[int]:
    """The passage ids that support a claim, in order."""
    return list(
        session.scalars(
            select(ClaimPassageRow.passage_id)
            .where(ClaimPassageRow.claim_id == claim_id)
            .order_by(ClaimPassageRow.position)
        )
    )


def passage_links(session: Session, claim_ids: Sequence[int]) -> dict[int, list[int]]:
    """``{claim id: [passage id, ...]}`` in order, for many claims."""
    found: dict[int, list[int]] = {cid: [] for cid in claim_ids}
    if not claim_ids:
        return found
    rows = session.execute(
        select(ClaimPassageRow.claim_id, ClaimPassageRow.passage_id)
        .where(ClaimPassageRow.claim_id.in_(list(claim_ids)))
        .order_by(ClaimPassageRow.claim_id, ClaimPassageRow.position)
    )
    for cid, pid in rows:
        found[cid].append(pid)
    return found


def passage_quotes(session: Session, passage_ids: Sequence[int]) -> list[PassageQuote]:
    """The passages of ``passage_ids`` with their documents, in the order given."""
    if not passage_ids:
        return []
    rows = session.execute(
        select(PassageRow, DocumentRow)
        .join(DocumentRow, DocumentRow.id == PassageRow.document_id)
        .where(PassageRow.id.in_(list(passage_ids)))
    ).all()
    by_id = {
        passage.id: PassageQuote(
            passage_id=passage.id,
            document_id=document.id,
            document_title=document.title,
            document_number=document.number,
            url=document.url,
            path=passage.path,
            start=passage.start,
            end=passage.end,
            text=passage.text,
            superseded=bool(passage.superseded),
        )
        for passage, document in rows
    }
    return [by_id[pid] for pid in passage_ids if pid in by_id]


# ---------------------------------------------------------------------------- rumour signals


def save_signal(session: Session, signal: RumourSignalRow) -> RumourSignalRow:
    """Store a signal; one per submission and claim, the better match kept."""
    old = session.scalar(
        select(RumourSignalRow).where(
            RumourSignalRow.submission_id == signal.submission_id, RumourSignalRow.claim_id == signal.claim_id
        )
    )
    if old is None:
        session.add(signal)
        session.flush()
        return signal
    if signal.score > old.score:
        old.score, old.level, old.start, old.end = signal.score, signal.level, signal.start, signal.end
    return old


def signals_of(session: Session, submission_id: int) -> list[RumourSignalRow]:
    """The rumour signals of a submission, best first."""
    return list(
        session.scalars(
            select(RumourSignalRow)
            .where(RumourSignalRow.submission_id == submission_id)
            .order_by(RumourSignalRow.score.desc())
        )
    )


def signals_of_claim(session: Session, claim_id: int, *, limit: int = 200) -> list[RumourSignalRow]:
    """The latest rumour signals of a claim."""
    return list(
        session.scalars(
            select(RumourSignalRow)
            .where(RumourSignalRow.claim_id == claim_id)
            .order_by(RumourSignalRow.received_at.desc(), RumourSignalRow.id.desc())
            .limit(limit)
        )
    )


def get_signal(session: Session, signal_id: int) -> RumourSignalRow | None:
    """The signal of ``signal_id``, if any."""
    return session.get(RumourSignalRow, signal_id)


@dataclass(frozen=True)
class Circulating:
    """One claim's rumour signals since a moment: people (distinct senders), submissions, first seen."""

    claim_id: int
    people: int
    submissions: int
    first_seen: datetime
    last_seen: datetime


def circulating(session: Session, since: datetime, *, level: str | None = None) -> list[Circulating]:
    """Claims with signals received since ``since``, most people first."""
    query = (
        select(
            RumourSignalRow.claim_id,
            func.count(func.distinct(RumourSignalRow.sender)),
            func.count(RumourSignalRow.id),
            func.min(RumourSignalRow.received_at),
            func.max(RumourSignalRow.received_at),
        )
        .where(RumourSignalRow.received_at >= since)
        .group_by(RumourSignalRow.claim_id)
    )
    if level is not None:
        query = query.where(RumourSignalRow.level == level)
    rows = [
        Circulating(claim_id=cid, people=people, submissions=count, first_seen=first, last_seen=last)
        for cid, people, count, first, last in session.execute(query)
    ]
    return sorted(rows, key=lambda row: (-row.people, -row.submissions, row.claim_id))


def people_by_province(
    session: Session, claim_ids: Sequence[int], since: datetime
) -> dict[int, dict[str, int]]:
    """``{claim id: {province: distinct senders}}`` since ``since``."""
    found: dict[int, dict[str, int]] = {cid: {} for cid in claim_ids}
    if not claim_ids:
        return found
    rows = session.execute(
        select(
            RumourSignalRow.claim_id,
            RumourSignalRow.province,
            func.count(func.distinct(RumourSignalRow.sender)),
        )
        .where(RumourSignalRow.claim_id.in_(list(claim_ids)), RumourSignalRow.received_at >= since)
        .group_by(RumourSignalRow.claim_id, RumourSignalRow.province)
    )
    for cid, province, people in rows:
        found[cid][province] = people
    return found


def signal_times(
    session: Session, claim_ids: Sequence[int], since: datetime
) -> dict[int, list[tuple[datetime, str]]]:
    """``{claim id: [(received_at, sender), ...]}`` since ``since`` (for the trend)."""
    found: dict[int, list[tuple[datetime, str]]] = {cid: [] for cid in claim_ids}
    if not claim_ids:
        return found
    rows = session.execute(
        select(RumourSignalRow.claim_id, RumourSignalRow.received_at, RumourSignalRow.sender).where(
            RumourSignalRow.claim_id.in_(list(claim_ids)), RumourSignalRow.received_at >= since
        )
    )
    for cid, at, sender in rows:
        found[cid].append((at, sender))
    return found


# ---------------------------------------------------------------------------- responses


def add_response(session: Session, row: ClaimResponseRow) -> ClaimResponseRow:
    """Store a new response."""
    now = utcnow()
    row.created_at, row.updated_at = now, now
    session.add(row)
    session.flush()
    return row


def get_response(session: Session, response_id: int, *, lock: bool = False) -> ClaimResponseRow | None:
    """The response of ``response_id``, if any."""
    return session.get(ClaimResponseRow, response_id, with_for_update=lock)


def list_responses(
    session: Session, *, status: str | None = None, claim_id: int | None = None, limit: int = 200
) -> list[ClaimResponseRow]:
    """Responses, newest first."""
    query = select(ClaimResponseRow).order_by(ClaimResponseRow.id.desc()).limit(limit)
    if status is not None:
        query = query.where(ClaimResponseRow.status == status)
    if claim_id is not None:
        query = query.where(ClaimResponseRow.claim_id == claim_id)
    return list(session.scalars(query))


def published_for_submission(session: Session, submission_id: int) -> list[ClaimResponseRow]:
    """Published responses a submission's tracking page shows: those written for it, and those
    written for a claim the submission certainly repeats."""
    certain_claims = select(RumourSignalRow.claim_id).where(
        RumourSignalRow.submission_id == submission_id, RumourSignalRow.level == CERTAIN
    )
    return list(
        session.scalars(
            select(ClaimResponseRow)
            .where(
                ClaimResponseRow.status == PUBLISHED,
                or_(
                    ClaimResponseRow.submission_id == submission_id,
                    ClaimResponseRow.submission_id.is_(None) & ClaimResponseRow.claim_id.in_(certain_claims),
                ),
            )
            .order_by(ClaimResponseRow.published_at, ClaimResponseRow.id)
        )
    )


def published_responses(session: Session) -> list[ClaimResponseRow]:
    """Every published response, oldest first (the export)."""
    return list(
        session.scalars(
            select(ClaimResponseRow)
            .where(ClaimResponseRow.status == PUBLISHED)
            .order_by(ClaimResponseRow.published_at, ClaimResponseRow.id)
        )
    )


def has_claims(session: Session) -> bool:
    """Whether the claim base holds any claim."""
    return session.scalar(select(ClaimRow.id).limit(1)) is not None


def received_times(session: Session, submission_ids: Sequence[int]) -> dict[int, datetime]:
    """When each of these submissions was received."""
    if not submission_ids:
        return {}
    rows = session.execute(
        select(SubmissionRow.id, SubmissionRow.received_at).where(SubmissionRow.id.in_(list(submission_ids)))
    )
    return dict(rows.tuples().all())


def submission_exists(session: Session, submission_id: int) -> bool:
    """Whether a submission of this id is stored."""
    return session.get(SubmissionRow, submission_id) is not None
