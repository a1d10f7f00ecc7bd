"""Signing in and out of the dashboard with a session cookie; every attempt is audited."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from civicpulse.api.deps import SESSION_USER_KEY, Ctx, OptionalUser, PublicRateLimit, client_address
from civicpulse.store.audit import record_audit
from civicpulse.store.users import authenticate
from civicpulse.web.csrf import CsrfProtected, rotate_csrf_token
from civicpulse.web.i18n import LANGUAGE_KEY, translator
from civicpulse.web.render import render

router = APIRouter(include_in_schema=False)

MAX_EMAIL = 254
MAX_PASSWORD = 1024


def safe_next(target: str | None) -> str:
    """A local path to go to after signing in; anything else (other sites, odd input) gives ``/``."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    if any(unicodedata.category(char) == "Cc" for char in target) or len(target) > 2000:
        return "/"
    return target


def _well_formed(email: str, password: str) -> bool:
    """Input that may go to the store at all (length, no control characters)."""
    if not email or len(email) > MAX_EMAIL or len(password) > MAX_PASSWORD:
        return False
    return not any(unicodedata.category(char) == "Cc" for char in email)


def _audit_actor(email: str) -> str:
    """The typed e-mail as an audit actor: printable and short."""
    printable = "".join(char for char in email if unicodedata.category(char) != "Cc")
    return (printable or "anonymous")[:MAX_EMAIL]


def _start_session(request: Request, user_id: int) -> None:
    """A fresh session for the user (no fixation), keeping the chosen UI language."""
    lang = request.session.get(LANGUAGE_KEY)
    request.session.clear()
    if lang:
        request.session[LANGUAGE_KEY] = lang
    request.session[SESSION_USER_KEY] = user_id
    rotate_csrf_token(request)


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    """The sign-in form (or straight on when already signed in)."""
    if user is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", {"next_path": safe_next(next), "email": "", "error": None})


@router.post("/login", dependencies=[PublicRateLimit, CsrfProtected])
def login(
    request: Request,
    ctx: Ctx,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password; the same message whether the e-mail is unknown or the password wrong."""
    email = email.strip()
    with ctx.db.write() as session:
        row = authenticate(session, email, password) if _well_formed(email, password) else None
        record_audit(
            session,
            actor=row.email if row else _audit_actor(email),
            action="login" if row else "login.failed",
            target=f"user:{row.id}" if row else None,
            client=client_address(request),
            status=303 if row else 401,
        )
        user_id = row.id if row else None
    request.state.audited = True
    if user_id is None:
        context = {"next_path": safe_next(next), "email": email, "error": translator(request)("login.failed")}
        return render(request, "login.html", context, status_code=401)
    _start_session(request, user_id)
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", dependencies=[CsrfProtected])
def logout(request: Request, user: OptionalUser) -> Response:
    """End the session (the audit middleware records the call with the user's e-mail)."""
    lang = request.session.get(LANGUAGE_KEY)
    request.session.clear()
    if lang:
        request.session[LANGUAGE_KEY] = lang
    return RedirectResponse("/login", status_code=303)
