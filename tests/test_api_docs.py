"""The API's documentation: /docs and /redoc on vendored assets only, and what the spec promises."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
import pytest

from tests.conftest import LiveServer

ASSET_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.urls.append(str(values[name]))
        if tag == "script" and not values.get("src"):
            self.inline_scripts += 1
        if any(name == "style" or name.startswith("on") for name in values):
            self.inline_scripts += 1


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_load_only_local_assets(live_server: LiveServer, page: str) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        response = client.get(page)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        links = _Links()
        links.feed(response.text)
        assert links.inline_scripts == 0
        assert links.urls and all(url.startswith("/api-static/") for url in links.urls), links.urls
        assert not re.search(r"https?://|//cdn", response.text)
        for url in links.urls:
            asset = client.get(url)
            assert asset.status_code == 200, url
            kind = next(v for k, v in ASSET_TYPES.items() if url.endswith(k))
            assert kind in asset.headers["content-type"], url
            assert len(asset.content) > 200, url


def test_fastapi_cdn_pages_are_not_served(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        assert client.get("/docs/oauth2-redirect").status_code == 404
        assert "swagger-ui-bundle.js" in client.get("/docs").text


def test_spec_documents_security_and_errors(live_server: LiveServer) -> None:
    spec = httpx.get(f"{live_server.url}/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerToken"] == {**schemes["bearerToken"], "type": "http", "scheme": "bearer"}
    assert (
        schemes["sessionCookie"]["in"] == "cookie"
        and schemes["sessionCookie"]["name"] == "civicpulse_session"
    )
    paths = spec["paths"]
    create = paths["/api/v1/submissions"]["post"]
    assert create["security"] == [{"bearerToken": []}]  # the API takes no cookie for writes
    assert paths["/api/v1/submissions"]["get"]["security"] == [{"bearerToken": []}, {"sessionCookie": []}]
    assert {"200", "201", "400", "401", "403", "413", "422"} <= set(create["responses"])
    assert create["responses"]["200"]["content"] == create["responses"]["201"]["content"]
    error = {"$ref": "#/components/schemas/ErrorBody"}
    assert create["responses"]["401"]["content"]["application/json"]["schema"] == error
    assert create["responses"]["422"]["content"]["application/json"]["schema"] == error
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert {"404", "422"} <= set(paths["/api/v1/submissions/{submission_id}"]["get"]["responses"])
    assert "security" not in paths["/healthz"]["get"] and "503" in paths["/healthz"]["get"]["responses"]


def test_spec_documents_open311_formats_limits_and_duplicates(live_server: LiveServer) -> None:
    paths = httpx.get(f"{live_server.url}/openapi.json").json()["paths"]
    post = paths["/open311/v2/requests.{fmt}"]["post"]
    assert {"200", "201", "400", "401", "403", "404", "413", "429"} <= set(post["responses"])
    form = post["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert {"api_key", "service_code", "description"} <= set(form["properties"])
    for path, operations in paths.items():
        if not path.startswith("/open311/"):
            continue
        for operation in operations.values():
            for status, answer in operation["responses"].items():
                assert set(answer["content"]) == {"application/json", "text/xml"}, (path, status)
                if status.startswith("4"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Open311Errors"}
            fmt = next(p for p in operation["parameters"] if p["name"] == "fmt")
            assert fmt["schema"]["enum"] == ["json", "xml"]
    limited = paths["/open311/v2/requests.{fmt}"]["get"]["responses"]["429"]
    assert "Retry-After" in limited["headers"]


def test_405_answers_name_the_allowed_methods_in_the_spec_sense(live_server: LiveServer) -> None:
    with live_server.client() as client:
        response = client.request("TRACE", "/open311/v2/services.json")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json() == [{"code": 405, "description": "Method Not Allowed"}]
