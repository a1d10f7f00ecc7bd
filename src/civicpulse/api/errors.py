"""One handler for every error: JSON for the API, the Open311 shape under /open311, HTML for pages."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount, compile_path

from civicpulse.api.middleware import security_headers
from civicpulse.errors import CivicPulseError

log = logging.getLogger(__name__)

API_PREFIXES = ("/api/", "/healthz")
OPEN311_PREFIX = "/open311/"


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(API_PREFIXES) or path.startswith(OPEN311_PREFIX):
        return False
    return "text/html" in request.headers.get("accept", "")


def allowed_methods(request: Request) -> str:
    """Every method the routes at this path answer (a mount serves files: GET, HEAD), for the
    ``Allow`` header of a 405; Starlette names only the first matching route's."""
    path = request.url.path
    methods: set[str] = set()
    for context in iter_route_contexts(request.app.routes):
        if isinstance(context.original_route, Mount):
            if path.startswith(context.original_route.path + "/"):
                methods.update(("GET", "HEAD"))
        elif context.path_format and compile_path(context.path_format)[0].match(path):
            methods.update(context.methods or ())
    return ", ".join(sorted(methods))


def error_response(
    request: Request,
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render an error the way the caller's part of the app expects."""
    headers = dict(headers or {})
    if status == 405:
        headers["Allow"] = allowed_methods(request)
    if status == 429 and isinstance(details, dict) and "retry_after_seconds" in details:
        headers["Retry-After"] = str(details["retry_after_seconds"])
    if request.url.path.startswith(OPEN311_PREFIX):
        from civicpulse.api.routers.open311 import render_open311_error

        response = render_open311_error(request, status, message)
        response.headers.update(headers)
        return response
    if _wants_html(request):
        templates = getattr(request.app.state, "templates", None)
        if templates is not None:
            return templates.TemplateResponse(
                request,
                "error.html",
                {"status": status, "message": message},
                status_code=status,
                headers=headers,
            )
        return HTMLResponse(f"<h1>{status}</h1>", status_code=status, headers=headers)
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    fields = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        fields.append({"field": ".".join(loc), "message": error.get("msg", "invalid")})
    return fields


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; routes never build error responses by hand."""

    @app.exception_handler(CivicPulseError)
    async def _ours(request: Request, exc: CivicPulseError) -> Response:
        return error_response(request, exc.status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        fields = _field_errors(exc)
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        return error_response(
            request, 422, "validation_error", f"invalid input: {summary}", {"fields": fields}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return error_response(
            request, exc.status_code, f"http_{exc.status_code}", str(exc.detail), headers=exc.headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        response = error_response(request, 500, "internal_error", "internal error; it was logged")
        production = request.app.state.ctx.settings.env == "production"
        response.headers.update(
            security_headers(request.url.path, production=production)
        )  # sent outside the middleware
        return response
