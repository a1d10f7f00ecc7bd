"""Open311 GeoReport v2 through the real HTTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import select, update

from civicpulse.domain import Role, SubmissionIn
from civicpulse.intake.open311 import render
from civicpulse.store.tables import AuditRow, SubmissionRow
from tests.conftest import LiveServer, make_settings, run_server

BASE = "/open311/v2"
TEXT = "Nhà bên cạnh xây lấn sang đất nhà tôi ở thôn Đông, xin xã xuống kiểm tra. 😟"
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


def form(server: LiveServer, **fields: Any) -> dict[str, Any]:
    """A valid service request with the admin's token, changed by ``fields`` (None removes)."""
    values: dict[str, Any] = {
        "api_key": server.admin_token,
        "service_code": "land",
        "description": TEXT,
        "lat": "21.0285",
        "long": "105.8542",
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def post(client: httpx.Client, data: Any, fmt: str = "json") -> httpx.Response:
    return client.post(f"{BASE}/requests.{fmt}", data=data)


def assert_spec_error(response: httpx.Response, status: int, words: str) -> None:
    """The GeoReport v2 error shape, JSON or XML, with a description that says ``words``."""
    assert response.status_code == status, response.text
    if response.headers["content-type"].startswith("text/xml"):
        root = ET.fromstring(response.content)
        assert root.tag == "errors"
        [error] = root.findall("error")
        code, description = error.findtext("code"), error.findtext("description") or ""
    else:
        [error] = response.json()
        assert set(error) == {"code", "description"}
        code, description = str(error["code"]), error["description"]
    assert code == str(status)
    assert words in description, description


def stored_count(server: LiveServer) -> int:
    with server.db.read() as session:
        return len(session.scalars(select(SubmissionRow.id)).all())


def test_services_and_definitions_in_json_and_xml(live_server: LiveServer) -> None:
    with live_server.client("") as client:
        services = client.get(f"{BASE}/services.json")
        xml = client.get(f"{BASE}/services.xml")
        definition = client.get(f"{BASE}/services/health.json").json()
        definition_xml = ET.fromstring(client.get(f"{BASE}/services/health.xml").content)
        missing_json = client.get(f"{BASE}/services/potholes.json")
        missing_xml = client.get(f"{BASE}/services/potholes.xml")
        bad_format = client.get(f"{BASE}/services.yaml")
    assert services.status_code == 200
    by_code = {s["service_code"]: s for s in services.json()}
    assert len(by_code) == 13
    health = by_code["health"]
    assert set(health) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert health["service_name"] == "Y tế"
    assert health["metadata"] is False and health["type"] == "realtime"
    assert health["group"] == "Sở Y tế" and "bệnh viện" in health["keywords"]

    assert xml.headers["content-type"].startswith("text/xml")
    assert xml.content.startswith(b"<?xml")
    root = ET.fromstring(xml.content)
    assert root.tag == "services"
    assert [s.findtext("service_code") for s in root.findall("service")] == list(by_code)
    first = root.find("service")
    assert first is not None and first.findtext("metadata") == "false"
    assert [child.tag for child in first] == list(health)

    assert definition == {"service_code": "health", "attributes": []}
    assert definition_xml.tag == "service_definition"
    assert definition_xml.findtext("service_code") == "health"
    assert definition_xml.find("attributes") is not None
    assert_spec_error(missing_json, 404, "potholes")
    assert_spec_error(missing_xml, 404, "potholes")
    assert_spec_error(bad_format, 404, ".json or .xml")


def test_post_creates_an_open311_submission_with_agency_and_hidden_contact(live_server: LiveServer) -> None:
    data = form(
        live_server,
        first_name="Nguyễn",
        last_name="Văn An",
        phone="0912 345 678",
        email="an@example.org",
        address_string="Thôn Đông, xã Tân Lập",
        account_id="acct-7",
        device_id="device-1",
        media_url="https://example.org/photos/wall.jpg",
    )
    with live_server.client("") as client:
        response = post(client, data)
    assert response.status_code == 201, response.text
    [created] = response.json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["service_request_id"].startswith("CP-")
    assert created["account_id"] == "acct-7"
    assert "Sở Nông nghiệp và Môi trường" in created["service_notice"]

    with live_server.client() as client:
        page = client.get("/api/v1/submissions", params={"channel": "open311"}).json()
        [listed] = page["items"]
        stored = client.get(f"/api/v1/submissions/{listed['id']}")
        contact = client.get(f"/api/v1/submissions/{listed['id']}/contact").json()
    submission = stored.json()
    assert submission["tracking_code"] == created["service_request_id"]
    assert submission["text"] == TEXT
    assert submission["channel"] == "open311"
    assert submission["service_code"] == "land"
    assert submission["agency"] == "so-nnmt"
    assert submission["locality"] == "Thôn Đông, xã Tân Lập"
    assert (submission["lat"], submission["long"]) == (21.0285, 105.8542)
    [attachment] = submission["attachments"]
    assert attachment["filename"] == "wall.jpg"
    assert attachment["url"] == "https://example.org/photos/wall.jpg"
    assert submission["has_contact"] is True and "contact" not in submission
    assert "0912" not in stored.text and "an@example.org" not in stored.text
    assert contact == {
        "name": "Nguyễn Văn An",
        "phone": "0912 345 678",
        "email": "an@example.org",
        "address": None,
    }

    with live_server.client("") as client:
        public = client.get(f"{BASE}/requests/{created['service_request_id']}.json")
    assert "0912" not in public.text and "an@example.org" not in public.text
    with live_server.db.read() as session:
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "open311.create")).all()
    assert [(a.actor, a.status) for a in audit] == [("admin@example.org", 201)]


def test_post_twice_is_idempotent_and_xml_answers_in_spec_shape(live_server: LiveServer) -> None:
    with live_server.client("") as client:
        first = post(client, form(live_server))
        again = post(client, form(live_server), fmt="xml")
    assert first.status_code == 201 and again.status_code == 200
    root = ET.fromstring(again.content)
    assert root.tag == "service_requests"
    [item] = root.findall("request")
    assert [child.tag for child in item] == ["service_request_id", "service_notice", "account_id"]
    assert item.findtext("service_request_id") == first.json()[0]["service_request_id"]
    assert "đã được tiếp nhận trước đó" in (item.findtext("service_notice") or "")
    assert stored_count(live_server) == 1


def test_api_key_is_required_valid_and_not_a_viewer(live_server: LiveServer) -> None:
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    officer = live_server.user_token("officer@example.org", Role.agency_officer, ("so-yt",))
    with live_server.client("") as client:
        assert_spec_error(post(client, form(live_server, api_key=None)), 401, "api_key is required")
        assert_spec_error(post(client, form(live_server, api_key="cp_wrong")), 403, "invalid api_key")
        assert_spec_error(post(client, form(live_server, api_key=viewer), fmt="xml"), 403, "viewer")
        assert stored_count(live_server) == 0
        assert post(client, form(live_server, api_key=officer)).status_code == 201
    assert stored_count(live_server) == 1


def test_bad_input_is_a_400_in_spec_shape_and_stores_nothing(live_server: LiveServer) -> None:
    cases: list[tuple[Any, str]] = [
        (form(live_server, service_code="potholes"), "'potholes' is not a service"),
        (form(live_server, service_code=None), "service_code is required"),
        (form(live_server, lat=None, long=None), "a location is required"),
        (form(live_server, long=None), "lat and long must be given together"),
        (form(live_server, lat="north"), "lat must be a number"),
        (form(live_server, lat="nan"), "lat must be a finite number"),
        (form(live_server, lat="95"), "lat: Input should be less than or equal to 90"),
        (form(live_server, description=None), "description is required"),
        (form(live_server, description="   "), "description is required"),
        (form(live_server, description="a" * 20_001), "description is longer than 20000 characters"),
        (form(live_server, description="chữ\x00chữ"), "description: Value error, control character U+0000"),
        (form(live_server, media_url="file:///etc/passwd"), "media_url must be an http or https URL"),
        (form(live_server, colour="red"), "unknown field 'colour'"),
        (form(live_server, service_code=["land", "health"]), "'service_code' was given more than once"),
        (form(live_server, email="x" * 300), "email: String should have at most 254 characters"),
    ]
    with live_server.client("") as client:
        for data, words in cases:
            assert_spec_error(post(client, data), 400, words)
        as_json = client.post(f"{BASE}/requests.json", json=form(live_server))
        assert_spec_error(as_json, 400, "application/x-www-form-urlencoded")
        multipart = {"content-type": "multipart/form-data; boundary=x"}
        nameless = b"--x\r\nContent-Disposition: form-data\r\n\r\nv\r\n--x--\r\n"
        broken = client.post(f"{BASE}/requests.xml", content=nameless, headers=multipart)
        assert_spec_error(broken, 400, "name")
        upload = client.post(f"{BASE}/requests.json", data=form(live_server), files={"photo": b"\xff\xd8"})
        assert_spec_error(upload, 400, "give media_url instead")
    assert stored_count(live_server) == 0


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        (
            {"description": "Cống\ufffe tắc"},
            "description: Value error, Unicode non-character U+FFFE at position 4",
        ),
        (
            {"description": "Cống tắc\uffff"},
            "description: Value error, Unicode non-character U+FFFF at position 8",
        ),
        ({"description": "\x01Cống tắc"}, "description: Value error, control character U+0001 at position 0"),
        ({"address_string": "Thôn\uffff Đông"}, "address_string: Value error, Unicode non-character U+FFFF"),
        ({"first_name": "An\ufffe"}, "name: Value error, Unicode non-character U+FFFE"),
        ({"email": "an\uffff@example.org"}, "email: Value error, Unicode non-character U+FFFF"),
        ({"media_url": "https://x.vn/a\uffff.jpg"}, "Unicode non-character U+FFFF"),
    ],
)
def test_xml_breaking_characters_are_refused_and_the_listing_stays_well_formed(
    live_server: LiveServer, fields: dict[str, str], words: str
) -> None:
    with live_server.client("") as client:
        assert_spec_error(post(client, form(live_server, **fields)), 400, words)
        assert_spec_error(post(client, form(live_server, **fields), fmt="xml"), 400, words)
        listed = client.get(f"{BASE}/requests.xml")
    assert stored_count(live_server) == 0
    assert listed.status_code == 200
    assert ET.fromstring(listed.content).tag == "service_requests"


def test_xml_stays_well_formed_with_bad_characters_stored_before_intake_refused_them(
    live_server: LiveServer,
) -> None:
    with live_server.client("") as client:
        code = _create(client, live_server, "land", "Tranh chấp đất")
    with live_server.db.write() as session:  # past validation, as rows stored before the fix were
        session.execute(
            update(SubmissionRow)
            .where(SubmissionRow.tracking_code == code)
            .values(
                text="Tranh\ufffe chấp\uffff đất\x01 ở\x1f thôn",
                locality="Thôn\uffff Đông",
                status_notes="Đã\x08 xử lý",
            )
        )
    with live_server.client("") as client:
        listed = client.get(f"{BASE}/requests.xml")
        one = client.get(f"{BASE}/requests/{code}.xml")
        as_json = client.get(f"{BASE}/requests/{code}.json")
    assert listed.status_code == one.status_code == as_json.status_code == 200
    for response in (listed, one):
        [request] = ET.fromstring(response.content).findall("request")
        assert request.findtext("service_request_id") == code
        assert request.findtext("description") == "Tranh\ufffd chấp\ufffd đất\ufffd ở\ufffd thôn"
        assert not request.findtext("address")  # the typed address is never published
        assert request.findtext("status_notes") == "Đã\ufffd xử lý"
    assert as_json.json()[0]["status_notes"] == "Đã\x08 xử lý"  # JSON carries them as they are


def _parsed_description(text: str) -> str | None:
    content, _ = render("xml", [{"description": text}], "service_requests", "request")
    return ET.fromstring(content).findtext("request/description")


@hypothesis_settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(), min_size=1, max_size=60))
def test_text_that_submission_in_accepts_renders_to_well_formed_xml(text: str) -> None:
    try:
        SubmissionIn(text=text, locality=text)
    except ValidationError:
        return
    back = _parsed_description(text)  # raises ParseError if not well-formed
    assert back == text.replace("\r\n", "\n").replace("\r", "\n")  # XML's end-of-line handling


@hypothesis_settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(codec="utf-8"), max_size=60))
def test_any_stored_text_renders_to_well_formed_xml(text: str) -> None:
    back = _parsed_description(text) or ""  # raises ParseError if not well-formed
    assert len(back) == len(text.replace("\r\n", "\n"))  # one U+FFFD per character XML cannot carry


def _create(client: httpx.Client, server: LiveServer, code: str, text: str) -> str:
    response = post(client, form(server, service_code=code, description=text))
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


def test_get_requests_filters_by_id_service_status_and_date(live_server: LiveServer) -> None:
    with live_server.client("") as client:
        land = _create(client, live_server, "land", "Tranh chấp đất với hàng xóm")
        health = _create(client, live_server, "health", "Trạm y tế đóng cửa giờ hành chính")
        busy = _create(client, live_server, "health", "Bệnh viện quá tải")
        old = _create(client, live_server, "traffic", "Ổ gà trên quốc lộ")
    now = datetime.now(UTC)
    with live_server.db.write() as session:
        session.execute(
            update(SubmissionRow).where(SubmissionRow.tracking_code == health).values(status="closed")
        )
        session.execute(
            update(SubmissionRow).where(SubmissionRow.tracking_code == busy).values(status="in_progress")
        )
        session.execute(
            update(SubmissionRow)
            .where(SubmissionRow.tracking_code == old)
            .values(received_at=now - timedelta(days=120))
        )

    def ids(**params: str) -> list[str]:
        response = client.get(f"{BASE}/requests.json", params=params)
        assert response.status_code == 200, response.text
        return sorted(r["service_request_id"] for r in response.json())

    with live_server.client("") as client:
        assert ids() == sorted([land, health, busy])  # default: the last 90 days
        assert ids(service_code="health") == sorted([health, busy])
        assert ids(service_code="land,traffic") == [land]
        assert ids(status="open") == sorted([land, busy])
        assert ids(status="closed") == [health]
        assert ids(status="open,closed", service_code="health") == sorted([health, busy])
        long_ago = (now - timedelta(days=200)).isoformat()
        assert ids(start_date=long_ago) == sorted([land, health, busy, old])
        assert ids(start_date=long_ago, end_date=(now - timedelta(days=100)).isoformat()) == [old]
        assert ids(end_date=(now - timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%SZ")) == [old]
        assert ids(service_request_id=f"{old},{land.lower()}", status="closed") == sorted([land, old])
        [busy_row] = client.get(f"{BASE}/requests.json", params={"service_request_id": busy}).json()
        assert busy_row["status"] == "open"
        assert list(busy_row) == REQUEST_FIELDS
        assert busy_row["service_name"] == "Y tế" and busy_row["agency_responsible"] == "Sở Y tế"
        assert busy_row["description"] == "Bệnh viện quá tải"
        assert busy_row["expected_datetime"] is None
        assert datetime.fromisoformat(busy_row["requested_datetime"]).tzinfo is not None

        xml = client.get(f"{BASE}/requests.xml", params={"service_code": "health"})
        root = ET.fromstring(xml.content)
        assert root.tag == "service_requests"
        assert sorted(r.findtext("service_request_id") or "" for r in root.findall("request")) == sorted(
            [health, busy]
        )
        assert [child.tag for child in root.findall("request")[0]] == REQUEST_FIELDS

        bad = client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"})
        assert_spec_error(bad, 400, "start_date must be a w3 datetime")
        naive = client.get(f"{BASE}/requests.xml", params={"end_date": "2026-10-01T00:00:00"})
        assert_spec_error(naive, 400, "time zone")
        assert_spec_error(
            client.get(f"{BASE}/requests.json", params={"status": "pending"}), 400, "open or closed"
        )
        ancient = {"start_date": "0001-01-01T00:00:00+14:00"}
        assert_spec_error(client.get(f"{BASE}/requests.json", params=ancient), 400, "between the years")
        backwards = {"start_date": now.isoformat(), "end_date": long_ago}
        assert_spec_error(client.get(f"{BASE}/requests.json", params=backwards), 400, "before start_date")


def test_single_request_tokens_and_other_channels(live_server: LiveServer) -> None:
    with live_server.client() as client:
        code = _create(client, live_server, "education", "Trường thu nhiều khoản ngoài quy định")
        rest = client.post("/api/v1/submissions", json={"text": "Gửi qua web", "channel": "web_form"}).json()
    with live_server.client("") as client:
        [one] = client.get(f"{BASE}/requests/{code}.json").json()
        xml = ET.fromstring(client.get(f"{BASE}/requests/{code}.xml").content)
        token = client.get(f"{BASE}/tokens/{code}.json").json()
        token_xml = ET.fromstring(client.get(f"{BASE}/tokens/{code}.xml").content)
        assert_spec_error(client.get(f"{BASE}/requests/CP-AAAA-BBBB.xml"), 404, "does not exist")
        assert_spec_error(client.get(f"{BASE}/tokens/CP-AAAA-BBBB.json"), 404, "does not exist")
        hidden = client.get(f"{BASE}/requests/{rest['tracking_code']}.json")
        listed = client.get(f"{BASE}/requests.json").json()
    assert one["service_request_id"] == code and one["agency_responsible"] == "Sở Giáo dục và Đào tạo"
    assert xml.tag == "service_requests" and xml.find("request/service_code") is not None
    assert xml.findtext("request/service_code") == "education"
    assert token == [{"service_request_id": code, "token": code}]
    assert token_xml.findtext("request/token") == code
    assert_spec_error(hidden, 404, "does not exist")
    assert [r["service_request_id"] for r in listed] == [code]


def test_public_endpoints_are_rate_limited(db_url: str) -> None:
    settings = make_settings(db_url, open311_rate_limit="3/minute")
    for url in run_server(settings):
        with httpx.Client(base_url=url, timeout=30) as client:
            answers = [client.get(f"{BASE}/requests.json").status_code for _ in range(3)]
            limited = client.get(f"{BASE}/requests.xml")
            posted = client.post(f"{BASE}/requests.json", data={"service_code": "land"})
        assert answers == [200, 200, 200]
        assert_spec_error(limited, 429, "too many requests")
        assert "Retry-After" in limited.headers
        assert_spec_error(posted, 429, "too many requests")


def test_public_listing_redacts_personal_data(live_server: LiveServer) -> None:
    text = "Cột điện đổ trước nhà, gọi tôi số 0912 345 678 hoặc email an.nguyen@example.com"
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        created = client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": live_server.admin_token,
                "service_code": "utilities",
                "address_string": "Phường Bến Thành, Thành phố Hồ Chí Minh",
                "description": text,
            },
        )
        assert created.status_code == 201, created.text
        code = created.json()[0]["service_request_id"]
        public = client.get(f"/open311/v2/requests/{code}.json").json()[0]
    assert "0912" not in public["description"] and "example.com" not in public["description"]
    assert "[PHONE]" in public["description"] and "[EMAIL]" in public["description"]


def test_public_listing_uses_the_stored_redaction(live_server: LiveServer) -> None:
    from civicpulse.runtime.stages import build_pipeline
    from civicpulse.runtime.worker import Worker

    text = "Ong Tran Van Binh sdt 0987654321 bao den duong hong o ngo 5"
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        created = client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": live_server.admin_token,
                "service_code": "utilities",
                "address_string": "Phường Bến Thành",
                "description": text,
            },
        )
        code = created.json()[0]["service_request_id"]
        settings = live_server.settings.model_copy(update={"stages": ["language", "normalize", "pii"]})
        Worker(live_server.db, build_pipeline(settings, live_server.db), settings).drain()
        public = client.get(f"/open311/v2/requests/{code}.json").json()[0]
    with live_server.client() as client:
        stored = client.get("/api/v1/submissions", params={"q": "0987654321"}).json()["items"][0]
    assert public["description"] == stored["redacted_text"]
    assert "0987654321" not in public["description"]
