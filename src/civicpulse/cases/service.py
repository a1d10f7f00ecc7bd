"""Acting on cases: open them, move them through the workflow, merge and split them, escalate the
breached ones; every step checks who acts, moves the SLA clock and is audited in the same
transaction.

Clock rules (docs/adr/0006-legal-deadlines.md): the acceptance clock runs from receipt; the answer
clock from acceptance; a transfer restarts the acceptance clock at the new agency, on its calendar
(the competent body's time runs from its own receipt); a reopened case gets a new answer period;
merging keeps the clock of the case merged into; a split part keeps the clock it had.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from civicpulse.cases import answers
from civicpulse.cases.calendar import end_of_day
from civicpulse.cases.deadlines import CaseType, Clock, DeadlinePolicy, capped, clock
from civicpulse.cases.directory import Agency, Directory
from civicpulse.cases.models import CaseActionIn, CaseView, NoteOut
from civicpulse.cases.workflow import STATUS_OF_STATE, allowed_actions, can_merge, workflow_of
from civicpulse.domain import CaseState, Role
from civicpulse.errors import Conflict, Forbidden, NotFound, Unprocessable
from civicpulse.identity import Principal
from civicpulse.store import cases as stored
from civicpulse.store.agencies import stored_agencies
from civicpulse.store.audit import AuditEvent, record_audits
from civicpulse.store.tables import AgencyRow, CaseRow, SubmissionRow, utcnow
from civicpulse.taxonomy import Taxonomy

SYSTEM_ACTOR = "system"
STAFF_ROLES = (Role.admin, Role.analyst)


@dataclass(frozen=True)
class CaseRules:
    """What acting on cases needs: the deadlines policy and the agencies directory."""

    policy: DeadlinePolicy
    directory: Directory


def agency_of_row(row: AgencyRow) -> Agency:
    """A stored agency as the directory's model."""
    return Agency.model_validate(
        {
            "code": row.code,
            "name_vi": row.name_vi,
            "name_en": row.name_en,
            "kind": row.kind,
            "parent": row.parent,
            "provinces": row.provinces or [],
            "communes": row.communes or [],
            "topics": row.topics or [],
            "email": row.email,
            "days_off": row.days_off or [],
            "needs_approval": row.needs_approval,
        }
    )


def load_directory(session: Session, taxonomy: Taxonomy | None) -> Directory:
    """The stored agencies over the taxonomy's."""
    return Directory.merged([agency_of_row(row) for row in stored_agencies(session)], taxonomy)


def may_act(user: Principal, case: CaseRow) -> bool:
    """Admins and analysts act on every case; an officer on the cases their agencies hold or handle."""
    if user.role in STAFF_ROLES:
        return True
    return user.role == Role.agency_officer and bool({case.agency, case.handler} & set(user.agencies))


def may_view(user: Principal, case: CaseRow) -> bool:
    """Who acts, viewers, and the officers of the head agency a breached case escalated to."""
    if may_act(user, case) or user.role == Role.viewer:
        return True
    return user.role == Role.agency_officer and case.escalated_to in user.agencies


def check_view(user: Principal, case: CaseRow) -> None:
    """``Forbidden`` unless ``user`` may see ``case``."""
    if not may_view(user, case):
        raise Forbidden("this case belongs to another agency")


def check_act(user: Principal, case: CaseRow) -> None:
    """``Forbidden`` unless ``user`` may act on ``case``."""
    if not may_act(user, case):
        raise Forbidden("only the officers of the agency handling this case may act on it")


def _urgent_by(
    policy: DeadlinePolicy, facts: Sequence[tuple[str | None, float | None, str | None]]
) -> dt.datetime | None:
    dates = []
    for _, score, deadline in facts:
        if score is not None and deadline and score >= policy.urgent_min_score:
            try:
                dates.append(dt.date.fromisoformat(deadline))
            except ValueError:
                continue
    return end_of_day(min(dates)) if dates else None


def _phase_clock(
    rules: CaseRules, case: CaseRow, phase: str, start: dt.datetime, urgent: dt.datetime | None
) -> Clock:
    period = rules.policy.period(CaseType(case.case_type), case.topic, phase)
    return capped(clock(start, period, rules.directory.calendar(case.agency)), urgent)


def _set_clock(case: CaseRow, found: Clock) -> None:
    case.clock_start, case.warn_at, case.due_at = (
        t.astimezone(dt.UTC) for t in (found.start, found.warn_at, found.due_at)
    )


def open_cases(session: Session, rules: CaseRules, submission_ids: Sequence[int]) -> list[CaseRow]:
    """Open a case, received, for each of those submissions no case handles yet: its type from the
    topic, its agency the submission's, its acceptance clock from receipt (brought forward by the
    urgency stage's date when urgent)."""
    rows = stored.submissions_without_case(session, submission_ids)
    facts = stored.topics_and_urgency(session, [row.id for row in rows])
    opened = []
    for row in rows:
        topic = facts[row.id][0]
        case = CaseRow(
            state=CaseState.received.value,
            case_type=rules.policy.type_of(topic).value,
            topic=topic,
            complex=False,
            agency=row.agency,
        )
        _set_clock(
            case,
            _phase_clock(rules, case, "accept", row.received_at, _urgent_by(rules.policy, [facts[row.id]])),
        )
        case.accept_due_at = case.due_at
        opened.append(stored.add_case(session, case, [row.id]))
    return opened


def case_for_submission(session: Session, rules: CaseRules, submission_id: int) -> CaseRow:
    """The case of a submission, opened now when it has none; ``NotFound`` for no submission."""
    case = stored.case_of(session, submission_id, lock=True)
    if case is None:
        open_cases(session, rules, [submission_id])
        case = stored.case_of(session, submission_id, lock=True)
    if case is None:
        raise NotFound(f"submission {submission_id} does not exist")
    if case.agency is None and case.state == CaseState.received:
        _adopt_routed_agency(session, rules, case, submission_id)
    return case


def _adopt_routed_agency(session: Session, rules: CaseRules, case: CaseRow, submission_id: int) -> None:
    """A case opened before its submission was routed takes the agency routing or triage gave the
    submission since; its acceptance clock, still from receipt, follows that agency's calendar."""
    row = session.get(SubmissionRow, submission_id)
    if row is None or row.agency is None:
        return
    case.agency = row.agency
    facts = stored.topics_and_urgency(session, stored.member_ids(session, case.id))
    _start_accept_clock(rules, case, case.clock_start, _urgent_by(rules.policy, list(facts.values())))


def _refuse(case: CaseRow, action: str) -> Conflict:
    allowed = allowed_actions(case)
    return Conflict(
        f"cannot {action} a case that is {case.state}; allowed now: {', '.join(allowed) or 'nothing'}",
        details={"state": case.state, "action": action, "allowed": allowed},
    )


def _need(value: str | None, what: str, action: str) -> str:
    if not value:
        raise Unprocessable(f"{action} needs {what}")
    return value


def act(
    session: Session,
    rules: CaseRules,
    submission_id: int,
    body: CaseActionIn,
    user: Principal,
    *,
    client: str | None = None,
    now: dt.datetime | None = None,
    origin: answers.AnswerOrigin | None = None,
) -> CaseRow:
    """Apply ``body.action`` to the case of ``submission_id``; ``Conflict`` (409) with the allowed
    actions when the workflow forbids it, ``Forbidden`` for another agency's case. An answer to an
    agency that asks for approval is held as a draft (``origin.approved`` publishes one)."""
    moment = now or utcnow()
    case = case_for_submission(session, rules, submission_id)
    check_act(user, case)
    action = body.action
    if action not in allowed_actions(case):
        raise _refuse(case, action)
    before, previous_agency = case.state, case.agency
    _check_inputs(case, body, rules.directory)
    if action == "answer" and answers.held_for_approval(rules.directory, case, origin):
        answers.hold_draft(
            session, case, body, user, origin, submission_id=submission_id, client=client, now=moment
        )
        return case
    workflow_of(case).send(action)
    facts = stored.topics_and_urgency(session, stored.member_ids(session, case.id))
    urgent = _urgent_by(rules.policy, list(facts.values()))
    if action == "accept":
        case.agency = body.agency or case.agency
        case.case_type = (body.case_type or CaseType(case.case_type)).value
        case.complex = body.complex if body.complex is not None else case.complex
        case.accepted_at = moment
        _start_answer_clock(rules, case, moment, urgent)
    elif action == "assign":
        case.handler = body.agency or case.handler or case.agency
    elif action == "answer":
        case.answer, case.answered_at = body.answer, moment
    elif action == "close":
        case.closed_at = moment
    elif action == "reopen":
        case.closed_at = None
        if case.state == CaseState.received:
            _start_accept_clock(rules, case, moment, urgent)
        else:
            _start_answer_clock(rules, case, moment, urgent)
    elif action == "transfer":
        case.agency, case.handler = body.agency, None
        case.accepted_at = case.answer_due_at = None
        case.escalated_to = case.escalated_at = None
        _start_accept_clock(rules, case, moment, urgent)
    case.updated_at = moment
    if body.note:
        stored.add_note(session, case.id, user.email, body.note)
    stored.sync_submissions(session, case, STATUS_OF_STATE[CaseState(case.state)])
    answers.after_step(session, rules.directory, case, action, body, user, origin, moment)
    detail = {"from": before, "to": case.state, "submission": submission_id, "agency": case.agency}
    if body.reason:
        detail["reason"] = body.reason
    if previous_agency != case.agency:
        detail["previous_agency"] = previous_agency
    if action == "assign":
        detail["handler"] = case.handler
    record_audits(
        session,
        [
            AuditEvent(
                actor=user.email,
                action=f"case.{action}",
                target=f"case:{case.id}",
                client=client,
                status=200,
                detail=detail,
            )
        ],
    )
    session.flush()
    return case


def _check_inputs(case: CaseRow, body: CaseActionIn, directory: Directory) -> None:
    action = body.action
    if body.agency is not None and action in ("accept", "assign", "transfer"):
        directory.require(body.agency)
    if action == "accept":
        if case.agency is None and body.agency is None:
            raise Unprocessable("accept needs an agency: this case has none yet")
        if case.agency is not None and body.agency not in (None, case.agency):
            raise Unprocessable(f"this case is held by {case.agency!r}; transfer it to change the agency")
    elif action == "answer":
        _need(body.answer, "an answer", action)
    elif action == "transfer":
        _need(body.reason, "a reason", action)
        agency = _need(body.agency, "the agency to transfer to", action)
        if agency == case.agency:
            raise Unprocessable(f"the case is already held by {agency!r}")
    elif action == "reopen" or (action == "close" and case.state == CaseState.received):
        _need(body.reason, "a reason", action if action == "reopen" else "closing an unaccepted case")


def _start_accept_clock(
    rules: CaseRules, case: CaseRow, start: dt.datetime, urgent: dt.datetime | None
) -> None:
    _set_clock(case, _phase_clock(rules, case, "accept", start, urgent))
    case.accept_due_at = case.due_at


def _start_answer_clock(
    rules: CaseRules, case: CaseRow, start: dt.datetime, urgent: dt.datetime | None
) -> None:
    phase = "answer_complex" if case.complex else "answer"
    _set_clock(case, _phase_clock(rules, case, phase, start, urgent))
    case.answer_due_at = case.due_at


def merge(
    session: Session,
    rules: CaseRules,
    case_id: int,
    submission_ids: Sequence[int],
    reason: str,
    user: Principal,
    *,
    client: str | None = None,
) -> CaseRow:
    """Bring the cases of ``submission_ids`` (whole, with all their submissions) into ``case_id``,
    which keeps its agency and clock; the others end as ``merged``."""
    target = _case(session, case_id)
    check_act(user, target)
    if not can_merge(target):
        raise _refuse(target, "merge")
    sources: dict[int, CaseRow] = {}
    for submission_id in submission_ids:
        source = case_for_submission(session, rules, submission_id)
        if source.id == target.id or source.id in sources:
            continue
        check_act(user, source)
        if not can_merge(source):
            raise _refuse(source, "merge")
        sources[source.id] = source
    if not sources:
        raise Unprocessable("those submissions are already handled in this case")
    moment = utcnow()
    events = []
    for source in sources.values():
        members = stored.member_ids(session, source.id)
        stored.move_members(session, members, target.id)
        before = source.state
        workflow_of(source).send("merge")
        source.merged_into, source.due_at, source.warn_at, source.updated_at = target.id, None, None, moment
        events.append(
            AuditEvent(
                actor=user.email,
                action="case.merge",
                target=f"case:{source.id}",
                client=client,
                status=200,
                detail={
                    "from": before,
                    "to": source.state,
                    "into": target.id,
                    "submissions": members,
                    "reason": reason,
                },
            )
        )
    target.updated_at = moment
    session.flush()
    stored.sync_submissions(session, target, STATUS_OF_STATE[CaseState(target.state)])
    record_audits(session, events)
    return target


def split(
    session: Session,
    rules: CaseRules,
    case_id: int,
    submission_ids: Sequence[int],
    reason: str,
    user: Principal,
    *,
    client: str | None = None,
) -> CaseRow:
    """Take ``submission_ids`` out of ``case_id`` into a new case that keeps the state, agency and
    clock they had (splitting changes nothing the agency owed those citizens)."""
    case = _case(session, case_id)
    check_act(user, case)
    if not can_merge(case):
        raise _refuse(case, "split")
    members = stored.member_ids(session, case.id)
    wanted = sorted(set(submission_ids))
    strangers = [s for s in wanted if s not in members]
    if strangers:
        raise Unprocessable(f"submissions {strangers} are not handled in case {case.id}")
    if len(wanted) == len(members):
        raise Unprocessable("a split must leave at least one submission in the case")
    copied = {
        name: getattr(case, name)
        for name in (
            "state",
            "case_type",
            "topic",
            "complex",
            "agency",
            "handler",
            "clock_start",
            "due_at",
            "warn_at",
            "accept_due_at",
            "answer_due_at",
            "accepted_at",
            "escalated_to",
            "escalated_at",
        )
    }
    part = stored.add_case(session, CaseRow(**copied), [])
    stored.move_members(session, wanted, part.id)
    session.flush()
    record_audits(
        session,
        [
            AuditEvent(
                actor=user.email,
                action="case.split",
                target=f"case:{case.id}",
                client=client,
                status=200,
                detail={"new_case": part.id, "submissions": wanted, "reason": reason, "state": case.state},
            )
        ],
    )
    return part


def add_note(session: Session, case_id: int, text: str, user: Principal) -> CaseRow:
    """An internal note by someone who may act on the case."""
    case = _case(session, case_id)
    check_act(user, case)
    stored.add_note(session, case.id, user.email, text)
    return case


def escalate_breaches(session: Session, rules: CaseRules, now: dt.datetime | None = None) -> list[CaseRow]:
    """Mark every running case past its deadline as escalated to its agency's head agency (once);
    audited as the system's act."""
    moment = now or utcnow()
    breached = stored.unescalated_breaches(session, moment)
    events = []
    for case in breached:
        case.escalated_to, case.escalated_at = rules.directory.head_of(case.agency), moment
        events.append(
            AuditEvent(
                actor=SYSTEM_ACTOR,
                action="case.escalate",
                target=f"case:{case.id}",
                detail={
                    "agency": case.agency,
                    "to": case.escalated_to,
                    "due_at": case.due_at.isoformat() if case.due_at else None,
                },
            )
        )
    record_audits(session, events)
    session.flush()
    return breached


def _case(session: Session, case_id: int) -> CaseRow:
    case = stored.get_case(session, case_id, lock=True)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    return case


def view(session: Session, case: CaseRow, user: Principal, now: dt.datetime | None = None) -> CaseView:
    """The case as ``user`` may see it."""
    acting = may_act(user, case)
    notes = stored.notes_of(session, case.id) if acting else []
    return CaseView(
        id=case.id,
        status=CaseState(case.state),
        case_type=CaseType(case.case_type),
        topic=case.topic,
        complex=case.complex,
        agency=case.agency,
        handler=case.handler,
        due_at=case.due_at,
        warn_at=case.warn_at,
        sla_state=stored.sla_state(case, now or utcnow()),
        accept_due_at=case.accept_due_at,
        answer_due_at=case.answer_due_at,
        accepted_at=case.accepted_at,
        answered_at=case.answered_at,
        closed_at=case.closed_at,
        answer=case.answer,
        escalated_to=case.escalated_to,
        escalated_at=case.escalated_at,
        merged_into=case.merged_into,
        submissions=stored.member_ids(session, case.id),
        allowed_actions=allowed_actions(case) if acting else [],
        notes=[NoteOut(author=n.author, text=n.text, created_at=n.created_at) for n in notes],
        answer_draft=answers.draft_view(session, case) if acting else None,
    )
