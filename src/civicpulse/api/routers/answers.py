"""REST: answer templates (admins write, everyone signed in reads), answers waiting for approval,
approving or sending one back, and one answer for every case of a campaign or a theme."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field, model_validator
from sqlalchemy.orm import Session

from civicpulse.api.context import AppContext
from civicpulse.api.deps import Admin, Ctx, CurrentUser, ReadSession, Writer, client_address
from civicpulse.cases import review, service
from civicpulse.cases.answers import may_review
from civicpulse.cases.deadlines import cached_policy
from civicpulse.cases.models import AnswerText, CaseView, Reason
from civicpulse.cases.templates import TemplateIn, TemplateOut, check_template
from civicpulse.domain import Strict
from civicpulse.errors import Conflict, NotFound, Unprocessable
from civicpulse.identity import Principal
from civicpulse.insight.campaigns import CampaignRules
from civicpulse.store import answers as stored
from civicpulse.store import cases as stored_cases
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import AnswerTemplateRow, CaseAnswerRow, CaseRow

router = APIRouter(tags=["answers"])

RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
QueryId = Annotated[int, Query(ge=1, le=2**63 - 1)]


class AnswerOut(Strict):
    """An answer to a case: a draft, returned with a reason, superseded, or published."""

    id: int
    case_id: int
    state: Literal["draft", "returned", "superseded", "published"]
    text: str
    author: str
    reviewer: str | None
    review_reason: str | None
    agency: str | None
    agency_name: str | None
    template_id: int | None
    batch: str | None
    created_at: dt.datetime
    reviewed_at: dt.datetime | None
    published_at: dt.datetime | None
    may_review: bool = Field(default=False, description="Whether the caller may approve or return it.")


class ReturnIn(Strict):
    """Why the draft goes back to its author."""

    reason: Reason


class RenderedOut(Strict):
    """A template rendered for one case."""

    template_id: int
    submission_id: int
    text: str


class BulkIn(Strict):
    """One answer for every case of a campaign or a theme: the text, or a template rendered per case."""

    campaign: int | None = Field(
        default=None, ge=1, le=2**63 - 1, strict=True, description="A submission of the campaign."
    )
    theme: int | None = Field(
        default=None, ge=1, le=2**63 - 1, strict=True, description="A stored theme's id."
    )
    answer: AnswerText | None = None
    template_id: int | None = Field(default=None, ge=1, le=2**63 - 1, strict=True)

    @model_validator(mode="after")
    def _one_of_each(self) -> BulkIn:
        if (self.campaign is None) == (self.theme is None):
            raise ValueError("give either campaign or theme")
        if (self.answer is None) == (self.template_id is None):
            raise ValueError("give either answer or template_id")
        return self


class BulkCaseOut(Strict):
    """What one case became."""

    case_id: int
    outcome: Literal["published", "draft", "skipped"]
    submissions: list[int]
    reason: str | None


class BulkOut(Strict):
    """The cases a bulk answer reached."""

    published: int
    drafts: int
    skipped: int
    cases: list[BulkCaseOut]


def rules_of(ctx: AppContext, session: Session) -> service.CaseRules:
    """The deadlines policy and the directory, as the case routes use them."""
    return service.CaseRules(
        cached_policy(ctx.settings.case_deadlines_file), service.load_directory(session, ctx.taxonomy)
    )


def wake_mail(request: Request) -> None:
    """Ask the mail thread to deliver what was just published."""
    mailer = getattr(request.app.state, "answer_mail", None)
    if mailer is not None:
        mailer.wake()


def answer_out(row: CaseAnswerRow, user: Principal | None = None, case: CaseRow | None = None) -> AnswerOut:
    """An answer row for the API; ``may_review`` for ``user`` when the case is given."""
    reviewable = (
        user is not None and case is not None and row.state == stored.DRAFT and may_review(user, case, row)
    )
    return AnswerOut.model_validate(
        {
            "id": row.id,
            "case_id": row.case_id,
            "state": row.state,
            "text": row.text,
            "author": row.author,
            "reviewer": row.reviewer,
            "review_reason": row.review_reason,
            "agency": row.agency,
            "agency_name": row.agency_name,
            "template_id": row.template_id,
            "batch": row.batch,
            "created_at": row.created_at,
            "reviewed_at": row.reviewed_at,
            "published_at": row.published_at,
            "may_review": reviewable,
        }
    )


def template_out(row: AnswerTemplateRow) -> TemplateOut:
    """A stored template for the API."""
    fields = ("id", "code", "name", "language", "agency", "topic", "body", "active", "actor", "updated_at")
    return TemplateOut.model_validate({name: getattr(row, name) for name in fields})


def check_template_targets(ctx: AppContext, session: Session, body: TemplateIn) -> None:
    """The template renders, and its agency and topic exist."""
    check_template(body)
    if body.agency is not None:
        service.load_directory(session, ctx.taxonomy).require(body.agency)
    if body.topic is not None and body.topic not in ctx.taxonomy.codes():
        raise Unprocessable(f"topic {body.topic!r} is not in the taxonomy")


def _audit(
    session: Session, request: Request, user: Principal, action: str, target: str, status: int
) -> None:
    record_audit(
        session, actor=user.email, action=action, target=target, client=client_address(request), status=status
    )
    request.state.audited = True


def _template(session: Session, template_id: int) -> AnswerTemplateRow:
    row = stored.get_template(session, template_id)
    if row is None:
        raise NotFound(f"answer template {template_id} does not exist")
    return row


# ---------------------------------------------------------------------------- templates


@router.get("/api/v1/answer-templates", response_model=list[TemplateOut])
def list_answer_templates(
    session: ReadSession,
    user: CurrentUser,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    topic: Annotated[str | None, Query(max_length=64)] = None,
    language: Literal["vi", "en"] | None = None,
    active: bool = False,
) -> list[TemplateOut]:
    """Templates by code; ``agency`` / ``topic`` keep those for it or for any; ``active`` only active ones."""
    rows = stored.list_templates(session, agency=agency, topic=topic, language=language, active_only=active)
    return [template_out(row) for row in rows]


@router.post(
    "/api/v1/answer-templates",
    response_model=TemplateOut,
    status_code=201,
    responses={409: {"description": "A template with this code exists: change it with PUT."}},
)
def create_answer_template(body: TemplateIn, request: Request, ctx: Ctx, user: Admin) -> TemplateOut:
    """Store a new template; it must render, and its code be new."""
    with ctx.db.write() as session:
        check_template_targets(ctx, session, body)
        if stored.template_by_code(session, body.code) is not None:
            raise Conflict(f"a template with code {body.code!r} exists; PUT /api/v1/answer-templates/{{id}}")
        row = stored.save_template(session, body.model_dump(), actor=user.email)
        _audit(session, request, user, "answer_template.create", f"answer_template:{row.id}", 201)
        return template_out(row)


@router.get("/api/v1/answer-templates/{template_id}", response_model=TemplateOut)
def read_answer_template(template_id: RowId, session: ReadSession, user: CurrentUser) -> TemplateOut:
    """One template."""
    return template_out(_template(session, template_id))


@router.put("/api/v1/answer-templates/{template_id}", response_model=TemplateOut)
def replace_answer_template(
    template_id: RowId, body: TemplateIn, request: Request, ctx: Ctx, user: Admin
) -> TemplateOut:
    """Replace a template (its code may change to one not used by another)."""
    with ctx.db.write() as session:
        row = _template(session, template_id)
        check_template_targets(ctx, session, body)
        other = stored.template_by_code(session, body.code)
        if other is not None and other.id != row.id:
            raise Conflict(f"another template has code {body.code!r}")
        row.code = body.code
        row = stored.save_template(session, body.model_dump(), actor=user.email, row=row)
        _audit(session, request, user, "answer_template.update", f"answer_template:{row.id}", 200)
        return template_out(row)


@router.delete("/api/v1/answer-templates/{template_id}", status_code=204)
def delete_answer_template(template_id: RowId, request: Request, ctx: Ctx, user: Admin) -> Response:
    """Remove a template (answers written with it keep their text)."""
    with ctx.db.write() as session:
        if not stored.delete_template(session, template_id):
            raise NotFound(f"answer template {template_id} does not exist")
        _audit(session, request, user, "answer_template.delete", f"answer_template:{template_id}", 204)
    return Response(status_code=204)


@router.get("/api/v1/answer-templates/{template_id}/render", response_model=RenderedOut)
def render_answer_template(
    template_id: RowId, submission_id: QueryId, ctx: Ctx, session: ReadSession, user: Writer
) -> RenderedOut:
    """The answer a template gives for the case of a submission (for those who may act on it)."""
    template = _template(session, template_id)
    case = stored_cases.case_of(session, submission_id)
    if case is None:
        raise NotFound(f"submission {submission_id} has no case yet")
    service.check_act(user, case)
    text = review.render_for_case(session, rules_of(ctx, session), ctx.taxonomy, template, case)
    return RenderedOut(template_id=template.id, submission_id=submission_id, text=text)


# ---------------------------------------------------------------------------- answers


@router.get("/api/v1/answers", response_model=list[AnswerOut])
def list_waiting_answers(
    session: ReadSession, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[AnswerOut]:
    """Drafts waiting for approval on the cases the caller may see, oldest first."""
    rows = stored.drafts_waiting(session, user.agency_scope(), limit=limit)
    return [answer_out(answer, user, case) for answer, case in rows if service.may_view(user, case)]


@router.get("/api/v1/cases/{case_id}/answers", response_model=list[AnswerOut])
def list_case_answers(case_id: RowId, session: ReadSession, user: CurrentUser) -> list[AnswerOut]:
    """Every answer of a case, oldest first."""
    case = stored_cases.get_case(session, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    service.check_view(user, case)
    return [answer_out(row, user, case) for row in stored.answers_of(session, case_id)]


@router.post("/api/v1/answers/{answer_id}/approve", response_model=CaseView)
def approve_answer(answer_id: RowId, request: Request, ctx: Ctx, user: Writer) -> CaseView:
    """Approve a draft and publish it (a second officer of the agency, not its author, or an admin)."""
    with ctx.db.write() as session:
        case = review.approve(
            session, rules_of(ctx, session), answer_id, user, client=client_address(request)
        )
        request.state.audited = True
        view = service.view(session, case, user)
    wake_mail(request)
    return view


@router.post("/api/v1/answers/{answer_id}/return", response_model=AnswerOut)
def return_answer(answer_id: RowId, body: ReturnIn, request: Request, ctx: Ctx, user: Writer) -> AnswerOut:
    """Send a draft back to its author with the reason; nothing is published."""
    with ctx.db.write() as session:
        row = review.send_back(session, answer_id, body.reason, user, client=client_address(request))
        request.state.audited = True
        return answer_out(row)


@router.post("/api/v1/answers/bulk", response_model=BulkOut)
def bulk_answer(body: BulkIn, request: Request, ctx: Ctx, user: Writer) -> BulkOut:
    """One answer for every case of a campaign or a theme; each case takes the ``answer`` step as
    alone (a draft where its agency asks for approval); refused cases are listed as skipped."""
    with ctx.db.write() as session:
        if body.campaign is not None:
            members = review.campaign_members(
                session, body.campaign, CampaignRules.from_settings(ctx.settings)
            )
        else:
            members = review.theme_members(session, body.theme or 0)
        template = _template(session, body.template_id) if body.template_id is not None else None
        outcomes = review.bulk_answer(
            session,
            rules_of(ctx, session),
            ctx.taxonomy,
            members,
            user,
            answer=body.answer,
            template=template,
            client=client_address(request),
        )
        request.state.audited = True
    wake_mail(request)
    cases = [
        BulkCaseOut(case_id=o.case_id, outcome=o.outcome, submissions=o.submissions, reason=o.reason)
        for o in outcomes
    ]
    return BulkOut(
        published=sum(o.outcome == "published" for o in outcomes),
        drafts=sum(o.outcome == "draft" for o in outcomes),
        skipped=sum(o.outcome == "skipped" for o in outcomes),
        cases=cases,
    )
