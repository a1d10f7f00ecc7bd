"""Forecast accuracy, intervals and speed: M4 weekly and hourly, and daily complaint counts.

M4 (``../shared/data/m4-weekly-hourly``, official test horizons: weekly 13, hourly 48): sMAPE, MASE
and OWA (against Naive2, as M4 defines it) of CivicPulse's per-series choice
(``civicpulse.insight.forecast``, backtest included in the time) beside Naive2, seasonal naive and
plain AutoETS computed in the same run, and the published M4 figures; empirical coverage of the
80 % and 95 % intervals on the test horizon. The test values are read only to score. With
``--validate`` the last horizon of each training series plays the test; the official test values
are then not read at all. The ``Setup``s below were chosen on four such windows inside the training
series by ``bench/forecast_candidates.py``. Times are wall clock and CPU seconds (this process and
its workers: what an idle machine would need, divided by the jobs), with the load average seen.

Complaints (``../shared/data/cfpb-consumer-complaints/payday_loans_issue_all.jsonl``): daily counts
by ``date_received`` (total and per sub-product), rolling-origin backtest of ``--windows`` origins
of 14 days: MASE (in-sample seasonal naive scale, m = 7) of the choice and of the seasonal naive,
and their ratio.

Demo (``examples/make_vietnamese_sample.py``, the records of ``bench/spikes.py``: each submission's
topic from the generator, no analysis): daily counts of the total and of every topic over the
demo's 365 days (its 91 days and the year before's everyday submissions, the two files
``make demo-data`` imports), the same backtest with as many 14-day origins as leave the first
origin a history the default ``Setup`` forecasts every series of (an intermittent series needs 57
days at h = 14).

``demo-unplanted``: the same without the 130 submissions of the planted bursts (all four fall in
the last 84 days: the flood and the campaign in the last 28). ``demo-redraws``: ``--draws`` redraws of the
demo by the same generator over 2 years (``bench/spikes.py``), planted bursts left out, through the
CFPB protocol (``--windows`` origins), figures averaged over the draws.

Usage: ``python bench/forecast.py [--only weekly,hourly,cfpb,demo,demo-unplanted,demo-redraws]
[--jobs 2] [--validate] [--json FILE]``.
Writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
M4 = DATA / "m4-weekly-hourly"
CFPB = DATA / "cfpb-consumer-complaints" / "payday_loans_issue_all.jsonl"
PUBLISHED = {
    "weekly": {"Theta": 0.971, "M4 winner (Smyl)": 0.851, "best weekly (Darin)": 0.739},
    "hourly": {"Theta": 1.006, "M4 winner (Smyl)": 0.440, "best hourly (Doornik et al.)": 0.410},
}
TARGET_OWA = {"weekly": 0.80, "hourly": 0.47}


def setups() -> dict[str, object]:
    from civicpulse.insight.forecast import Setup

    return {
        "weekly": Setup(
            season_length=1,
            freq=1,
            max_history=2600,
            n_windows=1,
            ensemble_margin=0.3,
            models=("AutoTheta@52", "AutoETS", "AutoARIMA~520", "SeasonalNaive@52"),
            combine="median",
        ),
        "hourly": Setup(
            season_length=24,
            freq=1,
            max_history=24 * 40,
            n_windows=1,
            ensemble_margin=0.3,
            models=("MSTL", "SeasonalNaive@24", "SeasonalNaive@168"),
            seasons=(24, 168),
            combine="median",
        ),
    }


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished workers."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def smape(y: np.ndarray, f: np.ndarray) -> float:
    return float(np.mean(200 * np.abs(y - f) / (np.abs(y) + np.abs(f))))


def mase(train: np.ndarray, y: np.ndarray, f: np.ndarray, m: int) -> float:
    scale = np.mean(np.abs(train[m:] - train[:-m]))
    return float(np.mean(np.abs(y - f)) / scale)


def seasonality(train: np.ndarray, m: int) -> bool:
    """M4's 90 % autocorrelation test for seasonality at lag ``m``."""
    if m <= 1 or len(train) < 3 * m:
        return False
    x = train - train.mean()
    acf = np.array([np.sum(x[k:] * x[: len(x) - k]) for k in range(m + 1)]) / np.sum(x * x)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(acf[1:m] ** 2)) / len(train))
    return bool(abs(acf[m]) > limit)


def naive2(train: np.ndarray, h: int, m: int) -> np.ndarray:
    """Naive on the series deseasonalised by classical multiplicative decomposition (M4's Naive2)."""
    if not seasonality(train, m):
        return np.repeat(train[-1], h)
    from statsmodels.tsa.seasonal import seasonal_decompose

    index = seasonal_decompose(train, model="multiplicative", period=m).seasonal[:m]
    n = len(train)
    adjusted = train / np.array([index[i % m] for i in range(n)])
    return adjusted[-1] * np.array([index[(n + i) % m] for i in range(h)])


def snaive(train: np.ndarray, h: int, m: int) -> np.ndarray:
    return np.array([train[len(train) - m + (i % m)] for i in range(h)])


def load_m4(name: str, validate: bool = False, every: int = 1) -> list[dict]:
    """Every ``every``-th series; with ``validate``, each train's last horizon as the test."""
    with open(M4 / f"{name}.jsonl", encoding="utf-8") as handle:
        series = [json.loads(line) for line in handle][::every]
    if validate:
        for s in series:
            h = s["horizon"]
            s["train"], s["test"] = s["train"][:-h], s["train"][-h:]
    return series


def long_frame(series: list[dict]) -> pd.DataFrame:
    return pd.concat(
        pd.DataFrame({"unique_id": s["id"], "ds": np.arange(len(s["train"])), "y": s["train"]})
        for s in series
    )


def scores(series: list[dict], forecasts: dict[str, np.ndarray]) -> tuple[float, float]:
    s = [smape(np.array(x["test"]), forecasts[x["id"]]) for x in series]
    m = [
        mase(np.array(x["train"]), np.array(x["test"]), forecasts[x["id"]], x["season_length"])
        for x in series
    ]
    return float(np.mean(s)), float(np.mean(m))


def plain_ets(series: list[dict], setup, jobs: int) -> dict[str, np.ndarray]:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoETS

    h = series[0]["horizon"]
    frame = long_frame(series).groupby("unique_id").tail(setup.max_history)
    out = StatsForecast(models=[AutoETS(season_length=setup.season_length)], freq=1, n_jobs=jobs).forecast(
        df=frame, h=h
    )
    return {uid: part["AutoETS"].to_numpy() for uid, part in out.groupby("unique_id")}


def run_m4(name: str, jobs: int, validate: bool = False, every: int = 1) -> dict:
    from dataclasses import replace

    from civicpulse.insight.forecast import forecast

    series = load_m4(name, validate, every)
    h, m = series[0]["horizon"], series[0]["season_length"]
    setup = replace(setups()[name], n_jobs=jobs)
    load_before = os.getloadavg()
    started, cpu_started = time.perf_counter(), cpu_seconds()
    result = forecast(long_frame(series), h, setup)
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    points = {uid: part for uid, part in result.points.groupby("unique_id")}
    ours = {uid: part["mean"].to_numpy() for uid, part in points.items()}
    rows = {
        "Naive2": {s["id"]: naive2(np.array(s["train"]), h, m) for s in series},
        "seasonal naive": {s["id"]: snaive(np.array(s["train"]), h, m) for s in series},
    }
    ets_started = time.perf_counter()
    rows["AutoETS (plain)"] = plain_ets(series, setup, jobs)
    ets_seconds = time.perf_counter() - ets_started
    rows["CivicPulse (per-series choice)"] = ours
    base_smape, base_mase = scores(series, rows["Naive2"])
    table = {}
    for method, fc in rows.items():
        s, q = scores(series, fc)
        table[method] = {"smape": s, "mase": q, "owa": (s / base_smape + q / base_mase) / 2}
    coverage = {}
    for level in (80, 95):
        inside = [
            np.mean(
                (np.array(s["test"]) >= points[s["id"]][f"lo{level}"])
                & (np.array(s["test"]) <= points[s["id"]][f"hi{level}"])
            )
            for s in series
        ]
        coverage[level] = float(np.mean(inside)) * 100
    return {
        "series": len(series),
        "forecast": len(points),
        "horizon": h,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "plain_ets_seconds": ets_seconds,
        "load_before": load_before,
        "load_after": os.getloadavg(),
        "table": table,
        "coverage": coverage,
        "models": Counter(c.model for c in result.choices.values()),
        "conformal": sum(c.intervals == "conformal" for c in result.choices.values()),
        "calibration": {
            model: {level: round(f, 3) for level, f in per_level.items()}
            for model, per_level in result.calibration.items()
        },
        "setup": {
            "season_length": setup.season_length,
            "max_history": setup.max_history,
            "n_windows": setup.n_windows,
            "models": setup.models,
            "combine": setup.combine,
        },
    }


def cfpb_frame() -> pd.DataFrame:
    counts: Counter[tuple[str, date]] = Counter()
    with open(CFPB, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            day = datetime.strptime(row["date_received"], "%m/%d/%y").date()
            counts[("all", day)] += 1
            counts[(row["sub_product"], day)] += 1
    first, last = min(d for _, d in counts), max(d for _, d in counts)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ids = sorted({uid for uid, _ in counts})
    return pd.DataFrame(
        [{"unique_id": uid, "ds": pd.Timestamp(d), "y": float(counts[(uid, d)])} for uid in ids for d in days]
    )


def demo_frame(seed: int | None = None, days: int | None = None, planted: bool = True) -> pd.DataFrame:
    """Daily submissions of the demo (or of a redraw, see ``bench/spikes.py``), in total and per
    topic (the generator's own topics); ``planted`` False leaves the planted bursts out."""
    sys.path.insert(0, str(ROOT / "bench"))
    from spikes import PLANTED_TOPICS, demo_records

    counts: Counter[tuple[str, date]] = Counter()
    records = demo_records(seed, days)
    for record in records:
        if not planted and record.tag in PLANTED_TOPICS:
            continue
        counts[("all", record.day)] += 1
        if record.topic:
            counts[(record.topic, record.day)] += 1
    first, last = min(r.day for r in records), max(r.day for r in records)
    span = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    ids = sorted({uid for uid, _ in counts})
    return pd.DataFrame(
        [{"unique_id": uid, "ds": pd.Timestamp(d), "y": float(counts[(uid, d)])} for uid in ids for d in span]
    )


def demo_windows(days: int, horizon: int) -> int:
    """The most origins that leave the first one a history the default ``Setup`` forecasts every
    series of: its own backtest's ``n_windows`` horizons, and, for intermittent series, the
    conformal intervals' 2 horizons and a point more within the first backtest window's history."""
    from civicpulse.insight.forecast import Setup

    setup = Setup(season_length=7, freq="D")
    needed = max(setup.min_length(horizon), (setup.n_windows + 2) * horizon + 1)
    return (days - needed) // horizon


def run_cfpb(windows: int, horizon: int) -> dict:
    return backtest(cfpb_frame(), windows, horizon)


def run_demo(horizon: int, planted: bool = True) -> dict:
    frame = demo_frame(planted=planted)
    return backtest(frame, demo_windows(frame["ds"].nunique(), horizon), horizon)


def run_redraws(draws: int, windows: int, horizon: int) -> dict:
    """The CFPB protocol on ``draws`` redraws of the demo over 2 years, planted bursts left out
    (they fall at fixed dates inside the last 84 days); per-series figures averaged over the draws."""
    frames = [demo_frame(seed, 730, planted=False) for seed in range(1, draws + 1)]
    results = [backtest(frame, windows, horizon) for frame in frames]
    rows = pd.DataFrame([{"unique_id": uid, **row} for r in results for uid, row in r["per_series"].items()])
    summary = rows.groupby("unique_id")[["mase", "snaive_mase", "cover80", "cover95"]].mean()
    summary["ratio"] = summary["mase"] / summary["snaive_mase"]
    return {
        "days": results[0]["days"],
        "origins": windows,
        "horizon": horizon,
        "draws": draws,
        "per_series": summary.round(3).to_dict(orient="index"),
        "all_mase": float(np.mean([r["all_mase"] for r in results])),
        "all_snaive_mase": float(np.mean([r["all_snaive_mase"] for r in results])),
    }


def backtest(frame: pd.DataFrame, windows: int, horizon: int) -> dict:
    """Rolling-origin backtest of ``windows`` origins of ``horizon`` days through the default
    ``Setup``: MASE of the choice and of the seasonal naive per series and origin."""
    from civicpulse.insight.forecast import Setup, forecast

    setup = Setup(season_length=7, freq="D")
    ends = sorted(frame["ds"].unique())
    per_origin = []
    for w in range(windows, 0, -1):
        cutoff = ends[-1 - w * horizon]
        train = frame[frame["ds"] <= cutoff]
        test = frame[(frame["ds"] > cutoff) & (frame["ds"] <= cutoff + pd.Timedelta(days=horizon))]
        result = forecast(train, horizon, setup)
        merged = test.merge(result.points, on=["unique_id", "ds"])
        for uid, part in merged.groupby("unique_id"):
            history = train[train["unique_id"] == uid]["y"].to_numpy()
            y, f = part["y"].to_numpy(), part["mean"].to_numpy()
            naive = snaive(history, horizon, 7)[: len(y)]
            per_origin.append(
                {
                    "unique_id": uid,
                    "cutoff": str(pd.Timestamp(cutoff).date()),
                    "model": result.choices[uid].model,
                    "mase": mase(history, y, f, 7),
                    "snaive_mase": mase(history, y, naive, 7),
                    "cover80": float(np.mean((y >= part["lo80"]) & (y <= part["hi80"]))),
                    "cover95": float(np.mean((y >= part["lo95"]) & (y <= part["hi95"]))),
                }
            )
    table = pd.DataFrame(per_origin)
    summary = table.groupby("unique_id")[["mase", "snaive_mase", "cover80", "cover95"]].mean()
    summary["ratio"] = summary["mase"] / summary["snaive_mase"]
    total = table[table["unique_id"] == "all"]
    return {
        "days": int(frame["ds"].nunique()),
        "origins": windows,
        "horizon": horizon,
        "per_series": summary.round(3).to_dict(orient="index"),
        "all_mase": float(table["mase"].mean()),
        "all_snaive_mase": float(table["snaive_mase"].mean()),
        "total_by_origin": total[["cutoff", "model", "mase", "snaive_mase"]]
        .round(3)
        .to_dict(orient="records"),
        "total_interval": origin_bootstrap(total["mase"].to_numpy(), total["snaive_mase"].to_numpy()),
    }


def origin_bootstrap(ours: np.ndarray, naive: np.ndarray, draws: int = 2000) -> dict[str, list[float]]:
    """95 % intervals of the mean MASE and of its ratio to the seasonal naive's, origins resampled."""
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(ours), size=(draws, len(ours)))
    means, ratios = ours[picks].mean(axis=1), ours[picks].mean(axis=1) / naive[picks].mean(axis=1)
    return {
        "mase": [round(float(v), 3) for v in np.percentile(means, [2.5, 97.5])],
        "ratio": [round(float(v), 3) for v in np.percentile(ratios, [2.5, 97.5])],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="weekly,hourly,cfpb,demo")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--windows", type=int, default=6)
    parser.add_argument("--validate", action="store_true", help="score on each train's last horizon")
    parser.add_argument("--every", type=int, default=1, help="every N-th M4 series only (quick runs)")
    parser.add_argument("--draws", type=int, default=5, help="redraws of the demo (demo-redraws)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    out: dict = {}
    total = cpu_total = 0.0
    for name in args.only.split(","):
        if name in ("weekly", "hourly"):
            result = run_m4(name, args.jobs, args.validate, args.every)
            total += result["seconds"]
            cpu_total += result["cpu_seconds"]
            out[name] = result
            split = "validation (train's last horizon)" if args.validate else "test"
            print(
                f"\n== M4 {name} on the {split}: {result['forecast']}/{result['series']} series, "
                f"h={result['horizon']}, {result['seconds']:.1f} s wall, {result['cpu_seconds']:.1f} CPU s "
                f"with backtest (load {result['load_before'][0]:.1f} -> {result['load_after'][0]:.1f}); "
                f"plain AutoETS {result['plain_ets_seconds']:.1f} s"
            )
            print(f"{'method':34} {'sMAPE':>8} {'MASE':>8} {'OWA':>7}")
            for method, row in result["table"].items():
                print(f"{method:34} {row['smape']:8.3f} {row['mase']:8.3f} {row['owa']:7.3f}")
            for method, owa in PUBLISHED[name].items():
                print(f"{method + ' (published)':34} {'':8} {'':8} {owa:7.3f}")
            print(
                f"target OWA <= {TARGET_OWA[name]}; coverage 80 %: {result['coverage'][80]:.1f}, "
                f"95 %: {result['coverage'][95]:.1f}; models {dict(result['models'])}; "
                f"conformal {result['conformal']}; interval factors {result['calibration']}"
            )
        elif name in ("cfpb", "demo", "demo-unplanted", "demo-redraws"):
            result = {
                "cfpb": lambda: run_cfpb(args.windows, 14),
                "demo": lambda: run_demo(14),
                "demo-unplanted": lambda: run_demo(14, planted=False),
                "demo-redraws": lambda: run_redraws(args.draws, args.windows, 14),
            }[name]()
            out[name] = result
            title = {
                "cfpb": "CFPB payday-loan complaints",
                "demo": "Demo submissions",
                "demo-unplanted": "Demo submissions, planted bursts left out,",
                "demo-redraws": f"Demo redrawn {args.draws} times over 2 years, planted bursts left out,",
            }[name]
            print(
                f"\n== {title} per day: {result['days']} days, "
                f"{result['origins']} origins x {result['horizon']} days; all series: "
                f"MASE {result['all_mase']:.3f}, sNaive {result['all_snaive_mase']:.3f}"
            )
            for uid, row in result["per_series"].items():
                print(
                    f"{uid:40} MASE {row['mase']:.3f}  sNaive {row['snaive_mase']:.3f}  "
                    f"ratio {row['ratio']:.3f}  cover80 {row['cover80']:.2f} cover95 {row['cover95']:.2f}"
                )
            if "total_interval" in result:
                interval = result["total_interval"]
                print(
                    f"total, 95 % interval over origins: MASE {interval['mase']}, ratio {interval['ratio']}; "
                    "by origin (cutoff model MASE sNaive):"
                )
                for row in result["total_by_origin"]:
                    print(f"  {row['cutoff']} {row['model']:34} {row['mase']:.3f} {row['snaive_mase']:.3f}")
    if total:
        print(
            f"\nM4 total with backtest: {total:.1f} s wall, {cpu_total:.1f} CPU s on {args.jobs} jobs "
            f"({os.cpu_count()} CPUs)"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
