"""Who is asking and what they may see: principals, roles and the privacy rules.

A submission's raw text and its sender's contact details go to admins and the handling agency only.
Everyone else (analysts, viewers, other agencies' officers) sees the redacted text that the ``pii``
stage produced, or nothing until that stage has run, and searches only that.
"""

from __future__ import annotations

from dataclasses import dataclass

from civicpulse.domain import Role, SubmissionOut

ANALYST_ROLES = (Role.admin, Role.analyst)


@dataclass(frozen=True)
class Principal:
    """The signed-in user, as routes and pages see it."""

    id: int
    email: str
    role: Role
    agencies: tuple[str, ...]

    def agency_scope(self) -> tuple[str, ...] | None:
        """Agencies this user is limited to, or ``None`` for every agency."""
        return self.agencies if self.role == Role.agency_officer else None


def is_analyst(user: Principal) -> bool:
    """Whether ``user`` may correct analysis and decide about themes (the dashboard's forms)."""
    return user.role in ANALYST_ROLES


def may_see_personal_data(user: Principal, agency: str | None) -> bool:
    """Raw text and contact details of a case of ``agency``: admins, and that agency's officers."""
    if user.role == Role.admin:
        return True
    return user.role == Role.agency_officer and agency is not None and agency in user.agencies


def shown_to(submission: SubmissionOut, user: Principal) -> SubmissionOut:
    """The submission as ``user`` may see it: raw text removed unless they handle the case."""
    if may_see_personal_data(user, submission.agency):
        return submission
    return submission.model_copy(update={"text": None})


def may_search_raw_text(user: Principal) -> bool:
    """Text search over every submission's raw text: admins only (a search would otherwise tell
    whether someone wrote a given phone number or name)."""
    return user.role == Role.admin
