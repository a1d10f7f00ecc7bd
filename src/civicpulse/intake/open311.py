"""The Open311 GeoReport v2 channel: POST fields to ``SubmissionIn``, query parameters to filters,
and services and service requests rendered as GeoReport v2 JSON or XML.

Services are the topics of the taxonomy (service code = topic code). A service request is a
submission of channel ``open311``; its ``service_request_id`` is the submission's tracking code.
The HTTP side (reading the form, the token, the response) is ``civicpulse.api.routers.open311``.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from civicpulse.domain import Attachment, CaseStatus, Channel, Contact, SubmissionIn, check_moment
from civicpulse.errors import BadRequest, NotFound
from civicpulse.intake.channels import ChannelInfo
from civicpulse.intake.service import accept
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.open311 import MAX_REQUESTS, RequestCase, RequestFilter, RequestUpdate
from civicpulse.store.tables import SubmissionRow
from civicpulse.taxonomy import Taxonomy, Topic

FORMATS = ("json", "xml")
XML_MEDIA_TYPE = "text/xml; charset=utf-8"
JSON_MEDIA_TYPE = "application/json"
DEFAULT_SPAN = timedelta(days=90)
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
_FIELD_NAMES = {"text": "description", "locality": "address_string", "url": "media_url"}
# What XML 1.0 cannot carry (outside its Char production: C0 controls but tab, newline and return,
# surrogates, U+FFFE and U+FFFF). Intake refuses these; text stored before it did, or written past it,
# is shown with U+FFFD in their place so that the document stays well-formed.
_XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Body = list[dict[str, Any]] | dict[str, Any]


def channel() -> ChannelInfo:
    """The registry's description of this channel."""
    return ChannelInfo("open311", Channel.open311, "Open311 GeoReport v2 service requests at /open311/v2")


# ---------------------------------------------------------------------------- rendering


def check_format(fmt: str) -> str:
    """``fmt`` when it is json or xml, else ``NotFound``."""
    if fmt not in FORMATS:
        raise NotFound(f"unknown format {fmt!r}; end the path in .json or .xml")
    return fmt


def _xml_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _XML_ILLEGAL.sub("\ufffd", str(value))


def _xml_fields(parent: ET.Element, fields: Mapping[str, Any]) -> None:
    for key, value in fields.items():
        element = ET.SubElement(parent, key)
        if isinstance(value, list):
            for entry in value:
                _xml_fields(ET.SubElement(element, _XML_ITEMS.get(key, "item")), entry)
        else:
            element.text = _xml_text(value)


def render(fmt: str, body: Body, root: str, item: str) -> tuple[bytes, str]:
    """``body`` as compact JSON, or as XML under ``root`` with one ``item`` element per entry of a
    list; with its media type."""
    if fmt == "json":
        content = json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))
        return content.encode("utf-8"), JSON_MEDIA_TYPE
    element = ET.Element(root)
    if isinstance(body, list):
        for entry in body:
            _xml_fields(ET.SubElement(element, item), entry)
    else:
        _xml_fields(element, body)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True), XML_MEDIA_TYPE


def error_body(status: int, message: str) -> list[dict[str, Any]]:
    """An error in the GeoReport v2 shape (render it under ``errors``/``error``)."""
    return [{"code": status, "description": message}]


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


def services(taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """Every service (topic) citizens can report on."""
    return [_service(topic, taxonomy) for topic in taxonomy.topics]


def service_definition(taxonomy: Taxonomy, code: str) -> dict[str, Any]:
    """A service's definition (``NotFound`` for an unknown code): our services ask no attributes."""
    for topic in taxonomy.topics:
        if topic.code == code:
            return {"service_code": topic.code, "attributes": []}
    raise NotFound(f"service_code {code!r} does not exist; known: {', '.join(taxonomy.codes())}")


# ---------------------------------------------------------------------------- POST requests


def _coordinate(fields: Mapping[str, str], name: str) -> float:
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


def submission(fields: Mapping[str, str], taxonomy: Taxonomy, max_text_chars: int) -> SubmissionIn:
    """The POST fields as a ``SubmissionIn``; every missing or malformed field is a ``BadRequest``."""
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


def _problem(error: Any) -> str:
    loc = [str(p) for p in error.get("loc", ()) if not isinstance(p, int)]
    field = _FIELD_NAMES.get(loc[-1], loc[-1]) if loc else "request"
    return f"{field}: {error.get('msg', 'invalid')}"


def _notice(taxonomy: Taxonomy, agency: str | None) -> str | None:
    name = _agency_name(taxonomy, agency)
    return None if name is None else f"Phản ánh được chuyển đến {name} xem xét, giải quyết."


def create_request(
    db: Database,
    cipher: ContactCipher,
    taxonomy: Taxonomy,
    fields: Mapping[str, str],
    *,
    actor: str,
    client: str | None,
    max_text_chars: int,
) -> tuple[list[dict[str, Any]], int]:
    """Accept a service request (the same description and service is stored once); the answer's body
    and status (201 when new, 200 for a duplicate)."""
    item = submission(fields, taxonomy, max_text_chars)
    agencies = taxonomy.agency_by_service()
    [result] = accept(
        db, cipher, [item], actor=actor, client=client, action="open311.create", agency_by_service=agencies
    )
    notice = _notice(taxonomy, agencies.get(item.service_code or ""))
    if result.duplicate and notice:
        notice = f"Phản ánh này đã được tiếp nhận trước đó. {notice}"
    body = [
        {
            "service_request_id": result.tracking_code,
            "service_notice": notice,
            "account_id": fields.get("account_id"),
        }
    ]
    return body, 200 if result.duplicate else 201


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

    def to_filter(self, now: datetime) -> RequestFilter:
        """The store's filter: stored status values and the received-time window at ``now``."""
        since, until = self.window(now)
        stored = tuple(s for status in self.statuses for s in _STATUSES[status])
        return RequestFilter(self.ids, self.service_codes, stored, since, until)


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
        return check_moment(value).astimezone(UTC)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from None


def public_requests(
    rows: list[SubmissionRow],
    taxonomy: Taxonomy,
    redacted: Mapping[int, str],
    redact: Callable[[str], str],
    addresses: Mapping[int, str],
    cases: Mapping[int, RequestCase] | None = None,
) -> list[dict[str, Any]]:
    """The rows as public service requests: their description is the stored redaction, or
    ``redact(text)`` for a row whose analysis has not run yet; their address the resolved place
    (``store.open311.resolved_addresses``), never the typed one; no media URL (a citizen's link can
    hold personal data and cannot be redacted); the deadline and the agency's directory name from
    their case (``store.open311.request_cases``)."""
    found = cases or {}
    return [
        _public_request(row, taxonomy, redacted.get(row.id), redact, addresses.get(row.id), found.get(row.id))
        for row in rows
    ]


def _public_request(
    row: SubmissionRow,
    taxonomy: Taxonomy,
    redacted: str | None,
    redact: Callable[[str], str],
    address: str | None,
    case: RequestCase | None = None,
) -> dict[str, Any]:
    topic = next((t for t in taxonomy.topics if t.code == row.service_code), None)
    return {
        "service_request_id": row.tracking_code,
        "status": "closed" if row.status == CaseStatus.closed.value else "open",
        "status_notes": row.status_notes,
        "service_name": topic.name_vi if topic else None,
        "service_code": row.service_code,
        "description": redacted if redacted is not None else redact(row.text),
        "agency_responsible": (case.agency_name if case else None) or _agency_name(taxonomy, row.agency),
        "service_notice": _notice(taxonomy, row.agency),
        "requested_datetime": _w3(row.received_at),
        "updated_datetime": _w3(row.updated_at),
        "expected_datetime": _w3(case.due_at) if case else None,
        "address": address,
        "address_id": None,
        "zipcode": None,
        "lat": row.lat,
        "long": row.long,
        "media_url": None,
    }


def token_body(row: SubmissionRow) -> list[dict[str, Any]]:
    """GET tokens: our ids are given at once, so a token is the service request id itself."""
    return [{"service_request_id": row.tracking_code, "token": row.tracking_code}]


# ---------------------------------------------------------------------------- GET updates


def update_window(params: Any, now: datetime) -> tuple[datetime, datetime | None]:
    """The ``start_date`` / ``end_date`` window of ``servicerequestupdates`` (w3 datetimes with a
    zone); the last 90 days unless given."""
    start, end = _datetime(params, "start_date"), _datetime(params, "end_date")
    if start and end and end < start:
        raise BadRequest("end_date is before start_date")
    if start is None:
        start = (end or now) - DEFAULT_SPAN
    return start, end


def request_updates(updates: list[RequestUpdate]) -> list[dict[str, Any]]:
    """Updates as GeoReport v2 ``request_update`` entries."""
    return [
        {
            "update_id": update.update_id,
            "service_request_id": update.service_request_id,
            "status": update.status,
            "updated_datetime": _w3(update.updated_at),
            "description": update.description,
            "media_url": None,
        }
        for update in updates
    ]
