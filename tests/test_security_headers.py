"""Security headers on every answer of the running service: pages, API, Open311, static files, errors."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from civicpulse.api.docs import REDOC_POLICY
from civicpulse.api.middleware import CONTENT_SECURITY_POLICY
from civicpulse.service import create_app
from tests.conftest import LiveServer, make_settings
from tests.server import serving

TEMPLATES = Path(__file__).parents[1] / "src" / "civicpulse" / "web" / "templates"
COMMON = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_secured(response: httpx.Response, *, cached: bool = False, hsts: bool = False) -> None:
    """The common headers; ``no-store`` unless ``cached``; HSTS only when ``hsts``."""
    for name, value in COMMON.items():
        assert response.headers.get(name) == value, (response.request.url, name)
    assert (response.headers.get("cache-control") == "no-store") is not cached, response.request.url
    assert ("strict-transport-security" in response.headers) is hsts, response.request.url


def test_pages_api_and_open311_answers_carry_the_headers(live_server: LiveServer) -> None:
    with live_server.client() as api:
        created = api.post("/api/v1/submissions", json={"text": "Đèn đường hỏng ở ngõ 12", "channel": "api"})
        assert created.status_code == 201, created.text
        assert_secured(created)
        answers = [
            api.get("/api/v1/submissions"),
            api.get(f"/api/v1/submissions/{created.json()['id']}"),
            api.get("/healthz"),
            api.get("/openapi.json"),
            api.get("/docs"),
            api.get("/open311/v2/services.json"),
            api.get("/open311/v2/requests.xml"),
        ]
    with httpx.Client(base_url=live_server.url, headers={"Accept": "text/html"}) as browser:
        answers += [browser.get("/submit"), browser.get("/login"), browser.get("/track")]
    for response in answers:
        assert response.status_code == 200, (response.request.url, response.text)
        assert_secured(response)


def test_redoc_alone_may_use_inline_styles_but_never_inline_scripts(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/redoc")
    policy = response.headers["content-security-policy"]
    assert policy == REDOC_POLICY
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy and response.headers["cache-control"] == "no-store"


def test_error_answers_carry_the_headers(live_server: LiveServer) -> None:
    big = b"x" * (live_server.settings.max_body_bytes + 1)
    with live_server.client() as api:
        errors = {
            401: live_server.client(token="").get("/api/v1/submissions"),
            404: api.get("/api/v1/submissions/999999"),
            405: api.request("TRACE", "/api/v1/submissions"),
            413: api.post("/api/v1/submissions", content=big, headers={"content-type": "application/json"}),
            422: api.get("/api/v1/submissions", params={"limit": "0"}),
        }
        errors[404 + 1000] = api.get("/open311/v2/requests/999999.json")
        errors[413 + 1000] = api.post("/open311/v2/requests.json", content=big)
    with httpx.Client(base_url=live_server.url, headers={"Accept": "text/html"}) as browser:
        errors[404 + 2000] = browser.get("/no-such-page")
    for expected, response in errors.items():
        assert response.status_code == expected % 1000, (expected, response.text)
        assert_secured(response)


def test_static_assets_may_be_cached_but_keep_the_other_headers(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        for path in (
            "/static/htmx.min.js",
            "/static/civicpulse.css",
            "/api-static/swagger-ui/swagger-ui.css",
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            assert_secured(response, cached=True)


def test_hsts_only_in_production(db_url: str) -> None:
    production = make_settings(db_url, env="production")
    with serving(production) as url:
        page = httpx.get(f"{url}/submit", headers={"Accept": "text/html"})
        asset = httpx.get(f"{url}/static/civicpulse.css")
    assert_secured(page, hsts=True)
    assert_secured(asset, cached=True, hsts=True)
    assert page.headers["strict-transport-security"].startswith("max-age=31536000")


def test_an_unexpected_error_still_carries_the_headers(tmp_path: Path) -> None:
    app: FastAPI = create_app(make_settings(f"sqlite:///{tmp_path / 'x.db'}"), run_workers=False)
    marker = f"/boom-{uuid.uuid4().hex}"

    @app.get(marker)
    def boom() -> None:
        raise RuntimeError("a bug")

    response = TestClient(app, raise_server_exceptions=False).get(marker)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert_secured(response)


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("TRACE", "/api/v1/submissions", {"GET", "POST"}),  # two routes share the path
        ("DELETE", "/open311/v2/requests.json", {"GET", "POST"}),
        ("PUT", "/healthz", {"GET"}),
        ("POST", "/static/civicpulse.css", {"GET", "HEAD"}),
    ],
)
def test_405_names_every_allowed_method(
    live_server: LiveServer, method: str, path: str, allowed: set[str]
) -> None:
    with live_server.client() as client:
        response = client.request(method, path)
    assert response.status_code == 405, response.text
    assert set(response.headers["allow"].split(", ")) == allowed
    assert_secured(response, cached=path.startswith("/static/"))


def test_templates_have_no_inline_script_handler_or_style() -> None:
    """The Content-Security-Policy allows neither: a template that adds one breaks the page."""
    offending = []
    for template in TEMPLATES.glob("*.html"):
        if template.name == "themes_report.html":  # a file written by the CLI, not a served page
            continue
        text = template.read_text(encoding="utf-8")
        for needle in (
            "<script>",
            "<script >",
            " style=",
            "<style",
            "javascript:",
            " onclick=",
            " onload=",
            " onchange=",
        ):
            if needle in text:
                offending.append((template.name, needle))
        for chunk in text.split("<script")[1:]:
            opening = chunk.split(">", 1)[0]  # a JSON data block is not run, so the CSP allows it
            if "src=" not in opening and 'type="application/json"' not in opening:
                offending.append((template.name, "<script> without src"))
    assert offending == []
