"""The officer's day and the citizen's word over plain HTTP on SQLite and PostgreSQL: the triage
queue, the case panel's forms (accept, answer from a template, approval by a second officer), the
tracking page's answer, "not solved" reopening the case, satisfaction stored, the templates page."""

from __future__ import annotations

import re
from contextlib import closing

import httpx
from sqlalchemy import select

from civicpulse.cases.deadlines import load_policy
from civicpulse.cases.service import CaseRules, load_directory, open_cases
from civicpulse.domain import Role
from civicpulse.store.answers import satisfaction
from civicpulse.store.tables import AuditRow, CaseFeedbackRow
from civicpulse.taxonomy import load_taxonomy
from tests.conftest import LiveServer
from tests.web.conftest import form_token, html_client, http_sign_in

TAXONOMY = load_taxonomy()
TEMPLATE = "{{ agency_name }} đã nhận phản ánh {{ tracking_code }} và đã xử lý xong."


def received(server: LiveServer, text: str, service_code: str = "health") -> dict:
    """A submission with its case opened (received), as analysis would open it."""
    with server.client() as client:
        created = client.post("/api/v1/submissions", json={"text": text, "service_code": service_code})
    assert created.status_code == 201, created.text
    item = created.json()
    with server.db.write() as session:
        open_cases(session, CaseRules(load_policy(), load_directory(session, TAXONOMY)), [item["id"]])
    return item


def signed_in(server: LiveServer, email: str, role: Role, agencies: tuple[str, ...] = ()) -> httpx.Client:
    server.user_token(email, role, agencies)
    client = html_client(server)
    assert http_sign_in(client, email, "password-123").status_code == 200
    return client


def post_form(client: httpx.Client, url: str, page: str, **data: str) -> httpx.Response:
    return client.post(url, data={**data, "csrf_token": form_token(client, page)}, follow_redirects=False)


def test_the_officers_day_over_http(live_server: LiveServer) -> None:
    with live_server.client() as admin:
        agency = {"code": "so-yt", "name_vi": "Sở Y tế Hà Nội", "name_en": "Hanoi Department of Health"}
        response = admin.put(
            "/api/v1/agencies/so-yt", json={**agency, "kind": "department", "needs_approval": True}
        )
        assert response.status_code == 200, response.text
        template = admin.post(
            "/api/v1/answer-templates",
            json={"code": "yte-xong", "name": "Đã xử lý xong", "agency": "so-yt", "body": TEMPLATE},
        ).json()
    urgent = received(live_server, "Trạm y tế đóng cửa, cần gấp")
    other = received(live_server, "Đèn đường hỏng", "traffic")
    author = signed_in(live_server, "yte1@example.org", Role.agency_officer, ("so-yt",))
    colleague = signed_in(live_server, "yte2@example.org", Role.agency_officer, ("so-yt",))
    with closing(author), closing(colleague):
        queue = author.get("/cases")
        assert queue.status_code == 200
        assert f'data-submission="{urgent["id"]}"' in queue.text
        assert f'data-submission="{other["id"]}"' not in queue.text  # another agency's case

        page = f"/submissions/{urgent['id']}/case"
        partial = author.get(page, headers={"HX-Request": "true"})
        assert (
            partial.status_code == 200 and "<html" not in partial.text and 'id="form-accept"' in partial.text
        )
        assert post_form(author, page, page, action="accept").status_code == 303
        with_template = author.get(page, params={"template": template["id"]})
        rendered = re.search(r'<textarea id="answer-text"[^>]*>([^<]*)</textarea>', with_template.text)
        assert rendered and urgent["tracking_code"] in rendered.group(1)
        answer = rendered.group(1).replace("&#39;", "'")
        assert answer == f"Sở Y tế Hà Nội đã nhận phản ánh {urgent['tracking_code']} và đã xử lý xong."
        sent = post_form(author, page, page, action="answer", answer=answer, template_id=str(template["id"]))
        assert sent.status_code == 303
        held = author.get(page)
        assert 'id="case-draft"' in held.text and 'id="form-approve"' not in held.text
        draft_id = re.search(r'id="case-draft" data-answer="(\d+)"', held.text).group(1)

        with html_client(live_server) as citizen:
            assert answer not in citizen.get(f"/track/{urgent['tracking_code']}").text

        approvals = colleague.get("/cases")
        assert f'data-answer="{draft_id}"' in approvals.text
        own = post_form(author, f"/answers/{draft_id}/review", page, decision="approve")
        assert own.status_code == 403 and "author" in own.text
        refused = post_form(colleague, f"/answers/{draft_id}/review", page, decision="return")
        assert refused.status_code == 422
        approved = post_form(colleague, f"/answers/{draft_id}/review", page, decision="approve")
        assert (
            approved.status_code == 303
            and approved.headers["location"] == f"/submissions/{urgent['id']}#case"
        )
        shown = colleague.get(page)
        assert 'data-state="answered"' in shown.text and 'id="case-published"' in shown.text

    with html_client(live_server) as citizen:
        tracking = citizen.get(f"/track/{urgent['tracking_code']}")
        assert answer in tracking.text and "Sở Y tế Hà Nội" in tracking.text
        assert 'id="feedback-form"' in tracking.text
    with live_server.db.read() as session:
        row = session.scalars(select(AuditRow).where(AuditRow.action == "case.answer.approve")).one()
    assert (row.actor, row.detail["author"]) == ("yte2@example.org", "yte1@example.org")


def answered(server: LiveServer, text: str) -> dict:
    item = received(server, text)
    with server.client() as client:
        for body in ({"action": "accept"}, {"action": "answer", "answer": "Trạm y tế đã mở cửa trở lại."}):
            assert client.post(f"/api/v1/submissions/{item['id']}/case", json=body).status_code == 200
    return item


def test_not_solved_reopens_the_case_as_the_citizen_and_solved_is_counted(live_server: LiveServer) -> None:
    unsolved, solved = (
        answered(live_server, "Trạm y tế đóng cửa"),
        answered(live_server, "Trạm y tế thiếu thuốc"),
    )
    with html_client(live_server) as citizen:
        code = unsolved["tracking_code"]
        page = f"/track/{code}"
        assert citizen.post(f"{page}/feedback", data={"solved": "no"}).status_code == 403  # no CSRF token
        assert post_form(citizen, f"{page}/feedback", page, solved="maybe").status_code == 422
        no = post_form(citizen, f"{page}/feedback", page, solved="no")
        assert no.status_code == 303
        after = citizen.get(page)
        assert 'id="feedback-form"' not in after.text
        again = post_form(citizen, f"{page}/feedback", f"/track/{solved['tracking_code']}", solved="yes")
        assert again.status_code == 409
        yes_page = f"/track/{solved['tracking_code']}"
        assert post_form(citizen, f"{yes_page}/feedback", yes_page, solved="yes").status_code == 303
        assert 'id="feedback-given"' in citizen.get(yes_page).text
        unknown = post_form(citizen, "/track/CP-0000-0000/feedback", "/submit", solved="yes")
        assert unknown.status_code == 404
    with live_server.client() as client:
        reopened = client.get(f"/api/v1/submissions/{unsolved['id']}").json()["case"]
        kept = client.get(f"/api/v1/submissions/{solved['id']}").json()["case"]
        updates = client.get(f"/api/v1/cases/{reopened['id']}/answers").json()
    assert reopened["status"] == "in_progress" and kept["status"] == "answered"
    assert updates[-1]["state"] == "published"
    with live_server.db.read() as session:
        reopen = session.scalars(select(AuditRow).where(AuditRow.action == "case.reopen")).one()
        feedback = session.scalars(select(AuditRow).where(AuditRow.action == "case.feedback")).all()
        stored = {row.submission_id: row.solved for row in session.scalars(select(CaseFeedbackRow))}
        counts = satisfaction(session)
    assert reopen.actor == f"citizen:{code}" and reopen.detail["to"] == "in_progress"
    assert reopen.detail["reason"].startswith("Người dân phản hồi")
    assert {a.actor for a in feedback} == {f"citizen:{code}", f"citizen:{solved['tracking_code']}"}
    assert stored == {unsolved["id"]: False, solved["id"]: True}
    assert counts["so-yt"].solved == 1 and counts["so-yt"].not_solved == 1 and counts["so-yt"].share == 0.5


def test_admins_manage_templates_in_the_dashboard(live_server: LiveServer) -> None:
    analyst = signed_in(live_server, "analyst@example.org", Role.analyst)
    with closing(analyst):
        assert analyst.get("/answer-templates").status_code == 403
    with html_client(live_server) as admin:
        assert http_sign_in(admin, "admin@example.org", "admin-password").status_code == 200
        page = "/answer-templates"
        fields = {"code": "chung-vi", "name": "Mẫu chung", "language": "vi", "body": TEMPLATE, "active": "1"}
        assert post_form(admin, page, page, **fields).status_code == 303
        listed = admin.get(page)
        assert 'data-template="chung-vi"' in listed.text
        bad = post_form(admin, page, page, **{**fields, "code": "sai", "body": "{{ ho_ten }}"})
        assert bad.status_code == 422 and "ho_ten" in bad.text
        taken = post_form(admin, page, page, **fields)
        assert taken.status_code == 409
        template_id = admin.get("/api/v1/answer-templates").json()[0]["id"]
        deleted = post_form(admin, f"{page}/{template_id}/delete", page)
        assert deleted.status_code == 303
        assert 'data-template="chung-vi"' not in admin.get(page).text
