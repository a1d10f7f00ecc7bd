"""Answers inside the workflow: when the case's agency asks for approval an answer is held as a
draft until a second person approves it; a published answer speaks in the agency's name, becomes the
public notes and an update of the case's submissions, and is queued for e-mail to citizens who left
contact details. ``civicpulse.cases.service.act`` calls these; ``civicpulse.cases.review`` approves,
sends back, answers in bulk and takes the citizen's feedback."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicpulse.cases.directory import Directory
from civicpulse.cases.models import AnswerDraftOut, CaseActionIn
from civicpulse.domain import Role
from civicpulse.errors import Conflict, Forbidden
from civicpulse.identity import Principal
from civicpulse.store import answers as stored
from civicpulse.store import cases as stored_cases
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import CaseAnswerRow, CaseRow, CaseUpdateRow

REOPENED_NOTE = "Hồ sơ được mở lại để tiếp tục xem xét, giải quyết."
CLOSED_NOTE = "Hồ sơ đã kết thúc."


@dataclass(frozen=True)
class AnswerOrigin:
    """Where an ``answer`` step comes from: the template and bulk batch it was written with, or the
    draft that a second person approved (which the step publishes)."""

    template_id: int | None = None
    batch: str | None = None
    approved: CaseAnswerRow | None = None


def agency_name(directory: Directory, code: str | None, language: str = "vi") -> str | None:
    """The name an agency publishes under (its code when it is not in the directory)."""
    agency = directory.agencies.get(code or "")
    if agency is None:
        return code
    return agency.name_en if language == "en" else agency.name_vi


def held_for_approval(directory: Directory, case: CaseRow, origin: AnswerOrigin | None) -> bool:
    """Whether an answer to ``case`` waits for a second person (its agency asks for approval and
    this step does not publish an approved draft)."""
    if origin is not None and origin.approved is not None:
        return False
    agency = directory.agencies.get(case.agency or "")
    return agency is not None and agency.needs_approval


def hold_draft(
    session: Session,
    case: CaseRow,
    body: CaseActionIn,
    user: Principal,
    origin: AnswerOrigin | None,
    *,
    submission_id: int,
    client: str | None,
    now: dt.datetime,
) -> CaseAnswerRow:
    """Keep ``body.answer`` as the case's draft (replacing a waiting one); audited."""
    superseded = stored.supersede_drafts(session, case.id)
    draft = stored.add_answer(
        session,
        CaseAnswerRow(
            case_id=case.id,
            state=stored.DRAFT,
            text=body.answer,
            author=user.email,
            agency=case.agency,
            template_id=origin.template_id if origin else None,
            batch=origin.batch if origin else None,
            created_at=now,
        ),
    )
    if body.note:
        stored_cases.add_note(session, case.id, user.email, body.note)
    case.updated_at = now
    detail: dict[str, object] = {"submission": submission_id, "agency": case.agency, "answer": draft.id}
    if superseded:
        detail["superseded"] = superseded
    record_audit(
        session,
        actor=user.email,
        action="case.answer.draft",
        target=f"case:{case.id}",
        client=client,
        status=200,
        detail=detail,
    )
    session.flush()
    return draft


def after_step(
    session: Session,
    directory: Directory,
    case: CaseRow,
    action: str,
    body: CaseActionIn,
    user: Principal,
    origin: AnswerOrigin | None,
    now: dt.datetime,
) -> None:
    """The public side of a step: a published answer, a reopened or a closed case; a transfer sets
    aside the previous agency's draft."""
    name = agency_name(directory, case.agency)
    if action == "answer":
        answer = _published(session, case, body, user, origin, now)
        answer.agency, answer.agency_name, answer.published_at = case.agency, name, now
        _update(session, case, "answer", "open", answer.text, name, answer.id, now)
        stored.set_status_notes(session, case.id, answer.text)
        stored.queue_mail(session, answer.id, case.id)
    elif action == "reopen":
        _update(session, case, "reopened", "open", REOPENED_NOTE, name, None, now)
        stored.set_status_notes(session, case.id, REOPENED_NOTE)
    elif action == "close":
        _update(session, case, "closed", "closed", CLOSED_NOTE, name, None, now)
    elif action == "transfer":
        stored.supersede_drafts(session, case.id)  # the new agency answers afresh


def _published(
    session: Session,
    case: CaseRow,
    body: CaseActionIn,
    user: Principal,
    origin: AnswerOrigin | None,
    now: dt.datetime,
) -> CaseAnswerRow:
    approved = origin.approved if origin is not None else None
    if approved is not None:
        approved.state, approved.reviewer, approved.reviewed_at = stored.PUBLISHED, user.email, now
        return approved
    stored.supersede_drafts(session, case.id)
    return stored.add_answer(
        session,
        CaseAnswerRow(
            case_id=case.id,
            state=stored.PUBLISHED,
            text=body.answer,
            author=user.email,
            template_id=origin.template_id if origin else None,
            batch=origin.batch if origin else None,
            created_at=now,
        ),
    )


def _update(
    session: Session,
    case: CaseRow,
    kind: str,
    status: str,
    description: str,
    name: str | None,
    answer_id: int | None,
    now: dt.datetime,
) -> None:
    stored.add_update(
        session,
        CaseUpdateRow(
            case_id=case.id,
            kind=kind,
            status=status,
            description=description,
            agency_name=name,
            answer_id=answer_id,
            created_at=now,
        ),
    )


def may_review(user: Principal, case: CaseRow, draft: CaseAnswerRow) -> bool:
    """Whether ``user`` may approve or send back ``draft``: an admin, or another officer of the
    case's agency; never its author (four eyes)."""
    if user.email == draft.author:
        return False
    if user.role == Role.admin:
        return True
    return user.role == Role.agency_officer and bool({case.agency, case.handler} & set(user.agencies))


def check_review(user: Principal, case: CaseRow, draft: CaseAnswerRow) -> None:
    """``Conflict`` unless ``draft`` still waits for this case's agency; ``Forbidden`` unless
    ``user`` may review it."""
    if draft.state != stored.DRAFT:
        raise Conflict(
            f"answer {draft.id} is {draft.state}, not a draft waiting for approval",
            details={"state": draft.state},
        )
    if draft.agency != case.agency:
        raise Conflict(f"case {case.id} has moved to {case.agency!r} since this draft was written")
    if user.email == draft.author:
        raise Forbidden("the author of an answer cannot approve it: a second officer must")
    if not may_review(user, case, draft):
        raise Forbidden(f"only another officer of {case.agency!r} or an admin may review this answer")


def draft_view(session: Session, case: CaseRow) -> AnswerDraftOut | None:
    """The draft waiting for approval, as officers see it."""
    draft = stored.pending_draft(session, case.id)
    if draft is None:
        return None
    return AnswerDraftOut(id=draft.id, text=draft.text, author=draft.author, created_at=draft.created_at)
