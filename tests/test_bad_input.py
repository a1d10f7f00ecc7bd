"""Bad input gets a clear 4xx, never a 5xx, and nothing is stored half."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civicpulse.intake.files import import_files
from civicpulse.intake.form import FormProblem, form_submission
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.tables import JobRow, SubmissionRow
from tests.conftest import LiveServer

HOSTILE_TEXTS = [
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "'); DROP TABLE submissions;-- ",
    "1 OR 1=1; SELECT * FROM users WHERE email LIKE '%'",
    "Đường   có\tkhoảng trắng\r\nvà dòng mới  ",
    "emoji 🚧🌊 and RTL ‮ text and zero-width\u200bjoiner",
    "%_\\ wildcard characters",
]


def _stored_count(server: LiveServer) -> tuple[int, int]:
    with server.db.read() as session:
        return (
            session.scalar(select(func.count(SubmissionRow.id))) or 0,
            session.scalar(select(func.count(JobRow.id))) or 0,
        )


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_text_is_stored_byte_for_byte(live_server: LiveServer, text: str) -> None:
    with live_server.client() as client:
        created = client.post("/api/v1/submissions", json={"text": text})
        assert created.status_code == 201, created.text
        stored = client.get(f"/api/v1/submissions/{created.json()['id']}")
        found = client.get("/api/v1/submissions", params={"q": text[:12]})
    assert stored.json()["text"] == text
    assert stored.json()["text"].encode() == text.encode()
    assert created.json()["id"] in [item["id"] for item in found.json()["items"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "   \n "}, "text"),
        ({"text": "a\x00b"}, "text"),
        ({"text": "bell\x07"}, "text"),
        ({"text": "a\ufffeb"}, "text"),
        ({"text": "a\uffffb"}, "text"),
        ({"text": "start\x01"}, "text"),
        ({"text": "ok", "locality": "Huế\ufdd0"}, "locality"),
        ({"text": "ok", "source_id": "id-\U0010ffff"}, "source_id"),
        ({"text": "ok", "service_code": "land\uffff"}, "service_code"),
        ({"text": "ok", "contact": {"name": "An\ufffe"}}, "name"),
        ({"text": "ok", "attachments": [{"filename": "a\U0001fffe.jpg"}]}, "filename"),
        ({"text": "ok", "attachments": [{"filename": "a.jpg", "url": "https://x.vn/\uffff"}]}, "url"),
        ({"text": "x" * 20_001}, "text"),
        ({"text": "ok", "colour": "red"}, "colour"),
        ({"text": "ok", "channel": "pigeon"}, "channel"),
        ({"text": "ok", "received_at": "yesterday"}, "received_at"),
        ({"text": "ok", "lat": 123}, "lat"),
        ({"text": "ok", "contact": {"phone": "1", "ssn": "2"}}, "ssn"),
        ({"txt": "typo"}, "text"),
        ([], "body"),
    ],
)
def test_invalid_fields_get_422_naming_the_field(live_server: LiveServer, body: object, field: str) -> None:
    with live_server.client() as client:
        response = client.post("/api/v1/submissions", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(field in f["field"] for f in error["details"]["fields"]), error
    assert _stored_count(live_server) == (0, 0)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("ống nước\ufffe vỡ", "Unicode non-character U+FFFE at position 8 is not allowed"),
        ("ống nước\uffff vỡ", "Unicode non-character U+FFFF at position 8 is not allowed"),
        ("\x01ống nước vỡ", "control character U+0001 at position 0 is not allowed"),
    ],
)
def test_xml_breaking_characters_are_refused_naming_the_code_point(
    live_server: LiveServer, text: str, words: str
) -> None:
    with live_server.client() as client:
        response = client.post("/api/v1/submissions", json={"text": text})
        listed = client.get("/open311/v2/requests.xml")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert f"text: Value error, {words}" in error["message"], error
    assert _stored_count(live_server) == (0, 0)
    ET.fromstring(listed.content)  # still well-formed


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\ufdd0", "\U0010ffff", "\x01", "\x1f"])
def test_citizen_form_refuses_xml_breaking_characters(char: str) -> None:
    values = {"text": f"Cống{char} tắc", "locality": "", "name": "", "phone": "", "email": ""}
    item, problems = form_submission(values, 20_000)
    assert item is None
    assert problems == [FormProblem("control", "text")]
    item, problems = form_submission({**values, "text": "Cống tắc", "locality": f"Hu{char}ế"}, 20_000)
    assert item is None
    assert problems == [FormProblem("control", "locality")]


def test_csv_row_with_xml_breaking_text_is_rejected_alone(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    content = (
        "id,text,locality\n"  # line 1
        "1,good one,Huế\n"  # 2
        "2,not\ufffe here,Huế\n"  # 3
        "3,nor\uffff here,Huế\n"  # 4
        "4,nor \x01 here,Huế\n"  # 5
        "5,fine text,Huế\ufdd1\n"  # 6
        "6,good two,Đà Nẵng\n"  # 7
    )
    path = tmp_path / "odd.csv"
    path.write_text(content, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    report = import_files(db, settings, [path], rejects_path=rejects)
    with db.read() as session:
        texts = list(session.scalars(select(SubmissionRow.text).order_by(SubmissionRow.id)))
    assert texts == ["good one", "good two"]
    with rejects.open(encoding="utf-8", newline="") as handle:
        rejected = {int(row["line"]): row["reason"] for row in csv.DictReader(handle)}
    assert sorted(rejected) == [3, 4, 5, 6]
    assert "text: Value error, Unicode non-character U+FFFE at position 3 is not allowed" in rejected[3]
    assert "Unicode non-character U+FFFF" in rejected[4]
    assert "control character U+0001" in rejected[5]
    assert "locality: Value error, Unicode non-character U+FDD1" in rejected[6]
    assert (report.stored, report.rejected) == (2, 4)


def test_a_bad_item_in_a_batch_stores_nothing(live_server: LiveServer) -> None:
    batch = [{"text": "tốt"}, {"text": "cũng tốt"}, {"text": "\x00"}]
    with live_server.client() as client:
        response = client.post("/api/v1/submissions", json=batch)
    assert response.status_code == 422
    fields = response.json()["error"]["details"]["fields"]
    assert [f["field"] for f in fields] == ["body.list.2.text"], fields
    assert _stored_count(live_server) == (0, 0)


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b'{"text": "unterminated', b"\xff\xfe\x00garbage", b'"just a string"', b"null"],
)
def test_malformed_json_is_422(live_server: LiveServer, raw: bytes) -> None:
    with live_server.client() as client:
        response = client.post(
            "/api/v1/submissions", content=raw, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422, response.text
    assert "error" in response.json()


def test_lone_surrogate_is_refused(live_server: LiveServer) -> None:
    raw = b'{"text": "bad \\ud800 surrogate"}'
    with live_server.client() as client:
        response = client.post(
            "/api/v1/submissions", content=raw, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    assert "text" in response.json()["error"]["message"]


def test_oversized_body_is_413_declared_or_streamed(live_server: LiveServer) -> None:
    big = json.dumps({"text": "x" * (live_server.settings.max_body_bytes + 10)}).encode()

    def chunks():
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    with live_server.client() as client:
        declared = client.post(
            "/api/v1/submissions", content=big, headers={"content-type": "application/json"}
        )
        streamed = client.post(
            "/api/v1/submissions", content=chunks(), headers={"content-type": "application/json"}
        )
    assert declared.status_code == 413
    assert streamed.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"
    assert _stored_count(live_server) == (0, 0)


def test_batch_over_the_limit_is_refused(live_server: LiveServer) -> None:
    batch = [{"text": f"item {i}"} for i in range(live_server.settings.max_batch + 1)]
    with live_server.client() as client:
        response = client.post("/api/v1/submissions", json=batch)
    assert response.status_code == 422
    assert _stored_count(live_server) == (0, 0)


def test_unknown_paths_and_methods_are_clean_errors(live_server: LiveServer) -> None:
    with live_server.client() as client:
        assert client.get("/api/v1/nothing-here").status_code == 404
        assert client.get("/api/v1/submissions/abc").status_code == 422
        assert client.get("/api/v1/submissions/999999").status_code == 404
        assert client.delete("/api/v1/submissions/1").status_code == 405
        assert client.get("/api/v1/submissions", params={"limit": 0}).status_code == 422


def test_huge_ids_are_422_not_500(live_server: LiveServer) -> None:
    with live_server.client() as client:
        assert client.get("/api/v1/submissions/99999999999999999999").status_code == 422
        assert client.get("/api/v1/submissions/0/contact").status_code == 422


def test_api_writes_need_a_bearer_token_not_a_cookie(live_server: LiveServer) -> None:
    with live_server.client("") as client:
        login = client.get("/login")
        token = login.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed_in = client.post(
            "/login",
            data={"email": "admin@example.org", "password": "admin-password", "csrf_token": token},
        )
        assert signed_in.status_code in (200, 303)
        assert client.get("/api/v1/submissions").status_code == 200  # reads with the cookie work
        assert client.post("/api/v1/submissions", json={"text": "qua cookie"}).status_code == 401
