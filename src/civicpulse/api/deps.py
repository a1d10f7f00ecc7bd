"""What routes need, as typed aliases: the context, a session, the current user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from civicpulse.api.context import AppContext
from civicpulse.api.ratelimit import Budget
from civicpulse.domain import Role
from civicpulse.errors import Forbidden, Unauthorized
from civicpulse.identity import ANALYST_ROLES, Principal
from civicpulse.store.sessions import live_session, needs_touch, session_hash, touch_session
from civicpulse.store.users import principal_of, token_hash, user_for_token

SESSION_USER_KEY = "sid"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
API_PREFIX = "/api/"


async def get_context(request: Request) -> AppContext:
    """The app's context."""
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_context)]


def get_read_session(ctx: Ctx) -> Iterator[Session]:
    """A read-only session for the request."""
    with ctx.db.read() as session:
        yield session


ReadSession = Annotated[Session, Depends(get_read_session)]


def client_address(request: Request) -> str:
    """The caller's address, for rate limits and the audit log: the direct peer, or the address a
    trusted proxy forwarded (``ForwardedClientMiddleware`` resolved it for every reader)."""
    return request.client.host if request.client else "unknown"


async def token_principal(ctx: AppContext, token: str) -> Principal | None:
    """The user of a bearer token, cached for ``token_cache_seconds``; ``None`` when not valid."""
    key = ("token", token_hash(token))
    principal = ctx.principals.get(key)
    if principal is None:
        principal = await run_in_threadpool(_principal_for_token, ctx, token)
        if principal is not None:
            ctx.principals[key] = principal
    return principal


async def session_principal(ctx: AppContext, session_id: str) -> Principal | None:
    """The user of a live dashboard session, cached for ``token_cache_seconds``; else ``None``."""
    key = ("session", session_hash(session_id))
    principal = ctx.principals.get(key)
    if principal is None:
        principal = await run_in_threadpool(_principal_for_session, ctx, session_id)
        if principal is not None:
            ctx.principals[key] = principal
    return principal


def forget_session(ctx: AppContext, session_id: str) -> None:
    """Drop a session from this process's cache (at logout), so it ends at once."""
    ctx.principals.pop(("session", session_hash(session_id)), None)


async def optional_user(request: Request, ctx: Ctx) -> Principal | None:
    """The user of a bearer token or of the session cookie, if any; a write with a token counts
    against that token's rate limit."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        principal = await token_principal(ctx, token)
        if principal is None:
            raise Unauthorized("the bearer token is not valid")
        if request.method not in SAFE_METHODS:
            ctx.limits.check(Budget.keyed, token_hash(token))
    else:
        session_id = request.session.get(SESSION_USER_KEY) if "session" in request.scope else None
        if not isinstance(session_id, str) or _cookie_write_to_api(request):
            return None  # the JSON API has no CSRF check: writes need a bearer token
        principal = await session_principal(ctx, session_id)
        if principal is None:
            request.session.pop(SESSION_USER_KEY, None)
            return None
    request.state.actor = principal.email
    request.state.role = principal.role
    return principal


def _principal_for_token(ctx: AppContext, token: str) -> Principal | None:
    with ctx.db.read() as session:
        row = user_for_token(session, token)
        return None if row is None else principal_of(row)


def _principal_for_session(ctx: AppContext, session_id: str) -> Principal | None:
    with ctx.db.read() as session:
        found = live_session(session, session_id)
        if found is None:
            return None
        row, user = found
        principal, stale, row_id = principal_of(user), needs_touch(row), row.id
    if stale:
        with ctx.db.write() as session:
            touch_session(session, row_id)
    return principal


def _cookie_write_to_api(request: Request) -> bool:
    return request.method not in SAFE_METHODS and request.url.path.startswith(API_PREFIX)


async def current_user(user: Annotated[Principal | None, Depends(optional_user)]) -> Principal:
    """The signed-in user; 401 without one."""
    if user is None:
        raise Unauthorized("sign in or send a bearer token")
    return user


CurrentUser = Annotated[Principal, Depends(current_user)]
OptionalUser = Annotated[Principal | None, Depends(optional_user)]


def require_roles(*roles: Role) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only users with one of ``roles``."""

    async def check(user: CurrentUser) -> Principal:
        if user.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs one of the roles: {allowed}")
        return user

    return check


Writer = Annotated[Principal, Depends(require_roles(Role.admin, Role.analyst, Role.agency_officer))]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
Analyst = Annotated[Principal, Depends(require_roles(*ANALYST_ROLES))]
# Aggregates over time (trends, warnings, forecasts): the roles that read analytics, not officers
AggregateReader = Annotated[Principal, Depends(require_roles(Role.admin, Role.analyst, Role.viewer))]


async def open311_rate_limit(request: Request, ctx: Ctx) -> None:
    """Count an Open311 call without a key against the caller's address."""
    ctx.limits.check(Budget.open311, client_address(request))


async def limit_open311_post(request: Request, ctx: AppContext, api_key: str | None) -> None:
    """Count an Open311 post: against its api_key when that is a valid token, else the address."""
    token = (api_key or "").strip()
    if token and await token_principal(ctx, token) is not None:
        ctx.limits.check(Budget.keyed, token_hash(token))
    else:
        ctx.limits.check(Budget.open311, client_address(request))


Open311RateLimit = Depends(open311_rate_limit)
