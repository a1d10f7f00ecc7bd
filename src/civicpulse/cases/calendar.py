"""Working days in Viet Nam: Monday to Friday, less public holidays (Tết included) from the
``holidays`` package, plus the Saturdays the government swaps in as working days, less an agency's
own extra days off."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_right
from collections.abc import Iterable
from functools import cache
from zoneinfo import ZoneInfo

import holidays

LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")


@cache
def _public_working_days(year: int) -> tuple[int, ...]:
    """Ordinals of the working days of ``year`` under the national calendar."""
    national = holidays.country_holidays("VN", years=year)
    first = dt.date(year, 1, 1).toordinal()
    last = dt.date(year, 12, 31).toordinal()
    return tuple(
        ordinal for ordinal in range(first, last + 1) if national.is_working_day(dt.date.fromordinal(ordinal))
    )


class WorkingCalendar:
    """The national working calendar less ``days_off`` (an agency's own days off)."""

    def __init__(self, days_off: Iterable[dt.date] = ()) -> None:
        self.days_off = frozenset(days_off)
        self._years: dict[int, list[int]] = {}

    def _days(self, year: int) -> list[int]:
        days = self._years.get(year)
        if days is None:
            off = {d.toordinal() for d in self.days_off if d.year == year}
            days = [o for o in _public_working_days(year) if o not in off]
            self._years[year] = days
        return days

    def is_working_day(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day of this calendar."""
        days = self._days(day.year)
        index = bisect_right(days, day.toordinal())
        return index > 0 and days[index - 1] == day.toordinal()

    def add_working_days(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (``start`` itself is never counted)."""
        if count < 1:
            raise ValueError("count must be at least 1")
        year, after, left = start.year, start.toordinal(), count
        while True:
            days = self._days(year)
            available = days[bisect_right(days, after) :]
            if len(available) >= left:
                return dt.date.fromordinal(available[left - 1])
            left -= len(available)
            year += 1

    def next_working_day(self, day: dt.date) -> dt.date:
        """``day`` when it is a working day, else the first working day after it."""
        return day if self.is_working_day(day) else self.add_working_days(day, 1)

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """How many working days lie in ``(start, end]``."""
        total = 0
        for year in range(start.year, end.year + 1):
            days = self._days(year)
            total += bisect_right(days, end.toordinal()) - bisect_right(days, start.toordinal())
        return max(total, 0)


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar day of ``moment`` in Viet Nam."""
    return moment.astimezone(LOCAL_TIME).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Viet Nam, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TIME)


def end_of_day(day: dt.date) -> dt.datetime:
    """The end of ``day`` in Viet Nam (midnight of the day after)."""
    return start_of_day(day + dt.timedelta(days=1))
