"""Stored answers to citizens: templates, answers (drafts to published), public updates, the
citizens' feedback and the e-mails of published answers. Rules live in ``civicpulse.cases``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.orm import Session

from civicpulse.store.tables import (
    AnnotationRow,
    AnswerMailRow,
    AnswerTemplateRow,
    CaseAnswerRow,
    CaseFeedbackRow,
    CaseMemberRow,
    CaseRow,
    CaseUpdateRow,
    SubmissionRow,
    utcnow,
)
from civicpulse.store.themes import ThemeMemberRow, ThemeRow

DRAFT, RETURNED, SUPERSEDED, PUBLISHED = "draft", "returned", "superseded", "published"
TEMPLATE_FIELDS = ("name", "language", "agency", "topic", "body", "active")


# ---------------------------------------------------------------------------- templates


def list_templates(
    session: Session,
    *,
    agency: str | None = None,
    topic: str | None = None,
    language: str | None = None,
    active_only: bool = False,
) -> list[AnswerTemplateRow]:
    """Templates by code; ``agency`` / ``topic`` keep those written for it or for any."""
    query = select(AnswerTemplateRow)
    if agency is not None:
        query = query.where(or_(AnswerTemplateRow.agency.is_(None), AnswerTemplateRow.agency == agency))
    if topic is not None:
        query = query.where(or_(AnswerTemplateRow.topic.is_(None), AnswerTemplateRow.topic == topic))
    if language is not None:
        query = query.where(AnswerTemplateRow.language == language)
    if active_only:
        query = query.where(AnswerTemplateRow.active.is_(True))
    return list(session.scalars(query.order_by(AnswerTemplateRow.code)))


def get_template(session: Session, template_id: int) -> AnswerTemplateRow | None:
    """The template of ``template_id``, if any."""
    return session.get(AnswerTemplateRow, template_id)


def template_by_code(session: Session, code: str) -> AnswerTemplateRow | None:
    """The template of ``code``, if any."""
    return session.scalar(select(AnswerTemplateRow).where(AnswerTemplateRow.code == code))


def save_template(
    session: Session, values: Mapping[str, Any], *, actor: str, row: AnswerTemplateRow | None = None
) -> AnswerTemplateRow:
    """Create a template (``values`` with ``code`` and ``TEMPLATE_FIELDS``) or replace ``row``'s fields."""
    now = utcnow()
    if row is None:
        row = AnswerTemplateRow(code=values["code"], created_at=now)
        session.add(row)
    for name in TEMPLATE_FIELDS:
        setattr(row, name, values.get(name))
    row.actor, row.updated_at = actor, now
    session.flush()
    return row


def delete_template(session: Session, template_id: int) -> bool:
    """Remove a template; whether there was one."""
    result = session.execute(delete(AnswerTemplateRow).where(AnswerTemplateRow.id == template_id))
    return bool(result.rowcount)


# ---------------------------------------------------------------------------- answers


def add_answer(session: Session, answer: CaseAnswerRow) -> CaseAnswerRow:
    """Store a new answer."""
    answer.created_at = answer.created_at or utcnow()
    session.add(answer)
    session.flush()
    return answer


def get_answer(session: Session, answer_id: int, *, lock: bool = False) -> CaseAnswerRow | None:
    """The answer of ``answer_id``, if any."""
    return session.get(CaseAnswerRow, answer_id, with_for_update=lock)


def pending_draft(session: Session, case_id: int) -> CaseAnswerRow | None:
    """The draft of a case waiting for approval, if any."""
    return session.scalar(
        select(CaseAnswerRow)
        .where(CaseAnswerRow.case_id == case_id, CaseAnswerRow.state == DRAFT)
        .order_by(CaseAnswerRow.id.desc())
        .limit(1)
    )


def supersede_drafts(session: Session, case_id: int) -> list[int]:
    """Set aside the waiting drafts of a case (a newer answer replaces them); their ids."""
    ids = list(
        session.scalars(
            select(CaseAnswerRow.id).where(CaseAnswerRow.case_id == case_id, CaseAnswerRow.state == DRAFT)
        )
    )
    if ids:
        session.execute(
            update(CaseAnswerRow).where(CaseAnswerRow.id.in_(ids)).values(state=SUPERSEDED),
            execution_options={"synchronize_session": "fetch"},
        )
    return ids


def answers_of(session: Session, case_id: int) -> list[CaseAnswerRow]:
    """Every answer of a case, oldest first."""
    return list(
        session.scalars(
            select(CaseAnswerRow).where(CaseAnswerRow.case_id == case_id).order_by(CaseAnswerRow.id)
        )
    )


def latest_published(session: Session, case_id: int) -> CaseAnswerRow | None:
    """The answer last published for a case, if any."""
    return session.scalar(
        select(CaseAnswerRow)
        .where(CaseAnswerRow.case_id == case_id, CaseAnswerRow.state == PUBLISHED)
        .order_by(CaseAnswerRow.published_at.desc(), CaseAnswerRow.id.desc())
        .limit(1)
    )


def drafts_waiting(
    session: Session, scope: Sequence[str] | None, *, limit: int = 100
) -> list[tuple[CaseAnswerRow, CaseRow]]:
    """Drafts waiting for approval with their case, oldest first; ``scope`` keeps the cases of
    those agencies (an officer's)."""
    query: Select[tuple[CaseAnswerRow, CaseRow]] = (
        select(CaseAnswerRow, CaseRow)
        .join(CaseRow, CaseRow.id == CaseAnswerRow.case_id)
        .where(CaseAnswerRow.state == DRAFT)
    )
    if scope is not None:
        query = query.where(or_(CaseRow.agency.in_(scope), CaseRow.handler.in_(scope)))
    rows = session.execute(query.order_by(CaseAnswerRow.id).limit(limit))
    return [(answer, case) for answer, case in rows]


# ---------------------------------------------------------------------------- public updates


def add_update(session: Session, row: CaseUpdateRow) -> CaseUpdateRow:
    """Store a public update of a case."""
    row.created_at = row.created_at or utcnow()
    session.add(row)
    session.flush()
    return row


def set_status_notes(session: Session, case_id: int, notes: str | None) -> None:
    """The public notes (Open311 ``status_notes``) of every submission of a case."""
    members = select(CaseMemberRow.submission_id).where(CaseMemberRow.case_id == case_id)
    session.execute(
        update(SubmissionRow).where(SubmissionRow.id.in_(members)).values(status_notes=notes),
        execution_options={"synchronize_session": False},
    )


# ---------------------------------------------------------------------------- feedback


def feedback_of(session: Session, answer_id: int, submission_id: int) -> CaseFeedbackRow | None:
    """The citizen's word on ``answer_id`` through ``submission_id``, if given."""
    return session.scalar(
        select(CaseFeedbackRow).where(
            CaseFeedbackRow.answer_id == answer_id, CaseFeedbackRow.submission_id == submission_id
        )
    )


def add_feedback(session: Session, row: CaseFeedbackRow) -> CaseFeedbackRow:
    """Store a citizen's feedback."""
    row.created_at = row.created_at or utcnow()
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Satisfaction:
    """Citizens' answers to "Did this solve your problem?" for one agency."""

    solved: int
    not_solved: int

    @property
    def share(self) -> float | None:
        """The share of "solved" among the answers given, ``None`` without any."""
        total = self.solved + self.not_solved
        return self.solved / total if total else None


def satisfaction(
    session: Session, *, since: datetime | None = None, until: datetime | None = None
) -> dict[str | None, Satisfaction]:
    """Citizens' feedback per agency (the agency that published the answer), given in ``[since, until)``."""
    query = select(CaseFeedbackRow.agency, CaseFeedbackRow.solved, func.count()).group_by(
        CaseFeedbackRow.agency, CaseFeedbackRow.solved
    )
    if since is not None:
        query = query.where(CaseFeedbackRow.created_at >= since)
    if until is not None:
        query = query.where(CaseFeedbackRow.created_at < until)
    counts: dict[str | None, dict[bool, int]] = {}
    for agency, solved, n in session.execute(query):
        counts.setdefault(agency, {})[bool(solved)] = int(n)
    return {agency: Satisfaction(c.get(True, 0), c.get(False, 0)) for agency, c in counts.items()}


# ---------------------------------------------------------------------------- e-mail


def queue_mail(session: Session, answer_id: int, case_id: int) -> int:
    """One pending e-mail per submission of the case that left contact details; how many."""
    ids = list(
        session.scalars(
            select(SubmissionRow.id)
            .join(CaseMemberRow, CaseMemberRow.submission_id == SubmissionRow.id)
            .where(CaseMemberRow.case_id == case_id, SubmissionRow.has_contact.is_(True))
        )
    )
    now = utcnow()
    session.add_all(
        AnswerMailRow(answer_id=answer_id, submission_id=s, state="pending", attempts=0, next_at=now)
        for s in ids
    )
    session.flush()
    return len(ids)


def due_mail(session: Session, now: datetime, *, limit: int = 50) -> list[int]:
    """Ids of pending e-mails whose time has come, oldest first."""
    return list(
        session.scalars(
            select(AnswerMailRow.id)
            .where(AnswerMailRow.state == "pending", AnswerMailRow.next_at <= now)
            .order_by(AnswerMailRow.id)
            .limit(limit)
        )
    )


def claim_mail(session: Session, mail_id: int) -> AnswerMailRow | None:
    """The pending e-mail ``mail_id``, locked for sending (``None`` once another sender took it)."""
    row = session.get(AnswerMailRow, mail_id, with_for_update=True)
    return row if row is not None and row.state == "pending" else None


# ---------------------------------------------------------------------------- queues and groups


def triage_cases(session: Session, scope: Sequence[str] | None, *, limit: int = 100) -> list[CaseRow]:
    """Cases waiting to be taken on: received (with or without an agency), the soonest deadline first;
    ``scope`` keeps the cases of those agencies."""
    query = select(CaseRow).where(CaseRow.state == "received")
    if scope is not None:
        query = query.where(or_(CaseRow.agency.in_(scope), CaseRow.handler.in_(scope)))
    order = (CaseRow.due_at.is_(None), CaseRow.due_at, CaseRow.id)
    return list(session.scalars(query.order_by(*order).limit(limit)))


def first_members(session: Session, case_ids: Iterable[int]) -> dict[int, SubmissionRow]:
    """The oldest submission of each case."""
    ids = list(case_ids)
    if not ids:
        return {}
    first = (
        select(CaseMemberRow.case_id, func.min(CaseMemberRow.submission_id).label("sid"))
        .where(CaseMemberRow.case_id.in_(ids))
        .group_by(CaseMemberRow.case_id)
        .subquery()
    )
    rows = session.execute(
        select(first.c.case_id, SubmissionRow).join(SubmissionRow, SubmissionRow.id == first.c.sid)
    )
    return {case_id: row for case_id, row in rows}


def annotations_of(session: Session, stage: str, submission_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The stored output of ``stage`` for each of those submissions that has one."""
    ids = list(submission_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(AnnotationRow.submission_id, AnnotationRow.data).where(
            AnnotationRow.submission_id.in_(ids), AnnotationRow.stage == stage
        )
    )
    return {submission_id: data or {} for submission_id, data in rows}


def theme_submissions(session: Session, theme_id: int) -> list[int]:
    """The submissions of a theme in the latest stored run that has it."""
    run = session.scalar(select(func.max(ThemeMemberRow.run_id)).where(ThemeMemberRow.theme_id == theme_id))
    if run is None:
        return []
    return list(
        session.scalars(
            select(ThemeMemberRow.submission_id)
            .where(ThemeMemberRow.run_id == run, ThemeMemberRow.theme_id == theme_id)
            .order_by(ThemeMemberRow.submission_id)
        )
    )


def case_ids_of(session: Session, submission_ids: Iterable[int]) -> list[int]:
    """The cases handling those submissions, each once, in case order."""
    ids = list(submission_ids)
    if not ids:
        return []
    return list(
        session.scalars(
            select(CaseMemberRow.case_id)
            .where(CaseMemberRow.submission_id.in_(ids))
            .distinct()
            .order_by(CaseMemberRow.case_id)
        )
    )


def theme_of(session: Session, submission_id: int) -> tuple[int, str, int] | None:
    """The theme of a submission in the latest stored run that placed it: id, label, member count."""
    found = session.execute(
        select(ThemeMemberRow.run_id, ThemeMemberRow.theme_id)
        .where(ThemeMemberRow.submission_id == submission_id)
        .order_by(ThemeMemberRow.run_id.desc())
        .limit(1)
    ).first()
    if found is None:
        return None
    run_id, theme_id = found
    label = session.scalar(
        select(ThemeRow.label).where(ThemeRow.run_id == run_id, ThemeRow.theme_id == theme_id)
    )
    size = session.scalar(
        select(func.count()).where(ThemeMemberRow.run_id == run_id, ThemeMemberRow.theme_id == theme_id)
    )
    return theme_id, label or f"#{theme_id}", int(size or 0)
