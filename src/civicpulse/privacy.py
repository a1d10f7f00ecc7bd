"""Who sees what: the raw text of a submission goes to admins and the handling agency only.

Everyone else (analysts, viewers, other agencies' officers) sees the redacted text that the ``pii``
stage produced, or nothing until that stage has run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from civicpulse.domain import Role, SubmissionOut

if TYPE_CHECKING:
    from civicpulse.api.deps import Principal


def may_see_raw_text(user: Principal, agency: str | None) -> bool:
    """Admins, and officers of the agency that handles the case."""
    if user.role == Role.admin:
        return True
    return user.role == Role.agency_officer and agency is not None and agency in user.agencies


def shown_to(submission: SubmissionOut, user: Principal) -> SubmissionOut:
    """The submission as ``user`` may see it: raw text removed unless they handle the case."""
    if may_see_raw_text(user, submission.agency):
        return submission
    return submission.model_copy(update={"text": None})
