"""Rate limits of the citizen's pages and the sign-in form, refused in the page's language."""

from __future__ import annotations

from fastapi import Depends, Request

from civicpulse.api.deps import Ctx, client_address
from civicpulse.api.ratelimit import Budget
from civicpulse.errors import TooManyRequests
from civicpulse.web.i18n import translator


async def citizen_rate_limit(request: Request, ctx: Ctx) -> None:
    """Count a hit of the citizen form or tracking page against the caller's address."""
    wait = ctx.limits.hit(Budget.public, client_address(request))
    if wait is not None:
        message = translator(request)("error.rate_limited", seconds=wait)
        raise TooManyRequests(message, details={"retry_after_seconds": wait})


CitizenRateLimit = Depends(citizen_rate_limit)
