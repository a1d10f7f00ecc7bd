"""CSRF protection for HTML forms: one random token per session, sent back in a hidden field."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, Form, Request

from civicpulse.errors import Forbidden
from civicpulse.web.i18n import translator

CSRF_SESSION_KEY = "csrf"
CSRF_FIELD = "csrf_token"


def session_csrf_token(request: Request) -> str:
    """This session's token, created on first use."""
    if "session" not in request.scope:
        return ""
    token = request.session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session[CSRF_SESSION_KEY] = token
    return token


def rotate_csrf_token(request: Request) -> str:
    """A fresh token (after signing in or out), so an old page's token stops working."""
    token = secrets.token_urlsafe(32)
    request.session[CSRF_SESSION_KEY] = token
    return token


def verify_csrf(request: Request, csrf_token: Annotated[str, Form()] = "") -> None:
    """Refuse a form whose hidden token does not match the session's (403 with a clear page)."""
    expected = request.session.get(CSRF_SESSION_KEY) if "session" in request.scope else None
    if not isinstance(expected, str) or not expected or not csrf_token:
        raise Forbidden(translator(request)("error.csrf"))
    if not hmac.compare_digest(expected.encode(), csrf_token.encode()):
        raise Forbidden(translator(request)("error.csrf"))


CsrfProtected = Depends(verify_csrf)
