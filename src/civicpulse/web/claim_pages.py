"""The claim base page (``/claims``: enter a fact-check or an official statement, link its passages)
and the rumour panel (``/rumours``: claims circulating, k-anonymous, and their sourced responses:
draft, edit, approve by a second person, publish). Every form is CSRF-protected and acts through
``civicpulse.knowledge``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from civicpulse.api.deps import OptionalUser, ReadSession, client_address
from civicpulse.domain import Role
from civicpulse.errors import CivicPulseError, Forbidden, Unprocessable
from civicpulse.identity import ANALYST_ROLES, Principal
from civicpulse.knowledge import claimreview, responses
from civicpulse.knowledge import claims as claim_base
from civicpulse.knowledge.rumour_panel import panel
from civicpulse.store import claims as stored
from civicpulse.web.csrf import CsrfProtected
from civicpulse.web.i18n import translator
from civicpulse.web.inbox_pages import MAX_ID, sign_in_first
from civicpulse.web.render import render

router = APIRouter(include_in_schema=False)

RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
Text = Annotated[str, Form(max_length=20_000)]
Short = Annotated[str, Form(max_length=2_000)]
CLAIM_FIELDS = (
    "kind",
    "claim",
    "rating",
    "author",
    "url",
    "date_published",
    "language",
    "appearances",
    "passages",
)
ACTIONS = ("edit", "approve", "return", "publish")


def _ids(text: str, name: str) -> list[int]:
    try:
        ids = [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise Unprocessable(f"{name}: give numbers separated by commas") from None
    if any(not 1 <= value <= MAX_ID for value in ids):
        raise Unprocessable(f"{name}: out of range")
    return ids


def _claims_page(
    request: Request,
    session: Session,
    user: Principal,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    rows = stored.list_claims(session)
    context = {
        "claims": rows,
        "links": stored.passage_links(session, [row.id for row in rows]),
        "values": values or {"kind": claimreview.FACT_CHECK, "language": translator(request).lang},
        "may_write": user.role in ANALYST_ROLES,
        "office_name": request.app.state.ctx.settings.office_name,
        "error": error,
        "active": "claims",
    }
    return render(request, "claims.html", context, status_code=status_code)


@router.get("/claims")
def claims_page(request: Request, session: ReadSession, user: OptionalUser) -> Response:
    """The claim base, and a form to enter a fact-check or an official statement (admins, analysts)."""
    if user is None:
        return sign_in_first(request)
    return _claims_page(request, session, user)


@router.post("/claims", dependencies=[CsrfProtected])
def add_claim(
    request: Request,
    user: OptionalUser,
    kind: Annotated[str, Form(max_length=40)] = claimreview.FACT_CHECK,
    claim: Text = "",
    rating: Short = "",
    author: Short = "",
    url: Short = "",
    date_published: Short = "",
    language: Short = "",
    appearances: Text = "",
    passages: Short = "",
) -> Response:
    """Store the form as a ClaimReview and link its passages; the page again with the problem."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    if user.role not in ANALYST_ROLES:
        raise Forbidden(t("error.403"))
    ctx = request.app.state.ctx
    values = dict(
        zip(
            CLAIM_FIELDS,
            (kind, claim, rating, author, url, date_published, language, appearances, passages),
            strict=True,
        )
    )
    try:
        if kind not in claimreview.KINDS:
            raise Unprocessable(f"kind: one of {', '.join(claimreview.KINDS)}")
        obj = claimreview.build(
            claim=claim.strip(),
            rating=rating.strip(),
            author=author.strip() or ctx.settings.office_name,
            kind=kind,
            url=url.strip() or None,
            date_published=date_published.strip() or None,
            language=language.strip() or None,
            appearances=[line.strip() for line in appearances.splitlines() if line.strip()],
        )
        passage_ids = _ids(passages, "passages")
        with ctx.db.write() as session:
            row = claim_base.add(session, obj, actor=user.email, client=client_address(request))
            if passage_ids:
                claim_base.link(
                    session, row.id, passage_ids, actor=user.email, client=client_address(request)
                )
    except CivicPulseError as exc:
        with ctx.db.read() as session:
            return _claims_page(
                request,
                session,
                user,
                values=values,
                error=t("claims.refused", reason=exc.message),
                status_code=exc.status,
            )
    request.state.audited = True
    return RedirectResponse(f"/claims#claim-{row.id}", status_code=303)


# ---------------------------------------------------------------------------- rumours


def _rumours_page(
    request: Request, session: Session, user: Principal, *, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = request.app.state.ctx
    rows = panel(session, ctx.settings)
    drafts = stored.list_responses(session, limit=100)
    claims = stored.claims_by_ids(session, [row.claim_id for row in drafts])
    context = {
        "rows": rows,
        "k": ctx.settings.k_anonymity,
        "responses": drafts,
        "response_claims": claims,
        "may_review": {row.id: responses.may_review(user, row) for row in drafts},
        "may_write": user.role != Role.viewer,
        "office": ctx.settings.office_name,
        "error": error,
        "active": "rumours",
    }
    return render(request, "rumours.html", context, status_code=status_code)


@router.get("/rumours")
def rumours_page(request: Request, session: ReadSession, user: OptionalUser) -> Response:
    """Claims circulating in submissions (people under k shown as "< k") and sourced responses."""
    if user is None:
        return sign_in_first(request)
    return _rumours_page(request, session, user)


def _writer(request: Request, user: Principal) -> None:
    if user.role == Role.viewer:
        raise Forbidden(translator(request)("error.403"))


@router.post("/rumours/responses", dependencies=[CsrfProtected])
def draft_response(
    request: Request,
    user: OptionalUser,
    claim_id: Short = "",
    submission_id: Short = "",
) -> Response:
    """Draft a response quoting the claim and its passages; back to the panel."""
    if user is None:
        return sign_in_first(request)
    _writer(request, user)
    ctx = request.app.state.ctx
    try:
        claim = _ids(claim_id, "claim_id")
        target = _ids(submission_id, "submission_id")
        if len(claim) != 1:
            raise Unprocessable("claim_id: give one claim")
        with ctx.db.write() as session:
            row = responses.draft(
                session,
                claim[0],
                user,
                office=ctx.settings.office_name,
                submission_id=target[0] if target else None,
                client=client_address(request),
            )
    except CivicPulseError as exc:
        return _refused(request, user, exc)
    request.state.audited = True
    return RedirectResponse(f"/rumours#response-{row.id}", status_code=303)


@router.post("/responses/{response_id}", dependencies=[CsrfProtected])
def act_on_response(
    request: Request,
    user: OptionalUser,
    response_id: RowId,
    action: Annotated[str, Form(max_length=20)] = "",
    text: Text = "",
    reason: Text = "",
) -> Response:
    """Edit, approve, return or publish a response; back to the panel (with the reason if refused)."""
    if user is None:
        return sign_in_first(request)
    _writer(request, user)
    ctx = request.app.state.ctx
    t = translator(request)
    client = client_address(request)
    try:
        if action not in ACTIONS:
            raise Unprocessable(t("responses.bad_action"))
        with ctx.db.write() as session:
            if action == "edit":
                if not text.strip():
                    raise Unprocessable(t("responses.text_needed"))
                responses.edit(session, response_id, text.strip(), user, client=client)
            elif action == "approve":
                responses.approve(session, response_id, user, client=client)
            elif action == "return":
                if not reason.strip():
                    raise Unprocessable(t("responses.reason_needed"))
                responses.send_back(session, response_id, reason.strip(), user, client=client)
            else:
                responses.publish(session, response_id, user, office=ctx.settings.office_name, client=client)
    except CivicPulseError as exc:
        return _refused(request, user, exc)
    request.state.audited = True
    return RedirectResponse(f"/rumours#response-{response_id}", status_code=303)


def _refused(request: Request, user: Principal, exc: CivicPulseError) -> Response:
    request.state.audited = False
    with request.app.state.ctx.db.read() as session:
        return _rumours_page(
            request,
            session,
            user,
            error=translator(request)("responses.refused", reason=exc.message),
            status_code=exc.status,
        )
