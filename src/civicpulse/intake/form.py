"""The citizen form channel: the form's values to ``SubmissionIn``, or the problems that stop it.

Problems are data (a kind, the field, a limit) so that the page words them in its own language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from civicpulse.domain import Channel, SubmissionIn
from civicpulse.intake.channels import ChannelInfo

CONTACT_FIELDS = ("name", "phone", "email")
FORM_FIELDS = ("text", "locality", *CONTACT_FIELDS)


def channel() -> ChannelInfo:
    """The registry's description of this channel."""
    return ChannelInfo("web_form", Channel.web_form, "Citizen form: /submit, works without JavaScript")


@dataclass(frozen=True)
class FormProblem:
    """Why a form cannot be accepted.

    ``kind`` is one of ``text_empty``, ``text_long`` (``limit`` set), ``too_long`` (``field`` and
    ``limit``), ``control`` (a control character, lone surrogate or Unicode non-character in
    ``field``) or ``invalid``.
    """

    kind: str
    field: str = "text"
    limit: int | str = ""


def problems_of(exc: ValidationError) -> list[FormProblem]:
    """Pydantic's errors as form problems, in order."""
    found: list[FormProblem] = []
    for error in exc.errors():
        field = str(error["loc"][-1]) if error["loc"] else "text"
        kind, text = error["type"], str(error.get("msg", ""))
        limit = error.get("ctx", {}).get("max_length", "")
        if field == "text" and (kind == "string_too_short" or "empty" in text):
            found.append(FormProblem("text_empty", field))
        elif field == "text" and kind == "string_too_long":
            found.append(FormProblem("text_long", field, limit))
        elif kind == "string_too_long":
            found.append(FormProblem("too_long", field, limit))
        elif "control character" in text or "surrogate" in text or "non-character" in text:
            found.append(FormProblem("control", field))
        else:
            found.append(FormProblem("invalid", field))
    return found


def form_submission(
    values: Mapping[str, str], max_text_chars: int
) -> tuple[SubmissionIn | None, list[FormProblem]]:
    """The submission of the form (values of ``FORM_FIELDS``), or the reasons it cannot be accepted."""
    contact = {key: values[key].strip() for key in CONTACT_FIELDS if values[key].strip()}
    if len(values["text"]) > max_text_chars:
        return None, [FormProblem("text_long", "text", max_text_chars)]
    try:
        item = SubmissionIn(
            text=values["text"],
            channel=Channel.web_form,
            locality=values["locality"].strip() or None,
            contact=contact or None,
        )
    except ValidationError as exc:
        return None, problems_of(exc)
    return item, []
