"""The officer's day: the triage queue (with drafts waiting for approval), the case panel of a
submission with its workflow steps as plain forms, the answer templates of admins, and the
citizen's "Did this solve your problem?" on the tracking page. Every form is CSRF-protected and
acts through ``civicpulse.cases``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from civicpulse.api.deps import OptionalUser, ReadSession, client_address
from civicpulse.api.routers.answers import check_template_targets, rules_of, wake_mail
from civicpulse.cases import review, service
from civicpulse.cases.answers import AnswerOrigin, agency_name, may_review
from civicpulse.cases.models import CaseActionIn
from civicpulse.cases.templates import PLACEHOLDERS, TemplateIn
from civicpulse.cases.workflow import allowed_actions
from civicpulse.domain import CaseState, Role
from civicpulse.errors import CivicPulseError, Conflict, Forbidden, NotFound, Unprocessable
from civicpulse.identity import Principal
from civicpulse.insight.campaigns import CampaignRules, campaign_of
from civicpulse.store import answers as stored
from civicpulse.store import cases as stored_cases
from civicpulse.store.audit import record_audit
from civicpulse.store.submissions import get_by_tracking_code
from civicpulse.store.tables import CaseRow, SubmissionRow, utcnow
from civicpulse.web.csrf import CsrfProtected
from civicpulse.web.i18n import translator
from civicpulse.web.inbox_pages import MAX_ID, sign_in_first
from civicpulse.web.limits import CitizenRateLimit
from civicpulse.web.public_pages import TRACKING_CODE
from civicpulse.web.render import render

router = APIRouter(include_in_schema=False)

SubmissionId = Annotated[int, Path(ge=1, le=MAX_ID)]
RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
Field = Annotated[str, Form(max_length=20_000)]
SHORT = Annotated[str, Form(max_length=200)]
ROUTE_STAGE = "route"
SCOPES = ("case", "campaign", "theme")


def _is_partial(request: Request) -> bool:
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


def _names(rules: service.CaseRules, lang: str) -> dict[str, str]:
    return {code: agency_name(rules.directory, code, lang) or code for code in rules.directory.codes()}


def _suggestion(session: Session, submission_id: int) -> dict[str, Any] | None:
    data = stored.annotations_of(session, ROUTE_STAGE, [submission_id]).get(submission_id)
    return data if data and data.get("agency") else None


def _is_writer(user: Principal) -> bool:
    return user.role != Role.viewer


# ---------------------------------------------------------------------------- triage queue


@router.get("/cases")
def triage(request: Request, session: ReadSession, user: OptionalUser) -> Response:
    """Cases waiting to be taken on (most urgent first, with the router's suggestion) and the
    answers waiting for the user's approval."""
    if user is None:
        return sign_in_first(request)
    ctx = request.app.state.ctx
    t = translator(request)
    rules = rules_of(ctx, session)
    scope = user.agency_scope()
    cases = stored.triage_cases(session, scope)
    firsts = stored.first_members(session, [c.id for c in cases])
    suggestions = stored.annotations_of(session, ROUTE_STAGE, [row.id for row in firsts.values()])
    now = utcnow()
    rows = []
    for case in cases:
        first = firsts.get(case.id)
        rows.append(
            {
                "case": case,
                "submission": first,
                "suggestion": suggestions.get(first.id) if first is not None else None,
                "sla": stored_cases.sla_state(case, now),
            }
        )
    drafts = [
        {"answer": answer, "case": case, "submission": firsts_of(session, case)}
        for answer, case in stored.drafts_waiting(session, scope)
        if may_review(user, case, answer)
    ]
    context = {
        "rows": rows,
        "drafts": drafts,
        "names": _names(rules, t.lang),
        "is_admin": user.role == Role.admin,
        "active": "cases",
    }
    return render(request, "cases_triage.html", context)


def firsts_of(session: Session, case: CaseRow) -> SubmissionRow | None:
    """The oldest submission of a case."""
    return stored.first_members(session, [case.id]).get(case.id)


# ---------------------------------------------------------------------------- the case panel


def panel_context(
    request: Request, session: Session, user: Principal, submission_id: int, template_id: int | None = None
) -> dict[str, Any]:
    """What the case panel of a submission shows to ``user``."""
    ctx = request.app.state.ctx
    t = translator(request)
    submission = session.get(SubmissionRow, submission_id)
    if submission is None:
        raise NotFound(t("error.no_submission", id=submission_id))
    rules = rules_of(ctx, session)
    case = stored_cases.case_of(session, submission_id)
    if case is not None:
        service.check_view(user, case)
    elif user.agency_scope() is not None and submission.agency not in user.agencies:
        raise Forbidden(t("error.other_agency"))
    acting = _is_writer(user) and (case is None or service.may_act(user, case))
    state = CaseState(case.state) if case is not None else CaseState.received
    actions = (
        (allowed_actions(case) if case is not None else ["accept", "transfer", "close"]) if acting else []
    )
    draft = stored.pending_draft(session, case.id) if case is not None else None
    topic = review.topic_of(case, submission) if case is not None else submission.service_code
    agency = case.agency if case is not None else submission.agency
    templates = stored.list_templates(session, agency=agency, topic=topic, active_only=True) if acting else []
    chosen = next((row for row in templates if row.id == template_id), None)
    prefilled = ""
    problem = None
    if chosen is not None and case is not None:
        try:
            prefilled = review.render_for_case(session, rules, ctx.taxonomy, chosen, case)
        except Unprocessable as exc:
            problem = exc.message
    campaign = campaign_of(session, submission_id, CampaignRules.from_settings(ctx.settings))
    return {
        "submission": submission,
        "case": case,
        "state": state.value,
        "sla": stored_cases.sla_state(case, utcnow()) if case is not None else None,
        "actions": actions,
        "draft": draft,
        "may_review": case is not None and draft is not None and may_review(user, case, draft),
        "published": stored.latest_published(session, case.id) if case is not None else None,
        "suggestion": _suggestion(session, submission_id),
        "names": _names(rules, t.lang),
        "templates": templates,
        "template_id": chosen.id if chosen else None,
        "prefilled": prefilled,
        "error": problem,
        "campaign": campaign.size if campaign is not None else None,
        "theme": stored.theme_of(session, submission_id),
        "scopes": SCOPES,
    }


def _panel(
    request: Request, context: dict[str, Any], *, status_code: int = 200, error: str | None = None
) -> Response:
    if error:
        context["error"] = error
    name = "cases_panel.html" if _is_partial(request) else "cases_panel_page.html"
    return render(
        request, name, {**context, "active": "inbox"}, status_code=status_code, headers={"Vary": "HX-Request"}
    )


@router.get("/submissions/{submission_id}/case")
def case_panel(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    submission_id: SubmissionId,
    template: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Response:
    """The case of a submission and the steps the user may take (an htmx partial, or a page)."""
    if user is None:
        return sign_in_first(request)
    return _panel(request, panel_context(request, session, user, submission_id, template or None))


def _case_body(action: str, fields: dict[str, str]) -> CaseActionIn:
    values = {key: value.strip() for key, value in fields.items() if value.strip()}
    try:
        return CaseActionIn.model_validate({"action": action, **values})
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"])
        raise Unprocessable(f"{where}: {problem['msg']}") from exc


@router.post("/submissions/{submission_id}/case", dependencies=[CsrfProtected])
def case_step(
    request: Request,
    user: OptionalUser,
    submission_id: SubmissionId,
    action: SHORT = "",
    agency: SHORT = "",
    reason: Field = "",
    answer: Field = "",
    note: Field = "",
    template_id: SHORT = "",
    scope: SHORT = "case",
) -> Response:
    """Take one workflow step (or answer every case of the submission's campaign or theme); back to
    the submission's page, or the panel again with the reason when it is refused."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    if not _is_writer(user):
        raise Forbidden(t("error.403"))
    ctx = request.app.state.ctx
    origin = AnswerOrigin(template_id=int(template_id) if template_id.isdigit() else None)
    try:
        with ctx.db.write() as session:
            if action == "answer" and scope in ("campaign", "theme"):
                _bulk(session, ctx, user, submission_id, scope, answer, client_address(request))
            else:
                rules = rules_of(ctx, session)
                fields = {"agency": agency, "reason": reason, "answer": answer, "note": note}
                body = _case_body(action, fields)
                service.act(
                    session, rules, submission_id, body, user, client=client_address(request), origin=origin
                )
    except CivicPulseError as exc:
        request.state.audited = False
        with ctx.db.read() as session:
            context = panel_context(request, session, user, submission_id)
        context["typed"] = {"action": action, "answer": answer, "reason": reason}
        return _panel(request, context, status_code=exc.status, error=t("case.refused", reason=exc.message))
    request.state.audited = True
    wake_mail(request)
    return RedirectResponse(f"/submissions/{submission_id}#case", status_code=303)


def _bulk(
    session: Session, ctx: Any, user: Principal, submission_id: int, scope: str, answer: str, client: str
) -> None:
    text = _case_body("answer", {"answer": answer}).answer
    if scope == "campaign":
        members = review.campaign_members(session, submission_id, CampaignRules.from_settings(ctx.settings))
    else:
        theme = stored.theme_of(session, submission_id)
        if theme is None:
            raise Unprocessable("this submission belongs to no stored theme")
        members = review.theme_members(session, theme[0])
    review.bulk_answer(
        session, rules_of(ctx, session), ctx.taxonomy, members, user, answer=text, client=client
    )


# ---------------------------------------------------------------------------- approval


@router.post("/answers/{answer_id}/review", dependencies=[CsrfProtected])
def review_answer(
    request: Request,
    user: OptionalUser,
    answer_id: RowId,
    decision: SHORT = "",
    reason: Field = "",
) -> Response:
    """Approve a draft (it is published) or send it back with a reason; back to its submission."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    if not _is_writer(user):
        raise Forbidden(t("error.403"))
    if decision not in ("approve", "return"):
        raise Unprocessable(t("case.bad_decision"))
    ctx = request.app.state.ctx
    with ctx.db.read() as session:
        answer = stored.get_answer(session, answer_id)
        first = stored.first_members(session, [answer.case_id]).get(answer.case_id) if answer else None
    if answer is None or first is None:
        raise NotFound(t("case.no_answer", id=answer_id))
    try:
        with ctx.db.write() as session:
            if decision == "approve":
                review.approve(
                    session, rules_of(ctx, session), answer_id, user, client=client_address(request)
                )
            else:
                text = reason.strip()
                if not text:
                    raise Unprocessable(t("case.reason_needed"))
                review.send_back(session, answer_id, text, user, client=client_address(request))
    except CivicPulseError as exc:
        request.state.audited = False
        with ctx.db.read() as session:
            context = panel_context(request, session, user, first.id)
        return _panel(request, context, status_code=exc.status, error=t("case.refused", reason=exc.message))
    request.state.audited = True
    wake_mail(request)
    return RedirectResponse(f"/submissions/{first.id}#case", status_code=303)


# ---------------------------------------------------------------------------- answer templates


def _templates_page(
    request: Request,
    session: Session,
    *,
    values: dict[str, Any] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    ctx = request.app.state.ctx
    t = translator(request)
    context = {
        "templates": stored.list_templates(session),
        "names": _names(rules_of(ctx, session), t.lang),
        "topics": [
            (topic.code, topic.name_en if t.lang == "en" else topic.name_vi) for topic in ctx.taxonomy.topics
        ],
        "placeholders": PLACEHOLDERS,
        "values": values or {"language": t.lang, "active": True},
        "error": error,
        "active": "cases",
    }
    return render(request, "cases_templates.html", context, status_code=status_code)


def _admin_only(request: Request, user: Principal) -> None:
    if user.role != Role.admin:
        raise Forbidden(translator(request)("error.403"))


@router.get("/answer-templates")
def templates_page(request: Request, session: ReadSession, user: OptionalUser) -> Response:
    """The answer templates, and a form to add or change one (admins)."""
    if user is None:
        return sign_in_first(request)
    _admin_only(request, user)
    return _templates_page(request, session)


@router.post("/answer-templates", dependencies=[CsrfProtected])
def save_template(
    request: Request,
    user: OptionalUser,
    template_id: SHORT = "",
    code: SHORT = "",
    name: SHORT = "",
    language: SHORT = "vi",
    agency: SHORT = "",
    topic: SHORT = "",
    body: Field = "",
    active: SHORT = "",
) -> Response:
    """Add a template, or replace the one of ``template_id``; the page again with the problem."""
    if user is None:
        return sign_in_first(request)
    _admin_only(request, user)
    t = translator(request)
    ctx = request.app.state.ctx
    typed = {
        "template_id": template_id,
        "code": code.strip(),
        "name": name.strip(),
        "language": language,
        "agency": agency or None,
        "topic": topic or None,
        "body": body.strip(),
        "active": bool(active),
    }
    try:
        try:
            template = TemplateIn.model_validate({k: v for k, v in typed.items() if k != "template_id"})
        except ValidationError as exc:
            problem = exc.errors()[0]
            raise Unprocessable(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}") from exc
        with ctx.db.write() as session:
            check_template_targets(ctx, session, template)
            row = stored.get_template(session, int(template_id)) if template_id.isdigit() else None
            if template_id and row is None:
                raise NotFound(t("tpl.unknown", id=template_id))
            other = stored.template_by_code(session, template.code)
            if other is not None and (row is None or other.id != row.id):
                raise Conflict(t("tpl.code_taken", code=template.code))
            if row is not None:
                row.code = template.code
            saved = stored.save_template(session, template.model_dump(), actor=user.email, row=row)
            action = "answer_template.update" if row is not None else "answer_template.create"
            record_audit(
                session,
                actor=user.email,
                action=action,
                target=f"answer_template:{saved.id}",
                client=client_address(request),
                status=303,
            )
    except CivicPulseError as exc:
        with ctx.db.read() as session:
            return _templates_page(
                request,
                session,
                values=typed,
                error=t("case.refused", reason=exc.message),
                status_code=exc.status,
            )
    request.state.audited = True
    return RedirectResponse("/answer-templates", status_code=303)


@router.post("/answer-templates/{template_id}/delete", dependencies=[CsrfProtected])
def delete_template(request: Request, user: OptionalUser, template_id: RowId) -> Response:
    """Remove a template."""
    if user is None:
        return sign_in_first(request)
    _admin_only(request, user)
    ctx = request.app.state.ctx
    with ctx.db.write() as session:
        if not stored.delete_template(session, template_id):
            raise NotFound(translator(request)("tpl.unknown", id=template_id))
        record_audit(
            session,
            actor=user.email,
            action="answer_template.delete",
            target=f"answer_template:{template_id}",
            client=client_address(request),
            status=303,
        )
    request.state.audited = True
    return RedirectResponse("/answer-templates", status_code=303)


# ---------------------------------------------------------------------------- the citizen's word


@router.post("/track/{code}/feedback", dependencies=[CitizenRateLimit, CsrfProtected])
def feedback(request: Request, code: str, solved: SHORT = "") -> Response:
    """The citizen says whether the answer solved the problem; "no" reopens the case."""
    t = translator(request)
    if not TRACKING_CODE.match(code):
        raise NotFound(t("track.unknown"))
    if solved not in ("yes", "no"):
        raise Unprocessable(t("feedback.choose"))
    ctx = request.app.state.ctx
    try:
        with ctx.db.write() as session:
            row = get_by_tracking_code(session, code)
            review.citizen_feedback(
                session,
                rules_of(ctx, session),
                row.tracking_code,
                solved == "yes",
                client=client_address(request),
            )
    except NotFound as exc:
        raise NotFound(t("track.unknown")) from exc
    except Conflict as exc:
        raise Conflict(t("feedback.closed")) from exc
    request.state.audited = True
    return RedirectResponse(f"/track/{row.tracking_code}?feedback={solved}", status_code=303)
