"""The period a report covers: whole local days (Vietnam time), ``end`` included, and the period of
the same length just before it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from civicpulse.domain import check_moment
from civicpulse.errors import Unprocessable
from civicpulse.intake.mapping import LOCAL_TZ

MAX_DAYS = 5 * 366
SHORTCUTS = {"week": 7, "month": 30}


@dataclass(frozen=True)
class Period:
    """Local days ``start`` to ``end``, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        """How many days the period holds."""
        return (self.end - self.start).days + 1

    @property
    def since(self) -> datetime:
        """The first instant of the period (local midnight of ``start``)."""
        return _midnight(self.start)

    @property
    def until(self) -> datetime:
        """The first instant after the period (local midnight after ``end``)."""
        return _midnight(self.end + timedelta(days=1))

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def slug(self) -> str:
        """``YYYY-MM-DD_YYYY-MM-DD``, for file names."""
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)


def today() -> date:
    """Today in Vietnam."""
    return datetime.now(LOCAL_TZ).date()


def parse_day(name: str, value: str) -> date:
    """A ``YYYY-MM-DD`` day; anything else is refused naming ``name``."""
    raw = value.strip()
    try:
        day = date.fromisoformat(raw) if len(raw) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise Unprocessable(f"{name}: {value!r} is not a date (YYYY-MM-DD)")
    try:
        check_moment(_midnight(day))
    except ValueError as exc:
        raise Unprocessable(f"{name}: {exc}") from None
    return day


def make_period(
    since: str | None = None,
    until: str | None = None,
    shortcut: str | None = None,
    *,
    now: date | None = None,
) -> Period:
    """The period of ``--from``/``--to`` days, or of ``--period week|month`` (the 7 or 30 days
    ending today); with neither, the last week."""
    if shortcut is not None and (since or until):
        raise Unprocessable("give either --period or --from/--to, not both")
    if since or until:
        if not (since and until):
            raise Unprocessable("give both --from and --to (YYYY-MM-DD)")
        period = Period(parse_day("from", since), parse_day("to", until))
        if period.end < period.start:
            raise Unprocessable(f"'from' ({since}) must not be after 'to' ({until})")
        if period.days > MAX_DAYS:
            raise Unprocessable(f"a report covers at most {MAX_DAYS} days; this one asks for {period.days}")
        return period
    key = shortcut or "week"
    if key not in SHORTCUTS:
        raise Unprocessable(f"period {key!r} is not one of: {', '.join(SHORTCUTS)}")
    end = now or today()
    return Period(end - timedelta(days=SHORTCUTS[key] - 1), end)
