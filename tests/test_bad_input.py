"""Bad input gets a clear 4xx, never a 5xx, and nothing is stored half."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

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
