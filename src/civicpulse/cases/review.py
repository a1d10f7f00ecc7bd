"""The steps around an answer that go through the workflow (``service.act``): approving a draft or
sending it back, one answer for every case of a campaign or theme, an answer written from a
template, and the citizen's feedback by tracking code ("not solved" reopens the case)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from civicpulse.cases import service
from civicpulse.cases.answers import AnswerOrigin, agency_name, check_review
from civicpulse.cases.models import CaseActionIn
from civicpulse.cases.templates import AnswerFacts, render, show_date
from civicpulse.domain import CaseState, Role
from civicpulse.errors import CivicPulseError, Conflict, NotFound, Unprocessable
from civicpulse.identity import Principal
from civicpulse.insight.campaigns import CampaignRules, campaign_of
from civicpulse.store import answers as stored
from civicpulse.store import cases as stored_cases
from civicpulse.store.audit import record_audit
from civicpulse.store.submissions import get_by_tracking_code
from civicpulse.store.tables import (
    AnswerTemplateRow,
    CaseAnswerRow,
    CaseFeedbackRow,
    CaseRow,
    SubmissionRow,
    utcnow,
)
from civicpulse.taxonomy import Taxonomy

NOT_SOLVED_REASON = "Người dân phản hồi qua mã tra cứu: câu trả lời chưa giải quyết được vấn đề."
FEEDBACK_STATES = (CaseState.answered.value, CaseState.closed.value)


def _case(session: Session, case_id: int) -> CaseRow:
    case = stored_cases.get_case(session, case_id, lock=True)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def _answer(session: Session, answer_id: int) -> tuple[CaseAnswerRow, CaseRow]:
    answer = stored.get_answer(session, answer_id, lock=True)
    if answer is None:
        raise NotFound(f"answer {answer_id} does not exist")
    return answer, _case(session, answer.case_id)


def topic_of(case: CaseRow, first: SubmissionRow | None) -> str | None:
    """The case's topic: the analysis's, else the service code its first submission came with."""
    return case.topic or (first.service_code if first is not None else None)


def facts_for(
    session: Session,
    rules: service.CaseRules,
    taxonomy: Taxonomy,
    case: CaseRow,
    language: str = "vi",
    now: dt.datetime | None = None,
) -> AnswerFacts:
    """The placeholders' values for ``case`` (names in ``language``)."""
    first = stored.first_members(session, [case.id]).get(case.id)
    code = topic_of(case, first)
    topic = next((t for t in taxonomy.topics if t.code == code), None)
    return AnswerFacts(
        tracking_code=first.tracking_code if first else "",
        case_id=case.id,
        agency_code=case.agency or "",
        agency_name=agency_name(rules.directory, case.agency, language) or "",
        topic=code or "",
        topic_name=(topic.name_en if language == "en" else topic.name_vi) if topic else "",
        received_date=show_date(first.received_at if first else None),
        accepted_date=show_date(case.accepted_at),
        due_date=show_date(case.due_at),
        answer_date=show_date(now or utcnow()),
    )


def render_for_case(
    session: Session,
    rules: service.CaseRules,
    taxonomy: Taxonomy,
    template: AnswerTemplateRow,
    case: CaseRow,
) -> str:
    """The answer ``template`` gives for ``case``; a template for another agency or topic is refused."""
    topic = topic_of(case, stored.first_members(session, [case.id]).get(case.id))
    if template.agency not in (None, case.agency) or template.topic not in (None, topic):
        raise Unprocessable(f"template {template.code!r} is not written for this case's agency and topic")
    if not template.active:
        raise Unprocessable(f"template {template.code!r} is not active")
    return render(template.body, facts_for(session, rules, taxonomy, case, template.language))


def approve(
    session: Session, rules: service.CaseRules, answer_id: int, user: Principal, *, client: str | None = None
) -> CaseRow:
    """Publish a draft: a second officer of the agency (not its author) or an admin approves it,
    and the case takes the ``answer`` step with it; audited."""
    draft, case = _answer(session, answer_id)
    check_review(user, case, draft)
    members = stored_cases.member_ids(session, case.id)
    if not members:
        raise Conflict(f"case {case.id} has been merged into case {case.merged_into}; answer that case")
    submission_id = members[0]
    body = CaseActionIn(action="answer", answer=draft.text)
    case = service.act(
        session, rules, submission_id, body, user, client=client, origin=AnswerOrigin(approved=draft)
    )
    record_audit(
        session,
        actor=user.email,
        action="case.answer.approve",
        target=f"case:{case.id}",
        client=client,
        status=200,
        detail={"answer": draft.id, "author": draft.author, "submission": submission_id},
    )
    return case


def send_back(
    session: Session,
    answer_id: int,
    reason: str,
    user: Principal,
    *,
    client: str | None = None,
) -> CaseAnswerRow:
    """Return a draft to its author with a reason; the case waits for a new answer; audited."""
    draft, case = _answer(session, answer_id)
    check_review(user, case, draft)
    draft.state, draft.reviewer, draft.review_reason, draft.reviewed_at = (
        stored.RETURNED,
        user.email,
        reason,
        utcnow(),
    )
    record_audit(
        session,
        actor=user.email,
        action="case.answer.return",
        target=f"case:{case.id}",
        client=client,
        status=200,
        detail={"answer": draft.id, "author": draft.author, "reason": reason},
    )
    session.flush()
    return draft


# ---------------------------------------------------------------------------- bulk answers


@dataclass(frozen=True)
class BulkOutcome:
    """What one case of a bulk answer became."""

    case_id: int
    outcome: Literal["published", "draft", "skipped"]
    submissions: list[int] = field(default_factory=list)
    reason: str | None = None


def campaign_members(
    session: Session, submission_id: int, campaign: CampaignRules | None = None
) -> list[int]:
    """The submissions of the campaign ``submission_id`` belongs to."""
    found = campaign_of(session, submission_id, campaign)
    if found is None:
        raise Unprocessable(f"submission {submission_id} is not part of a campaign")
    return list(found.member_ids)


def theme_members(session: Session, theme_id: int) -> list[int]:
    """The submissions of a stored theme."""
    members = stored.theme_submissions(session, theme_id)
    if not members:
        raise NotFound(f"theme {theme_id} is not stored or has no submissions")
    return members


def bulk_answer(
    session: Session,
    rules: service.CaseRules,
    taxonomy: Taxonomy,
    submission_ids: Sequence[int],
    user: Principal,
    *,
    answer: str | None = None,
    template: AnswerTemplateRow | None = None,
    client: str | None = None,
) -> list[BulkOutcome]:
    """One answer (text, or a template rendered per case) for every case handling those
    submissions; each case takes the same ``answer`` step as alone (a draft where its agency asks
    for approval); a case the step is refused for is skipped with the reason."""
    if (answer is None) == (template is None):
        raise Unprocessable("give either an answer or a template")
    batch = str(uuid.uuid4())
    origin = AnswerOrigin(template_id=template.id if template else None, batch=batch)
    outcomes = []
    for case_id in stored.case_ids_of(session, submission_ids):
        case = _case(session, case_id)
        if not service.may_act(user, case):
            outcomes.append(BulkOutcome(case_id, "skipped", reason="another agency's case"))
            continue
        members = stored_cases.member_ids(session, case_id)
        try:
            with session.begin_nested():
                text = (
                    answer if template is None else render_for_case(session, rules, taxonomy, template, case)
                )
                body = CaseActionIn(action="answer", answer=text)
                service.act(session, rules, members[0], body, user, client=client, origin=origin)
        except CivicPulseError as exc:
            outcomes.append(BulkOutcome(case_id, "skipped", members, exc.message))
            continue
        held = stored.pending_draft(session, case_id)
        outcome = "draft" if held is not None and held.batch == batch else "published"
        outcomes.append(BulkOutcome(case_id, outcome, members))
    if not outcomes:
        raise Unprocessable("none of those submissions has a case yet")
    return outcomes


# ---------------------------------------------------------------------------- the citizen's word


@dataclass(frozen=True)
class PublicAnswer:
    """What the tracking page shows of an answer, and whether the citizen may still say if it helped."""

    answer_id: int
    text: str
    agency_name: str | None
    published_at: dt.datetime
    feedback_open: bool
    solved: bool | None


def public_answer(session: Session, submission_id: int) -> PublicAnswer | None:
    """The latest published answer to the case of a submission, for its citizen."""
    case = stored_cases.case_of(session, submission_id)
    answer = stored.latest_published(session, case.id) if case is not None else None
    if case is None or answer is None or answer.published_at is None:
        return None
    given = stored.feedback_of(session, answer.id, submission_id)
    return PublicAnswer(
        answer_id=answer.id,
        text=answer.text,
        agency_name=answer.agency_name,
        published_at=answer.published_at,
        feedback_open=given is None and case.state in FEEDBACK_STATES,
        solved=given.solved if given else None,
    )


def citizen_principal(tracking_code: str, case: CaseRow) -> Principal:
    """The citizen acting on their own case through its tracking code: allowed that case's steps
    only while this call lasts, and audited under ``citizen:<code>``."""
    agencies = tuple(a for a in (case.agency, case.handler) if a)
    return Principal(id=0, email=f"citizen:{tracking_code}", role=Role.agency_officer, agencies=agencies)


def citizen_feedback(
    session: Session,
    rules: service.CaseRules,
    tracking_code: str,
    solved: bool,
    *,
    client: str | None = None,
) -> CaseFeedbackRow:
    """Record whether the published answer solved the citizen's problem (once per answer); "not
    solved" reopens the case through the workflow, as the citizen's act; both audited."""
    row = get_by_tracking_code(session, tracking_code)
    case = stored_cases.case_of(session, row.id, lock=True)
    answer = stored.latest_published(session, case.id) if case is not None else None
    if case is None or answer is None or case.state not in FEEDBACK_STATES:
        raise Conflict("there is no answer to give feedback on")
    if stored.feedback_of(session, answer.id, row.id) is not None:
        raise Conflict("your feedback on this answer is already recorded")
    feedback = stored.add_feedback(
        session,
        CaseFeedbackRow(
            case_id=case.id, answer_id=answer.id, submission_id=row.id, agency=answer.agency, solved=solved
        ),
    )
    citizen = citizen_principal(row.tracking_code, case)
    record_audit(
        session,
        actor=citizen.email,
        action="case.feedback",
        target=f"case:{case.id}",
        client=client,
        status=200,
        detail={"submission": row.id, "answer": answer.id, "solved": solved},
    )
    if not solved:
        body = CaseActionIn(action="reopen", reason=NOT_SOLVED_REASON)
        service.act(session, rules, row.id, body, citizen, client=client)
    return feedback
