"""Choosing the forecast models on the training series alone (issue 12).

Each candidate model is backtested once over ``--windows`` rolling origins of one horizon at the
end of each M4 training series (the official test values are dropped as the series are read) and
cached under ``--cache``. From the cache: OWA (against Naive2 in each window) of every model and of
the mean and the median of every subset of 2 to 5 models, over all windows and per window; then,
for the best of them, what ``civicpulse.insight.forecast`` makes of them (``settle``: per-series
choice and calibrated intervals from the one or two windows before) replayed on each later
window: OWA and the coverage of the 80 % and 95 % intervals.

Usage: ``python bench/forecast_candidates.py --set weekly [--every 4] [--windows 4] [--jobs 1]``
(``--models A,B`` backtests only those; ``--top N`` replays the N best combinations).
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from forecast import cpu_seconds, load_m4, long_frame, naive2, setups

# candidate -> the last points it is fitted on in each window (None: the whole history)
CANDIDATES: dict[str, dict[str, int | None]] = {
    "weekly": {
        "SeasonalNaive@52": None,
        "Naive": None,
        "RandomWalkWithDrift": None,
        "DynamicOptimizedTheta": None,
        "AutoTheta@52": None,
        "AutoETS": None,
        "AutoCES": None,
        "AutoARIMA": 520,
    },
    "hourly": {
        "SeasonalNaive@24": None,
        "SeasonalNaive@168": None,
        "MSTL": None,
        "DynamicOptimizedTheta@168": None,
        "DynamicOptimizedTheta@24": None,
        "AutoTheta@24": None,
        "AutoETS@24": None,
        "AutoCES@24": None,
    },
}
MARGINS = (0.1, 0.3, 1.0)


def backtest(name: str, frame: pd.DataFrame, setup, h: int, windows: int, last: int | None, jobs: int):
    """One candidate's rolling-origin backtest and the CPU seconds it took."""
    from statsforecast import StatsForecast

    from civicpulse.insight.forecast import LEVELS, _regular_model

    started = cpu_seconds()
    engine = StatsForecast(models=[_regular_model(name, setup)], freq=1, n_jobs=jobs)
    cv = engine.cross_validation(
        df=frame, h=h, n_windows=windows, step_size=h, input_size=last, level=list(LEVELS)
    )
    return cv, cpu_seconds() - started


def cached_backtests(args, series: list[dict], setup) -> tuple[pd.DataFrame, dict[str, float]]:
    """Every candidate's backtest (from the cache when there), merged into one frame."""
    folder = args.cache / f"{args.set}-every{args.every}-w{args.windows}"
    folder.mkdir(parents=True, exist_ok=True)
    frame, h = long_frame(series), series[0]["horizon"]
    names = args.models.split(",") if args.models else list(CANDIDATES[args.set])
    merged, cpu = None, {}
    for name in names:
        path = folder / f"{name}.pkl"
        if not path.exists():
            started = time.perf_counter()
            cv, seconds = backtest(name, frame, setup, h, args.windows, CANDIDATES[args.set][name], args.jobs)
            path.write_bytes(pickle.dumps((cv, seconds)))
            print(f"{name}: {seconds:.1f} CPU s, {time.perf_counter() - started:.1f} s wall", flush=True)
        cv, cpu[name] = pickle.loads(path.read_bytes())
        merged = cv if merged is None else merged.merge(cv, on=["unique_id", "ds", "cutoff", "y"])
    merged = merged.sort_values(["unique_id", "cutoff", "ds"]).reset_index(drop=True)
    merged["window"] = merged.groupby("unique_id")["cutoff"].rank(method="dense").astype(int) - 1
    return merged, cpu


class Judge:
    """sMAPE, MASE and OWA against Naive2 per (series, window), forecasts shaped like ``y``."""

    def __init__(self, cv: pd.DataFrame, series: list[dict], h: int, m: int):
        trains = {s["id"]: np.array(s["train"]) for s in series}
        keys = cv[["unique_id", "cutoff", "window"]].drop_duplicates().to_numpy()
        self.windows = keys[:, 2].astype(int)
        self.y = cv["y"].to_numpy().reshape(len(keys), h)
        histories = [trains[uid][: int(cutoff) + 1] for uid, cutoff, _ in keys]
        self.scale = np.array([np.mean(np.abs(t[m:] - t[:-m])) for t in histories])[:, None]
        base = np.array([naive2(t, h, m) for t in histories])
        self.base_smape, self.base_mase = self.errors(base)
        self.h = h

    def errors(self, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        smape = np.mean(200 * np.abs(self.y - f) / (np.abs(self.y) + np.abs(f)), axis=1)
        return smape, np.mean(np.abs(self.y - f) / self.scale, axis=1)

    def owa(self, f: np.ndarray, where: np.ndarray | None = None) -> float:
        smape, mase = self.errors(f)
        w = np.isfinite(smape) & np.isfinite(mase) & (True if where is None else where)
        return float(
            (smape[w].mean() / self.base_smape[w].mean() + mase[w].mean() / self.base_mase[w].mean()) / 2
        )

    def per_window(self, f: np.ndarray) -> list[float]:
        return [self.owa(f, self.windows == k) for k in range(self.windows.max() + 1)]


def combinations(names: list[str]) -> list[tuple[str, tuple[str, ...]]]:
    out = [("single", (name,)) for name in names]
    for size in range(2, min(5, len(names)) + 1):
        for members in itertools.combinations(names, size):
            out += [("mean", members), ("median", members)]
    return out


def combined(cv: pd.DataFrame, how: str, members: tuple[str, ...], h: int) -> np.ndarray:
    stack = np.stack([cv[name].to_numpy() for name in members])
    values = np.nanmedian(stack, axis=0) if how == "median" else np.nanmean(stack, axis=0)
    return values.reshape(-1, h)


def replay(cv: pd.DataFrame, data: pd.DataFrame, judge: Judge, setup, first: int) -> dict:
    """The per-series choice and calibration of ``settle`` fed the ``setup.n_windows`` windows
    before each window from ``first`` on, scored on that window."""
    from civicpulse.insight.forecast import _with_combination, settle

    cv = _with_combination(cv.copy(), setup)
    forecasts, covered = [], {80: [], 95: []}
    models = []
    for k in range(first, int(cv["window"].max()) + 1):
        before = cv[cv["window"].between(k - setup.n_windows, k - 1)]
        target = cv[cv["window"] == k]
        points, choices, _ = settle(data, before, target, setup, False)
        points = points.set_index(["unique_id", "ds"]).loc[
            list(zip(target["unique_id"], target["ds"], strict=True))
        ]
        forecasts.append(target[["unique_id", "cutoff", "ds"]].assign(mean=points["mean"].to_numpy()))
        for level in covered:
            y = target["y"].to_numpy()
            covered[level].append(
                (y >= points[f"lo{level}"].to_numpy()) & (y <= points[f"hi{level}"].to_numpy())
            )
        models += [c.model for c in choices.values()]
    where = judge.windows >= first
    f = np.full(judge.y.shape, np.nan)
    ordered = pd.concat(forecasts).sort_values(["unique_id", "cutoff", "ds"])
    f[where] = ordered["mean"].to_numpy().reshape(-1, judge.h)
    ensemble = sum(m == setup.ensemble for m in models) / len(models)
    return {
        "owa": judge.owa(np.where(np.isnan(f), judge.y, f), where),
        "cover80": 100 * float(np.mean(np.concatenate(covered[80]))),
        "cover95": 100 * float(np.mean(np.concatenate(covered[95]))),
        "ensemble_share": ensemble,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("weekly", "hourly"), required=True)
    parser.add_argument("--every", type=int, default=4)
    parser.add_argument("--windows", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--models", default="")
    parser.add_argument("--top", type=int, default=6)
    parser.add_argument("--margins", default=",".join(map(str, MARGINS)), help="ensemble margins replayed")
    parser.add_argument("--conformal-below", default="0.6", help="conformal_below values replayed")
    parser.add_argument("--before", default="1,2", help="backtest windows before each replayed one")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/civicpulse-forecast-candidates"))
    args = parser.parse_args()
    series = load_m4(args.set, every=args.every)
    for s in series:
        s.pop("test")
    setup = setups()[args.set]
    h, m = series[0]["horizon"], series[0]["season_length"]
    cv, cpu = cached_backtests(args, series, setup)
    names = args.models.split(",") if args.models else list(CANDIDATES[args.set])
    judge = Judge(cv, series, h, m)
    print(f"\n{args.set}: {len(series)} series, {args.windows} windows of {h}, training values only")
    print("CPU s per candidate (all windows): " + ", ".join(f"{n} {s:.0f}" for n, s in cpu.items()))
    rows = []
    for how, members in combinations(names):
        f = combined(cv, how, members, h)
        rows.append({"how": how, "members": members, "owa": judge.owa(f), "windows": judge.per_window(f)})
    table = pd.DataFrame(rows).sort_values("owa").reset_index(drop=True)
    current = (setup.combine, setup.models)
    print(f"\n{'combination':88} {'OWA':>6}  per window")
    shown = pd.concat([table.head(15), table[table["how"] == "single"]]).drop_duplicates("owa")
    for _, row in shown.iterrows():
        label = f"{row['how']}({', '.join(row['members'])})"
        print(f"{label:88} {row['owa']:6.3f}  {' '.join(f'{w:.3f}' for w in row['windows'])}")
    mark = table[(table["how"] == current[0]) & (table["members"].map(set) == set(current[1]))]
    if len(mark):
        rank = int(mark.index[0]) + 1
        print(f"current {current[0]}({', '.join(current[1])}): OWA {mark['owa'].iloc[0]:.3f}, rank {rank}")
    data = long_frame(series)
    print(
        f"\nreplayed choice on windows 3..{args.windows} (OWA, 80 % / 95 % cover, share of the combination)"
    )
    picks = [tuple(r) for r in table[table["how"] != "single"].head(args.top)[["how", "members"]].to_numpy()]
    if current not in picks and all(n in names for n in current[1]):
        picks.append(current)
    grid = itertools.product(
        picks,
        map(int, args.before.split(",")),
        map(float, args.margins.split(",")),
        map(float, args.conformal_below.split(",")),
    )
    for (how, members), windows, margin, below in grid:
        trial = replace(
            setup,
            models=tuple(members),
            combine=how,
            n_windows=windows,
            ensemble_margin=margin,
            conformal_below=below,
        )
        out = replay(cv, data, judge, trial, first=2)
        print(
            f"{how}({', '.join(members)}) windows {windows} margin {margin} conformal below {below}: "
            f"OWA {out['owa']:.3f}, "
            f"{out['cover80']:.1f} / {out['cover95']:.1f}, combination {out['ensemble_share']:.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
