"""ASGI middleware: security headers on every answer, a cap on request bodies, and the audit of
every mutating call."""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicpulse.store.audit import record_audit
from civicpulse.store.db import Database

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
STATIC_PREFIXES = ("/static/", "/api-static/")  # vendored, public assets: the browser may cache them
HSTS = "max-age=31536000; includeSubDomains"
_COMMON = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
)


def security_headers(path: str, *, production: bool) -> dict[str, str]:
    """The security headers of an answer at ``path``: pages and API answers may show personal data,
    so only the vendored static assets may be cached; HSTS only in production (behind HTTPS)."""
    headers = dict(_COMMON)
    if not path.startswith(STATIC_PREFIXES):
        headers["cache-control"] = "no-store"
    if production:
        headers["strict-transport-security"] = HSTS
    return headers


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]


class SecurityHeadersMiddleware:
    """Adds ``security_headers`` to every HTTP answer; a header the app set itself is kept."""

    def __init__(self, app: ASGIApp, *, production: bool) -> None:
        self.app = app
        self.page_headers = _encoded(security_headers("/", production=production))
        self.static_headers = _encoded(security_headers(STATIC_PREFIXES[0], production=production))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self.static_headers if scope["path"].startswith(STATIC_PREFIXES) else self.page_headers

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in extra if item[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


class BodyLimitMiddleware:
    """Answers 413 to bodies over ``max_bytes``, declared or streamed, before the app reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._reject(scope, send)
            return
        received = 0
        started = False
        rejected = False

        async def limited_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    rejected = True
                    if not started:
                        await self._reject(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return  # the 413 went out already; the app's own answer is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _reject(self, scope: Scope, send: Send) -> None:
        message = f"request body is larger than {self.max_bytes} bytes"
        if scope["path"].startswith("/open311/"):  # the GeoReport v2 error shape
            body = json.dumps([{"code": 413, "description": message}]).encode()
        else:
            body = json.dumps({"error": {"code": "payload_too_large", "message": message}}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class AuditMiddleware:
    """Writes an audit event for every mutating call that the route did not audit itself."""

    def __init__(self, app: ASGIApp, db: Database) -> None:
        self.app = app
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING:
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            state: dict[str, Any] = scope.get("state", {})
            if not state.get("audited"):
                await anyio.to_thread.run_sync(self._record, scope, state, status)

    def _record(self, scope: Scope, state: dict[str, Any], status: int) -> None:
        client = scope.get("client")
        with self.db.write() as session:
            record_audit(
                session,
                actor=state.get("actor", "anonymous"),
                action=f"{scope['method']} {scope['path']}"[:100],
                target=scope["path"][:300],
                client=client[0] if client else None,
                status=status,
            )
