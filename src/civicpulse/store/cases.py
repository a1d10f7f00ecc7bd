"""Stored cases: rows, their member submissions and notes, the SLA state read from the stored
clock, and the queries the workflow and the overdue list need. Clocks are computed by
``civicpulse.cases``; this module only compares them with the time."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from civicpulse.domain import CaseState, CaseStatus, CaseSummary, SlaState
from civicpulse.store.labels import current_labels
from civicpulse.store.tables import AnnotationRow, CaseMemberRow, CaseNoteRow, CaseRow, SubmissionRow, utcnow

RUNNING = tuple(
    s.value for s in (CaseState.received, CaseState.accepted, CaseState.assigned, CaseState.in_progress)
)


def sla_state(case: CaseRow, now: datetime) -> SlaState | None:
    """The clock of ``case`` at ``now``: a running clock warns at ``warn_at`` and is breached at
    ``due_at``; a stopped one (answered, closed) is breached when it stopped after its deadline."""
    if case.due_at is None:
        return None
    if case.state in RUNNING:
        if now >= case.due_at:
            return SlaState.breached
        if case.warn_at is not None and now >= case.warn_at:
            return SlaState.warning
        return SlaState.on_track
    stopped = case.answered_at if case.state == CaseState.answered else case.closed_at or case.answered_at
    if stopped is not None and stopped > case.due_at:
        return SlaState.breached
    return SlaState.on_track


def summary(case: CaseRow, now: datetime | None = None) -> CaseSummary:
    """What a submission's view shows of its case."""
    return CaseSummary(
        id=case.id,
        status=CaseState(case.state),
        agency=case.agency,
        due_at=case.due_at,
        sla_state=sla_state(case, now or utcnow()),
    )


def case_summaries(session: Session, submission_ids: Sequence[int]) -> dict[int, CaseSummary]:
    """The case of each of those submissions that has one."""
    if not submission_ids:
        return {}
    now = utcnow()
    rows = session.execute(
        select(CaseMemberRow.submission_id, CaseRow)
        .join(CaseRow, CaseRow.id == CaseMemberRow.case_id)
        .where(CaseMemberRow.submission_id.in_(list(submission_ids)))
    )
    return {submission_id: summary(case, now) for submission_id, case in rows}


def case_of(session: Session, submission_id: int, *, lock: bool = False) -> CaseRow | None:
    """The case handling ``submission_id``, if any."""
    query = (
        select(CaseRow)
        .join(CaseMemberRow, CaseMemberRow.case_id == CaseRow.id)
        .where(CaseMemberRow.submission_id == submission_id)
    )
    return session.scalar(query.with_for_update() if lock else query)


def get_case(session: Session, case_id: int, *, lock: bool = False) -> CaseRow | None:
    """The case of ``case_id``, if any."""
    return session.get(CaseRow, case_id, with_for_update=lock)


def member_ids(session: Session, case_id: int) -> list[int]:
    """The submissions a case handles, oldest first."""
    return list(
        session.scalars(
            select(CaseMemberRow.submission_id)
            .where(CaseMemberRow.case_id == case_id)
            .order_by(CaseMemberRow.submission_id)
        )
    )


def submissions_without_case(session: Session, submission_ids: Iterable[int]) -> list[SubmissionRow]:
    """Those submissions (that exist) no case handles yet."""
    ids = list(submission_ids)
    if not ids:
        return []
    cased = select(CaseMemberRow.submission_id).where(CaseMemberRow.submission_id.in_(ids))
    return list(
        session.scalars(
            select(SubmissionRow)
            .where(SubmissionRow.id.in_(ids), SubmissionRow.id.not_in(cased))
            .order_by(SubmissionRow.id)
        )
    )


def add_case(session: Session, case: CaseRow, submission_ids: Sequence[int]) -> CaseRow:
    """Store a new case handling ``submission_ids``."""
    now = utcnow()
    case.created_at = case.updated_at = now
    session.add(case)
    session.flush()
    session.add_all(CaseMemberRow(submission_id=s, case_id=case.id, added_at=now) for s in submission_ids)
    session.flush()
    return case


def move_members(session: Session, submission_ids: Sequence[int], case_id: int) -> None:
    """Hand those submissions over to ``case_id``."""
    if submission_ids:
        session.execute(
            update(CaseMemberRow)
            .where(CaseMemberRow.submission_id.in_(list(submission_ids)))
            .values(case_id=case_id, added_at=utcnow())
        )


def sync_submissions(session: Session, case: CaseRow, status: CaseStatus) -> None:
    """Carry the case's public status and agency to every submission it handles (Open311, the
    inbox, the tracking page and the privacy rules read them there)."""
    members = select(CaseMemberRow.submission_id).where(CaseMemberRow.case_id == case.id)
    session.execute(
        update(SubmissionRow)
        .where(SubmissionRow.id.in_(members))
        .values(status=status.value, agency=case.agency, updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )


def add_note(session: Session, case_id: int, author: str, text: str) -> CaseNoteRow:
    """An internal note on a case."""
    note = CaseNoteRow(case_id=case_id, author=author, text=text, created_at=utcnow())
    session.add(note)
    session.flush()
    return note


def notes_of(session: Session, case_id: int) -> list[CaseNoteRow]:
    """A case's internal notes, oldest first."""
    return list(
        session.scalars(select(CaseNoteRow).where(CaseNoteRow.case_id == case_id).order_by(CaseNoteRow.id))
    )


def _scoped(query: Select[tuple[CaseRow]], agencies: Sequence[str] | None) -> Select[tuple[CaseRow]]:
    if agencies is None:
        return query
    return query.where(
        or_(CaseRow.agency.in_(agencies), CaseRow.handler.in_(agencies), CaseRow.escalated_to.in_(agencies))
    )


def overdue_cases(
    session: Session, now: datetime, *, agency: str | None = None, scope: Sequence[str] | None = None
) -> list[CaseRow]:
    """Running cases past their deadline, by agency then deadline; ``agency`` keeps those it holds
    or handles; ``scope`` (an officer's agencies) those they may see."""
    query = select(CaseRow).where(CaseRow.state.in_(RUNNING), CaseRow.due_at < now)
    if agency is not None:
        query = query.where(or_(CaseRow.agency == agency, CaseRow.handler == agency))
    query = _scoped(query, scope).order_by(CaseRow.agency, CaseRow.due_at, CaseRow.id)
    return list(session.scalars(query))


def list_cases(
    session: Session,
    *,
    scope: Sequence[str] | None = None,
    state: str | None = None,
    agency: str | None = None,
    limit: int = 100,
) -> list[CaseRow]:
    """Newest cases first, narrowed to ``scope``, ``state`` and ``agency``."""
    query = select(CaseRow)
    if state is not None:
        query = query.where(CaseRow.state == state)
    if agency is not None:
        query = query.where(or_(CaseRow.agency == agency, CaseRow.handler == agency))
    return list(session.scalars(_scoped(query, scope).order_by(CaseRow.id.desc()).limit(limit)))


def unescalated_breaches(session: Session, now: datetime) -> list[CaseRow]:
    """Running cases past their deadline that have not been escalated yet."""
    return list(
        session.scalars(
            select(CaseRow)
            .where(CaseRow.state.in_(RUNNING), CaseRow.due_at < now, CaseRow.escalated_at.is_(None))
            .order_by(CaseRow.id)
            .with_for_update()
        )
    )


def topics_and_urgency(
    session: Session, submission_ids: Sequence[int]
) -> dict[int, tuple[str | None, float | None, str | None]]:
    """``(topic, urgency score, urgency deadline)`` of each submission: the analyst's topic when
    corrected, else the model's; ``None`` where a stage has not run."""
    ids = list(submission_ids)
    found: dict[int, tuple[str | None, float | None, str | None]] = {i: (None, None, None) for i in ids}
    if not ids:
        return found
    rows = session.scalars(
        select(AnnotationRow).where(
            AnnotationRow.submission_id.in_(ids), AnnotationRow.stage.in_(("topic", "urgency"))
        )
    )
    for row in rows:
        topic, score, deadline = found[row.submission_id]
        data = row.data or {}
        if row.stage == "topic" and isinstance(data.get("code"), str):
            topic = data["code"]
        elif row.stage == "urgency":
            score = data.get("score") if isinstance(data.get("score"), int | float) else None
            deadline = data.get("deadline") if isinstance(data.get("deadline"), str) else None
        found[row.submission_id] = (topic, score, deadline)
    for submission_id, labels in current_labels(session, ids).items():
        if "topic" in labels:
            _, score, deadline = found[submission_id]
            found[submission_id] = (labels["topic"], score, deadline)
    return found
