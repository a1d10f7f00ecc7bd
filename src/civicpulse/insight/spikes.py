"""A spike detector for count series, and the split of a spike's excess among its contributors.

The model, step by step (all of it causal: step ``t`` reads only steps before it):

1. **History.** The last ``history`` steps, holidays left out (a holiday is expected to be low and
   must not pull the baseline down). Without ``min_history`` such steps there is no verdict: a new
   series never warns.
2. **Level.** A winsorised mean of the last ``level_window`` history steps: values above
   ``mean + 3·sqrt(mean)`` (a Poisson-scaled bound, iterated twice) are clipped, so one earlier
   spike barely moves the level, yet a sparse series (mostly zeros) keeps its true, small mean,
   which a median would round down to 0.
3. **Weekly seasonality.** A factor per phase (weekday), the ratio of that phase's winsorised sum to
   the level, shrunk toward 1 by ``seasonal_shrink`` pseudo-weeks (few or sparse weeks give ~1).
4. **Holiday rebound.** What a run of holidays fell short of its expected volume is expected back,
   spread over the next ``rebound_days`` working steps with geometrically decaying weights: the
   backlog after Tết raises the expectation instead of raising a warning.
5. **Count model.** Negative binomial with mean ``μ`` (level × factor + rebound) and variance
   ``μ + α·μ²``; ``α`` from the robust spread (1.4826 × MAD) of the history's residuals, 0 (Poisson)
   when they are no wider than Poisson. The step's **surprise** is ``-log10 P(Y ≥ y)``; a step
   warns when its surprise reaches ``surprise`` (p < 0.001 by default) and it exceeds ``μ`` by at
   least ``min_excess``. The expected range is the model's ``[P1, upper]``, ``upper`` the smallest
   count that would warn.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays
import numpy as np
from scipy import special, stats

LOW_QUANTILE = 0.01
MAX_ALPHA = 5.0


@dataclass(frozen=True)
class SpikeRules:
    """The detector's parameters (defaults: daily counts with a weekly season)."""

    season: int = 7
    history: int = 56
    min_history: int = 28
    level_window: int = 28
    surprise: float = 3.0
    min_excess: float = 3.0
    seasonal_shrink: float = 4.0
    rebound_days: int = 7
    rebound_decay: float = 0.7


@dataclass(frozen=True)
class Verdict:
    """One step's expectation and how surprising its value is (``nan`` without enough history);
    the expected range (``lower``, ``upper``) is worked out for alerts only."""

    expected: float
    lower: float
    upper: float
    surprise: float
    alert: bool


NO_VERDICT = Verdict(float("nan"), float("nan"), float("nan"), 0.0, False)


@lru_cache(maxsize=64)
def _vietnam_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year))


def holiday_mask(first: date, steps: int) -> np.ndarray:
    """Whether each of ``steps`` days from ``first`` is a Vietnamese public holiday (Tết included)."""
    days = [first + timedelta(days=i) for i in range(steps)]
    return np.array([day in _vietnam_holidays(day.year) for day in days], dtype=bool)


def _winsorised_mean(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    mean = float(values.mean())
    for _ in range(2):
        mean = float(np.minimum(values, mean + 3.0 * np.sqrt(max(mean, 1.0))).mean())
    return mean


def _clip(values: np.ndarray, level: float) -> np.ndarray:
    return np.minimum(values, level + 3.0 * np.sqrt(max(level, 1.0)))


def _tail(y: float, mu: float, alpha: float) -> float:
    """``P(Y >= y)`` under the count model (regularised incomplete gamma / beta functions)."""
    if y <= 0:
        return 1.0
    if alpha <= 0:
        return float(special.gammainc(y, mu))
    n = 1.0 / alpha
    return float(special.betainc(y, n, mu / (n + mu)))


def _quantile(q: float, mu: float, alpha: float) -> float:
    if alpha <= 0:
        return float(stats.poisson.ppf(q, mu))
    n = 1.0 / alpha
    return float(stats.nbinom.ppf(q, n, n / (n + mu)))


class SpikeDetector:
    """Runs the model over one series (see the module's description)."""

    def __init__(self, rules: SpikeRules | None = None) -> None:
        self.rules = rules or SpikeRules()

    def baseline(self, y: np.ndarray, holiday: np.ndarray, t: int, rebound: float) -> tuple[float, float]:
        """Expected value and dispersion ``α`` at step ``t``; ``nan`` without enough history."""
        r = self.rules
        start = max(0, t - r.history)
        idx = np.arange(start, t)[~holiday[start:t]]
        if idx.size < r.min_history:
            return float("nan"), 0.0
        values = y[idx]
        recent = values[-r.level_window :]
        level = _winsorised_mean(recent)
        clipped = _clip(values, _winsorised_mean(values))
        mean_all = float(clipped.mean())
        phase = idx % r.season
        sums = np.bincount(phase, weights=clipped, minlength=r.season)
        counts = np.bincount(phase, minlength=r.season)
        factors = (sums + r.seasonal_shrink * mean_all) / ((counts + r.seasonal_shrink) * max(mean_all, 1e-9))
        if mean_all <= 0:
            factors = np.ones(r.season)
        fitted = level * factors[phase]
        residual = values - fitted
        spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
        mu_bar = max(float(fitted.mean()), 1e-9)
        alpha = min(MAX_ALPHA, max(0.0, (spread**2 - mu_bar) / mu_bar**2))
        return max(level * float(factors[t % r.season]) + rebound, 1e-6), alpha

    def run(
        self, y: Sequence[float], holiday: Sequence[bool] | None = None, evaluate_from: int = 0
    ) -> list[Verdict]:
        """A verdict per step (``NO_VERDICT`` before ``evaluate_from``: those steps are only history)."""
        r = self.rules
        values = np.asarray(y, dtype=float)
        hol = np.zeros(values.size, dtype=bool) if holiday is None else np.asarray(holiday, dtype=bool)
        verdicts: list[Verdict] = []
        shortfall, pending = 0.0, np.zeros(0)
        first_needed = max(0, evaluate_from - r.rebound_days * 3)
        for t in range(values.size):
            if t < first_needed:
                verdicts.append(NO_VERDICT)
                continue
            if hol[t]:
                mu, _ = self.baseline(values, hol, t, 0.0)
                if not np.isnan(mu):
                    shortfall += max(0.0, mu - values[t])
                verdicts.append(NO_VERDICT)
                continue
            if shortfall > 0:
                weights = r.rebound_decay ** np.arange(r.rebound_days)
                pending = np.pad(pending, (0, max(0, r.rebound_days - pending.size)))
                pending = pending + shortfall * weights / weights.sum()
                shortfall = 0.0
            rebound = float(pending[0]) if pending.size else 0.0
            pending = pending[1:]
            if t < evaluate_from:
                verdicts.append(NO_VERDICT)
                continue
            verdicts.append(self.verdict(values, hol, t, rebound))
        return verdicts

    def verdict(self, values: np.ndarray, hol: np.ndarray, t: int, rebound: float = 0.0) -> Verdict:
        """The verdict at step ``t`` (``rebound``: the holiday backlog expected back at ``t``)."""
        mu, alpha = self.baseline(values, hol, t, rebound)
        if np.isnan(mu):
            return NO_VERDICT
        observed = float(values[t])
        surprise = float(-np.log10(max(_tail(observed, mu, alpha), 1e-300)))
        alert = surprise >= self.rules.surprise and observed - mu >= self.rules.min_excess
        if not alert:
            return Verdict(mu, float("nan"), float("nan"), surprise, False)
        upper = _quantile(1.0 - 10.0 ** (-self.rules.surprise), mu, alpha)
        return Verdict(mu, _quantile(LOW_QUANTILE, mu, alpha), upper, surprise, True)


def alert_runs(verdicts: Sequence[Verdict]) -> list[tuple[int, int]]:
    """``(first, last)`` steps of each run of consecutive alerts."""
    runs: list[tuple[int, int]] = []
    for t, verdict in enumerate(verdicts):
        if not verdict.alert:
            continue
        if runs and runs[-1][1] == t - 1:
            runs[-1] = (runs[-1][0], t)
        else:
            runs.append((t, t))
    return runs


def contributions(
    observed: Mapping[Hashable, float], baseline: Mapping[Hashable, float], expected: float
) -> list[tuple[Hashable, float, float]]:
    """``(part, share of the excess, share of the baseline)`` of the parts that carry some excess,
    the most disproportionate first (share of the excess minus share of the baseline: a channel
    that carries everything every day explains nothing).

    A part's expected volume is the spike's expected total times the part's share of the baseline
    period, so the parts' excesses add up to the total excess (``observed - expected``); a part
    absent from the baseline (a new campaign) is expected at 0.
    """
    total_base = sum(baseline.values())
    excess_total = sum(observed.values()) - expected
    if excess_total <= 0:
        return []
    found = []
    for part in set(observed) | set(baseline):
        base_share = baseline.get(part, 0.0) / total_base if total_base else 0.0
        share = (observed.get(part, 0.0) - expected * base_share) / excess_total
        if share > 0:
            found.append((part, share, base_share))
    return sorted(found, key=lambda item: (-(item[1] - item[2]), str(item[0])))


def top_contributors(
    kinds: Iterable[tuple[str, Mapping[Hashable, float], Mapping[Hashable, float]]],
    expected: float,
    limit: int = 3,
) -> list[tuple[str, Hashable, float]]:
    """``(kind, code, share of the excess)`` of the largest contributors of each kind, the most
    disproportionate first (see :func:`contributions`)."""
    found = [
        (kind, code, share, share - base)
        for kind, observed, baseline in kinds
        for code, share, base in contributions(observed, baseline, expected)[:limit]
    ]
    return [(kind, code, share) for kind, code, share, _ in sorted(found, key=lambda item: -item[3])]
