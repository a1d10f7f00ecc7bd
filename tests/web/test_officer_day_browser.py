"""The officer's day in a real browser: the triage queue, accepting a case, answering from a
template (htmx fills the answer), approval by a second officer, and the citizen's tracking page
showing the published answer (on a phone-sized screen), where "not solved" reopens the case."""

from __future__ import annotations

from playwright.sync_api import Browser, Page

from civicpulse.cases.deadlines import load_policy
from civicpulse.cases.service import CaseRules, load_directory, open_cases
from civicpulse.domain import Role
from civicpulse.taxonomy import load_taxonomy
from tests.conftest import LiveServer
from tests.web.conftest import SQLITE_ONLY, sign_in

pytestmark = SQLITE_ONLY

PASSWORD = "password-123"
TEMPLATE = "{{ agency_name }} đã kiểm tra phản ánh {{ tracking_code }}: trạm y tế mở cửa đủ giờ hành chính."


def _prepare(server: LiveServer) -> dict:
    server.user_token("yte1@example.org", Role.agency_officer, ("so-yt",))
    server.user_token("yte2@example.org", Role.agency_officer, ("so-yt",))
    with server.client() as client:
        agency = {"code": "so-yt", "name_vi": "Sở Y tế Hà Nội", "name_en": "Hanoi Department of Health"}
        put = client.put(
            "/api/v1/agencies/so-yt", json={**agency, "kind": "department", "needs_approval": True}
        )
        assert put.status_code == 200, put.text
        template = {
            "code": "yte-gio-lam-viec",
            "name": "Giờ làm việc trạm y tế",
            "agency": "so-yt",
            "body": TEMPLATE,
        }
        assert client.post("/api/v1/answer-templates", json=template).status_code == 201
        created = client.post(
            "/api/v1/submissions",
            json={"text": "Trạm y tế phường đóng cửa trong giờ hành chính", "service_code": "health"},
        )
    assert created.status_code == 201, created.text
    item = created.json()
    with server.db.write() as session:
        open_cases(session, CaseRules(load_policy(), load_directory(session, load_taxonomy())), [item["id"]])
    return item


def _officer(browser: Browser, server: LiveServer, email: str) -> Page:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, server, email, PASSWORD)
    return page


def test_triage_accept_answer_from_a_template_approve_and_track(
    browser: Browser, page: Page, live_server: LiveServer
) -> None:
    item = _prepare(live_server)
    code, sid = item["tracking_code"], item["id"]
    expected = f"Sở Y tế Hà Nội đã kiểm tra phản ánh {code}: trạm y tế mở cửa đủ giờ hành chính."

    sign_in(page, live_server, "yte1@example.org", PASSWORD)
    page.click("nav.mainnav a[href='/cases']")
    page.wait_for_url(f"{live_server.url}/cases")
    row = page.locator(f"#triage tr[data-submission='{sid}']")
    assert "Sở Y tế Hà Nội" in row.inner_text()
    row.locator("a").first.click()
    page.wait_for_url(f"**/submissions/{sid}#case")
    page.locator("#case #form-accept button").click()  # the panel came in through htmx
    page.wait_for_selector("#case-state[data-state='accepted']")

    page.select_option("#answer-template", label="Giờ làm việc trạm y tế (vi)")
    page.wait_for_function(
        "code => (document.querySelector('#answer-text') || {value: ''}).value.includes(code)",
        arg=code,
    )
    assert page.input_value("#answer-text") == expected
    page.locator("#form-answer button[type=submit]").click()
    page.wait_for_selector("#case-draft")
    assert page.locator("#case-state").get_attribute("data-state") == "accepted"  # not published yet
    assert page.locator("#form-approve").count() == 0  # the author cannot approve

    second = _officer(browser, live_server, "yte2@example.org")
    second.goto(f"{live_server.url}/cases")
    second.locator("#approvals tr[data-answer] a").first.click()
    second.wait_for_url(f"**/submissions/{sid}#case")
    assert second.locator("#case-draft .submission-text").inner_text() == expected
    second.locator("#form-approve button").click()
    second.wait_for_selector("#case-state[data-state='answered']")
    assert second.locator("#case-published .submission-text").inner_text() == expected
    second.context.close()

    citizen_context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    citizen = citizen_context.new_page()
    citizen.goto(f"{live_server.url}/track")
    citizen.fill("input[name=code]", code)
    citizen.locator("form button[type=submit]").last.click()
    citizen.wait_for_url(f"**/track/{code}")
    assert citizen.locator("#track-answer-text").inner_text() == expected
    assert "Sở Y tế Hà Nội" in citizen.locator("#track-answer").inner_text()
    citizen.click("#feedback-no")
    citizen.wait_for_selector("#feedback-given")
    assert citizen.locator("#track-status").get_attribute("data-status") == "in_progress"
    citizen_context.close()

    page.goto(f"{live_server.url}/submissions/{sid}")
    page.wait_for_selector("#case-state[data-state='in_progress']")
