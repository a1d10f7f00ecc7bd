"""Answers to citizens over real HTTP on SQLite and PostgreSQL: approval by a second officer,
publication only after it, Open311 read-back (status_notes, updated_datetime, expected_datetime,
servicerequestupdates in JSON and XML), e-mail to a real local SMTP server, templates and bulk
answers."""

from __future__ import annotations

import datetime as dt
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from email.policy import default
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from civicpulse.domain import Role
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.tables import AuditRow, CaseAnswerRow
from civicpulse.store.themes import ThemeMemberRow, ThemeRow, ThemeRunRow
from civicpulse.store.users import create_token, create_user
from civicpulse.taxonomy import load_taxonomy
from tests.conftest import LiveServer, make_settings, run_server
from tests.pg import free_port

ANSWER = "Sở Y tế đã kiểm tra; trạm y tế phường mở cửa lại từ ngày 03/03/2026."
_texts = count()


def health_agency(client: httpx.Client, *, needs_approval: bool) -> None:
    body = {
        "code": "so-yt",
        "name_vi": "Sở Y tế Hà Nội",
        "name_en": "Hanoi Department of Health",
        "kind": "department",
        "topics": ["health"],
        "needs_approval": needs_approval,
    }
    response = client.put("/api/v1/agencies/so-yt", json=body)
    assert response.status_code == 200, response.text


def open311_request(server: LiveServer, email: str | None = None) -> tuple[str, int]:
    """A public (Open311) service request of the health service: its code and submission id."""
    form = {
        "api_key": server.admin_token,
        "service_code": "health",
        "description": f"Trạm y tế phường đóng cửa giờ hành chính, lần {next(_texts)}",
        "address_string": "Phường Hoàn Kiếm, Hà Nội",
    }
    if email:
        form["email"] = email
    with server.client() as client:
        response = client.post("/open311/v2/requests.json", data=form)
        assert response.status_code == 201, response.text
        code = response.json()[0]["service_request_id"]
        found = client.get("/api/v1/submissions", params={"limit": 50}).json()["items"]
    return code, next(item["id"] for item in found if item["tracking_code"] == code)


def act(client: httpx.Client, submission_id: int, action: str, **body: Any) -> httpx.Response:
    return client.post(f"/api/v1/submissions/{submission_id}/case", json={"action": action, **body})


def open311(client: httpx.Client, code: str, fmt: str = "json") -> Any:
    response = client.get(f"/open311/v2/requests/{code}.{fmt}")
    assert response.status_code == 200, response.text
    return response.json()[0] if fmt == "json" else ET.fromstring(response.content).find("request")


def audits(db: Database, action: str) -> list[AuditRow]:
    with db.read() as session:
        return list(session.scalars(select(AuditRow).where(AuditRow.action == action).order_by(AuditRow.id)))


def test_a_draft_needs_a_second_officer_of_the_agency_or_an_admin(live_server: LiveServer) -> None:
    author = live_server.user_token("yte1@example.org", Role.agency_officer, ("so-yt",))
    colleague = live_server.user_token("yte2@example.org", Role.agency_officer, ("so-yt",))
    stranger = live_server.user_token("xd@example.org", Role.agency_officer, ("so-xd",))
    with live_server.client() as admin:
        health_agency(admin, needs_approval=True)
    code, submission_id = open311_request(live_server)
    with live_server.client(author) as client:
        assert act(client, submission_id, "accept").status_code == 200
        held = act(client, submission_id, "answer", answer=ANSWER)
        assert held.status_code == 200, held.text
        case = held.json()
        assert case["status"] == "accepted" and case["answer"] is None
        draft = case["answer_draft"]
        assert draft["text"] == ANSWER and draft["author"] == "yte1@example.org"
        own = client.post(f"/api/v1/answers/{draft['id']}/approve")
        assert own.status_code == 403 and "author" in own.json()["error"]["message"]
    with live_server.client(stranger) as client:
        assert client.post(f"/api/v1/answers/{draft['id']}/approve").status_code == 403
        assert client.get("/api/v1/answers").json() == []
    with live_server.client() as anyone:  # nothing is public before approval
        shown = open311(anyone, code)
        assert shown["status_notes"] is None and shown["status"] == "open"
        page = anyone.get(f"/track/{code}", headers={"Accept": "text/html"})
        assert ANSWER not in page.text
    with live_server.client(colleague) as client:
        [waiting] = client.get("/api/v1/answers").json()
        assert waiting["id"] == draft["id"] and waiting["may_review"] is True
        returned = client.post(
            f"/api/v1/answers/{draft['id']}/return", json={"reason": "Ghi rõ ngày kiểm tra"}
        )
        assert returned.status_code == 200 and returned.json()["state"] == "returned"
        assert client.post(f"/api/v1/answers/{draft['id']}/approve").status_code == 409
    with live_server.client(author) as client:
        second = act(client, submission_id, "answer", answer=ANSWER + " Đoàn kiểm tra ngày 02/03/2026.")
        second_id = second.json()["answer_draft"]["id"]
    with live_server.client() as admin:
        approved = admin.post(f"/api/v1/answers/{second_id}/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "answered"
        assert approved.json()["answer"].endswith("02/03/2026.") and approved.json()["answer_draft"] is None
        shown = open311(admin, code)
        assert shown["status_notes"] == approved.json()["answer"]
        assert shown["agency_responsible"] == "Sở Y tế Hà Nội"
        history = admin.get(f"/api/v1/cases/{case['id']}/answers").json()
    assert [(a["state"], a["reviewer"]) for a in history] == [
        ("returned", "yte2@example.org"),
        ("published", "admin@example.org"),
    ]
    assert history[1]["agency_name"] == "Sở Y tế Hà Nội" and history[1]["author"] == "yte1@example.org"
    assert [a.actor for a in audits(live_server.db, "case.answer.draft")] == ["yte1@example.org"] * 2
    assert audits(live_server.db, "case.answer.return")[0].detail["reason"] == "Ghi rõ ngày kiểm tra"
    [approval] = audits(live_server.db, "case.answer.approve")
    assert (approval.actor, approval.detail["author"]) == ("admin@example.org", "yte1@example.org")
    assert audits(live_server.db, "case.answer")[-1].detail["to"] == "answered"


def test_an_officer_of_the_agency_approves_a_colleagues_draft(live_server: LiveServer) -> None:
    author = live_server.user_token("a@example.org", Role.agency_officer, ("so-yt",))
    colleague = live_server.user_token("b@example.org", Role.agency_officer, ("so-yt",))
    with live_server.client() as admin:
        health_agency(admin, needs_approval=True)
    _, submission_id = open311_request(live_server)
    with live_server.client(author) as client:
        act(client, submission_id, "accept")
        draft = act(client, submission_id, "answer", answer=ANSWER).json()["answer_draft"]
    with live_server.client(colleague) as client:
        approved = client.post(f"/api/v1/answers/{draft['id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "answered"


def test_open311_reads_back_the_published_answer_in_json_and_xml(live_server: LiveServer) -> None:
    code, submission_id = open311_request(live_server)
    with live_server.client() as client:
        before = open311(client, code)
        case = act(client, submission_id, "accept").json()
        time.sleep(1.1)  # updated_datetime has whole seconds
        answered = act(client, submission_id, "answer", answer=ANSWER).json()
        shown, xml = open311(client, code), open311(client, code, "xml")
        updates = client.get("/open311/v2/servicerequestupdates.json")
        updates_xml = client.get(
            "/open311/v2/servicerequestupdates.xml",
            params={"start_date": "2020-01-01T00:00:00+07:00", "end_date": "2199-01-01T00:00:00Z"},
        )
        act(client, submission_id, "close")
        closed = client.get("/open311/v2/servicerequestupdates.json").json()
        later = client.get(
            "/open311/v2/servicerequestupdates.json", params={"start_date": "2199-01-01T00:00:00Z"}
        ).json()
        bad = client.get("/open311/v2/servicerequestupdates.json", params={"start_date": "yesterday"})
    assert answered["status"] == "answered"
    assert shown["status"] == "open" and shown["status_notes"] == ANSWER
    assert dt.datetime.fromisoformat(shown["updated_datetime"]) > dt.datetime.fromisoformat(
        before["updated_datetime"]
    )
    assert dt.datetime.fromisoformat(shown["expected_datetime"]) == dt.datetime.fromisoformat(
        case["answer_due_at"]
    )
    assert (
        xml.findtext("status_notes") == ANSWER
        and xml.findtext("updated_datetime") == shown["updated_datetime"]
    )
    assert xml.findtext("expected_datetime") == shown["expected_datetime"]
    assert updates.status_code == 200 and updates.headers["content-type"].startswith("application/json")
    [update] = updates.json()
    assert update["service_request_id"] == code and update["description"] == ANSWER
    assert update["status"] == "open" and update["update_id"]
    assert dt.datetime.fromisoformat(update["updated_datetime"]) <= dt.datetime.fromisoformat(
        shown["updated_datetime"]
    )
    root = ET.fromstring(updates_xml.content)
    assert root.tag == "service_request_updates"
    [entry] = root.findall("request_update")
    assert {child.tag for child in entry} >= {"update_id", "service_request_id", "status", "updated_datetime"}
    assert entry.findtext("description") == ANSWER and entry.findtext("service_request_id") == code
    assert [(u["status"], u["service_request_id"]) for u in closed] == [("open", code), ("closed", code)]
    assert later == []
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400


def test_answers_of_api_submissions_are_not_listed_in_open311(live_server: LiveServer) -> None:
    with live_server.client() as client:
        created = client.post(
            "/api/v1/submissions", json={"text": "Ổ gà trên đường", "service_code": "traffic"}
        )
        submission_id = created.json()["id"]
        act(client, submission_id, "accept")
        act(client, submission_id, "answer", answer="Đã vá ổ gà.")
        assert client.get("/open311/v2/servicerequestupdates.json").json() == []


class Inbox:
    """A local SMTP server's received messages."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default)))
        return "250 OK"

    def wait(self, n: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.05)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mail_server(db_url: str, smtp: tuple[Inbox, int]) -> Iterator[tuple[LiveServer, Inbox]]:
    inbox, port = smtp
    settings: Settings = make_settings(
        db_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        mail_from="tra-loi@civicpulse.example",
    )
    database = Database.from_settings(settings)
    database.upgrade()
    with database.write() as session:
        token = create_token(session, create_user(session, "admin@example.org", "admin-password", Role.admin))
    for url in run_server(settings):
        yield LiveServer(url=url, settings=settings, db=database, admin_token=token), inbox
    database.dispose()


def test_the_approved_answer_is_mailed_to_the_citizen(mail_server: tuple[LiveServer, Inbox]) -> None:
    server, inbox = mail_server
    officer = server.user_token("yte1@example.org", Role.agency_officer, ("so-yt",))
    with server.client() as admin:
        health_agency(admin, needs_approval=True)
    code, submission_id = open311_request(server, email="nguyen.an@example.org")
    _, silent_id = open311_request(server)
    with server.client(officer) as client:
        for sid in (submission_id, silent_id):
            act(client, sid, "accept")
            draft = act(client, sid, "answer", answer=ANSWER).json()["answer_draft"]
    time.sleep(0.5)
    assert inbox.messages == []  # a draft is not sent
    with server.client() as admin:
        assert admin.post(f"/api/v1/answers/{draft['id'] - 1}/approve").status_code == 200
        assert admin.post(f"/api/v1/answers/{draft['id']}/approve").status_code == 200
    inbox.wait(1)
    [(recipients, message)] = inbox.messages
    assert recipients == ["nguyen.an@example.org"]
    assert code in message["Subject"] and message["From"] == "tra-loi@civicpulse.example"
    body = message.get_content()
    assert ANSWER in body and "Sở Y tế Hà Nội" in body and code in body
    reads = [a for a in audits(server.db, "contact.read") if a.target == f"submission:{submission_id}"]
    assert [a.actor for a in reads] == ["system:answer-mail"]
    deadline = time.monotonic() + 10
    while not audits(server.db, "answer.mail") and time.monotonic() < deadline:
        time.sleep(0.05)
    [sent] = audits(server.db, "answer.mail")
    assert sent.status == 200 and sent.target == f"submission:{submission_id}"


def test_templates_are_managed_by_admins_and_render_for_a_case(live_server: LiveServer) -> None:
    officer = live_server.user_token("yte1@example.org", Role.agency_officer, ("so-yt",))
    body = {
        "code": "health-answer-vi",
        "name": "Trả lời chung lĩnh vực y tế",
        "agency": "so-yt",
        "topic": "health",
        "body": "{{ agency_name }} trả lời phản ánh {{ tracking_code }} (nhận ngày {{ received_date }}).",
    }
    code, submission_id = open311_request(live_server)
    with live_server.client(officer) as client:
        assert client.post("/api/v1/answer-templates", json=body).status_code == 403
    with live_server.client() as admin:
        created = admin.post("/api/v1/answer-templates", json=body)
        assert created.status_code == 201, created.text
        template_id = created.json()["id"]
        assert admin.post("/api/v1/answer-templates", json=body).status_code == 409
        unknown = admin.post(
            "/api/v1/answer-templates", json={**body, "code": "x", "body": "{{ citizen_name }}"}
        )
        assert unknown.status_code == 422 and "citizen_name" in unknown.json()["error"]["message"]
        loop = admin.post(
            "/api/v1/answer-templates", json={**body, "code": "y", "body": "{% for a in b %}{% endfor %}"}
        )
        assert loop.status_code == 422
        assert (
            admin.post("/api/v1/answer-templates", json={**body, "code": "z", "agency": "nope"}).status_code
            == 422
        )
        replaced = admin.put(f"/api/v1/answer-templates/{template_id}", json={**body, "name": "Mẫu y tế"})
        assert replaced.json()["name"] == "Mẫu y tế"
    with live_server.client(officer) as client:
        act(client, submission_id, "accept")
        assert [
            t["code"] for t in client.get("/api/v1/answer-templates", params={"agency": "so-yt"}).json()
        ] == ["health-answer-vi"]
        rendered = client.get(
            f"/api/v1/answer-templates/{template_id}/render", params={"submission_id": submission_id}
        )
        assert rendered.status_code == 200, rendered.text
    text = rendered.json()["text"]
    received = dt.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%d/%m/%Y")
    name = load_taxonomy().get_agency("so-yt").name_vi
    assert text == f"{name} trả lời phản ánh {code} (nhận ngày {received})."
    with live_server.client() as admin:
        assert admin.delete(f"/api/v1/answer-templates/{template_id}").status_code == 204
        assert admin.get(f"/api/v1/answer-templates/{template_id}").status_code == 404
    assert [a.action for a in audits(live_server.db, "answer_template.create")] == ["answer_template.create"]


def test_a_bulk_answer_reaches_every_case_of_a_theme(live_server: LiveServer) -> None:
    ids = [open311_request(live_server)[1] for _ in range(3)]
    with live_server.db.write() as session:
        run = ThemeRunRow(
            slice_key="bulk", items=3, unassigned=0, unassigned_share=0.0, model="test", space={}
        )
        session.add(run)
        session.flush()
        session.add(ThemeRow(run_id=run.id, theme_id=7, label="Trạm y tế", senders=3, weight=3.0, detail={}))
        session.add_all(ThemeMemberRow(run_id=run.id, submission_id=s, theme_id=7) for s in ids)
    with live_server.client() as client:
        for sid in ids[:2]:
            act(client, sid, "accept")
        act(client, ids[2], "transfer", agency="so-xd", reason="Thuộc thẩm quyền Sở Xây dựng")
        result = client.post("/api/v1/answers/bulk", json={"theme": 7, "answer": ANSWER})
        assert result.status_code == 200, result.text
        missing = client.post("/api/v1/answers/bulk", json={"theme": 99, "answer": ANSWER})
        both = client.post("/api/v1/answers/bulk", json={"theme": 7, "campaign": 1, "answer": ANSWER})
        statuses = [client.get(f"/api/v1/submissions/{sid}").json()["case"]["status"] for sid in ids]
    out = result.json()
    assert (out["published"], out["drafts"], out["skipped"]) == (2, 0, 1)
    skipped = next(c for c in out["cases"] if c["outcome"] == "skipped")
    assert skipped["submissions"] == [ids[2]] and "received" in skipped["reason"]
    assert statuses == ["answered", "answered", "received"]
    assert missing.status_code == 404 and both.status_code == 422
    with live_server.db.read() as session:
        batches = {a.batch for a in session.scalars(select(CaseAnswerRow))}
    assert len(batches) == 1 and None not in batches


def test_analysts_cannot_approve_and_a_transfer_sets_the_draft_aside(live_server: LiveServer) -> None:
    author = live_server.user_token("yte1@example.org", Role.agency_officer, ("so-yt",))
    analyst = live_server.user_token("analyst@example.org", Role.analyst)
    with live_server.client() as admin:
        health_agency(admin, needs_approval=True)
    _, submission_id = open311_request(live_server)
    with live_server.client(author) as client:
        act(client, submission_id, "accept")
        draft = act(client, submission_id, "answer", answer=ANSWER).json()["answer_draft"]
    with live_server.client(analyst) as client:
        assert client.post(f"/api/v1/answers/{draft['id']}/approve").status_code == 403
    with live_server.client() as admin:
        moved = act(admin, submission_id, "transfer", agency="so-xd", reason="Thuộc thẩm quyền Sở Xây dựng")
        assert moved.status_code == 200 and moved.json()["answer_draft"] is None
        refused = admin.post(f"/api/v1/answers/{draft['id']}/approve")
        assert refused.status_code == 409 and refused.json()["error"]["details"]["state"] == "superseded"
        assert admin.get("/api/v1/answers").json() == []
