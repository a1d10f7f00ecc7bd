"""The case workflow as a state machine: received → accepted (thụ lý) → assigned → in progress →
answered → closed, with reopen, transfer to another agency and merge into another case.

The machine guards the order of steps only; ``civicpulse.cases.service`` checks who may act and
what each step needs (a reason, an agency, an answer) and moves the clock.
"""

from __future__ import annotations

from typing import Any

from statemachine import State, StateMachine

from civicpulse.domain import CaseState, CaseStatus

ACTIONS = ("accept", "assign", "start", "transfer", "answer", "close", "reopen")
"""The actions of ``POST /api/v1/submissions/{id}/case`` (merge and split have routes of their own)."""

OPEN_STATES = (CaseState.received, CaseState.accepted, CaseState.assigned, CaseState.in_progress)
"""States in which the clock runs."""

STATUS_OF_STATE = {
    CaseState.received: CaseStatus.open,
    CaseState.accepted: CaseStatus.in_progress,
    CaseState.assigned: CaseStatus.in_progress,
    CaseState.in_progress: CaseStatus.in_progress,
    CaseState.answered: CaseStatus.in_progress,
    CaseState.closed: CaseStatus.closed,
    CaseState.merged: CaseStatus.closed,
}
"""What Open311 and the inbox show (``CaseStatus``) for each workflow state: an answered case stays
``in_progress`` until it is closed, since the citizen may still say it did not solve the problem."""


class CaseWorkflow(StateMachine):
    """The allowed transitions of one case; ``model.state`` holds the state's value."""

    received = State(initial=True, value=CaseState.received.value)
    accepted = State(value=CaseState.accepted.value)
    assigned = State(value=CaseState.assigned.value)
    in_progress = State(value=CaseState.in_progress.value)
    answered = State(value=CaseState.answered.value)
    closed = State(value=CaseState.closed.value)
    merged = State(final=True, value=CaseState.merged.value)

    accept = received.to(accepted)
    assign = accepted.to(assigned) | assigned.to.itself() | in_progress.to(assigned)
    start = assigned.to(in_progress)
    answer = accepted.to(answered) | assigned.to(answered) | in_progress.to(answered)
    close = answered.to(closed) | received.to(closed)
    reopen = (
        answered.to(in_progress)
        | closed.to(in_progress, cond="was_accepted")
        | closed.to(received, unless="was_accepted")
    )
    transfer = received.to.itself() | accepted.to(received) | assigned.to(received) | in_progress.to(received)
    merge = received.to(merged) | accepted.to(merged) | assigned.to(merged) | in_progress.to(merged)

    def was_accepted(self) -> bool:
        """A closed case that was accepted reopens in progress; one declined unaccepted, as received."""
        return getattr(self.model, "accepted_at", None) is not None


def workflow_of(case: Any) -> CaseWorkflow:
    """The machine over ``case`` (any object with ``state`` and ``accepted_at``)."""
    return CaseWorkflow(model=case, state_field="state")


def allowed_actions(case: Any) -> list[str]:
    """The actions the workflow allows now, in ``ACTIONS`` order (merge excluded)."""
    allowed = {event.id for event in workflow_of(case).allowed_events}
    return [action for action in ACTIONS if action in allowed]


def can_merge(case: Any) -> bool:
    """Whether the case may be merged into another one (or take others in)."""
    return CaseState(case.state) in OPEN_STATES
