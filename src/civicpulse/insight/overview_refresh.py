"""Keeps the leaders' overview ready inside ``civicpulse serve``: every ``overview_refresh_seconds``
the country's figures and the open warnings of the week the page shows by default are made current
(computed only when the counts hook marked them out of date, or on a new day), so that the first
view of the morning reads stored figures like every other."""

from __future__ import annotations

from datetime import date, datetime

from civicpulse.insight.overview import Weeks, default_last_day, open_warnings, stored_overview
from civicpulse.periodic import Periodic
from civicpulse.settings import Settings
from civicpulse.store.db import Database


def refresh_overview(db: Database, k_anonymity: int, *, now: datetime | None = None) -> date:
    """Make the stored country snapshot and spike detection of the default week current, as the
    page would; answers the week's last day."""
    last = default_last_day(now)
    stored_overview(db, last, province=None, k_anonymity=k_anonymity, now=now)
    open_warnings(db, Weeks.ending(last), province=None, k_anonymity=k_anonymity)
    return last


class OverviewRefresher(Periodic):
    """Runs :func:`refresh_overview` in a daemon thread: at start, then every
    ``overview_refresh_seconds`` (0: never)."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings
        interval = settings.overview_refresh_seconds
        super().__init__(
            "civicpulse-overview",
            self._round,
            interval,
            enabled=interval > 0,
            failure="overview refresh failed",
        )

    def _round(self) -> None:
        refresh_overview(self.db, self.settings.k_anonymity)
