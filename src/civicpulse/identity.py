"""Who is asking and what they may see: principals, roles and the privacy rules.

A submission's raw text and its sender's contact details go to admins and the handling agency only.
Everyone else (analysts, viewers, other agencies' officers) sees the redacted text that the ``pii``
stage produced, or nothing until that stage has run, and searches only that. The same holds for the
other fields a citizen types (place, source id, attachment file names): others see the stage's
redaction of each, or nothing until it ran; attachment URLs only the handler sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from civicpulse.annotations import (
    PiiOut,
    attachment_field,
    redact_side_fields,
    side_fields,
    stored_side_fields,
)
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
    """The submission as ``user`` may see it: as stored for the handler, else ``redacted_view``."""
    if may_see_personal_data(user, submission.agency):
        return submission
    return redacted_view(submission)


def redacted_view(submission: SubmissionOut) -> SubmissionOut:
    """The submission without its raw text and attachment URLs, its typed fields replaced by their
    redaction (``None``, and named in ``redaction_pending``, until the ``pii`` stage redacted them)."""
    pii = submission.annotations.get(PiiOut.stage)
    raw = side_fields(submission.locality, submission.source_id, [a.filename for a in submission.attachments])
    shown, pending = redact_side_fields(raw, stored_side_fields(pii.data if pii else None))
    attachments = [
        attachment.model_copy(update={"filename": shown[attachment_field(index)], "url": None})
        for index, attachment in enumerate(submission.attachments)
    ]
    update = {"locality": shown["locality"], "source_id": shown["source_id"], "attachments": attachments}
    return submission.model_copy(update={"text": None, **update, "redaction_pending": pending})


def raw_text_ids(shown: Sequence[SubmissionOut]) -> list[int]:
    """The ids of the submissions shown with their raw text (the handler's view), for the audit log."""
    return [submission.id for submission in shown if submission.text is not None]


def may_search_raw_text(user: Principal) -> bool:
    """Text search over every submission's raw text: admins only (a search would otherwise tell
    whether someone wrote a given phone number or name)."""
    return user.role == Role.admin
