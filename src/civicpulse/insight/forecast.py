"""Forecasts with intervals for counts over time, one model chosen per series by backtest.

Input is a long frame ``unique_id, ds, y``. Each series keeps its last ``max_history`` points
(speed), is backtested over ``n_windows`` rolling origins of ``horizon`` steps, and gets the
candidate with the lowest MASE (errors scaled by the in-sample seasonal naive error): one of
``Setup.models`` (AutoETS, AutoARIMA, AutoTheta by default; MSTL for several seasons) or their mean
for regular series; Croston, TSB or ADIDA for intermittent ones (a share of zeros of at least
``intermittent_share``). A model name may carry its own season after ``@`` (``AutoTheta@52``: a
yearly season on weekly data) and the number of last points it is fitted on after ``~``
(``AutoARIMA~520``: ten years of weekly data, for speed). The combination (``Setup.combine``: the
mean or the median of the models, bounds included) is kept unless a single model backtests better by
``ensemble_margin`` (one backtest is noisy; the combination is the robust default). Intervals are
the models' own at 80 % and 95 %, conformal (statsforecast's ``ConformalIntervals``) for the
intermittent models, which have none, except on counts (every value a whole number, as trend
counts are): there each step's interval is the central range of a negative binomial count with the
forecast as its mean and the dispersion the backtest's errors show (variance ``μ + αμ²``, Poisson at
``α = 0``), whole numbers whose coverage is at least nominal where a symmetric band around a mean
of 0.3 a day would miss every day with one submission; when the backtest shows the model's own
interval missing more
than ``conformal_below`` of the points, the series gets conformal intervals instead. With
``calibrate``, the models' own half-widths are then scaled per model and level by one factor over
the group of series, so that the backtest windows are covered at the nominal rate (the factor is the
level's quantile of the model's backtest errors over their half-widths, pooled over every series
that keeps the models' own intervals, not only those that chose the model, whose errors are
optimistic, and without the series given conformal intervals, whose large errors would widen
everyone's; at least ``calibrate_min_points`` points are needed, otherwise the widths are kept).
Forecasts and bounds are never negative, and nested.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from civicpulse.errors import Unprocessable

os.environ.setdefault("NIXTLA_ID_AS_COL", "1")

LEVELS = (80, 95)
REGULAR = ("AutoETS", "AutoARIMA", "AutoTheta")
INTERMITTENT = ("CrostonOptimized", "TSB", "ADIDA")
CONFORMAL_WINDOWS = 2  # the windows the intermittent models' conformal intervals are fitted on
OUTPUT_COLUMNS = ("unique_id", "ds", "mean", "lo80", "hi80", "lo95", "hi95")
MAX_HORIZON = 28
log = logging.getLogger(__name__)


class InsufficientHistory(Unprocessable):
    """A series too short to backtest and forecast."""

    code = "insufficient_history"


@dataclass(frozen=True)
class Setup:
    """How series are forecast: ``freq`` is a pandas alias or 1 for integer steps."""

    season_length: int = 7
    freq: str | int = "D"
    max_history: int = 730
    n_windows: int = 2
    intermittent_share: float = 0.5
    ensemble_margin: float = 0.1
    conformal_below: float = 0.6
    n_jobs: int = 1
    models: tuple[str, ...] = REGULAR
    seasons: tuple[int, ...] = ()
    combine: str = "mean"
    calibrate: bool = True
    calibrate_min_points: int = 100

    @property
    def ensemble(self) -> str:
        """The name of the combination of the regular models."""
        return f"{self.combine.capitalize()}({','.join(self.models)})"

    def min_length(self, horizon: int, intermittent: bool = False) -> int:
        """The shortest history that can be backtested once and fitted: one window plus two seasons,
        or, for a mostly-zero series, one window plus what its conformal intervals hold out."""
        return horizon + self.reserve(horizon, intermittent)

    def reserve(self, horizon: int, intermittent: bool = False) -> int:
        """Points a series keeps before its first backtest window: two seasons (at least 14); for a
        mostly-zero series also the ``CONFORMAL_WINDOWS`` windows its intervals are fitted on, and
        one point more (statsforecast's minimum)."""
        seasons = max(2 * self.season_length, 14)
        return max(seasons, CONFORMAL_WINDOWS * horizon + 1) if intermittent else seasons


@dataclass(frozen=True)
class Choice:
    """The model a series got, its backtest MASE, and where its intervals come from."""

    model: str
    backtest_mase: float
    intervals: str  # "model", "conformal" or "count"
    intermittent: bool


@dataclass
class Forecasts:
    """Points per series and step (``OUTPUT_COLUMNS``), the choice made for each series, and the
    factors that scaled the regular models' own half-widths, per model and level."""

    points: pd.DataFrame
    choices: dict[str, Choice] = field(default_factory=dict)
    calibration: dict[str, dict[int, float]] = field(default_factory=dict)


def check_frame(frame: pd.DataFrame, horizon: int, setup: Setup) -> pd.DataFrame:
    """The frame sorted and trimmed to ``max_history`` points per series; a series shorter than
    ``setup.min_length`` raises ``InsufficientHistory`` naming it."""
    if not 1 <= horizon <= 10_000:
        raise Unprocessable(f"horizon must be positive, got {horizon}")
    data = frame[["unique_id", "ds", "y"]].copy()
    data["unique_id"] = data["unique_id"].astype(str)
    data["y"] = data["y"].astype(float)
    data = data.sort_values(["unique_id", "ds"], kind="stable")
    data = data.groupby("unique_id", sort=False).tail(setup.max_history).reset_index(drop=True)
    needed = setup.min_length(horizon)
    if data.empty:
        raise InsufficientHistory(
            f"no history to forecast: a series needs at least {needed} points", details={"needed": needed}
        )
    series = data.groupby("unique_id")["y"]
    lengths = series.size()
    sparse = series.agg(lambda y: is_intermittent(y, setup.intermittent_share))
    wanted = sparse.map(lambda flag: setup.min_length(horizon, bool(flag)))
    short = lengths[lengths < wanted]
    if len(short):
        names = ", ".join(f"{uid} ({n})" for uid, n in short.head(10).items())
        sparse_needed = setup.min_length(horizon, intermittent=True)
        raise InsufficientHistory(
            f"too little history to forecast {horizon} steps: each series needs at least {needed} "
            f"points ({sparse_needed} when mostly zeros); too short: {names}",
            details={
                "needed": needed,
                "needed_mostly_zeros": sparse_needed,
                "series": [str(uid) for uid in short.index[:100]],
            },
        )
    return data


def windows_for(length: int, horizon: int, setup: Setup, intermittent: bool = False) -> int:
    """How many backtest windows a series of ``length`` points allows (at least one)."""
    spare = length - setup.reserve(horizon, intermittent)
    return max(1, min(setup.n_windows, spare // horizon))


COMBINATIONS = ("mean", "median")


def _regular_model(name: str, setup: Setup) -> Any:
    """The statsforecast model a name stands for; ``Name@m`` sets its season length to ``m``."""
    from statsforecast.models import (
        MSTL,
        AutoARIMA,
        AutoCES,
        AutoETS,
        AutoTheta,
        DynamicOptimizedTheta,
        Naive,
        RandomWalkWithDrift,
        SeasonalNaive,
    )

    spec, _, last = name.partition("~")
    kind, _, season = spec.partition("@")
    m = int(season) if season else setup.season_length
    made = {
        "AutoETS": lambda: AutoETS(season_length=m, alias=name),
        "AutoARIMA": lambda: AutoARIMA(season_length=m, alias=name),
        "AutoTheta": lambda: AutoTheta(season_length=m, alias=name),
        "AutoCES": lambda: AutoCES(season_length=m, alias=name),
        "DynamicOptimizedTheta": lambda: DynamicOptimizedTheta(season_length=m, alias=name),
        "MSTL": lambda: MSTL(
            season_length=list(setup.seasons or (m,)), trend_forecaster=AutoETS(model="ZZN"), alias=name
        ),
        "SeasonalNaive": lambda: SeasonalNaive(
            season_length=m if season else max(setup.seasons or (m,)), alias=name
        ),
        "Naive": lambda: Naive(alias=name),
        "RandomWalkWithDrift": lambda: RandomWalkWithDrift(alias=name),
    }
    if kind not in made:
        raise ValueError(f"unknown model {name!r}; choose among {', '.join(made)}")
    return Recent(made[kind](), int(last)) if last else made[kind]()


class Recent:
    """A statsforecast model fitted on the last ``last`` points of each series only (``Name~n``)."""

    uses_exog = False

    def __init__(self, model: Any, last: int):
        self.model, self.last = model, last
        self.alias, self.prediction_intervals = model.alias, None

    def __repr__(self) -> str:
        return self.alias

    def new(self) -> Recent:
        return Recent(self.model.new(), self.last)

    def fit(self, y: np.ndarray, X: Any = None) -> Recent:
        self.model.fit(y[-self.last :])
        return self

    def predict(self, h: int, X: Any = None, level: Any = None) -> dict[str, Any]:
        return self.model.predict(h=h, level=level)

    def forecast(
        self,
        y: np.ndarray,
        h: int,
        X: Any = None,
        X_future: Any = None,
        level: Any = None,
        fitted: bool = False,
    ) -> dict[str, Any]:
        return self.model.forecast(y=y[-self.last :], h=h, level=level, fitted=fitted)


def _regular_models(setup: Setup) -> list[Any]:
    if setup.combine not in COMBINATIONS:
        raise ValueError(f"combine must be one of {', '.join(COMBINATIONS)}, got {setup.combine!r}")
    return [_regular_model(name, setup) for name in setup.models]


def _intermittent_models(horizon: int) -> list[Any]:
    from statsforecast.models import ADIDA, TSB, CrostonOptimized
    from statsforecast.utils import ConformalIntervals

    def conformal() -> Any:
        return ConformalIntervals(h=horizon, n_windows=CONFORMAL_WINDOWS)

    return [
        CrostonOptimized(prediction_intervals=conformal()),
        TSB(alpha_d=0.2, alpha_p=0.2, prediction_intervals=conformal()),
        ADIDA(prediction_intervals=conformal()),
    ]


def _with_combination(frame: pd.DataFrame, setup: Setup) -> pd.DataFrame:
    """Adds the combination of the regular models, bounds included (the same statistic of theirs)."""
    for suffix in ["", *(f"-{side}-{level}" for level in LEVELS for side in ("lo", "hi"))]:
        columns = frame[[name + suffix for name in setup.models]]
        combined = columns.median(axis=1) if setup.combine == "median" else columns.mean(axis=1)
        frame[setup.ensemble + suffix] = combined
    return frame


def error_ratios(y: np.ndarray, mean: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Each error over the half-width on its side (NaN where that half-width is not positive)."""
    above = y >= mean
    width = np.where(above, hi - mean, mean - lo)
    error = np.abs(y - mean)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(width > 0, error / width, np.nan)


def calibration_factors(cv: pd.DataFrame, model: str, min_points: int) -> dict[int, float]:
    """Per level, the factor by which ``model``'s own half-widths must be scaled for the backtest
    windows of all series to be covered at the nominal rate (1.0 with fewer than ``min_points``)."""
    factors = {}
    y, mean = cv["y"].to_numpy(), cv[model].to_numpy()
    for level in LEVELS:
        lo, hi = cv[f"{model}-lo-{level}"].to_numpy(), cv[f"{model}-hi-{level}"].to_numpy()
        ratios = error_ratios(y, mean, lo, hi)
        ratios = ratios[np.isfinite(ratios)]
        factors[level] = float(np.quantile(ratios, level / 100)) if len(ratios) >= min_points else 1.0
    return factors


def scaled(mean: np.ndarray, lo: np.ndarray, hi: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """The bounds moved away from (or towards) the mean by ``factor`` on each side."""
    return mean - factor * (mean - lo), mean + factor * (hi - mean)


def _scales(data: pd.DataFrame, season: int) -> pd.Series:
    """In-sample MAE of the seasonal naive per series (1 where it is 0: a flat series)."""

    def scale(y: pd.Series) -> float:
        values = y.to_numpy()
        lag = season if len(values) > season else 1
        mae = float(np.mean(np.abs(values[lag:] - values[:-lag]))) if len(values) > lag else 0.0
        return mae if mae > 0 else 1.0

    return data.groupby("unique_id")["y"].agg(scale)


def _conformal(cv: pd.DataFrame, model: str) -> pd.DataFrame:
    """Half-widths per series and level from the backtest's absolute errors (split conformal)."""
    errors = (cv["y"] - cv[model]).abs().groupby(cv["unique_id"])
    return pd.DataFrame({level: errors.quantile(level / 100) for level in LEVELS})


def count_dispersion(y: np.ndarray, mean: np.ndarray) -> float:
    """The negative binomial dispersion ``α`` (variance ``μ + αμ²``) that the squared errors of
    ``mean`` against the counts ``y`` show, by moments; 0 (Poisson) where they spread less."""
    level = float(np.mean(mean))
    if level <= 0:
        return 0.0
    return max(0.0, (float(np.mean((y - mean) ** 2)) - level) / float(np.mean(mean**2)))


def count_interval(mean: np.ndarray, dispersion: float, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Per step, the central ``level`` % range of a negative binomial count with that mean and
    ``dispersion`` (Poisson at 0): whole numbers covering at least ``level`` % of the probability."""
    from scipy import stats

    mu = np.clip(np.nan_to_num(mean, nan=0.0), 1e-9, None)
    tail = (1 - level / 100) / 2
    if dispersion <= 1e-9:
        counts = stats.poisson(mu)
    else:
        size = 1 / dispersion
        counts = stats.nbinom(size, size / (size + mu))
    return counts.ppf(tail), counts.ppf(1 - tail)


def _whole_numbers(data: pd.DataFrame) -> pd.Series:
    """Per series, whether every value is a whole number of at least 0 (a count)."""
    return data.groupby("unique_id")["y"].agg(lambda y: bool(((y >= 0) & (y == np.floor(y))).all()))


def _choose(
    cv: pd.DataFrame, candidates: Sequence[str], scales: pd.Series, setup: Setup, intermittent: bool
) -> dict[str, Choice]:
    scale = cv["unique_id"].map(scales)
    mase = pd.DataFrame(
        {name: ((cv["y"] - cv[name]).abs() / scale).groupby(cv["unique_id"]).mean() for name in candidates}
    )
    choices = {}
    for uid, row in mase.iterrows():
        best = str(row.idxmin())
        ensemble = setup.ensemble
        if not intermittent and best != ensemble and row[best] > row[ensemble] * (1 - setup.ensemble_margin):
            best = ensemble
        choices[str(uid)] = Choice(best, float(row[best]), "model", intermittent)
    if not intermittent:
        for uid, rows in cv.groupby("unique_id"):
            choice = choices[str(uid)]
            inside = (rows["y"] >= rows[f"{choice.model}-lo-80"]) & (
                rows["y"] <= rows[f"{choice.model}-hi-80"]
            )
            if inside.mean() < setup.conformal_below:
                choices[str(uid)] = Choice(choice.model, choice.backtest_mase, "conformal", False)
    else:
        choices = {uid: Choice(c.model, c.backtest_mase, "conformal", True) for uid, c in choices.items()}
    return choices


def _group(
    data: pd.DataFrame, horizon: int, setup: Setup, intermittent: bool
) -> tuple[pd.DataFrame, dict[str, Choice], dict[str, dict[int, float]]]:
    from statsforecast import StatsForecast

    models = _intermittent_models(horizon) if intermittent else _regular_models(setup)
    levels = list(LEVELS)
    engine = StatsForecast(models=models, freq=setup.freq, n_jobs=setup.n_jobs)
    sizes = data.groupby("unique_id").size()
    windows = int(sizes.map(lambda n: windows_for(n, horizon, setup, intermittent)).min())
    cv = engine.cross_validation(df=data, h=horizon, n_windows=windows, step_size=horizon, level=levels)
    future = engine.forecast(df=data, h=horizon, level=levels)
    if not intermittent:
        cv, future = _with_combination(cv, setup), _with_combination(future, setup)
    return settle(data, cv, future, setup, intermittent)


def settle(
    data: pd.DataFrame, cv: pd.DataFrame, future: pd.DataFrame, setup: Setup, intermittent: bool
) -> tuple[pd.DataFrame, dict[str, Choice], dict[str, dict[int, float]]]:
    """From the models' backtest ``cv`` and forecasts ``future`` (combination included), each
    series' choice, the calibration factors and the points: what ``forecast`` does after fitting."""
    candidates = list(INTERMITTENT) if intermittent else [*setup.models, setup.ensemble]
    first_cutoff = cv.groupby("unique_id")["cutoff"].min()
    history = data[data["ds"] <= data["unique_id"].map(first_cutoff)]
    choices = _choose(cv, candidates, _scales(history, setup.season_length), setup, intermittent)
    dispersion: dict[str, float] = {}
    if intermittent:
        counts = _whole_numbers(data)
        for uid, rows in cv.groupby("unique_id"):
            if counts[uid]:
                choice = choices[str(uid)]
                choices[str(uid)] = Choice(choice.model, choice.backtest_mase, "count", True)
                dispersion[str(uid)] = count_dispersion(rows["y"].to_numpy(), rows[choice.model].to_numpy())
    conformal = {
        model: _conformal(cv, model)
        for model in {c.model for c in choices.values() if c.intervals == "conformal" and not intermittent}
    }
    own = cv[cv["unique_id"].map(lambda uid: choices[str(uid)].intervals == "model")]
    factors = {
        model: calibration_factors(own, model, setup.calibrate_min_points)
        if setup.calibrate and not intermittent
        else dict.fromkeys(LEVELS, 1.0)
        for model in {c.model for c in choices.values()}
    }
    rows = []
    for uid, part in future.groupby("unique_id", sort=False):
        choice = choices[str(uid)]
        mean = part[choice.model].to_numpy()
        bounds = {}
        for level in LEVELS:
            if choice.intervals == "count":
                bounds[level] = count_interval(mean, dispersion[str(uid)], level)
            elif choice.intervals == "conformal" and not intermittent:
                width = float(conformal[choice.model].loc[uid, level])
                bounds[level] = (mean - width, mean + width)
            else:
                bounds[level] = scaled(
                    mean,
                    part[f"{choice.model}-lo-{level}"].to_numpy(),
                    part[f"{choice.model}-hi-{level}"].to_numpy(),
                    factors[choice.model][level],
                )
        rows.append(_points(str(uid), part["ds"], mean, bounds))
    return pd.concat(rows, ignore_index=True), choices, factors


def _points(uid: str, ds: pd.Series, mean: np.ndarray, bounds: dict[int, tuple[Any, Any]]) -> pd.DataFrame:
    """One series' points, clipped at 0 and nested: lo95 <= lo80 <= mean <= hi80 <= hi95."""
    mean = np.clip(np.nan_to_num(mean, nan=0.0), 0, None)
    lo80 = np.minimum(np.clip(np.nan_to_num(bounds[80][0], nan=0.0), 0, None), mean)
    hi80 = np.maximum(np.nan_to_num(bounds[80][1], nan=0.0), mean)
    lo95 = np.minimum(np.clip(np.nan_to_num(bounds[95][0], nan=0.0), 0, None), lo80)
    hi95 = np.maximum(np.nan_to_num(bounds[95][1], nan=0.0), hi80)
    return pd.DataFrame(
        {
            "unique_id": uid,
            "ds": ds.to_numpy(),
            "mean": mean,
            "lo80": lo80,
            "hi80": hi80,
            "lo95": lo95,
            "hi95": hi95,
        }
    )


def is_intermittent(y: pd.Series, share: float) -> bool:
    """Whether a series is mostly zeros (at least ``share`` of its points)."""
    return bool(len(y)) and float((y == 0).mean()) >= share


def forecast(
    frame: pd.DataFrame,
    horizon: int,
    setup: Setup | None = None,
    progress: Callable[[str], None] | None = None,
) -> Forecasts:
    """Forecasts ``horizon`` steps of every series of ``frame`` (``unique_id, ds, y``)."""
    setup = setup or Setup()
    data = check_frame(frame, horizon, setup)
    flags = data.groupby("unique_id")["y"].agg(lambda y: is_intermittent(y, setup.intermittent_share))
    parts, choices, calibration = [], {}, {}
    for intermittent in (False, True):
        ids = flags.index[flags == intermittent]
        if not len(ids):
            continue
        if progress:
            kind = "intermittent" if intermittent else "regular"
            progress(f"forecasting {len(ids)} {kind} series, {horizon} steps")
        points, chosen, factors = _group(data[data["unique_id"].isin(ids)], horizon, setup, intermittent)
        parts.append(points)
        choices.update(chosen)
        if not intermittent:
            calibration = factors
    points = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(OUTPUT_COLUMNS))
    return Forecasts(points=points, choices=choices, calibration=calibration)
