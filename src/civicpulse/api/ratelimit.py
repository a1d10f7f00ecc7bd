"""Rate limits by purpose, each budget with its own counters, on the ``limits`` library.

Counters live in this process's memory (one ``civicpulse serve`` process); a moving window gives an
exact ``Retry-After``."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from enum import StrEnum

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from civicpulse.errors import TooManyRequests
from civicpulse.settings import Settings


class Budget(StrEnum):
    """What a budget is for; the key it is counted by is given with each hit."""

    login_account = "login.account"
    login_address = "login.address"
    public = "public"
    open311 = "open311"
    keyed = "keyed"


class RateLimits:
    """One moving-window budget per purpose (``20/minute``, ``5/minute;30/hour`` ...)."""

    def __init__(self, budgets: Mapping[Budget, str]) -> None:
        self._items: dict[Budget, list[RateLimitItem]] = {
            budget: parse_many(spec) for budget, spec in budgets.items()
        }
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits:
        """The budgets configured in ``settings``."""
        return cls(
            {
                Budget.login_account: settings.login_rate_limit_account,
                Budget.login_address: settings.login_rate_limit_address,
                Budget.public: settings.public_rate_limit,
                Budget.open311: settings.open311_rate_limit,
                Budget.keyed: settings.keyed_rate_limit,
            }
        )

    def hit(self, budget: Budget, key: str) -> int | None:
        """Count one hit of ``key``; ``None`` within budget, else the seconds until it may try again."""
        over = [item for item in self._items[budget] if not self._limiter.hit(item, budget.value, key)]
        if not over:
            return None
        now = time.time()
        resets = (self._limiter.get_window_stats(item, budget.value, key).reset_time for item in over)
        return max(1, math.ceil(max(resets) - now))

    def check(self, budget: Budget, key: str, message: str | None = None) -> None:
        """Count one hit; over budget, raise ``TooManyRequests`` (429 with ``Retry-After``)."""
        wait = self.hit(budget, key)
        if wait is not None:
            raise TooManyRequests(
                message or f"too many requests; please try again in {wait} seconds.",
                details={"retry_after_seconds": wait},
            )
