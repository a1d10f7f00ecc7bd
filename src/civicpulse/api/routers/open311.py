"""Open311 GeoReport v2 under /open311/v2: services, service requests and tokens, in JSON and XML.

Services are the topics of the taxonomy (service code = topic code). A service request is a
submission of channel ``open311``; its ``service_request_id`` is the submission's tracking code.
Only submissions that came in through Open311 are listed publicly.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.analysis.pii import redact
from civicpulse.api.context import AppContext
from civicpulse.api.deps import Ctx, PublicRateLimit, ReadSession, client_address
from civicpulse.domain import Attachment, CaseStatus, Channel, Contact, Role, SubmissionIn
from civicpulse.errors import BadRequest, Forbidden, NotFound, Unauthorized
from civicpulse.intake.service import accept
from civicpulse.store.submissions import redacted_texts
from civicpulse.store.tables import SubmissionRow, utcnow
from civicpulse.store.users import user_for_token
from civicpulse.taxonomy import Taxonomy, Topic

router = APIRouter(prefix="/open311/v2", tags=["open311"])

FORMATS = ("json", "xml")
MAX_REQUESTS = 1000
DEFAULT_SPAN = timedelta(days=90)
PUBLIC_CHANNELS = (Channel.open311.value,)
POST_FIELDS = frozenset(
    {
        "api_key",
        "jurisdiction_id",
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "description",
        "email",
        "device_id",
        "account_id",
        "first_name",
        "last_name",
        "phone",
        "media_url",
    }
)
_STATUSES = {
    "open": (CaseStatus.open.value, CaseStatus.in_progress.value),
    "closed": (CaseStatus.closed.value,),
}
_XML_ITEMS = {"attributes": "attribute"}


def public_description(text: str, stored: str | None = None) -> str:
    """The text of a request as Open311 shows it publicly: personal data replaced by placeholders
    (the analysis's stored redaction when it ran, else redacted now)."""
    return stored if stored is not None else redact(text).redacted_text


# ---------------------------------------------------------------------------- rendering


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound(f"unknown format {fmt!r}; end the path in .json or .xml")
    return fmt


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml_fields(parent: ET.Element, fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        element = ET.SubElement(parent, key)
        if isinstance(value, list):
            for entry in value:
                _xml_fields(ET.SubElement(element, _XML_ITEMS.get(key, "item")), entry)
        else:
            element.text = _xml_text(value)


def render(
    fmt: str, body: list[dict[str, Any]] | dict[str, Any], root: str, item: str, status: int = 200
) -> Response:
    """``body`` as JSON, or as XML under ``root`` with one ``item`` element per entry of a list."""
    if fmt == "json":
        return JSONResponse(body, status_code=status)
    element = ET.Element(root)
    if isinstance(body, list):
        for entry in body:
            _xml_fields(ET.SubElement(element, item), entry)
    else:
        _xml_fields(element, body)
    xml = ET.tostring(element, encoding="utf-8", xml_declaration=True)
    return Response(xml, status_code=status, media_type="text/xml; charset=utf-8")


def render_open311_error(request: Request, status: int, message: str) -> Response:
    """Errors in the GeoReport v2 shape: a list of ``{code, description}`` (``errors/error`` in XML)."""
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    return render(fmt, [{"code": status, "description": message}], "errors", "error", status)


def _w3(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------- services


def _agency_name(taxonomy: Taxonomy, code: str | None) -> str | None:
    names = {a.code: a.name_vi for a in taxonomy.agencies}
    return None if code is None else names.get(code, code)


def _service(topic: Topic, taxonomy: Taxonomy) -> dict[str, Any]:
    return {
        "service_code": topic.code,
        "service_name": topic.name_vi,
        "description": topic.description_vi,
        "metadata": False,
        "type": "realtime",
        "keywords": ", ".join(topic.keywords),
        "group": _agency_name(taxonomy, topic.agency),
    }


def _topic(taxonomy: Taxonomy, code: str) -> Topic:
    for topic in taxonomy.topics:
        if topic.code == code:
            return topic
    raise NotFound(f"service_code {code!r} does not exist; known: {', '.join(taxonomy.codes())}")


@router.get("/services.{fmt}")
def list_services(fmt: str, ctx: Ctx) -> Response:
    """Every service (topic) citizens can report on."""
    fmt = _format(fmt)
    services = [_service(topic, ctx.taxonomy) for topic in ctx.taxonomy.topics]
    return render(fmt, services, "services", "service")


@router.get("/services/{service_code}.{fmt}")
def service_definition(service_code: str, fmt: str, ctx: Ctx) -> Response:
    """A service's definition: our services ask for no extra attributes."""
    fmt = _format(fmt)
    topic = _topic(ctx.taxonomy, service_code)
    return render(fmt, {"service_code": topic.code, "attributes": []}, "service_definition", "attribute")


# ---------------------------------------------------------------------------- POST requests


async def read_post_form(request: Request) -> dict[str, str]:
    """The request's form fields, each given at most once; empty values count as absent."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadRequest("send the service request as application/x-www-form-urlencoded form data")
    form = await request.form(max_files=1, max_fields=len(POST_FIELDS) * 2)
    fields: dict[str, str] = {}
    for key in form:
        values = form.getlist(key)
        if not all(isinstance(value, str) for value in values):
            await form.close()
            raise BadRequest("file uploads are not accepted; give media_url instead")
        if key not in POST_FIELDS:
            raise BadRequest(f"unknown field {key!r}; the fields are: {', '.join(sorted(POST_FIELDS))}")
        if len(values) > 1:
            raise BadRequest(f"field {key!r} was given more than once")
        value = str(values[0])
        if value.strip():
            fields[key] = value
    return fields


PostForm = Annotated[dict[str, str], Depends(read_post_form)]


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


def _coordinate(fields: dict[str, str], name: str) -> float:
    try:
        value = float(fields[name])
    except ValueError:
        raise BadRequest(f"{name} must be a number in decimal degrees (WGS84)") from None
    if not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number")
    return value


def _attachment(url: str) -> Attachment:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BadRequest("media_url must be an http or https URL")
    name = parts.path.rstrip("/").rsplit("/", 1)[-1] or "media"
    return Attachment(filename=name[:500], url=url.strip())


def _submission(fields: dict[str, str], taxonomy: Taxonomy, max_text_chars: int) -> SubmissionIn:
    """The form as a ``SubmissionIn``; every missing or malformed field is a ``BadRequest``."""
    code = fields.get("service_code", "").strip()
    if not code:
        raise BadRequest("service_code is required; GET services.json lists them")
    if code not in taxonomy.codes():
        raise BadRequest(f"service_code {code!r} is not a service; known: {', '.join(taxonomy.codes())}")
    if ("lat" in fields) != ("long" in fields):
        raise BadRequest("lat and long must be given together")
    lat = _coordinate(fields, "lat") if "lat" in fields else None
    long = _coordinate(fields, "long") if "long" in fields else None
    address = fields.get("address_string", "").strip() or fields.get("address_id", "").strip() or None
    if lat is None and address is None:
        raise BadRequest("a location is required: lat and long, address_string or address_id")
    text = fields.get("description")
    if not text:
        raise BadRequest("description is required: the text of the request")
    if len(text) > max_text_chars:
        raise BadRequest(f"description is longer than {max_text_chars} characters")
    name = " ".join(fields[k].strip() for k in ("first_name", "last_name") if k in fields) or None
    try:
        contact = Contact(name=name, phone=fields.get("phone"), email=fields.get("email"))
        media = [_attachment(fields["media_url"])] if "media_url" in fields else []
        return SubmissionIn(
            text=text,
            channel=Channel.open311,
            service_code=code,
            locality=address,
            lat=lat,
            long=long,
            contact=None if contact.is_empty() else contact,
            attachments=media,
        )
    except ValidationError as exc:
        problems = "; ".join(_problem(e) for e in exc.errors()[:5])
        raise BadRequest(f"invalid service request: {problems}") from None


_FIELD_NAMES = {"text": "description", "locality": "address_string", "url": "media_url"}


def _problem(error: Any) -> str:
    loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
    field = _FIELD_NAMES.get(loc[-1], loc[-1]) if loc else "request"
    return f"{field}: {error.get('msg', 'invalid')}"


def _notice(taxonomy: Taxonomy, agency: str | None) -> str | None:
    name = _agency_name(taxonomy, agency)
    return None if name is None else f"Phản ánh được chuyển đến {name} xem xét, giải quyết."


@router.post("/requests.{fmt}", dependencies=[PublicRateLimit])
def create_request(fmt: str, fields: PostForm, request: Request, ctx: Ctx) -> Response:
    """Create a service request; the same description and service is stored once."""
    fmt = _format(fmt)
    actor = _submitter(ctx, fields.get("api_key"))
    request.state.actor = actor
    item = _submission(fields, ctx.taxonomy, ctx.settings.max_text_chars)
    agencies = ctx.taxonomy.agency_by_service()
    [result] = accept(
        ctx.db,
        ctx.cipher,
        [item],
        actor=actor,
        client=client_address(request),
        action="open311.create",
        agency_by_service=agencies,
    )
    request.state.audited = True
    notice = _notice(ctx.taxonomy, agencies.get(item.service_code or ""))
    if result.duplicate and notice:
        notice = f"Phản ánh này đã được tiếp nhận trước đó. {notice}"
    body = [
        {
            "service_request_id": result.tracking_code,
            "service_notice": notice,
            "account_id": fields.get("account_id"),
        }
    ]
    return render(fmt, body, "service_requests", "request", 200 if result.duplicate else 201)


# ---------------------------------------------------------------------------- GET requests


@dataclass(frozen=True)
class RequestQuery:
    """The GeoReport v2 filters of GET requests."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None

    @classmethod
    def parse(cls, params: Any) -> RequestQuery:
        """From query parameters; values may repeat or be comma-separated."""
        ids = tuple(v.upper() for v in _values(params, "service_request_id"))
        if len(ids) > MAX_REQUESTS:
            raise BadRequest(f"at most {MAX_REQUESTS} service_request_id values at once")
        statuses = _values(params, "status")
        unknown = sorted(set(statuses) - set(_STATUSES))
        if unknown:
            raise BadRequest(f"status {unknown[0]!r} is unknown; use open or closed")
        start, end = _datetime(params, "start_date"), _datetime(params, "end_date")
        if start and end and end < start:
            raise BadRequest("end_date is before start_date")
        return cls(ids, _values(params, "service_code"), statuses, start, end)

    def window(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The received-time window: the last 90 days unless dates are given."""
        if self.start is None and self.end is None:
            return now - DEFAULT_SPAN, None
        if self.start is None and self.end is not None:
            return self.end - DEFAULT_SPAN, self.end
        return self.start, self.end


def _values(params: Any, name: str) -> tuple[str, ...]:
    values = [v.strip() for raw in params.getlist(name) for v in raw.split(",")]
    return tuple(dict.fromkeys(v for v in values if v))


def _datetime(params: Any, name: str) -> datetime | None:
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a w3 datetime such as 2026-10-01T00:00:00+07:00") from None
    if value.tzinfo is None:
        raise BadRequest(f"{name} must include a time zone (Z or an offset such as +07:00)")
    try:
        value = value.astimezone(UTC)
    except OverflowError:
        value = datetime.min.replace(tzinfo=UTC)
    if not 1900 <= value.year <= 9000:
        raise BadRequest(f"{name} must lie between the years 1900 and 9000")
    return value


def _find_requests(session: Session, query: RequestQuery) -> list[SubmissionRow]:
    """Public service requests matching the filters, newest first, at most 1000."""
    statement = select(SubmissionRow).where(SubmissionRow.channel.in_(PUBLIC_CHANNELS))
    if query.ids:  # per the spec, ids override every other filter
        statement = statement.where(SubmissionRow.tracking_code.in_(query.ids))
    else:
        start, end = query.window(utcnow())
        if start is not None:
            statement = statement.where(SubmissionRow.received_at >= start)
        if end is not None:
            statement = statement.where(SubmissionRow.received_at <= end)
        if query.service_codes:
            statement = statement.where(SubmissionRow.service_code.in_(query.service_codes))
        if query.statuses:
            stored = [s for status in query.statuses for s in _STATUSES[status]]
            statement = statement.where(SubmissionRow.status.in_(stored))
    statement = statement.order_by(SubmissionRow.received_at.desc(), SubmissionRow.id.desc())
    return list(session.scalars(statement.limit(MAX_REQUESTS)))


def _public_row(session: Session, code: str) -> SubmissionRow:
    """The publicly listed submission with this tracking code, or ``NotFound``."""
    row = session.scalar(
        select(SubmissionRow).where(
            SubmissionRow.tracking_code == code.strip().upper(),
            SubmissionRow.channel.in_(PUBLIC_CHANNELS),
        )
    )
    if row is None:
        raise NotFound(f"service request {code!r} does not exist")
    return row


def _public_requests(session: Session, rows: list[SubmissionRow], taxonomy: Taxonomy) -> list[dict[str, Any]]:
    stored = redacted_texts(session, [row.id for row in rows])
    return [_public_request(row, taxonomy, stored.get(row.id)) for row in rows]


def _public_request(row: SubmissionRow, taxonomy: Taxonomy, redacted: str | None) -> dict[str, Any]:
    topic = next((t for t in taxonomy.topics if t.code == row.service_code), None)
    media = next((a.get("url") for a in row.attachments or [] if a.get("url")), None)
    return {
        "service_request_id": row.tracking_code,
        "status": "closed" if row.status == CaseStatus.closed.value else "open",
        "status_notes": row.status_notes,
        "service_name": topic.name_vi if topic else None,
        "service_code": row.service_code,
        "description": public_description(row.text, redacted),
        "agency_responsible": _agency_name(taxonomy, row.agency),
        "service_notice": _notice(taxonomy, row.agency),
        "requested_datetime": _w3(row.received_at),
        "updated_datetime": _w3(row.updated_at),
        "expected_datetime": None,
        "address": row.locality,
        "address_id": None,
        "zipcode": None,
        "lat": row.lat,
        "long": row.long,
        "media_url": media,
    }


@router.get("/requests.{fmt}", dependencies=[PublicRateLimit])
def list_requests(fmt: str, request: Request, session: ReadSession, ctx: Ctx) -> Response:
    """Service requests, filtered by id, service, status and date (default: the last 90 days)."""
    fmt = _format(fmt)
    rows = _find_requests(session, RequestQuery.parse(request.query_params))
    return render(fmt, _public_requests(session, rows, ctx.taxonomy), "service_requests", "request")


@router.get("/requests/{service_request_id}.{fmt}", dependencies=[PublicRateLimit])
def read_request(service_request_id: str, fmt: str, session: ReadSession, ctx: Ctx) -> Response:
    """One service request, as a list of one."""
    fmt = _format(fmt)
    row = _public_row(session, service_request_id)
    return render(fmt, _public_requests(session, [row], ctx.taxonomy), "service_requests", "request")


@router.get("/tokens/{token}.{fmt}", dependencies=[PublicRateLimit])
def read_token(token: str, fmt: str, session: ReadSession) -> Response:
    """Our ids are given at once, so a token is the service request id itself."""
    fmt = _format(fmt)
    row = _public_row(session, token)
    body = [{"service_request_id": row.tracking_code, "token": row.tracking_code}]
    return render(fmt, body, "service_requests", "request")
