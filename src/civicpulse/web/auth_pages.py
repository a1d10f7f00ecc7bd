"""Signing in and out of the dashboard: a server-side session whose random id the cookie carries.

Every attempt is audited; attempts are limited per typed account and per address; signing out
revokes the session in the store."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from civicpulse.api.context import AppContext
from civicpulse.api.deps import SESSION_USER_KEY, Ctx, OptionalUser, client_address, forget_session
from civicpulse.api.ratelimit import Budget
from civicpulse.identity import Principal
from civicpulse.store.audit import record_audit
from civicpulse.store.sessions import revoke_session, start_session
from civicpulse.store.users import authenticate, email_key
from civicpulse.web.csrf import CsrfProtected, rotate_csrf_token
from civicpulse.web.i18n import LANGUAGE_KEY, translator
from civicpulse.web.overview_pages import READERS
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


def landing(target: str | None, role: str) -> str:
    """Where sign-in leads: ``next`` when one is given, else the overview for leaders (the roles
    that may open it) and the inbox for everyone else."""
    if target:
        return safe_next(target)
    return "/overview" if role in READERS else "/"


def _well_formed(email: str, password: str) -> bool:
    """Input that may go to the store at all (length, no control characters)."""
    if not email or len(email) > MAX_EMAIL or len(password) > MAX_PASSWORD:
        return False
    return not any(unicodedata.category(char) == "Cc" for char in email)


def _audit_actor(email: str) -> str:
    """The typed e-mail as an audit actor: printable and short."""
    printable = "".join(char for char in email if unicodedata.category(char) != "Cc")
    return (printable or "anonymous")[:MAX_EMAIL]


def _start_session(request: Request, session_id: str) -> None:
    """A fresh cookie for the new session (no fixation), keeping the chosen UI language."""
    _clear_session(request)
    request.session[SESSION_USER_KEY] = session_id
    rotate_csrf_token(request)


def _clear_session(request: Request) -> None:
    lang = request.session.get(LANGUAGE_KEY)
    request.session.clear()
    if lang:
        request.session[LANGUAGE_KEY] = lang


def _login_wait(ctx: AppContext, request: Request, email: str) -> int | None:
    """Count the attempt against the address, then the account; the seconds to wait when over."""
    wait = ctx.limits.hit(Budget.login_address, client_address(request))
    if wait is None:
        wait = ctx.limits.hit(Budget.login_account, email_key(email)[:MAX_EMAIL])
    return wait


def _end_previous_session(session: Session, request: Request, actor: str, client: str) -> None:
    """Revoke the session this browser held before signing in again (audited)."""
    previous = request.session.get(SESSION_USER_KEY)
    ended = revoke_session(session, previous) if isinstance(previous, str) else None
    if ended is not None:
        record_audit(
            session, actor=actor, action="session.replaced", target=f"user:{ended.user_id}", client=client
        )


def _login_page(request: Request, next_path: str | None, email: str, error: str, status: int) -> Response:
    context = {"next_path": safe_next(next_path) if next_path else "", "email": email, "error": error}
    return render(request, "login.html", context, status_code=status)


@router.get("/login")
def login_form(request: Request, user: OptionalUser, next: str | None = None) -> Response:
    """The sign-in form (or straight on when already signed in)."""
    if user is not None:
        return RedirectResponse(landing(next, user.role), status_code=303)
    return render(
        request, "login.html", {"next_path": safe_next(next) if next else "", "email": "", "error": None}
    )


@router.post("/login", dependencies=[CsrfProtected])
def login(
    request: Request,
    ctx: Ctx,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the password; the same message whether the e-mail is unknown or the password wrong."""
    email = email.strip()
    client = client_address(request)
    wait = _login_wait(ctx, request, email)
    with ctx.db.write() as session:
        row = None
        if wait is None and _well_formed(email, password):
            row = authenticate(session, email, password)
        action = "login.limited" if wait is not None else "login" if row else "login.failed"
        status = 429 if wait is not None else 303 if row else 401
        record_audit(
            session,
            actor=row.email if row else _audit_actor(email),
            action=action,
            target=f"user:{row.id}" if row else None,
            client=client,
            status=status,
        )
        session_id, role = None, ""
        if row is not None:
            role = row.role
            _end_previous_session(session, request, row.email, client)
            session_id = start_session(session, row, timedelta(hours=ctx.settings.session_hours))
    request.state.audited = True
    t = translator(request)
    if wait is not None:
        response = _login_page(request, next, email, t("login.too_many", seconds=wait), 429)
        response.headers["Retry-After"] = str(wait)
        return response
    if session_id is None:
        return _login_page(request, next, email, t("login.failed"), 401)
    _start_session(request, session_id)
    return RedirectResponse(landing(next, role), status_code=303)


@router.post("/logout", dependencies=[CsrfProtected])
async def logout(request: Request, ctx: Ctx, user: OptionalUser) -> Response:
    """Revoke the session in the store (audited) and clear the cookie."""
    session_id = request.session.get(SESSION_USER_KEY)
    if user is not None and isinstance(session_id, str):
        forget_session(ctx, session_id)
        await run_in_threadpool(_revoke, ctx, session_id, user, client_address(request))
        request.state.audited = True
    _clear_session(request)
    return RedirectResponse("/login", status_code=303)


def _revoke(ctx: AppContext, session_id: str, user: Principal, client: str) -> None:
    with ctx.db.write() as session:
        revoke_session(session, session_id)
        record_audit(
            session, actor=user.email, action="logout", target=f"user:{user.id}", client=client, status=303
        )
