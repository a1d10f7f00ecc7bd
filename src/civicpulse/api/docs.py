"""The API's documentation pages, ``/docs`` (Swagger UI) and ``/redoc``, on vendored assets only.

FastAPI's own pages load their scripts from a CDN and start them with an inline script; these load
``api/static/`` (see its LICENSES.md) and start them from a static file, so they work offline and
under the Content-Security-Policy of ``api.middleware``."""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from civicpulse.api.middleware import CONTENT_SECURITY_POLICY

ASSETS_DIR = Path(__file__).parent / "static"
ASSETS_URL = "/api-static"
# ReDoc styles itself with styled-components, which writes <style> elements at run time, and runs its
# search in a worker made from a blob of its own code. The page shows only the public API description,
# so it alone may apply inline styles and start blob workers (never inline scripts). Its sidebar's
# hard-coded logo from cdn.redoc.ly stays blocked: the image hides itself when it cannot load.
REDOC_POLICY = (
    CONTENT_SECURITY_POLICY.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
    + "; worker-src 'self' blob:"
)

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} · API</title>
  <link rel="icon" type="image/png" href="{assets}/swagger-ui/favicon-32x32.png">
  <link rel="stylesheet" href="{assets}/swagger-ui/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec_url}"></div>
  <script src="{assets}/swagger-ui/swagger-ui-bundle.js"></script>
  <script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""

REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} · API</title>
  <link rel="icon" type="image/png" href="{assets}/swagger-ui/favicon-32x32.png">
</head>
<body>
  <div id="redoc" data-spec-url="{spec_url}"></div>
  <script src="{assets}/redoc/redoc.standalone.js"></script>
  <script src="{assets}/redoc-init.js"></script>
</body>
</html>
"""


def _page(template: str, request: Request, headers: dict[str, str] | None = None) -> HTMLResponse:
    root = request.scope.get("root_path", "")
    app: FastAPI = request.app
    return HTMLResponse(
        template.format(
            title=escape(app.title),
            assets=escape(root + ASSETS_URL),
            spec_url=escape(root + (app.openapi_url or "")),
        ),
        headers=headers,
    )


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs``, ``/redoc`` and their assets under ``ASSETS_URL``; create the app with
    ``docs_url=None, redoc_url=None`` so that FastAPI's CDN pages are not served."""
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="api-static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        return _page(SWAGGER_PAGE, request)

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        return _page(REDOC_PAGE, request, {"Content-Security-Policy": REDOC_POLICY})
