"""The claim base over HTTP (SQLite and PostgreSQL): ClaimReview in (422 naming the field, 409 for
the same object), the JSON-LD export, supporting passages; sourced responses drafted, approved by a
second person, published under the office's name on the tracking page and in the export."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import httpx

from civicpulse.domain import Role
from civicpulse.store.db import Database
from civicpulse.store.tables import AuditRow, DocumentRow, PassageRow
from tests.conftest import LiveServer

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "official" / "claims.jsonld"
DOCUMENT_TEXT = (
    "Điều 3. Phương tiện được lưu thông\n"
    "Xe mô tô, xe gắn máy đã đăng ký hợp lệ được lưu thông, không phân biệt năm đăng ký."
)


def examples() -> list[dict[str, Any]]:
    return json.loads(EXAMPLES.read_text(encoding="utf-8"))


def add_passage(db: Database) -> tuple[int, int, str]:
    """A stored document with one passage: (document id, passage id, passage text)."""
    start = DOCUMENT_TEXT.index("Xe mô tô")
    with db.write() as session:
        document = DocumentRow(
            title="Thông báo về phương tiện lưu thông trong nội thành",
            issuer="Sở Xây dựng (demo)",
            number="12/TB-SXD",
            doc_type="Thông báo",
            url="https://demo.civicpulse.example/van-ban/12-tb-sxd",
            language="vi",
            source_format="txt",
            sha256="0" * 64,
            text=DOCUMENT_TEXT,
            actor="test",
        )
        session.add(document)
        session.flush()
        passage = PassageRow(
            document_id=document.id,
            position=0,
            path="Điều 3",
            start=start,
            end=len(DOCUMENT_TEXT),
            text=DOCUMENT_TEXT[start:],
        )
        session.add(passage)
        session.flush()
        return document.id, passage.id, passage.text


def submit(client: httpx.Client, text: str) -> tuple[int, str]:
    response = client.post("/api/v1/submissions", json={"text": text, "channel": "api"})
    assert response.status_code == 201, response.text
    body = response.json()
    return body["id"], body["tracking_code"]


def test_claims_in_and_out_as_claimreview_json_ld(live_server: LiveServer) -> None:
    objects = examples()
    with live_server.client() as admin:
        for obj in objects:
            response = admin.post("/api/v1/claims", json=obj)
            assert response.status_code == 201, response.text
            assert response.json()["claim_reviewed"] == obj["claimReviewed"]
        again = admin.post("/api/v1/claims", json=objects[0])
        assert again.status_code == 409
        assert again.json()["error"]["details"] == {"id": 1}

        exported = admin.get("/api/v1/claims/export")
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("application/ld+json")
        assert exported.json() == objects

        listed = admin.get("/api/v1/claims", params={"kind": "official-statement"}).json()
        assert [c["claim_reviewed"] for c in listed] == [
            o["claimReviewed"] for o in objects if o.get("genre") == "official-statement"
        ]
        one = admin.get(f"/api/v1/claims/{listed[0]['id']}").json()
        assert one["rating"] == objects[0]["reviewRating"]["alternateName"]
        assert admin.get("/api/v1/claims/999").status_code == 404


def test_a_malformed_claimreview_gets_422_naming_the_field(live_server: LiveServer) -> None:
    obj = examples()[0]
    cases = {
        "reviewRating.alternateName": lambda o: o["reviewRating"].pop("alternateName"),
        "claimReviewed": lambda o: o.pop("claimReviewed"),
        "itemReviewed.appearance": lambda o: o["itemReviewed"].__setitem__(
            "appearance", [{"url": "file:///x"}]
        ),
        "datePublished": lambda o: o.__setitem__("datePublished", "2026-02-30"),
    }
    with live_server.client() as admin:
        for field, spoil in cases.items():
            body = copy.deepcopy(obj)
            spoil(body)
            response = admin.post("/api/v1/claims", json=body)
            assert response.status_code == 422, (field, response.text)
            error = response.json()["error"]
            assert field in [f["field"] for f in error["details"]["fields"]], error
            assert field in error["message"]
        not_object = admin.post("/api/v1/claims", json=[obj])
        assert not_object.status_code == 422
        assert admin.get("/api/v1/claims").json() == []


def test_only_admins_and_analysts_enter_claims(live_server: LiveServer) -> None:
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    officer = live_server.user_token("officer@example.org", Role.agency_officer, ("health",))
    with live_server.client(viewer) as client:
        assert client.post("/api/v1/claims", json=examples()[0]).status_code == 403
        assert client.get("/api/v1/claims").status_code == 200
    with live_server.client(officer) as client:
        assert client.post("/api/v1/claims", json=examples()[0]).status_code == 403
    with live_server.client("") as anonymous:
        assert anonymous.get("/api/v1/claims/export").status_code == 401


def test_passages_are_linked_to_a_claim(live_server: LiveServer) -> None:
    _, passage_id, _ = add_passage(live_server.db)
    with live_server.client() as admin:
        claim = admin.post("/api/v1/claims", json=examples()[0]).json()
        unknown = admin.post(
            f"/api/v1/claims/{claim['id']}/passages", json={"passage_ids": [passage_id + 100]}
        )
        assert unknown.status_code == 422
        assert "passage_ids" in unknown.json()["error"]["message"]
        linked = admin.post(f"/api/v1/claims/{claim['id']}/passages", json={"passage_ids": [passage_id]})
        assert linked.status_code == 200, linked.text
        assert linked.json()["passage_ids"] == [passage_id]
        twice = admin.post(f"/api/v1/claims/{claim['id']}/passages", json={"passage_ids": [passage_id]})
        assert twice.json()["passage_ids"] == [passage_id]
        assert admin.get(f"/api/v1/claims/{claim['id']}").json()["passage_ids"] == [passage_id]


def test_a_response_is_approved_by_a_second_person_and_published_on_the_tracking_page(
    live_server: LiveServer,
) -> None:
    document_id, passage_id, passage_text = add_passage(live_server.db)
    author = live_server.user_token("author@example.org", Role.analyst)
    second = live_server.user_token("second@example.org", Role.analyst)
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    with live_server.client() as admin:
        claim = admin.post("/api/v1/claims", json=examples()[0]).json()
        admin.post(f"/api/v1/claims/{claim['id']}/passages", json={"passage_ids": [passage_id]})
        submission_id, code = submit(admin, "Nghe nói xe máy trên 10 năm sắp bị cấm chạy trong nội thành?")

    with live_server.client(author) as client:
        unknown = client.post("/api/v1/responses", json={"claim_id": claim["id"] + 50})
        assert unknown.status_code == 404
        drafted = client.post(
            "/api/v1/responses", json={"claim_id": claim["id"], "submission_id": submission_id}
        )
        assert drafted.status_code == 201, drafted.text
        response = drafted.json()
        assert response["status"] == "draft"
        assert response["office"] == live_server.settings.office_name
        [claim_quote, passage_quote] = response["quotes"]
        assert claim_quote["quote"] == examples()[0]["claimReviewed"]
        assert passage_quote["quote"] == passage_text
        assert (passage_quote["document_id"], passage_quote["passage_id"], passage_quote["article"]) == (
            document_id,
            passage_id,
            "Điều 3",
        )
        assert passage_text in response["text"] and examples()[0]["claimReviewed"] in response["text"]
        rid = response["id"]
        edited = client.put(f"/api/v1/responses/{rid}", json={"text": response["text"] + "\nXin cảm ơn."})
        assert edited.status_code == 200
        assert client.post(f"/api/v1/responses/{rid}/approve").status_code == 403  # the author
        assert client.post(f"/api/v1/responses/{rid}/publish").status_code == 409  # not approved

    with live_server.client("") as anyone:
        assert "Xin cảm ơn" not in anyone.get(f"/track/{code}").text
        assert anyone.get("/api/v1/published-responses").json() == []

    with live_server.client(viewer) as client:
        assert client.post(f"/api/v1/responses/{rid}/approve").status_code == 403
    with live_server.client(second) as client:
        approved = client.post(f"/api/v1/responses/{rid}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["approver"] == "second@example.org"
    with live_server.client("") as anyone:  # approved is not yet published
        assert "Xin cảm ơn" not in anyone.get(f"/track/{code}").text
    with live_server.client(author) as client:
        published = client.post(f"/api/v1/responses/{rid}/publish")
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
        assert client.put(f"/api/v1/responses/{rid}", json={"text": "khác"}).status_code == 409

    with live_server.client("") as anyone:
        page = anyone.get(f"/track/{code}")
        assert page.status_code == 200
        assert "Xin cảm ơn" in page.text and passage_text in page.text
        assert live_server.settings.office_name in page.text
        assert "author@example.org" not in page.text and "second@example.org" not in page.text
        exported = anyone.get("/api/v1/published-responses").json()
        assert [item["id"] for item in exported] == [rid]
        assert exported[0]["office"] == live_server.settings.office_name
        assert "author" not in exported[0] and "approver" not in exported[0]
        assert exported[0]["quotes"][1]["quote"] == passage_text

    with live_server.db.read() as session:
        actions = {row.action for row in session.query(AuditRow).all()}
    assert {"claim_response.draft", "claim_response.approve", "claim_response.publish"} <= actions


def test_an_edit_undoes_approval_and_makes_the_editor_the_author(live_server: LiveServer) -> None:
    author = live_server.user_token("author@example.org", Role.analyst)
    with live_server.client() as admin:
        claim = admin.post("/api/v1/claims", json=examples()[1]).json()
    with live_server.client(author) as client:
        rid = client.post("/api/v1/responses", json={"claim_id": claim["id"]}).json()["id"]
    with live_server.client() as admin:
        returned = admin.post(f"/api/v1/responses/{rid}/return", json={"reason": "Thêm đường dẫn nguồn."})
        assert returned.json()["status"] == "returned"
        assert admin.post(f"/api/v1/responses/{rid}/approve").status_code == 409
    with live_server.client(author) as client:
        again = client.put(f"/api/v1/responses/{rid}", json={"text": "Bản sửa có nguồn."})
        assert again.json()["status"] == "draft"
    with live_server.client() as admin:
        assert admin.post(f"/api/v1/responses/{rid}/approve").json()["status"] == "approved"
        edited = admin.put(f"/api/v1/responses/{rid}", json={"text": "Bản sửa của quản trị."}).json()
        assert (edited["status"], edited["author"], edited["approver"]) == (
            "draft",
            "admin@example.org",
            None,
        )
        assert admin.post(f"/api/v1/responses/{rid}/approve").status_code == 403  # who edited it last
    with live_server.client(author) as client:
        assert client.post(f"/api/v1/responses/{rid}/approve").status_code == 200
