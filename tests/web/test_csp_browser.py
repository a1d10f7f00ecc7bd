"""The Content-Security-Policy in a real browser: the dashboard, htmx and the API docs work under it
and the browser reports no violation."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin

import pytest
from playwright.sync_api import ConsoleMessage, Page

from tests.conftest import LiveServer
from tests.web.conftest import SQLITE_ONLY, sign_in

pytestmark = SQLITE_ONLY


@pytest.fixture
def violations(page: Page) -> Iterator[list[str]]:
    """Console messages of the page that report a blocked script, style or other resource."""
    seen: list[str] = []

    def record(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            seen.append(text)

    page.on("console", record)
    yield seen


def test_dashboard_and_htmx_work_under_the_policy(
    page: Page, live_server: LiveServer, violations: list[str]
) -> None:
    items = [{"text": f"Phản ánh số {i}: ngập nước ở ngõ {i}", "channel": "email"} for i in range(3)]
    with live_server.client() as client:
        created = client.post("/api/v1/submissions", json=items)
    assert created.status_code == 201, created.text
    sign_in(page, live_server)
    assert page.locator("#inbox-rows tr").count() == 3
    with page.expect_response(lambda r: "q=" in r.url and r.request.headers.get("hx-request") == "true"):
        page.fill("#f-q", "ngõ 1")  # htmx sends the filter: its script runs under the policy
    page.wait_for_function("() => document.querySelectorAll('#inbox-rows tr').length === 1")
    page.goto(f"{live_server.url}/submissions/{created.json()[0]['id']}")
    page.goto(f"{live_server.url}/themes")
    for path in ("/submit", "/track"):
        page.goto(f"{live_server.url}{path}")
    assert page.evaluate("typeof htmx") == "object"
    assert violations == []


def test_swagger_ui_renders_the_operations_offline(
    page: Page, live_server: LiveServer, violations: list[str]
) -> None:
    outside: list[str] = []
    page.route(
        lambda url: not url.startswith(live_server.url),
        lambda route: (outside.append(route.request.url), route.abort()),
    )
    page.goto(f"{live_server.url}/docs")
    page.wait_for_selector(".opblock", timeout=30_000)
    summaries = page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/submissions" in summaries and "/open311/v2/requests.{fmt}" in summaries
    assert page.locator(".auth-wrapper .authorize").count() == 1  # the security schemes
    assert outside == [] and violations == []


def test_redoc_renders_the_operations_offline(
    page: Page, live_server: LiveServer, violations: list[str]
) -> None:
    outside: list[str] = []
    page.route(
        lambda url: not url.startswith(live_server.url),
        lambda route: (outside.append(route.request.url), route.abort()),
    )
    page.goto(f"{live_server.url}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=30_000)  # a large script
    assert page.locator("[data-section-id^='operation/']").count() >= 10
    page.fill("input[placeholder='Search...']", "submissions")
    page.wait_for_selector("[data-role='search:results'] li")  # the search worker runs
    assert outside == []
    assert all("https://cdn.redoc.ly/redoc/logo-mini.svg" in text for text in violations), violations


def test_pages_ask_for_no_resource_the_server_lacks(page: Page, live_server: LiveServer) -> None:
    """The tab's icon is declared and served, so no browser asks for a /favicon.ico that is a 404."""
    missing: list[str] = []
    page.on("response", lambda response: missing.append(response.url) if response.status == 404 else None)
    page.goto(f"{live_server.url}/login")
    sign_in(page, live_server)
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon is not None
    served = page.request.get(urljoin(page.url, icon))
    assert served.status == 200 and served.headers["content-type"].startswith("image/svg+xml")
    page.wait_for_timeout(500)  # the browser fetches the icon after the page
    assert missing == []
