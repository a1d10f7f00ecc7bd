"""Every read of raw (unredacted) text is audited like a contact read: API, dashboard, search, export;
on SQLite and PostgreSQL over real HTTP."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from civicpulse.domain import Role
from civicpulse.store.export import export_submissions
from civicpulse.store.tables import AuditRow
from tests.conftest import LiveServer

ITEMS = [
    {"text": "Đất công bị lấn chiếm ở tổ 3, gọi 0912345678", "service_code": "land"},
    {"text": "Trường thu tiền ngoài quy định", "service_code": "education"},
    {"text": "Đèn đường hỏng ở ngõ 5", "service_code": "land"},
]


def create(server: LiveServer) -> list[int]:
    with server.client() as client:
        response = client.post("/api/v1/submissions", json=ITEMS)
    assert response.status_code == 201, response.text
    return [r["id"] for r in response.json()]


def reads(server: LiveServer, action: str = "text.read") -> list[tuple[str, str | None, str | None, str]]:
    """(actor, target, client, via) of the audit events of ``action``, oldest first."""
    with server.db.read() as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id))
        return [(r.actor, r.target, r.client, r.detail.get("via")) for r in rows]


def clear(server: LiveServer) -> None:
    with server.db.write() as session:
        session.query(AuditRow).filter(AuditRow.action.in_(["text.read", "text.search"])).delete()


def test_api_reads_of_raw_text_are_audited_per_submission(live_server: LiveServer) -> None:
    land, school, light = create(live_server)
    officer = live_server.user_token("nnmt@example.org", Role.agency_officer, ("so-nnmt",))
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    analyst = live_server.user_token("analyst@example.org", Role.analyst)
    admin = "admin@example.org"
    with live_server.client() as client:
        assert client.get(f"/api/v1/submissions/{land}").json()["text"] == ITEMS[0]["text"]
        listed = client.get("/api/v1/submissions", params={"limit": 2}).json()["items"]
    assert [item["id"] for item in listed] == [light, school]
    local = "127.0.0.1"
    assert reads(live_server) == [
        (admin, f"submission:{land}", local, "api.read"),
        (admin, f"submission:{light}", local, "api.list"),
        (admin, f"submission:{school}", local, "api.list"),
    ]
    clear(live_server)

    for token in (viewer, analyst):  # redacted views only: nothing raw to audit
        with live_server.client(token) as client:
            assert client.get(f"/api/v1/submissions/{land}").json()["text"] is None
            assert client.get("/api/v1/submissions").status_code == 200
    assert reads(live_server) == []

    with live_server.client(officer) as client:
        assert client.get(f"/api/v1/submissions/{land}").status_code == 200
        assert client.get(f"/api/v1/submissions/{school}").status_code == 403
        assert len(client.get("/api/v1/submissions").json()["items"]) == 2
    assert reads(live_server) == [
        ("nnmt@example.org", f"submission:{land}", local, "api.read"),
        ("nnmt@example.org", f"submission:{light}", local, "api.list"),
        ("nnmt@example.org", f"submission:{land}", local, "api.list"),
    ]
    clear(live_server)

    with live_server.client() as client:
        labelled = client.post(
            f"/api/v1/submissions/{light}/labels", json={"task": "topic", "value": "utilities"}
        )
    assert labelled.status_code == 201 and labelled.json()["text"] == ITEMS[2]["text"]
    assert reads(live_server) == [(admin, f"submission:{light}", local, "api.labels")]


def test_raw_text_search_is_audited_with_its_query(live_server: LiveServer) -> None:
    land, _, _ = create(live_server)
    with live_server.client() as client:
        found = client.get("/api/v1/submissions", params={"q": "0912345678"}).json()["items"]
        none = client.get("/api/v1/submissions", params={"q": "0999999999"}).json()["items"]
    assert [item["id"] for item in found] == [land] and none == []
    assert reads(live_server) == [("admin@example.org", f"submission:{land}", "127.0.0.1", "api.list")]
    with live_server.db.read() as session:
        searches = session.scalars(
            select(AuditRow).where(AuditRow.action == "text.search").order_by(AuditRow.id)
        )
        assert [(s.actor, s.detail["q"], s.detail["shown"]) for s in searches] == [
            ("admin@example.org", "0912345678", 1),
            ("admin@example.org", "0999999999", 0),
        ]
    analyst = live_server.user_token("analyst@example.org", Role.analyst)
    with live_server.client(analyst) as client:  # searches the redacted text: not a raw read
        assert client.get("/api/v1/submissions", params={"q": "0912345678"}).json()["items"] == []
    assert len(reads(live_server, "text.search")) == 2


def test_dashboard_pages_showing_raw_text_are_audited(live_server: LiveServer) -> None:
    land, school, light = create(live_server)
    with live_server.client() as client:
        assert ITEMS[0]["text"] in client.get(f"/submissions/{land}").text
        assert client.get("/").status_code == 200
        assert client.get("/", params={"q": "ngõ 5"}).status_code == 200
    admin, local = "admin@example.org", "127.0.0.1"
    assert reads(live_server) == [
        (admin, f"submission:{land}", local, "page"),
        *((admin, f"submission:{sid}", local, "inbox") for sid in (light, school, land)),
        (admin, f"submission:{light}", local, "inbox"),
    ]
    assert [(a, via) for a, _, _, via in reads(live_server, "text.search")] == [(admin, "inbox")]
    clear(live_server)
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    with live_server.client(viewer) as client:
        assert ITEMS[0]["text"] not in client.get(f"/submissions/{land}").text
        assert client.get("/").status_code == 200
    assert reads(live_server) == []


def test_an_export_with_raw_text_is_audited_once(live_server: LiveServer, tmp_path: Path) -> None:
    ids = create(live_server)
    export_submissions(
        live_server.db, live_server.settings, tmp_path / "plain.csv", actor="analyst@example.org"
    )
    assert reads(live_server) == []
    full = tmp_path / "full.csv"
    export_submissions(
        live_server.db, live_server.settings, full, include_contact=True, actor="admin@example.org"
    )
    assert reads(live_server) == [("admin@example.org", "file:full.csv", "cli", "export")]
    with live_server.db.read() as session:
        event = session.scalar(select(AuditRow).where(AuditRow.action == "text.read"))
        assert event is not None and event.detail == {
            "via": "export",
            "file": "full.csv",
            "rows": 3,
            "through_id": max(ids),
        }


def test_open311_reads_are_redacted_and_not_audited_as_raw(live_server: LiveServer) -> None:
    description = "Đất công bị lấn chiếm, gọi 0912345678"
    data = {
        "api_key": live_server.admin_token,
        "service_code": "land",
        "description": description,
        "lat": "21",
    }
    with live_server.client("") as client:
        code = client.post("/open311/v2/requests.json", data={**data, "long": "105"}).json()[0][
            "service_request_id"
        ]
        pages = [
            client.get(path) for path in ("/open311/v2/requests.json", f"/open311/v2/requests/{code}.xml")
        ]
    assert all(page.status_code == 200 and "0912345678" not in page.text for page in pages)
    assert reads(live_server) == []
