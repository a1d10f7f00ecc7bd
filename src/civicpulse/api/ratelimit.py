"""Per-client rate limits for public endpoints, with the ``limits`` library."""

from __future__ import annotations

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from civicpulse.errors import TooManyRequests


class RateLimiter:
    """A moving-window limit such as ``20/minute``, per client and scope."""

    def __init__(self, limit: str) -> None:
        self.limit = parse(limit)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def check(self, scope: str, client: str) -> None:
        """Count one hit; raise ``TooManyRequests`` when the client is over the limit."""
        if not self._limiter.hit(self.limit, scope, client):
            raise TooManyRequests(
                f"too many requests; the limit is {self.limit}. Please try again shortly.",
                details={"retry_after_seconds": self.limit.get_expiry()},
            )
