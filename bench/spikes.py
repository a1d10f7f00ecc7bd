"""Spike warnings (issue 12): the NAB score on realTweets and explanations of injected spikes.

    .venv/bin/python bench/spikes.py                  # both parts, about 2 minutes on 2 cores
    .venv/bin/python bench/spikes.py --skip explain   # NAB only

1. **NAB** (../shared/data/nab-anomaly, realTweets: mentions per 5 minutes): CivicPulse's detector
   (``insight.spikes``, one parameter set for all files, causal) and a windowed-Gaussian baseline
   run here (NAB's: mean and standard deviation of the last 6,400 values, score = Gaussian tail
   probability) each write NAB result files; NAB's own scorer (``_scripts/nab_score.py``, called,
   not copied) optimises the threshold and prints the normalised scores. Published figures from
   the MANIFEST are printed beside them.
2. **Explanations** (../shared/data/cfpb-consumer-complaints, payday-loan complaints per day by
   ``date_received``): on a chosen day one issue's volume is multiplied (×4, ×6 or ×8 its usual daily
   volume or that day's, whichever is larger; copies of that issue's complaints); the detector runs on the
   daily total and, where it warns, ``insight.spikes.top_contributors`` over issue (theme), state
   (place) and channel must name the injected issue first.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
from scipy import stats

from civicpulse.insight.spikes import SpikeDetector, SpikeRules, top_contributors

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
NAB = SHARED / "nab-anomaly"
CFPB = SHARED / "cfpb-consumer-complaints" / "payday_loans_issue_all.jsonl"
PUBLISHED = {  # realTweets only, standard profile (MANIFEST: derived from NAB's per-file scores)
    "Numenta HTM": 68.0,
    "Twitter ADVec": 59.6,
    "Windowed Gaussian (published)": 51.4,
    "Random Cut Forest": 48.1,
}
# 5-minute counts: a daily season of 288 steps, a week of history, a one-day start
NAB_RULES = SpikeRules(season=288, history=288 * 7, min_history=288, level_window=288, min_excess=0.0)
EPISODE = 288  # steps of one day


def nab_records() -> list[dict]:
    return [json.loads(line) for line in (NAB / "index.jsonl").open() if '"realTweets"' in line]


def read_values(path: Path) -> np.ndarray:
    with path.open() as handle:
        return np.array([float(row["value"]) for row in csv.DictReader(handle)])


def civicpulse_scores(values: np.ndarray) -> np.ndarray:
    """The detector's surprise scaled to [0, 1]; a step scores only when it is more surprising than
    every step of the day before (the start of an episode is what a warning announces)."""
    raw = np.array([min(v.surprise, 50.0) / 50.0 for v in SpikeDetector(NAB_RULES).run(values)])
    scores = np.zeros_like(raw)
    for t in range(raw.size):
        before = raw[max(0, t - EPISODE) : t]
        scores[t] = raw[t] if before.size == 0 or raw[t] > before.max() else 0.0
    return scores


def windowed_gaussian_scores(values: np.ndarray, window: int = 6400, step: int = 100) -> np.ndarray:
    """NAB's windowedGaussian detector: tail probability under the last ``window`` values."""
    scores = np.zeros_like(values)
    mean = std = 0.0
    for t, value in enumerate(values):
        if t % step == 0 and t >= 2:
            past = values[max(0, t - window) : t]
            mean, std = float(past.mean()), float(past.std())
        if std > 0:
            scores[t] = 1.0 - stats.norm.sf((value - mean) / std)  # upper tail, as NAB's
    return scores


def write_results(
    folder: Path, name: str, rec: dict, timestamps: list[str], values: np.ndarray, scores: np.ndarray
) -> None:
    category, file = rec["file"].split("/")
    out = folder / category / f"{name}_{file}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value", "anomaly_score"])
        writer.writerows(zip(timestamps, values, scores, strict=True))


def nab_score(folder: Path) -> dict[str, float]:
    output = subprocess.run(
        [
            sys.executable,
            str(NAB / "_scripts" / "nab_score.py"),
            "--results",
            str(folder),
            "--category",
            "realTweets",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=NAB,
    ).stdout
    return {
        line.split(":")[0]: float(line.split()[2]) for line in output.splitlines() if "normalised" in line
    }


def run_nab() -> None:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        ours, baseline = Path(tmp, "civicpulse"), Path(tmp, "gaussian")
        for rec in nab_records():
            path = NAB / rec["path"]
            with path.open() as handle:
                timestamps = [row["timestamp"] for row in csv.DictReader(handle)]
            values = read_values(path)
            write_results(ours, "civicpulse", rec, timestamps, values, civicpulse_scores(values))
            write_results(baseline, "gaussian", rec, timestamps, values, windowed_gaussian_scores(values))
        figures = {"CivicPulse": nab_score(ours), "Windowed Gaussian (this run)": nab_score(baseline)}
    print(
        f"\nNAB realTweets (10 files, 33 windows), normalised scores ({time.perf_counter() - started:.0f} s)"
    )
    print("| detector | standard | reward low FP | reward low FN |\n|---|---|---|---|")
    for name, score in figures.items():
        cells = [score[p] for p in ("standard", "reward_low_FP_rate", "reward_low_FN_rate")]
        print(f"| {name} | " + " | ".join(f"{c:.1f}" for c in cells) + " |")
    for name, standard in PUBLISHED.items():
        print(f"| {name} | {standard:.1f} | | |")


def cfpb_rows() -> list[dict]:
    return [json.loads(line) for line in CFPB.open()]


def run_explain(trials: int, seed: int) -> None:
    started = time.perf_counter()
    rows = cfpb_rows()
    by_day: dict[date, list[dict]] = defaultdict(list)
    for row in rows:
        by_day[datetime.strptime(row["date_received"], "%m/%d/%y").date()].append(row)
    first, last = min(by_day), max(by_day)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    issues = Counter(row["issue"] for row in rows)
    common = [issue for issue, n in issues.most_common() if n >= 100]
    rng = random.Random(seed)
    detector = SpikeDetector(SpikeRules())
    named = warned = 0
    rows_by_issue: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        rows_by_issue[row["issue"]].append(row)
    for _ in range(trials):
        issue = rng.choice(common)
        t = rng.randrange(60, len(days))
        factor = rng.choice((4, 6, 8))
        usual = sum(r["issue"] == issue for day in days[t - 28 : t] for r in by_day[day]) / 28
        today = sum(r["issue"] == issue for r in by_day[days[t]])
        added = max(1, round((factor - 1) * max(today, usual)))
        spiked = by_day[days[t]] + rng.choices(rows_by_issue[issue], k=added)
        total = np.array(
            [len(spiked) if i == t else len(by_day[day]) for i, day in enumerate(days)], dtype=float
        )
        verdict = detector.verdict(total, np.zeros(total.size, dtype=bool), t)
        if not verdict.alert:
            continue
        warned += 1
        baseline_days = days[t - 28 : t]
        kinds = []
        for kind, field in (("theme", "issue"), ("place", "state"), ("channel", "submitted_via")):
            observed = Counter(r[field] for r in spiked)
            base = Counter(r[field] for day in baseline_days for r in by_day[day])
            kinds.append((kind, observed, base))
        top = top_contributors(kinds, verdict.expected)
        named += bool(top) and top[0][0] == "theme" and top[0][1] == issue
    print(f"\nInjected spikes in CFPB payday-loan complaints per day ({time.perf_counter() - started:.0f} s)")
    print("| trials | warned | injected issue named first | share |\n|---|---|---|---|")
    print(f"| {trials} | {warned} | {named} | {100 * named / max(warned, 1):.1f} % |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip", action="append", default=[], choices=["nab", "explain"])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    if "nab" not in args.skip:
        run_nab()
    if "explain" not in args.skip:
        run_explain(args.trials, args.seed)


if __name__ == "__main__":
    main()
