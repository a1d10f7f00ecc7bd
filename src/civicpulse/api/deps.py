"""What routes need, as typed aliases: the context, a session, the current user."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from civicpulse.api.context import AppContext
from civicpulse.domain import Role
from civicpulse.errors import Forbidden, Unauthorized
from civicpulse.identity import ANALYST_ROLES, Principal
from civicpulse.store.tables import UserRow
from civicpulse.store.users import principal_of, user_for_token

SESSION_USER_KEY = "user_id"
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
    """The caller's address, for rate limits and the audit log."""
    return request.client.host if request.client else "unknown"


async def optional_user(request: Request, ctx: Ctx) -> Principal | None:
    """The user of a bearer token or of the session cookie, if any (cached for a few seconds)."""
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("use 'Authorization: Bearer <token>'")
        key = ("token", token.strip())
        principal = ctx.principals.get(key)
        if principal is None:
            principal = await run_in_threadpool(_principal_for_token, ctx, token.strip())
            if principal is None:
                raise Unauthorized("the bearer token is not valid")
            ctx.principals[key] = principal
    else:
        user_id = request.session.get(SESSION_USER_KEY) if "session" in request.scope else None
        if _cookie_write_to_api(request):
            user_id = None  # the JSON API has no CSRF check: writes need a bearer token
        if user_id is None:
            return None
        principal = ctx.principals.get(("user", user_id))
        if principal is None:
            principal = await run_in_threadpool(_principal_for_user, ctx, user_id)
            if principal is None:
                return None
            ctx.principals[("user", user_id)] = principal
    request.state.actor = principal.email
    return principal


def _principal_for_token(ctx: AppContext, token: str) -> Principal | None:
    with ctx.db.read() as session:
        row = user_for_token(session, token)
        return None if row is None else principal_of(row)


def _principal_for_user(ctx: AppContext, user_id: int) -> Principal | None:
    with ctx.db.read() as session:
        row = session.get(UserRow, user_id)
        return None if row is None or not row.active else principal_of(row)


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


async def public_rate_limit(request: Request, ctx: Ctx) -> None:
    """Count a hit against the public-endpoint limit of this client."""
    ctx.limiter.check("public", client_address(request))


PublicRateLimit = Depends(public_rate_limit)
