"""One validation for the lists' queries (API and dashboard), times in range everywhere, and form
bodies that are valid text, through the real HTTP server on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from civicpulse.api.encoding import form_problem
from civicpulse.intake.files import import_files
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.tables import AuditRow, SubmissionRow
from tests.conftest import LiveServer
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, form_token, html_client, http_sign_in

# (query, the parameter the API names, what the dashboard says in English)
BAD_SUBMISSION_QUERIES = [
    ({"to": "0.5"}, "to", "Invalid date: 0.5"),
    ({"from": "1700000000"}, "from", "Invalid date: 1700000000"),
    ({"from": "2026-13-40"}, "from", "Invalid date: 2026-13-40"),
    ({"from": "0001-01-01T00:00:00+14:00"}, "from", "Invalid date: 0001-01-01T00:00:00+14:00"),
    ({"to": "9999-12-31"}, "to", "Invalid date: 9999-12-31"),
    ({"to": "1899-12-31T23:59:59Z"}, "to", "Invalid date: 1899-12-31T23:59:59Z"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "to", "The start date must be on or before the end date."),
    ({"q": "a\x00b"}, "q", "Search text: contains invalid control characters."),
    ({"q": "bell\x07"}, "q", "Search text: contains invalid control characters."),
    ({"q": "x" * 201}, "q", "Search text: too long (at most 200 characters)."),
    ({"channel": "pigeon"}, "channel", "Unknown channel: pigeon"),
    ({"status": "lost"}, "status", "Unknown status: lost"),
    ({"review": "maybe"}, "review", "Topic needs review: this value is not valid."),
]
BAD_THEME_QUERIES = [
    ({"topic": "no-such-topic"}, "topic", "Unknown topic: no-such-topic"),
    ({"place": "99"}, "place", "Unknown province: 99"),
    ({"place": "Atlantis"}, "place", "Unknown province: Atlantis"),
    ({"to": "0.5"}, "to", "Invalid date: 0.5"),
    ({"from": "0001-01-01T00:00:00+14:00"}, "from", "Invalid date: 0001-01-01T00:00:00+14:00"),
]


def _count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count(SubmissionRow.id))) or 0


def _assert_names(response: httpx.Response, param: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert [f["field"] for f in error["details"]["fields"]] == [f"query.{param}"], error


@pytest.fixture
def dashboard(live_server: LiveServer) -> Iterator[httpx.Client]:
    """The admin signed in to the dashboard, in English."""
    with html_client(live_server, lang="en") as client:
        assert http_sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200
        yield client


def test_the_lists_refuse_the_same_values_on_both_surfaces(
    live_server: LiveServer, dashboard: httpx.Client
) -> None:
    cases = [("submissions", "/", *case) for case in BAD_SUBMISSION_QUERIES]
    cases += [("themes", "/themes", *case) for case in BAD_THEME_QUERIES]
    with live_server.client() as client:
        for api_list, page_path, query, param, message in cases:
            _assert_names(client.get(f"/api/v1/{api_list}", params=query), param)
            page = dashboard.get(page_path, params=query)
            assert page.status_code == 400, (query, page.text[:300])
            assert message in page.text, query


def test_a_date_is_the_whole_local_day_on_both_surfaces(
    live_server: LiveServer, dashboard: httpx.Client
) -> None:
    times = {
        "before": "2026-02-28T23:59:00+07:00",
        "first": "2026-03-01T00:00:00+07:00",
        "last": "2026-03-01T23:59:59+07:00",
        "after": "2026-03-02T00:00:00+07:00",
    }
    with live_server.client() as client:
        for name, moment in times.items():
            created = client.post("/api/v1/submissions", json={"text": f"mốc {name}", "received_at": moment})
            assert created.status_code == 201, created.text
        day = client.get("/api/v1/submissions", params={"from": "2026-03-01", "to": "2026-03-01"})
        instant = client.get("/api/v1/submissions", params={"from": "2026-03-01T16:59:59Z"})
    page = dashboard.get("/", params={"from": "2026-03-01", "to": "2026-03-01"})
    assert sorted(item["text"] for item in day.json()["items"]) == ["mốc first", "mốc last"]
    assert sorted(item["text"] for item in instant.json()["items"]) == ["mốc after", "mốc last"]
    assert page.status_code == 200
    assert [name for name in times if f"mốc {name}" in page.text] == ["first", "last"]


def test_themes_accept_a_province_by_code_or_exact_name(live_server: LiveServer) -> None:
    with live_server.client() as client:
        by_code = client.get("/api/v1/themes", params={"place": "01"})
        by_name = client.get("/api/v1/themes", params={"place": "Thành phố Hà Nội"})
    assert by_code.status_code == 200, by_code.text
    assert by_name.status_code == 200, by_name.text


# --- times out of range --------------------------------------------------------------------


OUT_OF_RANGE = [
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "1899-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
    "0001-01-01T00:00:00",
]


def test_a_received_time_out_of_range_is_a_422(live_server: LiveServer) -> None:
    with live_server.client() as client:
        for moment in OUT_OF_RANGE:
            response = client.post(
                "/api/v1/submissions", json={"text": "ngoài khoảng", "received_at": moment}
            )
            assert response.status_code == 422, response.text
            fields = response.json()["error"]["details"]["fields"]
            assert [f["field"] for f in fields] == ["body.one.received_at"]
            assert "out of range" in fields[0]["message"]
        listed = client.get("/api/v1/submissions", params={"from": "0001-01-01T00:00:00+14:00"})
    _assert_names(listed, "from")
    assert _count(live_server.db) == 0


def test_the_edges_of_the_range_are_stored(live_server: LiveServer) -> None:
    with live_server.client() as client:
        early = client.post(
            "/api/v1/submissions", json={"text": "sớm", "received_at": "1900-01-01T00:00:00Z"}
        )
        late = client.post(
            "/api/v1/submissions", json={"text": "muộn", "received_at": "2199-12-31T23:59:59+00:00"}
        )
        read = client.get(f"/api/v1/submissions/{late.json()['id']}")
    assert early.status_code == 201 and late.status_code == 201
    assert read.json()["received_at"].startswith("2199-12-31T23:59:59")


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_open311_dates_out_of_range_are_a_400_in_spec_shape(live_server: LiveServer, moment: str) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        response = client.get("/open311/v2/requests.json", params={"start_date": moment})
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["code"] == 400 and error["description"].startswith("start_date: ")
    assert "out of range" in error["description"]


def test_file_rows_with_times_out_of_range_are_rejected_alone(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "times.csv"
    path.write_text(
        "text,received_at\n"
        "đúng giờ,01/03/2026 08:00\n"  # line 2
        "quá sớm,01/01/0001\n"  # 3
        "lệch múi,0001-01-01T00:00:00+23:59\n"  # 4
        "quá muộn,99999999999\n"  # 5
        "cũng đúng,2026-03-01T09:00:00+07:00\n",  # 6
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    report = import_files(db, settings, [path], rejects_path=rejects)
    with rejects.open(encoding="utf-8", newline="") as handle:
        rejected = {int(row["line"]): row["reason"] for row in csv.DictReader(handle)}
    assert (report.stored, report.rejected) == (2, 3)
    assert sorted(rejected) == [3, 4, 5]
    assert all(
        reason.startswith("received_at: ") and "out of range" in reason for reason in rejected.values()
    )


# --- form bodies that are not valid text ----------------------------------------------------


def _multipart(fields: list[tuple[bytes, bytes]], boundary: bytes = b"XyZ") -> tuple[bytes, str]:
    """A multipart body of ``(disposition parameters, raw value)`` parts, and its content type."""
    body = b""
    for params, value in fields:
        body += b"--" + boundary + b"\r\nContent-Disposition: form-data; " + params + b"\r\n\r\n"
        body += value + b"\r\n"
    return body + b"--" + boundary + b"--\r\n", f"multipart/form-data; boundary={boundary.decode()}"


@pytest.mark.parametrize(
    ("content_type", "body", "words"),
    [
        ("application/x-www-form-urlencoded", b"text=%FF%FE", "form field 'text' is not valid UTF-8"),
        ("application/x-www-form-urlencoded", b"text=%C3", "form field 'text' is not valid UTF-8"),
        ("application/x-www-form-urlencoded", b"%FF=1", "a form field name is not valid UTF-8"),
        ("application/x-www-form-urlencoded", "text=ống".encode(), "must percent-encode"),
        (*reversed(_multipart([(b'name="text"', b"ok \xff")])), "form field 'text' is not valid UTF-8"),
        (*reversed(_multipart([(b'name="f"; filename="\xff.jpg"', b"x")])), "file name of form field 'f'"),
    ],
)
def test_form_problem_names_what_does_not_decode(content_type: str, body: bytes, words: str) -> None:
    problem = form_problem(content_type.encode(), body)
    assert problem is not None and words in problem


def test_valid_forms_and_file_contents_pass() -> None:
    urlencoded = b"text=%E1%BB%91ng+n%C6%B0%E1%BB%9Bc&x="
    binary, content_type = _multipart(
        [(b'name="text"', "ống".encode()), (b'name="f"; filename="a.bin"', b"\xff")]
    )
    declared, latin = _multipart([(b'name="text"', b"caf\xe9")])
    assert form_problem(b"application/x-www-form-urlencoded", urlencoded) is None
    assert form_problem(content_type.encode(), binary) is None
    assert form_problem(latin.encode() + b"; charset=latin-1", declared) is None
    assert form_problem(b"application/json", b'{"text": "\xff"}') is None  # not a form


def test_citizen_form_refuses_invalid_utf8_and_stores_nothing(live_server: LiveServer) -> None:
    with html_client(live_server, lang="en") as client:
        token = form_token(client, "/submit")
        url_body = b"text=%FF%FE+c%E1%BB%91ng&csrf_token=" + token.encode()
        urlencoded = client.post(
            "/submit", content=url_body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        body, content_type = _multipart(
            [(b'name="text"', b"c\xffng"), (b'name="csrf_token"', token.encode())]
        )
        multipart = client.post("/submit", content=body, headers={"Content-Type": content_type})
        good = client.post("/submit", data={"text": "Cống tắc ở ngõ 5", "csrf_token": token})
    for refused in (urlencoded, multipart):
        assert refused.status_code == 400, refused.text[:300]
        assert "form field &#39;text&#39; is not valid UTF-8 text" in refused.text
    assert good.status_code == 200
    with live_server.db.read() as session:
        assert list(session.scalars(select(SubmissionRow.text))) == ["Cống tắc ở ngõ 5"]
    assert refusals_audited(live_server, expected=2) == [400, 400]


def refusals_audited(live_server: LiveServer, expected: int, timeout: float = 10) -> list[int]:
    """The statuses of audited ``POST /submit`` refusals, once ``expected`` are written (the audit
    middleware writes after the answer has gone out)."""
    deadline = time.monotonic() + timeout
    while True:
        with live_server.db.read() as session:
            query = select(AuditRow.status).where(AuditRow.action == "POST /submit", AuditRow.status == 400)
            audited = sorted(session.scalars(query).all())
        if len(audited) >= expected or time.monotonic() > deadline:
            return audited
        time.sleep(0.05)


def test_login_refuses_invalid_utf8(live_server: LiveServer) -> None:
    with html_client(live_server) as client:
        token = form_token(client, "/login")
        response = client.post(
            "/login",
            content=b"email=admin%40example.org&password=admin-passw%FFrd&csrf_token=" + token.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 400
    assert "form field &#39;password&#39; is not valid UTF-8 text" in response.text


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_refuses_invalid_utf8_in_its_error_shape(live_server: LiveServer, fmt: str) -> None:
    fields = f"api_key={live_server.admin_token}&service_code=land&lat=21.0&long=105.8&description="
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        response = client.post(
            f"/open311/v2/requests.{fmt}",
            content=fields.encode() + b"%FF%FE",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        body, content_type = _multipart(
            [
                (b'name="api_key"', live_server.admin_token.encode()),
                (b'name="service_code"', b"land"),
                (b'name="address_string"', "Thôn Đông".encode()),
                (b'name="description"', "Nhà bên cạnh xây lấn sang đất".encode()),
            ]
        )
        good = client.post(
            f"/open311/v2/requests.{fmt}", content=body, headers={"Content-Type": content_type}
        )
    assert response.status_code == 400
    if fmt == "xml":
        description = ET.fromstring(response.content).findtext("error/description") or ""
    else:
        [error] = response.json()
        assert error["code"] == 400
        description = error["description"]
    assert "form field 'description' is not valid UTF-8 text" in description
    assert good.status_code == 201, good.text
    with live_server.db.read() as session:
        assert list(session.scalars(select(SubmissionRow.text))) == ["Nhà bên cạnh xây lấn sang đất"]


def test_json_bodies_with_invalid_utf8_are_refused(live_server: LiveServer) -> None:
    with live_server.client() as client:
        response = client.post(
            "/api/v1/submissions",
            content=b'{"text": "c\xffng"}',
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"]["code"] in ("bad_request", "http_400", "validation_error")
    assert _count(live_server.db) == 0


def test_a_parameter_given_twice_is_refused_not_picked(live_server: LiveServer) -> None:
    with live_server.client() as client:
        for path in ("/api/v1/submissions?channel=api&channel=email", "/api/v1/cases?agency=a&agency=b"):
            answer = client.get(path)
            assert answer.status_code == 422, (path, answer.text)
            field = answer.json()["error"]["details"]["fields"][0]["field"]
            assert field in ("query.channel", "query.agency")
        assert client.get("/api/v1/submissions?channel=api&q=x").status_code == 200
