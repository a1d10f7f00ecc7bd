"""POST /api/v1/analyze through the real HTTP server: what the stages make of a text, nothing stored."""

from __future__ import annotations

from sqlalchemy import func, select

from civicpulse.store.tables import SubmissionRow
from tests.conftest import LiveServer

TEXT = "toi la Nguyen Van Nam, sdt 0912.345.678, duong o phuong Ben Thanh TP HCM ngap nang ko di dc"


def test_analyze_returns_stage_outputs_and_stores_nothing(live_server: LiveServer) -> None:
    with live_server.client() as client:
        response = client.post("/api/v1/analyze", json={"text": TEXT, "locality": "TP HCM"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["language"] == "vi"
    assert body["text_restored"] != TEXT and "không" in body["text_restored"]
    assert "[PHONE]" in body["redacted_text"] and "0912" not in body["redacted_text"]
    assert {span["type"] for span in body["pii"]} >= {"PHONE", "PERSON"}
    phone = next(span for span in body["pii"] if span["type"] == "PHONE")
    assert TEXT[phone["start"] : phone["end"]] == "0912.345.678"  # offsets into the text as sent
    assert any(place["level"] == "province" and place["code"] == "79" for place in body["places"])
    assert "redacted_text" in body["stages"]["pii"]
    assert "found" not in body["stages"]["pii"]  # the private field never leaves the stage
    with live_server.db.read() as session:
        assert session.scalar(select(func.count(SubmissionRow.id))) == 0


def test_analyze_needs_a_token_and_valid_input(live_server: LiveServer) -> None:
    with live_server.client("") as client:
        assert client.post("/api/v1/analyze", json={"text": "x"}).status_code == 401
    with live_server.client() as client:
        assert client.post("/api/v1/analyze", json={"text": ""}).status_code == 422
        assert client.post("/api/v1/analyze", json={"text": "ok", "extra": 1}).status_code == 422
