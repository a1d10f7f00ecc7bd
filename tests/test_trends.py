"""Trend bucketing: empty buckets filled, long periods coarsened to weeks (from Monday) or months."""

from __future__ import annotations

from datetime import date

from civicpulse.insight.trends import MAX_POINTS, bucketed, trend_buckets


def test_short_trends_go_by_day_with_empty_days_filled() -> None:
    series = bucketed({"2026-03-01": 1.0, "2026-03-04": 2.0})
    assert series is not None and series.unit == "day"
    assert series.starts == [date(2026, 3, d) for d in range(1, 5)]
    assert series.values == [1.0, 0.0, 0.0, 2.0]
    assert bucketed({}) is None
    assert trend_buckets({}) == ("day", [])


def test_long_trends_go_by_week_then_by_month() -> None:
    unit, weeks = trend_buckets({"2026-01-07": 1.0, "2026-06-01": 1.0})  # 146 days: by week, from Monday
    assert unit == "week" and weeks[0].isoformat() == "2026-01-05" and weeks[-1].isoformat() == "2026-06-01"
    assert len(weeks) == 22
    unit, months = trend_buckets({"2018-02-02": 1.0, "2026-08-20": 3.0})
    assert unit == "month" and len(months) == 8 * 12 + 7 and months[-1].isoformat() == "2026-08-01"
    unit, days = trend_buckets({"2026-01-01": 1.0, date(2026, 3, 3).isoformat(): 1.0})
    assert unit == "day" and len(days) == MAX_POINTS


def test_weights_of_one_bucket_add_up() -> None:
    series = bucketed({"2026-01-05": 1.0, "2026-01-11": 2.5, "2026-04-01": 1.0})
    assert series is not None and series.unit == "week"
    assert series.values[0] == 3.5 and series.values[-1] == 1.0 and sum(series.values) == 4.5
