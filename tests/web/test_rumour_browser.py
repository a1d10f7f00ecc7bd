"""A sourced response in a real browser: an analyst drafts it from the rumour panel, edits it, a
second analyst approves and publishes it, and the citizen's tracking page shows it verbatim under
the office's name; before publication the tracking page shows nothing."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Browser, Page

from civicpulse.domain import Role
from tests.conftest import LiveServer
from tests.web.conftest import SQLITE_ONLY, sign_in

pytestmark = SQLITE_ONLY

PASSWORD = "password-123"
CLAIMS = Path(__file__).resolve().parents[2] / "examples" / "official" / "claims.jsonld"
ADDED = "Xin bà con yên tâm sử dụng xe."


def _prepare(server: LiveServer) -> tuple[int, str, dict]:
    server.user_token("bientap@example.org", Role.analyst)
    server.user_token("duyet@example.org", Role.analyst)
    claim = json.loads(CLAIMS.read_text(encoding="utf-8"))[0]
    with server.client() as client:
        created = client.post("/api/v1/claims", json=claim)
        assert created.status_code == 201, created.text
        submitted = client.post(
            "/api/v1/submissions",
            json={"text": "Nghe nói xe máy trên 10 năm sắp bị cấm chạy trong nội thành?"},
        )
        assert submitted.status_code == 201, submitted.text
    return submitted.json()["id"], submitted.json()["tracking_code"], created.json()


def _analyst(browser: Browser, server: LiveServer, email: str) -> Page:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    sign_in(page, server, email, PASSWORD)
    return page


def test_an_official_approves_a_response_and_it_appears_on_the_tracking_page(
    browser: Browser, page: Page, live_server: LiveServer
) -> None:
    submission_id, code, claim = _prepare(live_server)
    with live_server.client() as admin:  # the draft for this submission, as the panel's form makes it
        drafted = admin.post(
            "/api/v1/responses", json={"claim_id": claim["id"], "submission_id": submission_id}
        )
        assert drafted.status_code == 201, drafted.text
        admin.post(f"/api/v1/responses/{drafted.json()['id']}/return", json={"reason": "Thêm lời trấn an."})
    rid = drafted.json()["id"]

    author = _analyst(browser, live_server, "bientap@example.org")
    author.goto(f"{live_server.url}/rumours")
    box = author.locator(f"#response-text-{rid}")
    box.fill(box.input_value() + "\n" + ADDED)
    author.click(f"#response-{rid} button[value=edit]")
    author.wait_for_selector(f"#response-{rid}[data-status='draft']")
    assert author.locator(f"#approve-{rid}").count() == 0  # nobody approves their own draft
    author.context.close()

    citizen = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    citizen.goto(f"{live_server.url}/track/{code}")
    assert citizen.locator(f"#track-response-{rid}").count() == 0

    reviewer = _analyst(browser, live_server, "duyet@example.org")
    reviewer.goto(f"{live_server.url}/rumours")
    reviewer.click(f"#approve-{rid}")
    reviewer.wait_for_selector(f"#response-{rid}[data-status='approved']")
    citizen.reload()
    assert citizen.locator(f"#track-response-{rid}").count() == 0  # approved, not yet published
    reviewer.click(f"#publish-{rid}")
    reviewer.wait_for_selector(f"#response-{rid}[data-status='published']")
    reviewer.context.close()

    citizen.reload()
    shown = citizen.locator(f"#track-response-{rid}")
    text = shown.inner_text()
    assert ADDED in text and claim["claim_reviewed"] in text
    assert live_server.settings.office_name in text
    assert "bientap@example.org" not in text and "duyet@example.org" not in text
    citizen.context.close()
