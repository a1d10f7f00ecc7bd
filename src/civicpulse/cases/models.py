"""The case API's bodies and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from civicpulse.cases.deadlines import CaseType
from civicpulse.domain import CaseState, SlaState, Strict, check_clean_text
from civicpulse.taxonomy import Code

Reason = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(check_clean_text)]
AnswerText = Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(check_clean_text)]
SubmissionIds = Annotated[
    list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(min_length=1, max_length=1000)
]


class CaseActionIn(Strict):
    """One step of the workflow on the case of a submission."""

    action: Literal["accept", "assign", "start", "transfer", "answer", "close", "reopen"]
    agency: Code | None = Field(
        default=None,
        description="accept: the agency (when the case has none); assign: the handling "
        "agency (default: the case's); transfer: the new agency (required).",
    )
    answer: AnswerText | None = Field(default=None, description="answer: the public answer (required).")
    reason: Reason | None = Field(
        default=None, description="Why; required for transfer, reopen and closing an unaccepted case."
    )
    case_type: CaseType | None = Field(
        default=None, description="accept: the case type, when not the topic's."
    )
    complex: bool | None = Field(
        default=None, strict=True, description="accept: a complex case gets the longer answer time."
    )
    note: Reason | None = Field(
        default=None, description="An internal note kept with the case, never public."
    )


class MergeIn(Strict):
    """Handle the cases of these submissions as part of this case."""

    submissions: SubmissionIds
    reason: Reason


class SplitIn(Strict):
    """Take these submissions out of the case into a new case."""

    submissions: SubmissionIds
    reason: Reason


class NoteIn(Strict):
    """An internal note."""

    text: Reason


class NoteOut(Strict):
    """An internal note as officers see it."""

    author: str
    text: str
    created_at: datetime


class AnswerDraftOut(Strict):
    """An answer waiting for a second officer's approval."""

    id: int
    text: str
    author: str
    created_at: datetime


class CaseView(Strict):
    """A case with its clock; notes and allowed actions only for those who may act on it."""

    id: int
    status: CaseState
    case_type: CaseType
    topic: str | None
    complex: bool
    agency: str | None
    handler: str | None
    due_at: datetime | None
    warn_at: datetime | None
    sla_state: SlaState | None
    accept_due_at: datetime | None
    answer_due_at: datetime | None
    accepted_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    answer: str | None
    escalated_to: str | None
    escalated_at: datetime | None
    merged_into: int | None
    submissions: list[int]
    allowed_actions: list[str] = Field(default_factory=list)
    notes: list[NoteOut] = Field(default_factory=list)
    answer_draft: AnswerDraftOut | None = Field(
        default=None, description="The answer waiting for approval, for those who may act on the case."
    )
