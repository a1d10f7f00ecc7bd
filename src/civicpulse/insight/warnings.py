"""Spike warnings that say why: the detector of ``insight.spikes`` over the daily counts of every
topic, province and topic × province, each warning with its explanation.

A warning covers a run of consecutive alert days of one series. Detection reads all submissions
(a campaign that floods a topic is a spike worth knowing of); the explanation then says how much of
the excess each place, topic, channel and campaign carries, whether campaigns carry most of it, and
quotes 3 redacted texts (the ``pii`` stage's), campaign copies counted once. A series with fewer
distinct senders than ``k_anonymity`` over the run raises no warning. Themes are not among the
contributors: they are recomputed runs over slices, not a stable per-submission label.

The overview reads them from a stored detection (``store.detections``, :func:`stored_warnings`):
the warnings of every series for one window, each series detected again (:func:`refresh_warnings`)
only after the counts hook has noted a change on a day its detection read. Quotes are stored as
submission ids and read at display time, so a stored warning never keeps a text the store no longer
has.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Collection, Hashable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from civicpulse.insight.spikes import SpikeDetector, SpikeRules, alert_runs, holiday_mask, top_contributors
from civicpulse.store.counts import UNKNOWN, Fact, Slice, daily_cells, distinct_senders, facts_between
from civicpulse.store.detections import (
    ALL,
    OPENED,
    Window,
    due_keys,
    finish_window,
    put_series,
    start_window,
    stored_series,
    stored_window,
)
from civicpulse.store.submissions import redacted_texts

BASELINE_DAYS = 28
QUOTES = 3
CAMPAIGN_DRIVEN = 0.5


@dataclass(frozen=True)
class Contributor:
    """A part of a spike: ``kind`` (place, topic, channel or campaign), its ``code`` and ``share``
    of the excess."""

    kind: str
    code: str
    share: float


@dataclass(frozen=True)
class SpikeWarning:
    """A run of alert days of one series, with its size and explanation."""

    topic: str | None
    province: str | None
    start: date
    end: date
    observed: int
    expected: float
    expected_low: float
    expected_high: float
    surprise: float
    senders: int
    contributors: list[Contributor] = field(default_factory=list)
    campaign_driven: bool = False
    campaign_share: float = 0.0
    quotes: list[str] = field(default_factory=list)
    quote_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """What the API and the CLI show."""
        return {
            "topic": self.topic,
            "province": self.province,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "days": (self.end - self.start).days + 1,
            "observed": self.observed,
            "expected": round(self.expected, 2),
            "expected_range": [round(self.expected_low, 2), round(self.expected_high, 2)],
            "excess": round(self.observed - self.expected, 2),
            "ratio": round(self.observed / self.expected, 2) if self.expected > 0 else None,
            "surprise": round(self.surprise, 2),
            "senders": self.senders,
            "explanation": {
                "contributors": [
                    {"kind": c.kind, "code": c.code, "share": round(c.share, 3)} for c in self.contributors
                ],
                "campaign_driven": self.campaign_driven,
                "campaign_share": round(self.campaign_share, 3),
            },
            "quotes": list(self.quotes),
        }

    def stored(self) -> dict[str, Any]:
        """What a stored detection keeps (quotes as their submissions' ids)."""
        return {
            **{key: value for key, value in vars(self).items() if key not in ("contributors", "quotes")},
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "contributors": [vars(c) for c in self.contributors],
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any], texts: dict[int, str]) -> SpikeWarning:
        """A stored warning, its quotes read from ``texts`` (submission id -> redacted text)."""
        return cls(
            **{
                **data,
                "start": date.fromisoformat(data["start"]),
                "end": date.fromisoformat(data["end"]),
                "contributors": [Contributor(**c) for c in data["contributors"]],
                "quotes": [texts[i] for i in data["quote_ids"] if i in texts],
            }
        )


SeriesKey = tuple[str | None, str | None]


def _series(cells: Sequence[tuple[str, str, str, int]]) -> dict[SeriesKey, Counter[str]]:
    found: dict[SeriesKey, Counter[str]] = {}
    for day, topic, province, n in cells:
        keys: list[SeriesKey] = []
        if topic != UNKNOWN:
            keys.append((topic, None))
        if province != UNKNOWN:
            keys.append((None, province))
        if topic != UNKNOWN and province != UNKNOWN:
            keys.append((topic, province))
        for key in keys:
            found.setdefault(key, Counter())[day] += n
    return found


def reads_from(since: date, rules: SpikeRules) -> date:
    """The first day whose counts a detection of warnings starting on ``since`` reads."""
    return since - timedelta(days=rules.history + rules.rebound_days * 3)


def _largest_first(found: Sequence[SpikeWarning]) -> list[SpikeWarning]:
    return sorted(found, key=lambda w: (-w.surprise, w.start, str(w.topic), str(w.province)))


def detect(
    session: Session,
    since: date,
    until: date,
    *,
    k_anonymity: int,
    rules: SpikeRules,
    wanted: Collection[SeriesKey] | None = None,
) -> dict[SeriesKey, list[SpikeWarning]]:
    """The explained warnings that start on the days ``since`` to ``until`` of every series with
    counts (or of the ``wanted`` ones only; each of them answered, if only with no warnings)."""
    first = reads_from(since, rules)
    days = [first + timedelta(days=i) for i in range((until - first).days + 1)]
    holidays = holiday_mask(first, len(days))
    evaluate_from = (since - first).days
    detector = SpikeDetector(rules)
    chosen = None if wanted is None else set(wanted)
    found: dict[SeriesKey, list[SpikeWarning]] = {key: [] for key in chosen or ()}
    for (topic, province), by_day in sorted(
        _series(daily_cells(session, first.isoformat(), until.isoformat())).items(), key=lambda i: str(i[0])
    ):
        if chosen is not None and (topic, province) not in chosen:
            continue
        series_found = found.setdefault((topic, province), [])
        y = np.array([by_day.get(day.isoformat(), 0) for day in days], dtype=float)
        if y[evaluate_from:].sum() < rules.min_excess:
            continue
        verdicts = detector.run(y, holidays, evaluate_from=evaluate_from)
        for start, end in alert_runs(verdicts):
            cut = Slice(topic=topic, province=province)
            senders = distinct_senders(session, cut, days[start].isoformat(), days[end].isoformat())
            if senders < k_anonymity:
                continue
            run = verdicts[start : end + 1]
            warning = SpikeWarning(
                topic=topic,
                province=province,
                start=days[start],
                end=days[end],
                observed=int(y[start : end + 1].sum()),
                expected=sum(v.expected for v in run),
                expected_low=sum(v.lower for v in run),
                expected_high=sum(v.upper for v in run),
                surprise=max(v.surprise for v in run),
                senders=senders,
            )
            series_found.append(explain(session, warning))
    return found


def find_warnings(
    session: Session, since: date, until: date, *, k_anonymity: int, rules: SpikeRules | None = None
) -> list[SpikeWarning]:
    """Warnings that start on the days ``since`` to ``until`` (both included), largest first."""
    found = detect(session, since, until, k_anonymity=k_anonymity, rules=rules or SpikeRules())
    return _largest_first([w for warnings in found.values() for w in warnings])


def _window(since: date, until: date, k_anonymity: int, rules: SpikeRules) -> Window:
    basis = f"v1 k={k_anonymity} " + hashlib.sha256(repr(rules).encode()).hexdigest()[:16]
    return Window(since.isoformat(), until.isoformat(), reads_from(since, rules).isoformat(), basis)


def _from_stored(session: Session, stored: Sequence[dict[str, Any]]) -> list[SpikeWarning]:
    texts = redacted_texts(session, sorted({i for data in stored for i in data["quote_ids"]}))
    return _largest_first([SpikeWarning.from_stored(data, texts) for data in stored])


def stored_warnings(
    session: Session, since: date, until: date, *, k_anonymity: int, rules: SpikeRules | None = None
) -> list[SpikeWarning] | None:
    """What :func:`find_warnings` answers, read from the stored detection of this window; ``None``
    when there is none or a series of it is due (see :func:`refresh_warnings`)."""
    window = _window(since, until, k_anonymity, rules or SpikeRules())
    if stored_window(session, window.last_day) != window:
        return None
    stored = stored_series(session, window.last_day)
    if due_keys(stored):
        return None
    return _from_stored(session, [data for row in stored.values() for data in row.warnings])


def open_detection(
    session: Session, since: date, until: date, *, k_anonymity: int, rules: SpikeRules | None = None
) -> None:
    """Register the window's detection before it is computed (commit it first: the counts hook
    then marks the series its changes touch while the detection runs)."""
    window = _window(since, until, k_anonymity, rules or SpikeRules())
    if stored_window(session, window.last_day) not in (window, replace(window, basis=OPENED)):
        start_window(session, replace(window, basis=OPENED))


def refresh_warnings(
    session: Session, since: date, until: date, *, k_anonymity: int, rules: SpikeRules | None = None
) -> list[SpikeWarning]:
    """Detect again the series of the window's stored detection that are due (every series when the
    window was only opened, or is new), store them, and answer as :func:`find_warnings` (in a
    writing session)."""
    rules = rules or SpikeRules()
    window = _window(since, until, k_anonymity, rules)
    found = stored_window(session, window.last_day)
    if found == window:
        stored = stored_series(session, window.last_day)
        wanted: list[SeriesKey] | None = [(t or None, p or None) for t, p in due_keys(stored)]
    else:
        if found != replace(window, basis=OPENED):
            start_window(session, replace(window, basis=OPENED))
        stored, wanted = stored_series(session, window.last_day), None
    fresh = (
        detect(session, since, until, k_anonymity=k_anonymity, rules=rules, wanted=wanted)
        if wanted is None or wanted
        else {}
    )
    computed = {
        (topic or ALL, province or ALL): [w.stored() for w in warnings]
        for (topic, province), warnings in fresh.items()
    }
    put_series(
        session,
        window.last_day,
        {key: (stored[key].changes if key in stored else 0, found) for key, found in computed.items()},
    )
    finish_window(session, window)
    kept = [data for key, row in stored.items() if key not in computed for data in row.warnings]
    return _from_stored(session, [*kept, *(data for found in computed.values() for data in found)])


def explain(session: Session, warning: SpikeWarning) -> SpikeWarning:
    """The warning with its contributors, campaign verdict and quotes."""
    cut = Slice(topic=warning.topic, province=warning.province)
    observed = facts_between(session, cut, warning.start.isoformat(), warning.end.isoformat())
    before = warning.start - timedelta(days=1)
    baseline = facts_between(
        session, cut, (warning.start - timedelta(days=BASELINE_DAYS)).isoformat(), before.isoformat()
    )
    return explained(session, warning, observed, baseline)


def explained(
    session: Session, warning: SpikeWarning, observed: Sequence[Fact], baseline: Sequence[Fact]
) -> SpikeWarning:
    """The warning explained by the facts of its days (``observed``) against those of the
    ``BASELINE_DAYS`` before it (``baseline``): what grew most, whether a campaign drives it, quotes."""
    scale = (warning.end - warning.start).days + 1
    kinds: list[tuple[str, Counter[Hashable], Counter[Hashable]]] = []
    for kind, attr, wanted in (
        ("place", "province", warning.province is None),
        ("topic", "topic", warning.topic is None),
        ("channel", "channel", True),
        ("campaign", "campaign", True),
    ):
        if wanted:
            kinds.append((kind, Counter(getattr(f, attr) for f in observed), _scaled(baseline, attr, scale)))
    ranked = [
        Contributor(kind, str(code), share)
        for kind, code, share in top_contributors(kinds, warning.expected)
        if code not in (None, UNKNOWN)
    ]
    campaign_share = sum(c.share for c in ranked if c.kind == "campaign")
    chosen = quoted(session, observed, ranked)
    return SpikeWarning(
        **{
            **warning.__dict__,
            "contributors": ranked,
            "campaign_driven": campaign_share >= CAMPAIGN_DRIVEN,
            "campaign_share": min(1.0, campaign_share),
            "quotes": list(chosen.values()),
            "quote_ids": list(chosen),
        }
    )


def _scaled(facts: Sequence[Fact], attr: str, days: int) -> Counter[Hashable]:
    counts: Counter[Hashable] = Counter(getattr(f, attr) for f in facts)
    return Counter({key: n * days / BASELINE_DAYS for key, n in counts.items()})


def quoted(session: Session, facts: Sequence[Fact], ranked: Sequence[Contributor]) -> dict[int, str]:
    """Up to 3 distinct redacted texts by submission id, those of the top contributor first,
    campaigns once."""
    attr = {"place": "province", "topic": "topic", "channel": "channel", "campaign": "campaign"}
    top = ranked[0] if ranked else None

    def first(fact: Fact) -> tuple[int, int]:
        matches = top is not None and str(getattr(fact, attr[top.kind])) == top.code
        return (0 if matches else 1, fact.submission_id)

    candidates = sorted((f for f in facts if f.counted), key=first)
    texts = redacted_texts(session, [f.submission_id for f in candidates[: QUOTES * 10]])
    chosen: dict[int, str] = {}
    for fact in candidates:
        text = texts.get(fact.submission_id)
        if text and text not in chosen.values():
            chosen[fact.submission_id] = text
        if len(chosen) == QUOTES:
            break
    return chosen
