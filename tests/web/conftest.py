"""Browser fixtures: Debian's chromium driven by Playwright, one browser per run, one context per test."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import LiveServer
from tests.server import CHROMIUM, CHROMIUM_ARGS

ADMIN_EMAIL = "admin@example.org"
ADMIN_PASSWORD = "admin-password"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')

# Browser tests run on SQLite only (the pages do not depend on the engine); the HTTP tests of
# tests/web/test_pages_http.py keep both engines.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless chromium for the whole run."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile (cookies, storage) for one test, in Vietnamese."""
    ctx = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    """A tab of the test's browser profile."""
    return context.new_page()


def sign_in(page: Page, server: LiveServer, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    """Sign in through the login form and wait for the inbox."""
    page.goto(f"{server.url}/login?next=/")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{server.url}/")


def form_token(client: httpx.Client, path: str) -> str:
    """Load a form page and return its CSRF token (the session cookie stays in ``client``)."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    match = CSRF_FIELD.search(response.text)
    assert match, "the form has no CSRF field"
    return match.group(1)


def html_client(server: LiveServer, lang: str | None = None) -> httpx.Client:
    """A cookie-keeping client that asks for HTML like a browser, without a bearer token."""
    headers = {"Accept": "text/html"}
    if lang:
        headers["Accept-Language"] = lang
    return httpx.Client(base_url=server.url, headers=headers, timeout=30, follow_redirects=True)


def http_sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    """Sign in through the form with plain HTTP."""
    token = form_token(client, "/login")
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})
