"""REST: the claim base (ClaimReview JSON-LD in and out, supporting passages), the rumour panel and
sourced responses (drafted, edited, approved by a second person, published under the office's name)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from civicpulse.api.deps import Analyst, Ctx, CurrentUser, ReadSession, Writer, client_address
from civicpulse.cases.models import AnswerText, Reason
from civicpulse.domain import Strict
from civicpulse.errors import NotFound
from civicpulse.knowledge import claims as claim_base
from civicpulse.knowledge import responses
from civicpulse.knowledge.rumour_panel import Count, panel
from civicpulse.store import claims as stored
from civicpulse.store.tables import ClaimResponseRow, ClaimRow

router = APIRouter(prefix="/api/v1", tags=["claims"])

RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
JSONLD = "application/ld+json"
CLAIMREVIEW_EXAMPLE = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://example.gov.vn/kiem-chung/1",
    "claimReviewed": "Từ tháng sau xe máy cũ trên 10 năm bị cấm lưu thông.",
    "author": {"@type": "Organization", "name": "Sở Giao thông vận tải"},
    "datePublished": "2025-03-01",
    "inLanguage": "vi",
    "reviewRating": {"@type": "Rating", "ratingValue": 1, "bestRating": 5, "alternateName": "Sai"},
    "itemReviewed": {
        "@type": "Claim",
        "appearance": [{"@type": "CreativeWork", "url": "https://social.example/p/1"}],
        "firstAppearance": {"@type": "CreativeWork", "url": "https://social.example/p/1"},
    },
}


class ClaimOut(BaseModel):
    """A claim of the base: the fields kept beside its ClaimReview, and its supporting passages."""

    id: int
    kind: Literal["fact-check", "official-statement"]
    claim_reviewed: str
    rating: str
    url: str | None
    author: str
    date_published: str | None
    language: str | None
    appearances: list[str]
    first_appearance: str | None
    passage_ids: list[int]
    created_at: dt.datetime


class PassagesIn(Strict):
    """Stored passages that support a claim, in order."""

    passage_ids: list[Annotated[int, Field(ge=1, le=2**63 - 1, strict=True)]] = Field(
        min_length=1, max_length=100
    )


class CountOut(BaseModel):
    """People, or ``null`` with ``suppressed`` when fewer than k."""

    people: int | None
    suppressed: bool


class ProvinceOut(CountOut):
    province: str


class DayOut(CountOut):
    day: dt.date


class CirculatingOut(BaseModel):
    """A claim now circulating in submissions."""

    claim_id: int
    claim: str
    rating: str
    kind: str
    people: int | None
    suppressed: bool
    submissions: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    provinces: list[ProvinceOut]
    trend: list[DayOut]
    spreading: bool


class RumoursOut(BaseModel):
    k_anonymity: int
    days: int
    items: list[CirculatingOut]


class ResponseIn(Strict):
    """A draft for a claim: for one submission, or (no ``submission_id``) for every submission that
    certainly repeats it; without ``text`` the draft quotes the claim and its passages."""

    claim_id: int = Field(ge=1, le=2**63 - 1, strict=True)
    submission_id: int | None = Field(default=None, ge=1, le=2**63 - 1, strict=True)
    text: AnswerText | None = None


class ResponseEdit(Strict):
    text: AnswerText


class ReturnIn(Strict):
    reason: Reason


class QuoteOut(BaseModel):
    """A verbatim quote: the claim itself, or a supporting passage with its document and article."""

    kind: Literal["claim", "passage"]
    quote: str
    url: str | None = None
    claim_id: int | None = None
    rating: str | None = None
    author: str | None = None
    document_id: int | None = None
    passage_id: int | None = None
    document: str | None = None
    number: str | None = None
    article: str | None = None
    start: int | None = None
    end: int | None = None
    superseded: bool | None = None


class ResponseOut(BaseModel):
    """A sourced response and where it stands."""

    id: int
    claim_id: int
    submission_id: int | None
    status: Literal["draft", "returned", "approved", "published"]
    text: str
    quotes: list[QuoteOut]
    office: str
    author: str
    approver: str | None
    review_reason: str | None
    created_at: dt.datetime
    approved_at: dt.datetime | None
    published_at: dt.datetime | None


class PublishedOut(BaseModel):
    """A published response as the public sees it: under the office's name only."""

    id: int
    claim_id: int
    submission_id: int | None
    office: str
    text: str
    quotes: list[QuoteOut]
    published_at: str | None


def claim_out(row: ClaimRow, passage_ids: list[int]) -> ClaimOut:
    fields = ("id", "kind", "claim_reviewed", "rating", "url", "author", "date_published", "language")
    return ClaimOut.model_validate(
        {
            **{name: getattr(row, name) for name in fields},
            "appearances": row.appearances or [],
            "first_appearance": row.first_appearance,
            "passage_ids": passage_ids,
            "created_at": row.created_at,
        }
    )


def response_out(row: ClaimResponseRow) -> ResponseOut:
    fields = (
        "id", "claim_id", "submission_id", "status", "text", "quotes", "office", "author", "approver",
        "review_reason", "created_at", "approved_at", "published_at",
    )  # fmt: skip
    return ResponseOut.model_validate({name: getattr(row, name) for name in fields})


def _count(count: Count) -> dict[str, Any]:
    return {"people": count.value, "suppressed": count.value is None}


# ---------------------------------------------------------------------------- claims


@router.post(
    "/claims",
    response_model=ClaimOut,
    status_code=201,
    responses={409: {"description": "The same ClaimReview is stored already (`details.id`)."}},
)
def create_claim(
    request: Request,
    ctx: Ctx,
    user: Analyst,
    body: Annotated[
        dict[str, Any], Body(description="One schema.org ClaimReview object.", examples=[CLAIMREVIEW_EXAMPLE])
    ],
) -> ClaimOut:
    """Store one fact-check or official statement (``"genre": "official-statement"``) given as a
    ClaimReview; a malformed object is refused with 422 naming each wrong field."""
    with ctx.db.write() as session:
        row = claim_base.add(session, body, actor=user.email, client=client_address(request))
        request.state.audited = True
        return claim_out(row, [])


@router.get("/claims/export", response_class=JSONResponse, responses={200: {"content": {JSONLD: {}}}})
def export_claims(session: ReadSession, user: CurrentUser) -> JSONResponse:
    """Every claim as a JSON-LD list of the ClaimReview objects stored, unchanged."""
    return JSONResponse(claim_base.export(session), media_type=JSONLD)


@router.get("/claims", response_model=list[ClaimOut])
def list_claims(
    session: ReadSession,
    user: CurrentUser,
    kind: Literal["fact-check", "official-statement"] | None = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[ClaimOut]:
    """Claims in the order stored."""
    rows = stored.list_claims(session, kind=kind, limit=limit)
    links = stored.passage_links(session, [row.id for row in rows])
    return [claim_out(row, links[row.id]) for row in rows]


@router.get("/claims/{claim_id}", response_model=ClaimOut)
def read_claim(claim_id: RowId, session: ReadSession, user: CurrentUser) -> ClaimOut:
    """One claim with its supporting passages."""
    row = claim_base.require(session, claim_id)
    return claim_out(row, stored.linked_passage_ids(session, claim_id))


@router.post("/claims/{claim_id}/passages", response_model=ClaimOut)
def link_claim_passages(
    claim_id: RowId, body: PassagesIn, request: Request, ctx: Ctx, user: Analyst
) -> ClaimOut:
    """Link stored official passages that support the claim (after those it has)."""
    with ctx.db.write() as session:
        linked = claim_base.link(
            session, claim_id, body.passage_ids, actor=user.email, client=client_address(request)
        )
        request.state.audited = True
        return claim_out(claim_base.require(session, claim_id), linked)


# ---------------------------------------------------------------------------- rumours


@router.get("/rumours", response_model=RumoursOut)
def circulating_rumours(
    ctx: Ctx, session: ReadSession, user: CurrentUser, days: Annotated[int, Query(ge=1, le=365)] = 30
) -> RumoursOut:
    """Claims now circulating: distinct people (under k suppressed), where, since when, daily trend."""
    items = []
    for row in panel(session, ctx.settings, days=days):
        items.append(
            CirculatingOut(
                claim_id=row.claim_id,
                claim=row.claim,
                rating=row.rating,
                kind=row.kind,
                **_count(row.people),
                submissions=row.submissions,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                provinces=[ProvinceOut(province=p, **_count(c)) for p, c in row.provinces],
                trend=[DayOut(day=d, **_count(c)) for d, c in row.trend],
                spreading=row.spreading,
            )
        )
    return RumoursOut(k_anonymity=ctx.settings.k_anonymity, days=days, items=items)


# ---------------------------------------------------------------------------- responses


@router.post("/responses", response_model=ResponseOut, status_code=201)
def draft_response(body: ResponseIn, request: Request, ctx: Ctx, user: Writer) -> ResponseOut:
    """A draft quoting the claim and its passages verbatim; nothing is published until a second
    person approves it and it is published."""
    with ctx.db.write() as session:
        row = responses.draft(
            session,
            body.claim_id,
            user,
            office=ctx.settings.office_name,
            submission_id=body.submission_id,
            text=body.text,
            client=client_address(request),
        )
        request.state.audited = True
        return response_out(row)


@router.get("/published-responses", response_model=list[PublishedOut])
def export_responses(session: ReadSession) -> list[PublishedOut]:
    """Every published response (public: the office's name, the text, the verbatim quotes)."""
    return [
        PublishedOut.model_validate(responses.public_view(row)) for row in stored.published_responses(session)
    ]


@router.get("/responses", response_model=list[ResponseOut])
def list_responses(
    session: ReadSession,
    user: CurrentUser,
    status: Literal["draft", "returned", "approved", "published"] | None = None,
    claim_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[ResponseOut]:
    """Responses, newest first."""
    return [
        response_out(row)
        for row in stored.list_responses(session, status=status, claim_id=claim_id, limit=limit)
    ]


@router.get("/responses/{response_id}", response_model=ResponseOut)
def read_response(response_id: RowId, session: ReadSession, user: CurrentUser) -> ResponseOut:
    """One response."""
    row = stored.get_response(session, response_id)
    if row is None:
        raise NotFound(f"response {response_id} does not exist")
    return response_out(row)


@router.put("/responses/{response_id}", response_model=ResponseOut)
def edit_response(
    response_id: RowId, body: ResponseEdit, request: Request, ctx: Ctx, user: Writer
) -> ResponseOut:
    """Change an unpublished response's text; it waits for approval again."""
    with ctx.db.write() as session:
        row = responses.edit(session, response_id, body.text, user, client=client_address(request))
        request.state.audited = True
        return response_out(row)


@router.post("/responses/{response_id}/approve", response_model=ResponseOut)
def approve_response(response_id: RowId, request: Request, ctx: Ctx, user: Writer) -> ResponseOut:
    """Approve a draft (an admin or analyst who is not its author)."""
    with ctx.db.write() as session:
        row = responses.approve(session, response_id, user, client=client_address(request))
        request.state.audited = True
        return response_out(row)


@router.post("/responses/{response_id}/return", response_model=ResponseOut)
def return_response(
    response_id: RowId, body: ReturnIn, request: Request, ctx: Ctx, user: Writer
) -> ResponseOut:
    """Send a draft back to its author with a reason."""
    with ctx.db.write() as session:
        row = responses.send_back(session, response_id, body.reason, user, client=client_address(request))
        request.state.audited = True
        return response_out(row)


@router.post("/responses/{response_id}/publish", response_model=ResponseOut)
def publish_response(response_id: RowId, request: Request, ctx: Ctx, user: Writer) -> ResponseOut:
    """Publish an approved response under the office's name, on the tracking pages it answers."""
    with ctx.db.write() as session:
        row = responses.publish(
            session, response_id, user, office=ctx.settings.office_name, client=client_address(request)
        )
        request.state.audited = True
        return response_out(row)
