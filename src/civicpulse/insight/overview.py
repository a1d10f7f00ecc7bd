"""The leaders' overview: one week against the week before and against the expected volume, per
topic and per province, the themes that rise or are new, and the open spike warnings.

Everything is read from the trend counts (``store.counts``: daily cells, distinct-sender sets) and
the latest stored whole-store themes run, never by scanning submissions. Figures count submissions
with campaigns counted once; a figure whose distinct senders are fewer than ``k_anonymity`` is
``None`` (shown as "< k"). The expected volume of a week is the sum of the spike detector's daily
expectations (weekly season, holidays, robust level: see ``insight.spikes``), each read only from
the days before it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import and_, case, distinct, func, select
from sqlalchemy.orm import Session

from civicpulse.insight.spikes import SpikeDetector, SpikeRules, holiday_mask
from civicpulse.insight.warnings import SpikeWarning, find_warnings
from civicpulse.store.counts import UNKNOWN
from civicpulse.store.tables import TrendCountRow, TrendFactRow, TrendSenderRow, utcnow
from civicpulse.store.themes import ThemeMemberRow, ThemeRow, ThemeRunRow

WEEK = 7
WHOLE_STORE = "||||*"  # ThemeSlice().key(): the themes of every submission
MAX_THEMES = 6
MAX_WARNINGS = 6
MIN_EXPECTED = 1.0  # a ratio against less than one expected submission means nothing


@dataclass(frozen=True)
class Weeks:
    """The week shown (``first`` to ``last``, both included) and the week before it."""

    first: date
    last: date

    @property
    def before_first(self) -> date:
        return self.first - timedelta(days=WEEK)

    @property
    def before_last(self) -> date:
        return self.first - timedelta(days=1)

    @classmethod
    def ending(cls, last: date) -> Weeks:
        return cls(last - timedelta(days=WEEK - 1), last)


@dataclass(frozen=True)
class Row:
    """One topic, province or the whole slice: this week, the week before, the expected volume
    (``None`` without enough history), each count ``None`` under k distinct senders."""

    code: str | None
    this_week: int | None
    last_week: int | None
    expected: float | None = None
    expected_high: float | None = None

    @property
    def change(self) -> float | None:
        """This week against the week before, as a fraction (``None`` when not comparable)."""
        if self.this_week is None or not self.last_week:
            return None
        return self.this_week / self.last_week - 1

    @property
    def against_expected(self) -> float | None:
        """This week against the expected volume, as a fraction."""
        if self.this_week is None or self.expected is None or self.expected < MIN_EXPECTED:
            return None
        return self.this_week / self.expected - 1

    @property
    def above_range(self) -> bool:
        """Whether this week is above the detector's upper bound summed over the week."""
        return (
            self.this_week is not None
            and self.expected_high is not None
            and self.this_week > self.expected_high
        )


@dataclass(frozen=True)
class ThemeTrend:
    """A theme of the latest whole-store run, with its submissions in the two weeks."""

    theme_id: int
    label: str
    is_new: bool
    this_week: int | None
    last_week: int | None


@dataclass
class Overview:
    """What the overview page shows for one week and, optionally, one province."""

    weeks: Weeks
    province: str | None
    k_anonymity: int
    total: Row
    topics: list[Row] = field(default_factory=list)
    provinces: list[Row] = field(default_factory=list)
    themes: list[ThemeTrend] = field(default_factory=list)


def shown(count: int, senders: int, k: int) -> int | None:
    """A count, or ``None`` when its senders are fewer than ``k`` (an empty cell stays 0)."""
    return count if senders >= k or count == 0 else None


def _week_flag(period: Any, first: date) -> Any:
    return case((period >= first.isoformat(), 1), else_=0)


Counts = dict[tuple[str | None, int], int]


def _counts(session: Session, weeks: Weeks, province: str | None, by: str) -> tuple[Counts, Counts]:
    """Counted submissions, and all submissions, per ``by`` (topic or province) and week (1 this
    week, 0 the week before)."""
    column = getattr(TrendCountRow, by)
    flag = _week_flag(TrendCountRow.period, weeks.first).label("wk")
    where = [
        TrendCountRow.unit == "day",
        TrendCountRow.period >= weeks.before_first.isoformat(),
        TrendCountRow.period <= weeks.last.isoformat(),
    ]
    if province is not None:
        where.append(TrendCountRow.province == province)
    rows = session.execute(
        select(column, flag, func.sum(TrendCountRow.counted), func.sum(TrendCountRow.submissions))
        .where(*where)
        .group_by(column, flag)
    ).all()
    return {(code, int(wk)): int(n) for code, wk, n, _ in rows}, {
        (code, int(wk)): int(a) for code, wk, _, a in rows
    }


def _senders(
    session: Session, weeks: Weeks, province: str | None, by: str | None, received: Counts, k: int
) -> Counts:
    """Distinct senders per ``by`` (topic, province or nothing) and week, counted up to ``k`` (all
    that k-anonymity asks): a figure of fewer than ``k`` submissions has fewer than ``k`` senders,
    and for the others the check stops at the ``k``-th distinct sender it meets."""
    found: Counts = {}
    for (code, wk), n in received.items():
        if code == UNKNOWN:
            continue
        if n < k:
            found[(code, wk)] = n
            continue
        first, last = (weeks.first, weeks.last) if wk else (weeks.before_first, weeks.before_last)
        where = [
            TrendSenderRow.unit == "day",
            TrendSenderRow.period >= first.isoformat(),
            TrendSenderRow.period <= last.isoformat(),
        ]
        if by is not None:
            where.append(getattr(TrendSenderRow, by) == code)
        if province is not None:
            where.append(TrendSenderRow.province == province)
        some = select(TrendSenderRow.sender).where(*where).distinct().limit(k).subquery()
        found[(code, wk)] = int(session.scalar(select(func.count()).select_from(some)) or 0)
    return found


def _daily_by_topic(
    session: Session, first: date, last: date, province: str | None
) -> dict[str | None, dict[str, int]]:
    """Counted submissions per day of each topic (``None``: all topics) from ``first`` to ``last``."""
    where = [
        TrendCountRow.unit == "day",
        TrendCountRow.period >= first.isoformat(),
        TrendCountRow.period <= last.isoformat(),
    ]
    if province is not None:
        where.append(TrendCountRow.province == province)
    found: dict[str | None, dict[str, int]] = defaultdict(dict)
    for day, topic, n in session.execute(
        select(TrendCountRow.period, TrendCountRow.topic, func.sum(TrendCountRow.counted))
        .where(*where)
        .group_by(TrendCountRow.period, TrendCountRow.topic)
    ).all():
        found[topic][day] = int(n)
        found[None][day] = found[None].get(day, 0) + int(n)
    return found


def _expected(
    daily: dict[str | None, dict[str, int]], weeks: Weeks, rules: SpikeRules
) -> dict[str | None, tuple[float, float]]:
    """The detector's expected volume and upper bound summed over the week, per series."""
    first = weeks.first - timedelta(days=rules.history)
    days = [(first + timedelta(days=i)).isoformat() for i in range((weeks.last - first).days + 1)]
    holidays = holiday_mask(first, len(days))
    start = days.index(weeks.first.isoformat())
    detector = SpikeDetector(rules)
    found: dict[str | None, tuple[float, float]] = {}
    for code, by_day in daily.items():
        y = np.array([by_day.get(day, 0) for day in days], dtype=float)
        verdicts = detector.run(y, holidays, evaluate_from=start)[start:]
        if any(np.isnan(v.expected) for v in verdicts):
            continue
        found[code] = (sum(v.expected for v in verdicts), sum(v.upper for v in verdicts))
    return found


def _rows(
    counts: dict[tuple[str, int], int], senders: dict[tuple[str | None, int], int], k: int
) -> dict[str, tuple[int | None, int | None]]:
    codes = {code for code, _ in counts if code != UNKNOWN}
    return {
        code: (
            shown(counts.get((code, 1), 0), senders.get((code, 1), 0), k),
            shown(counts.get((code, 0), 0), senders.get((code, 0), 0), k),
        )
        for code in codes
    }


def theme_trends(
    session: Session, weeks: Weeks, province: str | None, k: int, now: datetime
) -> list[ThemeTrend]:
    """The themes of the latest whole-store run that rose this week or are new, most rising first."""
    run_id = session.scalar(
        select(ThemeRunRow.id)
        .where(ThemeRunRow.slice_key == WHOLE_STORE)
        .order_by(ThemeRunRow.id.desc())
        .limit(1)
    )
    if run_id is None:
        return []
    flag = _week_flag(TrendFactRow.day, weeks.first).label("wk")
    where = [
        TrendFactRow.day >= weeks.before_first.isoformat(),
        TrendFactRow.day <= weeks.last.isoformat(),
        TrendFactRow.counted.is_(True),
    ]
    if province is not None:
        where.append(TrendFactRow.province == province)
    rows = session.execute(
        select(ThemeMemberRow.theme_id, flag, func.count(), func.count(distinct(TrendFactRow.sender)))
        .select_from(TrendFactRow)
        .join(
            ThemeMemberRow,
            and_(ThemeMemberRow.submission_id == TrendFactRow.submission_id, ThemeMemberRow.run_id == run_id),
        )
        .where(*where)
        .group_by(ThemeMemberRow.theme_id, flag)
    ).all()
    weekly: dict[int, dict[int, tuple[int, int]]] = defaultdict(dict)
    for theme_id, wk, n, senders in rows:
        weekly[theme_id][int(wk)] = (int(n), int(senders))
    themes = session.execute(
        select(ThemeRow.theme_id, ThemeRow.label, ThemeRow.senders, ThemeRow.detail).where(
            ThemeRow.run_id == run_id, ThemeRow.theme_id.in_(list(weekly))
        )
    ).all()
    found: list[tuple[float, ThemeTrend]] = []
    for theme_id, label, senders, detail in themes:
        if senders < k:
            continue
        this_n, this_s = weekly[theme_id].get(1, (0, 0))
        last_n, last_s = weekly[theme_id].get(0, (0, 0))
        first_seen = (detail or {}).get("first_seen")
        is_new = bool(first_seen) and datetime.fromisoformat(first_seen) > now - timedelta(days=WEEK)
        if not (is_new or this_n > last_n) or this_s < k:
            continue
        rise = (this_n - last_n) / max(last_n, 1)
        trend = ThemeTrend(theme_id, label, is_new, shown(this_n, this_s, k), shown(last_n, last_s, k))
        found.append((rise, trend))
    found.sort(key=lambda item: (not item[1].is_new, -item[0], item[1].theme_id))
    return [trend for _, trend in found[:MAX_THEMES]]


def _concerns(warning: SpikeWarning, province: str | None) -> bool:
    """Whether a warning belongs on the page of ``province`` (its series, or a place it names)."""
    if province is None or warning.province == province:
        return True
    return warning.province is None and any(
        c.kind == "place" and c.code == province for c in warning.contributors
    )


def build_overview(
    session: Session,
    last: date,
    *,
    province: str | None,
    k_anonymity: int,
    now: datetime | None = None,
    rules: SpikeRules | None = None,
) -> Overview:
    """The overview of the week ending on ``last`` (of one province, or of the country)."""
    rules = rules or SpikeRules()
    k = k_anonymity
    weeks = Weeks.ending(last)
    topic_counts, topic_received = _counts(session, weeks, province, "topic")
    topic_rows = _rows(topic_counts, _senders(session, weeks, province, "topic", topic_received, k), k)
    province_counts, province_received = _counts(session, weeks, None, "province")
    province_rows = _rows(
        province_counts, _senders(session, weeks, None, "province", province_received, k), k
    )
    total_received: Counts = defaultdict(int)
    for (_, wk), n in topic_received.items():
        total_received[(None, wk)] += n
    total_senders = _senders(session, weeks, province, None, total_received, k)
    totals = [sum(n for (_, wk), n in topic_counts.items() if wk == flag) for flag in (0, 1)]
    daily = _daily_by_topic(session, weeks.first - timedelta(days=rules.history), weeks.last, province)
    expected = _expected(daily, weeks, rules)

    def row(code: str | None, this: int | None, before: int | None) -> Row:
        mean, high = expected.get(code, (None, None))
        return Row(code, this, before, mean, high)

    total = row(
        None,
        shown(totals[1], total_senders.get((None, 1), 0), k),
        shown(totals[0], total_senders.get((None, 0), 0), k),
    )
    topics = sorted(
        (row(code, *figures) for code, figures in topic_rows.items()),
        key=lambda r: (-(r.this_week or 0), r.code or ""),
    )
    provinces = [Row(code, *figures) for code, figures in sorted(province_rows.items())]
    return Overview(
        weeks=weeks,
        province=province,
        k_anonymity=k,
        total=total,
        topics=topics,
        provinces=provinces,
        themes=theme_trends(session, weeks, province, k, now or utcnow()),
    )


def open_warnings(
    session: Session, weeks: Weeks, *, province: str | None, k_anonymity: int, rules: SpikeRules | None = None
) -> list[dict[str, Any]]:
    """The spike warnings that started in the two weeks, of the province when one is given (its
    series, or a country-wide series it contributes to), largest first. The detector runs over every
    series here: the page loads them after its first paint."""
    found = find_warnings(session, weeks.before_first, weeks.last, k_anonymity=k_anonymity, rules=rules)
    return [w.as_dict() for w in found if _concerns(w, province)][:MAX_WARNINGS]
