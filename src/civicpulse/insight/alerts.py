"""Alert rules evaluated over the trend counts: what a rule watches, who may watch what, and the
firings it would make over a window.

A rule watches one series: a topic and/or a province (``None``: all), narrowed, when it names
one, to a theme's members or to the submissions whose redacted text holds a free query. It fires:

- ``spike``: on a run of alert days of the spike detector of ``insight.spikes`` (the warnings'
  detector, same rules and holidays), explained as ``insight.warnings`` explains warnings;
- ``threshold``: on each day (or hour) whose submissions, campaigns counted once, reach ``level``;
- ``forecast``: when the forecast of ``insight.forecast_view`` reaches ``level`` within
  ``FORECAST_DAYS`` (topic and province series only);
- ``rumour``: when a claim of the claim base (any, or those whose text holds the query) is
  repeated by at least ``level`` distinct people within the last ``rumour_alert_hours`` (rumour
  signals, in the province when the rule names one; no topic or theme).

No firing names a citizen: figures are counts, quotes are the ``pii`` stage's redacted texts, and
a firing whose period has fewer than ``k_anonymity`` distinct senders is never made. Each firing
has a ``key`` (the spike's first day, the period, the crossing day) so that a rule fires once on it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import numpy as np
from sqlalchemy.orm import Session

from civicpulse.errors import Forbidden, Unprocessable
from civicpulse.insight.forecast import InsufficientHistory
from civicpulse.insight.forecast_view import BelowK, forecast_series
from civicpulse.insight.spikes import SpikeDetector, SpikeRules, alert_runs, holiday_mask
from civicpulse.insight.warnings import BASELINE_DAYS, SpikeWarning, explain, explained
from civicpulse.store.alerts import rumour_people, theme_member_ids
from civicpulse.store.counts import LOCAL_TZ, Fact, Slice, distinct_senders, facts_between, series
from civicpulse.store.submissions import redacted_texts
from civicpulse.textkit.folding import fold

KINDS = ("spike", "threshold", "forecast", "rumour")
PERIODS = ("daily", "hourly")
DIGESTS = ("none", "daily", "weekly")
LOOKBACK_DAYS = 2
FORECAST_DAYS = 7


@dataclass(frozen=True)
class Watch:
    """What a rule watches and when it fires."""

    kind: str
    topic: str | None = None
    province: str | None = None
    theme: int | None = None
    query: str | None = None
    level: float | None = None
    period: str = "daily"

    def __post_init__(self) -> None:
        problems = watch_problems(self)
        if problems:
            raise Unprocessable("; ".join(problems), details={"problems": problems})

    @property
    def filtered(self) -> bool:
        """Whether a theme or a query narrows the slice (counts come from the facts then)."""
        return self.theme is not None or bool(self.query)

    def series_dict(self) -> dict[str, Any]:
        """The series, as alerts store and show it."""
        return {
            "topic": self.topic,
            "province": self.province,
            "theme": self.theme,
            "query": self.query,
            "kind": self.kind,
            "period": self.period,
        }


def watch_problems(watch: Watch) -> list[str]:
    """Why a rule cannot be evaluated, if it cannot."""
    problems = []
    if watch.kind not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}")
    if watch.period not in PERIODS:
        problems.append(f"period must be one of {', '.join(PERIODS)}")
    if watch.kind in ("threshold", "forecast") and (watch.level is None or watch.level <= 0):
        problems.append(f"a {watch.kind} rule needs a level above 0")
    if watch.kind == "spike" and watch.level is not None:
        problems.append("a spike rule takes no level (the detector decides)")
    if watch.period == "hourly" and watch.kind != "threshold":
        problems.append("hourly rules are threshold rules (spikes and forecasts are daily)")
    if watch.kind == "forecast" and watch.filtered:
        problems.append("forecast rules watch a topic and/or province, not a theme or a query")
    if watch.kind == "rumour" and (watch.level is None or watch.level < 1):
        problems.append("a rumour rule needs a level of at least 1 person")
    if watch.kind == "rumour" and (watch.topic is not None or watch.theme is not None):
        problems.append(
            "rumour rules watch claims (a query on their text) and/or a province, not a topic or theme"
        )
    return problems


@dataclass(frozen=True)
class Scope:
    """The series a user may watch: everything (admins, analysts, viewers, who read every trend),
    or the areas of an officer's agencies, each a set of topics and one of provinces (empty: any,
    but an agency with neither covers nothing)."""

    everything: bool
    areas: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()

    def covers(self, topic: str | None, province: str | None) -> bool:
        """Whether a series of ``topic`` × ``province`` (``None``: all) is within sight."""
        if self.everything:
            return True
        for topics, provinces in self.areas:
            if not topics and not provinces:
                continue
            if (not topics or topic in topics) and (not provinces or province in provinces):
                return True
        return False


class OutOfSight(Forbidden):
    """A rule on a series its owner may not see."""

    code = "alert_out_of_sight"

    def __init__(self, message: str = "this series is outside what the rule's owner may see") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class Firing:
    """One thing a rule fires on: its key and period, figures and explanation."""

    key: str
    start: str
    end: str
    figures: dict[str, Any]
    explanation: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "start": self.start,
            "end": self.end,
            "figures": self.figures,
            "explanation": self.explanation,
        }


class _Source(Protocol):
    def daily(self, first: date, last: date) -> tuple[np.ndarray, np.ndarray]: ...
    def hourly(self, first: str, last: str) -> dict[str, tuple[int, int]]: ...
    def senders(self, first: str, last: str) -> int: ...
    def explain(self, warning: SpikeWarning) -> SpikeWarning: ...


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


class _Counted:
    """A topic × province slice read from the trend counts."""

    def __init__(self, session: Session, cut: Slice) -> None:
        self.session, self.cut = session, cut

    def daily(self, first: date, last: date) -> tuple[np.ndarray, np.ndarray]:
        points = {
            p.period: p for p in series(self.session, "day", self.cut, first.isoformat(), last.isoformat())
        }
        days = [d.isoformat() for d in _days(first, last)]
        received = np.array([points[d].submissions if d in points else 0 for d in days], dtype=float)
        counted = np.array([points[d].counted if d in points else 0 for d in days], dtype=float)
        return received, counted

    def hourly(self, first: str, last: str) -> dict[str, tuple[int, int]]:
        return {p.period: (p.counted, p.senders) for p in series(self.session, "hour", self.cut, first, last)}

    def senders(self, first: str, last: str) -> int:
        return distinct_senders(self.session, self.cut, first, last)

    def explain(self, warning: SpikeWarning) -> SpikeWarning:
        return explain(self.session, warning)


class _Filtered:
    """A slice narrowed to a theme's members or a free query, read from the per-submission facts
    (redacted texts only: a query never searches what a citizen typed before redaction)."""

    def __init__(self, session: Session, watch: Watch, first: date, last: date) -> None:
        self.session = session
        facts = facts_between(
            session, Slice(topic=watch.topic, province=watch.province), first.isoformat(), last.isoformat()
        )
        if watch.theme is not None:
            members = theme_member_ids(session, watch.theme)
            facts = [f for f in facts if f.submission_id in members]
        if watch.query:
            needle = fold(watch.query)
            texts = redacted_texts(session, [f.submission_id for f in facts])
            facts = [f for f in facts if needle in fold(texts.get(f.submission_id, ""))]
        self.facts = facts

    def _between(self, unit: str, first: str, last: str) -> list[Fact]:
        return [f for f in self.facts if first <= (f.hour if unit == "hour" else f.day) <= last]

    def daily(self, first: date, last: date) -> tuple[np.ndarray, np.ndarray]:
        received, counted = Counter[str](), Counter[str]()
        for fact in self.facts:
            received[fact.day] += 1
            counted[fact.day] += fact.counted
        days = [d.isoformat() for d in _days(first, last)]
        return (
            np.array([received[d] for d in days], dtype=float),
            np.array([counted[d] for d in days], dtype=float),
        )

    def hourly(self, first: str, last: str) -> dict[str, tuple[int, int]]:
        found: dict[str, list[Fact]] = {}
        for fact in self._between("hour", first, last):
            found.setdefault(fact.hour, []).append(fact)
        return {hour: (sum(f.counted for f in fs), len({f.sender for f in fs})) for hour, fs in found.items()}

    def senders(self, first: str, last: str) -> int:
        return len({f.sender for f in self._between("day", first, last)})

    def explain(self, warning: SpikeWarning) -> SpikeWarning:
        """The warning explained by this rule's own facts (its theme or query applied)."""
        start, end = warning.start.isoformat(), warning.end.isoformat()
        observed = self._between("day", start, end)
        base_first = (warning.start - timedelta(days=BASELINE_DAYS)).isoformat()
        baseline = self._between("day", base_first, (warning.start - timedelta(days=1)).isoformat())
        return explained(self.session, warning, observed, baseline)


def _explanation(warning: SpikeWarning) -> dict[str, Any]:
    shown = warning.as_dict()
    return {**shown["explanation"], "quotes": shown["quotes"]}


def evaluate(
    session: Session,
    watch: Watch,
    since: date,
    until: date,
    *,
    k_anonymity: int,
    now: datetime,
    rules: SpikeRules | None = None,
    rumour_hours: float = 24.0,
) -> list[Firing]:
    """What ``watch`` fires on over the local days ``since`` to ``until`` (both included)."""
    if watch.kind == "rumour":
        return _rumours(session, watch, since, until, k_anonymity, now, rumour_hours)
    rules = rules or SpikeRules()
    first = since - timedelta(days=rules.history + rules.rebound_days * 3)
    source: _Source = (
        _Filtered(session, watch, first, until)
        if watch.filtered
        else _Counted(session, Slice(topic=watch.topic, province=watch.province))
    )
    if watch.kind == "spike":
        return _spikes(source, watch, first, since, until, k_anonymity, rules)
    if watch.kind == "threshold" and watch.period == "hourly":
        return _hourly(source, watch, since, until, k_anonymity)
    if watch.kind == "threshold":
        return _daily(source, watch, first, since, until, k_anonymity)
    return _forecast(session, watch, k_anonymity, now)


def _spikes(
    source: _Source, watch: Watch, first: date, since: date, until: date, k: int, rules: SpikeRules
) -> list[Firing]:
    days = _days(first, until)
    received, _ = source.daily(first, until)
    verdicts = SpikeDetector(rules).run(
        received, holiday_mask(first, len(days)), evaluate_from=(since - first).days
    )
    found = []
    for start, end in alert_runs(verdicts):
        senders = source.senders(days[start].isoformat(), days[end].isoformat())
        if senders < k:
            continue
        run = verdicts[start : end + 1]
        warning = source.explain(
            SpikeWarning(
                topic=watch.topic,
                province=watch.province,
                start=days[start],
                end=days[end],
                observed=int(received[start : end + 1].sum()),
                expected=sum(v.expected for v in run),
                expected_low=sum(v.lower for v in run),
                expected_high=sum(v.upper for v in run),
                surprise=max(v.surprise for v in run),
                senders=senders,
            )
        )
        shown = warning.as_dict()
        figures = {
            name: shown[name]
            for name in ("days", "observed", "expected", "expected_range", "excess", "ratio", "surprise")
        }
        found.append(
            Firing(f"spike:{shown['start']}", shown["start"], shown["end"], figures, _explanation(warning))
        )
    return found


def _daily(source: _Source, watch: Watch, first: date, since: date, until: date, k: int) -> list[Firing]:
    days = _days(first, until)
    received, counted = source.daily(first, until)
    level = float(watch.level or 0)
    found = []
    for index in range((since - first).days, len(days)):
        if counted[index] < level:
            continue
        day = days[index].isoformat()
        senders = source.senders(day, day)
        if senders < k:
            continue
        base = counted[max(0, index - BASELINE_DAYS) : index]
        expected = float(base.mean()) if len(base) else 0.0
        warning = source.explain(
            SpikeWarning(
                topic=watch.topic,
                province=watch.province,
                start=days[index],
                end=days[index],
                observed=int(received[index]),
                expected=expected,
                expected_low=expected,
                expected_high=expected,
                surprise=0.0,
                senders=senders,
            )
        )
        figures = {
            "observed": int(counted[index]),
            "received": int(received[index]),
            "level": level,
            "expected": round(expected, 2),
        }
        found.append(Firing(f"threshold:{day}", day, day, figures, _explanation(warning)))
    return found


def _hourly(source: _Source, watch: Watch, since: date, until: date, k: int) -> list[Firing]:
    level = float(watch.level or 0)
    found = []
    for hour, (counted, senders) in sorted(
        source.hourly(f"{since.isoformat()}T00", f"{until.isoformat()}T23").items()
    ):
        if counted >= level and senders >= k:
            figures = {"observed": counted, "level": level}
            found.append(Firing(f"threshold:{hour}", hour, hour, figures, {"contributors": [], "quotes": []}))
    return found


def _forecast(session: Session, watch: Watch, k: int, now: datetime) -> list[Firing]:
    try:
        result = forecast_series(
            session, FORECAST_DAYS, topic=watch.topic, province=watch.province, k_anonymity=k, now=now
        )
    except (BelowK, InsufficientHistory):
        return []
    level = float(watch.level or 0)
    for point in result.points:
        if point.mean >= level:
            day = point.date.isoformat()
            figures = {
                "day": day,
                "mean": round(point.mean, 2),
                "lo80": round(point.lo80, 2),
                "hi80": round(point.hi80, 2),
                "lo95": round(point.lo95, 2),
                "hi95": round(point.hi95, 2),
                "level": level,
                "model": result.model,
                "backtest_mase": round(result.backtest_mase, 3),
            }
            return [Firing(f"forecast:{day}", day, day, figures, {"contributors": [], "quotes": []})]
    return []


def _rumours(
    session: Session, watch: Watch, since: date, until: date, k: int, now: datetime, hours: float
) -> list[Firing]:
    """Claims repeated by at least ``level`` (and ``k``) distinct people in the ``hours`` up to the
    end of each day (up to ``now`` today), once per claim and day; figures are counts only."""
    level = max(float(watch.level or 0), float(k))
    wanted = fold(watch.query) if watch.query else None
    found = []
    for day in _days(since, until):
        end = min(datetime.combine(day + timedelta(days=1), datetime.min.time(), LOCAL_TZ), now)
        if end <= datetime.combine(day, datetime.min.time(), LOCAL_TZ):
            continue
        for claim_id, claim, people in rumour_people(
            session, end - timedelta(hours=hours), end, province=watch.province
        ):
            if people < level or (wanted and wanted not in fold(claim)):
                continue
            figures = {
                "claim_id": claim_id,
                "claim": claim,
                "people": people,
                "level": watch.level,
                "hours": hours,
            }
            key = f"rumour:{claim_id}:{day.isoformat()}"
            found.append(
                Firing(key, day.isoformat(), day.isoformat(), figures, {"contributors": [], "quotes": []})
            )
    return found


def local_today(now: datetime) -> date:
    """The Vietnam-time day of ``now``."""
    return now.astimezone(LOCAL_TZ).date()


def due_window(now: datetime) -> tuple[date, date]:
    """The days a run of the rules looks at: the last ``LOOKBACK_DAYS`` up to today."""
    today = local_today(now)
    return today - timedelta(days=LOOKBACK_DAYS - 1), today


def dry_run(
    session: Session,
    watch: Watch,
    scope: Scope,
    since: date,
    until: date,
    *,
    k_anonymity: int,
    now: datetime,
    rumour_hours: float = 24.0,
) -> Sequence[Firing]:
    """What ``watch`` would have fired on over past days, for a user of ``scope``; nothing stored."""
    if not scope.covers(watch.topic, watch.province):
        raise OutOfSight()
    return evaluate(session, watch, since, until, k_anonymity=k_anonymity, now=now, rumour_hours=rumour_hours)
