"""REST: create, read and list submissions; read contact details (audited)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Discriminator, Field, Tag

from civicpulse.api.deps import Analyst, Ctx, CurrentUser, ReadSession, Writer, client_address
from civicpulse.api.queries import MAX_TEXT, MAX_TIME, TIME_HELP, parse_list_query
from civicpulse.domain import (
    Accepted,
    CaseStatus,
    Channel,
    Contact,
    LabelIn,
    SubmissionIn,
    SubmissionOut,
    SubmissionPage,
)
from civicpulse.errors import Forbidden, Unprocessable
from civicpulse.identity import may_search_raw_text, may_see_personal_data, raw_text_ids, shown_to
from civicpulse.intake.service import IntakeRequest
from civicpulse.store.audit import audit_text_reads, record_audit
from civicpulse.store.contacts import read_contact
from civicpulse.store.labels import record_corrections
from civicpulse.store.submissions import SubmissionFilter, get_submission, list_submissions

SubmissionId = Annotated[int, Path(ge=1, le=2**63 - 1)]

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])

Batch = Annotated[list[SubmissionIn], Field(min_length=1)]
OneOrBatch = Annotated[
    Annotated[SubmissionIn, Tag("one")] | Annotated[Batch, Tag("list")],
    Discriminator(lambda value: "list" if isinstance(value, list) else "one"),
]


@router.post("", status_code=201, response_model=Accepted | list[Accepted])
async def create_submissions(
    body: OneOrBatch,
    request: Request,
    response: Response,
    ctx: Ctx,
    user: Writer,
) -> Accepted | list[Accepted]:
    """Accept one submission or a list; the same source id (or channel + text) is stored once."""
    items = body if isinstance(body, list) else [body]
    if len(items) > ctx.settings.max_batch:
        raise Unprocessable(f"at most {ctx.settings.max_batch} submissions per request")
    pending = ctx.intake.submit(IntakeRequest(items=items, actor=user.email, client=client_address(request)))
    results = await asyncio.wrap_future(pending)
    request.state.audited = True
    if all(r.duplicate for r in results):
        response.status_code = 200
    return results if isinstance(body, list) else results[0]


@router.get("/{submission_id}", response_model=SubmissionOut)
def read_submission(
    submission_id: SubmissionId, request: Request, ctx: Ctx, session: ReadSession, user: CurrentUser
) -> SubmissionOut:
    """One submission with its annotations (a read of the raw text is audited)."""
    submission = get_submission(session, submission_id)
    scope = user.agency_scope()
    if scope is not None and submission.agency not in scope:
        raise Forbidden("this submission belongs to another agency")
    shown = shown_to(submission, user)
    client = client_address(request)
    audit_text_reads(ctx.db, raw_text_ids([shown]), actor=user.email, client=client, via="api.read")
    return shown


@router.get("", response_model=SubmissionPage)
def search_submissions(
    request: Request,
    ctx: Ctx,
    session: ReadSession,
    user: CurrentUser,
    channel: Channel | None = None,
    status: CaseStatus | None = None,
    since: Annotated[str | None, Query(alias="from", max_length=MAX_TIME, description=TIME_HELP)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=MAX_TIME, description=TIME_HELP)] = None,
    q: Annotated[str | None, Query(max_length=MAX_TEXT)] = None,
    review: Annotated[
        bool, Query(description="Only the review queue: topic below the confidence threshold, not corrected.")
    ] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> SubmissionPage:
    """Newest first, filtered by channel, status, time range (received), text (admins search the
    raw text, everyone else the redacted text) and review."""
    query = parse_list_query(channel=channel, status=status, since=since, until=until, q=q, review=review)
    filters = SubmissionFilter(
        channel=query.channel,
        status=query.status,
        since=query.since,
        until=query.until,
        text=query.text,
        agencies=user.agency_scope(),
        review=query.review,
        search_raw=may_search_raw_text(user),
    )
    page = list_submissions(session, filters, limit=limit, cursor=cursor)
    shown = [shown_to(item, user) for item in page.items]
    audit_text_reads(
        ctx.db,
        raw_text_ids(shown),
        actor=user.email,
        client=client_address(request),
        via="api.list",
        search=filters.text if filters.search_raw else None,
    )
    return page.model_copy(update={"items": shown})


@router.get(
    "/{submission_id}/contact",
    response_model=Contact,
    responses={503: {"description": "The configured contact key cannot decrypt the stored contact details."}},
)
def read_submission_contact(
    submission_id: SubmissionId, request: Request, ctx: Ctx, user: CurrentUser
) -> Contact:
    """The citizen's contact details: admins and the handling agency's officers only; audited."""
    with ctx.db.write() as session:
        submission = get_submission(session, submission_id)
        if may_see_personal_data(user, submission.agency):
            return read_contact(
                session, ctx.cipher, submission_id, actor=user.email, client=client_address(request)
            )
        record_audit(
            session,
            actor=user.email,
            action="contact.read.denied",
            target=f"submission:{submission_id}",
            client=client_address(request),
            status=403,
        )
    raise Forbidden("only the handler of this case may see the citizen's contact details")


@router.post("/{submission_id}/labels", status_code=201, response_model=SubmissionOut)
def correct_submission(
    submission_id: SubmissionId, body: LabelIn, request: Request, ctx: Ctx, user: Analyst
) -> SubmissionOut:
    """Record an analyst's correction of topic, sentiment or toxicity; it wins over the model."""
    with ctx.db.write() as session:
        record_corrections(
            session,
            submission_id,
            {body.task: body.value},
            actor=user.email,
            topic_codes=ctx.taxonomy.codes(),
            client=client_address(request),
            status=201,
        )
    request.state.audited = True
    with ctx.db.read() as session:
        shown = shown_to(get_submission(session, submission_id), user)
    client = client_address(request)
    audit_text_reads(ctx.db, raw_text_ids([shown]), actor=user.email, client=client, via="api.labels")
    return shown
