"""Open311 GeoReport v2 under /open311/v2: services, service requests and tokens, in JSON and XML.

HTTP only: the channel's mapping and rendering are ``civicpulse.intake.open311``, its queries
``civicpulse.store.open311``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civicpulse.analysis.pii import redact
from civicpulse.api.context import AppContext
from civicpulse.api.deps import Ctx, Open311RateLimit, ReadSession, client_address, limit_open311_post
from civicpulse.domain import Role
from civicpulse.errors import BadRequest, Forbidden, Unauthorized
from civicpulse.intake import open311
from civicpulse.store.open311 import (
    find_requests,
    find_updates,
    public_request_row,
    request_cases,
    resolved_addresses,
)
from civicpulse.store.submissions import redacted_texts
from civicpulse.store.tables import SubmissionRow, utcnow
from civicpulse.store.users import user_for_token
from civicpulse.taxonomy import Taxonomy

router = APIRouter(prefix="/open311/v2", tags=["open311"])


def public_description(text: str, stored: str | None = None) -> str:
    """The text of a request as Open311 shows it publicly: personal data replaced by placeholders
    (the analysis's stored redaction when it ran, else redacted now)."""
    return stored if stored is not None else redact(text).redacted_text


def render(
    fmt: str, body: list[dict[str, Any]] | dict[str, Any], root: str, item: str, status: int = 200
) -> Response:
    """``body`` as JSON, or as XML under ``root`` with one ``item`` element per entry of a list."""
    content, media_type = open311.render(fmt, body, root, item)
    return Response(content, status_code=status, media_type=media_type)


def render_open311_error(request: Request, status: int, message: str) -> Response:
    """Errors in the GeoReport v2 shape: a list of ``{code, description}`` (``errors/error`` in XML)."""
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    return render(fmt, open311.error_body(status, message), "errors", "error", status)


# ---------------------------------------------------------------------------- services


@router.get("/services.{fmt}")
def list_services(fmt: str, ctx: Ctx) -> Response:
    """Every service (topic) citizens can report on."""
    fmt = open311.check_format(fmt)
    return render(fmt, open311.services(ctx.taxonomy), "services", "service")


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: str, fmt: str, ctx: Ctx) -> Response:
    """A service's definition: our services ask for no extra attributes."""
    fmt = open311.check_format(fmt)
    body = open311.service_definition(ctx.taxonomy, service_code)
    return render(fmt, body, "service_definition", "attribute")


# ---------------------------------------------------------------------------- POST requests


async def read_post_form(request: Request) -> dict[str, str]:
    """The request's form fields, each given at most once; empty values count as absent."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadRequest("send the service request as application/x-www-form-urlencoded form data")
    form = await request.form(max_files=1, max_fields=len(open311.POST_FIELDS) * 2)
    fields: dict[str, str] = {}
    for key in form:
        values = form.getlist(key)
        if not all(isinstance(value, str) for value in values):
            await form.close()
            raise BadRequest("file uploads are not accepted; give media_url instead")
        if key not in open311.POST_FIELDS:
            known = ", ".join(sorted(open311.POST_FIELDS))
            raise BadRequest(f"unknown field {key!r}; the fields are: {known}")
        if len(values) > 1:
            raise BadRequest(f"field {key!r} was given more than once")
        value = str(values[0])
        if value.strip():
            fields[key] = value
    return fields


PostForm = Annotated[dict[str, str], Depends(read_post_form)]


async def post_rate_limit(request: Request, ctx: Ctx, fields: PostForm) -> None:
    """Count a post against its api_key's budget when the key is valid, else the caller's address."""
    await limit_open311_post(request, ctx, fields.get("api_key"))


def _submitter(ctx: AppContext, api_key: str | None) -> str:
    """The e-mail of the user whose token ``api_key`` is; viewers may not create requests."""
    if not api_key:
        raise Unauthorized("api_key is required: give a CivicPulse API token")
    with ctx.db.read() as session:
        user = user_for_token(session, api_key.strip())
    if user is None:
        raise Forbidden("invalid api_key")
    if user.role == Role.viewer.value:
        raise Forbidden("the api_key belongs to a viewer, who may not create service requests")
    return user.email


@router.post("/requests.{fmt}", dependencies=[Depends(post_rate_limit)])
def create_request(fmt: str, fields: PostForm, request: Request, ctx: Ctx) -> Response:
    """Create a service request; the same description and service is stored once."""
    fmt = open311.check_format(fmt)
    actor = _submitter(ctx, fields.get("api_key"))
    request.state.actor = actor
    body, status = open311.create_request(
        ctx.db,
        ctx.cipher,
        ctx.taxonomy,
        fields,
        actor=actor,
        client=client_address(request),
        max_text_chars=ctx.settings.max_text_chars,
    )
    request.state.audited = True
    return render(fmt, body, "service_requests", "request", status)


# ---------------------------------------------------------------------------- GET requests


def _public_requests(session: Session, rows: list[SubmissionRow], taxonomy: Taxonomy) -> list[dict[str, Any]]:
    ids = [row.id for row in rows]
    stored, addresses = redacted_texts(session, ids), resolved_addresses(session, ids)
    cases = request_cases(session, ids)
    return open311.public_requests(rows, taxonomy, stored, public_description, addresses, cases)


@router.get("/requests.{fmt}", dependencies=[Open311RateLimit])
def list_requests(fmt: str, request: Request, session: ReadSession, ctx: Ctx) -> Response:
    """Service requests, filtered by id, service, status and date (default: the last 90 days)."""
    fmt = open311.check_format(fmt)
    query = open311.RequestQuery.parse(request.query_params)
    rows = find_requests(session, query.to_filter(utcnow()))
    return render(fmt, _public_requests(session, rows, ctx.taxonomy), "service_requests", "request")


@router.get("/requests/{service_request_id}.{fmt}", dependencies=[Open311RateLimit])
def read_request(service_request_id: str, fmt: str, session: ReadSession, ctx: Ctx) -> Response:
    """One service request, as a list of one."""
    fmt = open311.check_format(fmt)
    row = public_request_row(session, service_request_id)
    return render(fmt, _public_requests(session, [row], ctx.taxonomy), "service_requests", "request")


@router.get("/tokens/{token}.{fmt}", dependencies=[Open311RateLimit])
def read_token(token: str, fmt: str, session: ReadSession) -> Response:
    """Our ids are given at once, so a token is the service request id itself."""
    fmt = open311.check_format(fmt)
    row = public_request_row(session, token)
    return render(fmt, open311.token_body(row), "service_requests", "request")


@router.get("/servicerequestupdates.{fmt}", dependencies=[Open311RateLimit])
def list_request_updates(fmt: str, request: Request, session: ReadSession) -> Response:
    """Public updates of service requests (answers published, cases reopened or closed) made
    between ``start_date`` and ``end_date`` (default: the last 90 days), oldest first; the GeoReport
    v2 extension that clients poll."""
    fmt = open311.check_format(fmt)
    since, until = open311.update_window(request.query_params, utcnow())
    updates = open311.request_updates(find_updates(session, since, until))
    return render(fmt, updates, "service_request_updates", "request_update")
