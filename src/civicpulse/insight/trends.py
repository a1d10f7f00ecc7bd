"""Trends over time: a ``day -> weight`` series bucketed by day, week or month, empty buckets included."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

Unit = Literal["day", "week", "month"]
MAX_POINTS = 62  # a trend is bucketed by day up to this many days, else by week, else by month


@dataclass(frozen=True)
class Bucketed:
    """A trend summed per bucket: ``values[i]`` is the weight of the bucket that starts on ``starts[i]``."""

    unit: Unit
    starts: list[date]
    values: list[float]


def bucket_start(day: date, unit: Unit) -> date:
    """The first day of the bucket holding ``day`` (weeks start on Monday)."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def next_bucket(start: date, unit: Unit) -> date:
    """The first day of the bucket after the one starting on ``start``."""
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def trend_buckets(
    trend: Mapping[str, float], first: date | None = None, last: date | None = None
) -> tuple[Unit, list[date]]:
    """The unit (day, week or month: the finest that needs at most ``MAX_POINTS`` buckets, else
    month) and the buckets spanning ``first`` to ``last`` (by default the trend's first and last
    day), empty ones included."""
    days = [date.fromisoformat(day) for day in trend]
    if not days:
        return "day", []
    first, last = first or min(days), last or max(days)
    if first > last:
        return "day", []
    span = (last - first).days + 1
    unit: Unit = "day" if span <= MAX_POINTS else "week" if span <= MAX_POINTS * 7 else "month"
    buckets, at = [], bucket_start(first, unit)
    while at <= last:
        buckets.append(at)
        at = next_bucket(at, unit)
    return unit, buckets


def bucketed(
    trend: Mapping[str, float], first: date | None = None, last: date | None = None
) -> Bucketed | None:
    """A trend (ISO day -> weight) summed per bucket of :func:`trend_buckets` between ``first`` and
    ``last`` (days outside left out); ``None`` when empty."""
    unit, starts = trend_buckets(trend, first, last)
    if not starts:
        return None
    position = {start: i for i, start in enumerate(starts)}
    values = [0.0] * len(starts)
    for day, weight in trend.items():
        at = bucket_start(date.fromisoformat(day), unit)
        if at in position:
            values[position[at]] += weight
    return Bucketed(unit, starts, values)
