"""Public pages: the citizen form (works without JavaScript) and tracking by code."""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from civicpulse.api.deps import Ctx, ReadSession, client_address
from civicpulse.cases.review import public_answer
from civicpulse.domain import TrackingStatus
from civicpulse.errors import NotFound
from civicpulse.intake.form import FORM_FIELDS, FormProblem, form_submission
from civicpulse.intake.service import accept
from civicpulse.store.claims import published_for_submission
from civicpulse.store.submissions import get_by_tracking_code
from civicpulse.web.csrf import CsrfProtected
from civicpulse.web.i18n import Translator, translator
from civicpulse.web.limits import CitizenRateLimit
from civicpulse.web.render import render

router = APIRouter(include_in_schema=False)

TRACKING_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
_FIELD_LABELS = {
    "text": "submit.text",
    "locality": "submit.locality",
    "name": "submit.name",
    "phone": "submit.phone",
    "email": "submit.email",
}


def form_errors(problems: list[FormProblem], t: Translator) -> list[str]:
    """The form's problems as sentences a citizen understands, in the page's language."""
    messages: list[str] = []
    for problem in problems:
        label = t(_FIELD_LABELS.get(problem.field, "submit.text"))
        if problem.kind == "text_empty":
            messages.append(t("err.text_empty"))
        elif problem.kind == "text_long":
            messages.append(t("err.text_long", max=problem.limit))
        elif problem.kind == "too_long":
            messages.append(t("err.too_long", field=label, max=problem.limit))
        elif problem.kind == "control":
            messages.append(t("err.control", field=label))
        else:
            messages.append(t("err.invalid", field=label))
    return list(dict.fromkeys(messages))


@router.get("/submit")
def submit_form(request: Request, ctx: Ctx, text: str = "") -> Response:
    """The citizen form, empty or with ``?text=`` written in (the ``/ask`` page's unanswered
    question), cut to the longest text the form accepts."""
    values = dict.fromkeys(FORM_FIELDS, "")
    values["text"] = text[: ctx.settings.max_text_chars]
    return render(request, "submit.html", {"values": values, "errors": [], "active": "submit"})


@router.post("/submit", dependencies=[CitizenRateLimit, CsrfProtected])
def submit(
    request: Request,
    ctx: Ctx,
    text: Annotated[str, Form()] = "",
    locality: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    phone: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
) -> Response:
    """Accept the feedback through the one intake door and show its tracking code."""
    values = {"text": text, "locality": locality, "name": name, "phone": phone, "email": email}
    t = translator(request)
    item, problems = form_submission(values, ctx.settings.max_text_chars)
    if item is None:
        errors = form_errors(problems, t)
        context: dict[str, Any] = {"values": values, "errors": errors, "active": "submit"}
        return render(request, "submit.html", context, status_code=422)
    [result] = accept(
        ctx.db, ctx.cipher, [item], actor="citizen", client=client_address(request), action="web.submit"
    )
    request.state.audited = True
    return render(request, "thanks.html", {"result": result, "active": "submit"})


@router.get("/track")
def track_form(request: Request, code: str | None = None) -> Response:
    """A form to type a tracking code; with ``?code=`` it goes to that code's page."""
    if code and code.strip():
        return RedirectResponse("/track/" + quote(code.strip().upper(), safe=""), status_code=303)
    return render(request, "track_form.html", {"active": "track"})


@router.get("/track/{code}", dependencies=[CitizenRateLimit])
def track(request: Request, session: ReadSession, code: str) -> Response:
    """Status, times and agency of one submission: no text, no contact."""
    t = translator(request)
    if not TRACKING_CODE.match(code):
        raise NotFound(t("track.unknown"))
    try:
        row = get_by_tracking_code(session, code)
    except NotFound as exc:
        raise NotFound(t("track.unknown")) from exc
    status = TrackingStatus(
        tracking_code=row.tracking_code,
        status=row.status,
        received_at=row.received_at,
        updated_at=row.updated_at,
        agency=row.agency,
    )
    context = {
        "tracking": status,
        "active": "track",
        "answer": public_answer(session, row.id),
        "responses": published_for_submission(session, row.id),
    }
    return render(request, "track.html", context)
