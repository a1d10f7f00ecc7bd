"""REST intake through the real HTTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

from civicpulse.domain import Role
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from tests.conftest import LiveServer

VIETNAMESE = "Đường Nguyễn Huệ bị ngập sâu sau mưa, xin chính quyền xử lý. 😟"


def test_post_one_then_get_returns_text_byte_for_byte(live_server: LiveServer) -> None:
    with live_server.client() as client:
        response = client.post("/api/v1/submissions", json={"text": VIETNAMESE, "channel": "web_form"})
        assert response.status_code == 201, response.text
        accepted = response.json()
        assert accepted["duplicate"] is False
        assert accepted["tracking_code"].startswith("CP-")
        stored = client.get(f"/api/v1/submissions/{accepted['id']}").json()
    assert stored["text"] == VIETNAMESE
    assert stored["channel"] == "web_form"
    assert stored["analysis_state"] == "pending"


def test_same_source_id_is_stored_once(live_server: LiveServer) -> None:
    item = {"text": "Cột điện nghiêng", "channel": "api", "source_id": "ext-1"}
    with live_server.client() as client:
        first = client.post("/api/v1/submissions", json=item).json()
        again = client.post("/api/v1/submissions", json=[item, {**item, "text": "khác"}])
        assert again.status_code == 200
        assert [r["id"] for r in again.json()] == [first["id"], first["id"]]
        assert all(r["duplicate"] for r in again.json())
        page = client.get("/api/v1/submissions").json()
    assert len(page["items"]) == 1


def test_same_text_without_source_id_is_stored_once_per_channel(live_server: LiveServer) -> None:
    with live_server.client() as client:
        a = client.post("/api/v1/submissions", json={"text": "Rác  thải\ttràn lan", "channel": "email"})
        b = client.post("/api/v1/submissions", json={"text": "Rác thải tràn lan", "channel": "email"})
        c = client.post("/api/v1/submissions", json={"text": "Rác thải tràn lan", "channel": "hotline"})
    assert a.json()["id"] == b.json()["id"]
    assert c.json()["id"] != a.json()["id"]


def test_same_text_from_two_senders_is_two_submissions_each_with_its_contact(live_server: LiveServer) -> None:
    text = "Đèn đường hỏng ở ngõ 12"
    an = {"name": "Nguyễn Văn An", "phone": "0912 345 678"}
    binh = {"name": "Trần Thị Bình", "email": "binh@example.vn"}
    with live_server.client() as client:
        a = client.post("/api/v1/submissions", json={"text": text, "contact": an}).json()
        b = client.post("/api/v1/submissions", json={"text": text, "contact": binh}).json()
        same_phone = {"name": "An", "phone": "+84 912.345.678"}  # the same sender, written otherwise
        a_again = client.post("/api/v1/submissions", json={"text": text, "contact": same_phone}).json()
        anonymous = [client.post("/api/v1/submissions", json={"text": text}).json() for _ in range(2)]
        contacts = [client.get(f"/api/v1/submissions/{r['id']}/contact").json() for r in (a, b)]
        page = client.get("/api/v1/submissions").json()
    assert (a["duplicate"], b["duplicate"]) == (False, False)
    assert a["id"] != b["id"] and a["tracking_code"] != b["tracking_code"]
    assert (a_again["id"], a_again["tracking_code"], a_again["duplicate"]) == (
        a["id"],
        a["tracking_code"],
        True,
    )
    assert anonymous[0]["id"] == anonymous[1]["id"] and anonymous[1]["duplicate"] is True
    assert anonymous[0]["id"] not in (a["id"], b["id"])
    assert (contacts[0]["phone"], contacts[1]["email"]) == ("0912 345 678", "binh@example.vn")
    assert len(page["items"]) == 3


def test_list_filters_and_cursor_paging(live_server: LiveServer) -> None:
    items = [
        {
            "text": f"Phản ánh số {i}",
            "channel": "hotline" if i % 2 else "email",
            "received_at": f"2026-10-{i + 1:02d}T08:00:00+07:00",
        }
        for i in range(7)
    ]
    with live_server.client() as client:
        assert client.post("/api/v1/submissions", json=items).status_code == 201
        seen: list[int] = []
        cursor = None
        while True:
            params = {"limit": 2, "channel": "email"}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/v1/submissions", params=params).json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert len(seen) == 4 and len(set(seen)) == 4
        window = client.get(
            "/api/v1/submissions",
            params={"from": "2026-10-02T00:00:00+07:00", "to": "2026-10-04T00:00:00+07:00"},
        )
        assert sorted(i["text"] for i in window.json()["items"]) == ["Phản ánh số 1", "Phản ánh số 2"]
        search = client.get("/api/v1/submissions", params={"q": "số 6"}).json()
        assert [i["text"] for i in search["items"]] == ["Phản ánh số 6"]
        bad = client.get("/api/v1/submissions", params={"cursor": "!!nope"})
        assert bad.status_code == 400


def test_contact_is_hidden_encrypted_and_audited(live_server: LiveServer) -> None:
    contact = {"name": "Nguyễn Văn An", "phone": "0912 345 678"}
    with live_server.client() as client:
        created = client.post("/api/v1/submissions", json={"text": "Xin hỗ trợ", "contact": contact}).json()
        public = client.get(f"/api/v1/submissions/{created['id']}").json()
        assert public["has_contact"] is True and "contact" not in public
        revealed = client.get(f"/api/v1/submissions/{created['id']}/contact")
        assert revealed.status_code == 200
        assert revealed.json()["phone"] == "0912 345 678"
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    with live_server.client(viewer) as client:
        assert client.get(f"/api/v1/submissions/{created['id']}/contact").status_code == 403
        assert client.post("/api/v1/submissions", json={"text": "x"}).status_code == 403
    from sqlalchemy import select

    from civicpulse.store.tables import AuditRow, ContactRow

    with live_server.db.read() as session:
        ciphertext = session.scalar(select(ContactRow.ciphertext))
        actions = [(r.actor, r.action, r.status) for r in session.scalars(select(AuditRow))]
    assert b"0912" not in ciphertext
    assert ("admin@example.org", "contact.read", 200) in actions
    assert ("viewer@example.org", "contact.read.denied", 403) in actions


def test_requires_a_valid_token(live_server: LiveServer) -> None:
    with live_server.client("") as client:
        assert client.get("/api/v1/submissions").status_code == 401
    with live_server.client("cp_wrong") as client:
        response = client.get("/api/v1/submissions")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_raw_text_only_for_admins_and_the_handling_agency(live_server: LiveServer) -> None:
    from civicpulse.runtime.worker import Worker

    text = "Tôi là Trần Thị Mai, số 0987 654 321, xin sửa đèn đường."
    with live_server.client() as client:
        created = client.post("/api/v1/submissions", json={"text": text, "service_code": "utilities"}).json()
    settings = live_server.settings.model_copy(update={"stages": ["language", "normalize", "pii"]})
    Worker(live_server.db, build_pipeline(settings, live_server.db), settings).drain()
    viewer = live_server.user_token("viewer2@example.org", Role.viewer)
    officer = live_server.user_token("officer@example.org", Role.agency_officer, ("so-ct",))
    with live_server.client(viewer) as client:
        seen = client.get(f"/api/v1/submissions/{created['id']}").json()
        listed = client.get("/api/v1/submissions").json()["items"][0]
    assert seen["text"] is None and listed["text"] is None
    assert "0987" not in seen["redacted_text"] and "[PHONE]" in seen["redacted_text"]
    with live_server.client(officer) as client:
        handled = client.get(f"/api/v1/submissions/{created['id']}").json()
    with live_server.client() as client:
        admin_view = client.get(f"/api/v1/submissions/{created['id']}").json()
    assert handled["agency"] == "so-ct" and handled["text"] == text
    assert admin_view["text"] == text


def test_only_admins_search_raw_text_others_search_the_redacted_text(live_server: LiveServer) -> None:
    text = "Đèn đường hỏng trước nhà, gọi tôi qua số 0912 345 678."
    with live_server.client() as client:
        created = client.post("/api/v1/submissions", json={"text": text}).json()
    settings = live_server.settings.model_copy(update={"stages": ["language", "normalize", "pii"]})
    Worker(live_server.db, build_pipeline(settings, live_server.db), settings).drain()
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    with live_server.client() as admin, live_server.client(viewer) as client:
        admin_probe = admin.get("/api/v1/submissions", params={"q": "0912 345"}).json()["items"]
        probe = client.get("/api/v1/submissions", params={"q": "0912 345"}).json()["items"]
        words = client.get("/api/v1/submissions", params={"q": "ĐÈN ĐƯỜNG"}).json()["items"]
        placeholder = client.get("/api/v1/submissions", params={"q": "[PHONE]"}).json()["items"]
    assert [s["id"] for s in admin_probe] == [created["id"]]
    assert probe == []  # a viewer cannot learn that someone wrote this number
    assert [s["id"] for s in words] == [created["id"]] and words[0]["text"] is None
    assert [s["id"] for s in placeholder] == [created["id"]]
