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

import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import and_, case, distinct, func, literal, select, union_all
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpulse.insight.spikes import SpikeDetector, SpikeRules, holiday_mask
from civicpulse.insight.warnings import SpikeWarning, open_detection, refresh_warnings, stored_warnings
from civicpulse.store.counts import LOCAL_TZ, UNKNOWN
from civicpulse.store.db import Database
from civicpulse.store.detections import current_snapshot, open_snapshot, put_snapshot
from civicpulse.store.tables import TrendCountRow, TrendFactRow, TrendSenderRow, utcnow
from civicpulse.store.themes import ThemeMemberRow, ThemeRow, ThemeRunRow

WEEK = 7
WHOLE_STORE = "||||*"  # ThemeSlice().key(): the themes of every submission
MAX_THEMES = 6
MAX_WARNINGS = 6
MIN_EXPECTED = 1.0  # a ratio against less than one expected submission means nothing
T = TypeVar("T")


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


def default_last_day(now: datetime | None = None) -> date:
    """The last day of the week the overview shows unless told: yesterday, the last full day in
    Vietnam."""
    return (now or utcnow()).astimezone(LOCAL_TZ).date() - timedelta(days=1)


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


def _senders_in_one(session: Session, weeks: Weeks, province: str | None) -> dict[str, Counts]:
    """Distinct senders of every topic, province (of the country: the map's) and of the whole
    slice, per week, in one statement: on PostgreSQL each statement is a round trip and a
    ``DISTINCT ... LIMIT`` reads all its rows anyway, so this beats a check per figure."""
    flag = _week_flag(TrendSenderRow.period, weeks.first).label("wk")
    days = [
        TrendSenderRow.unit == "day",
        TrendSenderRow.period >= weeks.before_first.isoformat(),
        TrendSenderRow.period <= weeks.last.isoformat(),
    ]
    sliced = [*days, TrendSenderRow.province == province] if province is not None else days
    people = func.count(distinct(TrendSenderRow.sender))
    parts = (
        select(literal("topic"), TrendSenderRow.topic, flag, people)
        .where(*sliced)
        .group_by(TrendSenderRow.topic, flag),
        select(literal("province"), TrendSenderRow.province, flag, people)
        .where(*days)
        .group_by(TrendSenderRow.province, flag),
        select(literal("total"), literal(UNKNOWN), flag, people).where(*sliced).group_by(flag),
    )
    found: dict[str, Counts] = {"topic": {}, "province": {}, "total": {}}
    for by, code, wk, n in session.execute(union_all(*parts)).all():
        found[by][(None if by == "total" else code, int(wk))] = int(n)
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
) -> dict[str | None, tuple[float, float | None]]:
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
        high = sum(v.upper for v in verdicts)  # the detector works the upper bound out on alert days only
        found[code] = (sum(v.expected for v in verdicts), None if np.isnan(high) else high)
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


def latest_run(session: Session) -> int | None:
    """The id of the latest whole-store themes run."""
    return session.scalar(
        select(ThemeRunRow.id)
        .where(ThemeRunRow.slice_key == WHOLE_STORE)
        .order_by(ThemeRunRow.id.desc())
        .limit(1)
    )


def _theme_weeks(session: Session, weeks: Weeks, province: str | None, run_id: int) -> list[dict[str, Any]]:
    """Each theme of the run with submissions in the two weeks: its label, senders, first seen,
    and per week (``this`` and ``last``) its counted submissions and distinct senders."""
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
    return [
        {
            "theme_id": theme_id,
            "label": label,
            "senders": senders,
            "first_seen": (detail or {}).get("first_seen"),
            "this": weekly[theme_id].get(1, (0, 0)),
            "last": weekly[theme_id].get(0, (0, 0)),
        }
        for theme_id, label, senders, detail in themes
    ]


def _rising(themes: list[dict[str, Any]], k: int, now: datetime) -> list[ThemeTrend]:
    """The themes that rose this week or are new (first seen within a week of ``now``), most
    rising first; under k senders left out."""
    found: list[tuple[float, ThemeTrend]] = []
    for theme in themes:
        if theme["senders"] < k:
            continue
        (this_n, this_s), (last_n, last_s) = theme["this"], theme["last"]
        first_seen = theme["first_seen"]
        is_new = bool(first_seen) and datetime.fromisoformat(first_seen) > now - timedelta(days=WEEK)
        if not (is_new or this_n > last_n) or this_s < k:
            continue
        rise = (this_n - last_n) / max(last_n, 1)
        trend = ThemeTrend(
            theme["theme_id"], theme["label"], is_new, shown(this_n, this_s, k), shown(last_n, last_s, k)
        )
        found.append((rise, trend))
    found.sort(key=lambda item: (not item[1].is_new, -item[0], item[1].theme_id))
    return [trend for _, trend in found[:MAX_THEMES]]


def theme_trends(
    session: Session, weeks: Weeks, province: str | None, k: int, now: datetime
) -> list[ThemeTrend]:
    """The themes of the latest whole-store run that rose this week or are new, most rising first."""
    run_id = latest_run(session)
    return [] if run_id is None else _rising(_theme_weeks(session, weeks, province, run_id), k, now)


def _concerns(warning: SpikeWarning, province: str | None) -> bool:
    """Whether a warning belongs on the page of ``province`` (its series, or a place it names)."""
    if province is None or warning.province == province:
        return True
    return warning.province is None and any(
        c.kind == "place" and c.code == province for c in warning.contributors
    )


def _figures(
    session: Session, weeks: Weeks, province: str | None, k: int, rules: SpikeRules, run_id: int | None
) -> dict[str, Any]:
    """What the overview shows, as stored in a snapshot: rows ``[code, this week, last week,
    expected, expected high]`` of the total, topics and provinces, and the themes' weeks."""
    topic_counts, topic_received = _counts(session, weeks, province, "topic")
    province_counts, province_received = _counts(session, weeks, None, "province")
    total_received: Counts = defaultdict(int)
    for (_, wk), n in topic_received.items():
        total_received[(None, wk)] += n
    if session.get_bind().dialect.name == "postgresql":
        people = _senders_in_one(session, weeks, province)
    else:
        people = {
            "topic": _senders(session, weeks, province, "topic", topic_received, k),
            "province": _senders(session, weeks, None, "province", province_received, k),
            "total": _senders(session, weeks, province, None, total_received, k),
        }
    topic_rows = _rows(topic_counts, people["topic"], k)
    province_rows = _rows(province_counts, people["province"], k)
    total_senders = people["total"]
    totals = [sum(n for (_, wk), n in topic_counts.items() if wk == flag) for flag in (0, 1)]
    daily = _daily_by_topic(session, weeks.first - timedelta(days=rules.history), weeks.last, province)
    expected = _expected(daily, weeks, rules)

    def row(code: str | None, this: int | None, before: int | None) -> list[Any]:
        return [code, this, before, *expected.get(code, (None, None))]

    total = row(
        None,
        shown(totals[1], total_senders.get((None, 1), 0), k),
        shown(totals[0], total_senders.get((None, 0), 0), k),
    )
    topics = sorted(
        (row(code, *figures) for code, figures in topic_rows.items()),
        key=lambda r: (-(r[1] or 0), r[0] or ""),
    )
    return {
        "total": total,
        "topics": topics,
        "provinces": [[code, *figures, None, None] for code, figures in sorted(province_rows.items())],
        "themes": [] if run_id is None else _theme_weeks(session, weeks, province, run_id),
    }


def _assembled(
    figures: dict[str, Any], weeks: Weeks, province: str | None, k: int, now: datetime
) -> Overview:
    return Overview(
        weeks=weeks,
        province=province,
        k_anonymity=k,
        total=Row(*figures["total"]),
        topics=[Row(*r) for r in figures["topics"]],
        provinces=[Row(*r) for r in figures["provinces"]],
        themes=_rising(figures["themes"], k, now),
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
    weeks = Weeks.ending(last)
    figures = _figures(session, weeks, province, k_anonymity, rules or SpikeRules(), latest_run(session))
    return _assembled(figures, weeks, province, k_anonymity, now or utcnow())


def _opened(db: Database, opening: Callable[[Session], T]) -> T:
    """Run the write that registers a snapshot or detection; when a concurrent view or the
    refresher registered the same one first (a clash on its key), run it again: it finds theirs."""
    try:
        with db.write() as session:
            return opening(session)
    except IntegrityError:
        with db.write() as session:
            return opening(session)


def stored_overview(
    db: Database,
    last: date,
    *,
    province: str | None,
    k_anonymity: int,
    now: datetime | None = None,
    rules: SpikeRules | None = None,
) -> Overview:
    """:func:`build_overview`'s answer from the stored snapshot of the week and province while no
    counts it read have changed (the counts hook marks it); else computed and stored. A week that
    ended yesterday stays current while today's submissions come in."""
    rules = rules or SpikeRules()
    weeks = Weeks.ending(last)
    key = (last.isoformat(), province or UNKNOWN)
    with db.read() as session:
        run_id = latest_run(session)
        basis = f"v1 k={k_anonymity} run={run_id} " + hashlib.sha256(repr(rules).encode()).hexdigest()[:16]
        figures = current_snapshot(session, *key, basis)
    if figures is None:
        reads_from = (weeks.first - timedelta(days=rules.history)).isoformat()
        seen = _opened(db, lambda session: open_snapshot(session, *key, reads_from))
        with db.read() as session:
            figures = _figures(session, weeks, province, k_anonymity, rules, run_id)
        with db.write() as session:
            put_snapshot(session, *key, basis, seen, figures)
    return _assembled(figures, weeks, province, k_anonymity, now or utcnow())


def open_warnings(
    db: Database, weeks: Weeks, *, province: str | None, k_anonymity: int, rules: SpikeRules | None = None
) -> list[dict[str, Any]]:
    """The spike warnings that started in the two weeks, of the province when one is given (its
    series, or a country-wide series it contributes to), largest first: read from the stored
    detection of the two weeks, whose due series (all of them, the first time) are detected again
    and stored first, in a short write transaction."""
    since, until = weeks.before_first, weeks.last
    with db.read() as session:
        found = stored_warnings(session, since, until, k_anonymity=k_anonymity, rules=rules)
    if found is None:
        _opened(
            db, lambda session: open_detection(session, since, until, k_anonymity=k_anonymity, rules=rules)
        )
        with db.write() as session:
            found = refresh_warnings(session, since, until, k_anonymity=k_anonymity, rules=rules)
    return [w.as_dict() for w in found if _concerns(w, province)][:MAX_WARNINGS]
