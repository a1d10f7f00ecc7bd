"""Spike warnings (issue 12): the NAB score on realTweets, explanations of injected spikes, and
false alarms on demo-like daily series.

    .venv/bin/python bench/spikes.py                            # every part
    .venv/bin/python bench/spikes.py --skip explain --skip false-alarms   # NAB only
    .venv/bin/python bench/spikes.py --skip nab --skip explain  # false alarms only

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
3. **False alarms** (``examples/make_vietnamese_sample.py``, imported, not copied: its own records
   give each submission's topic and province, no analysis is run): daily counts of the total, every
   topic, province and topic × province of the demo itself (365 days, its history included) and of
   ``--draws`` redraws (seeds 1, 2, ...) by the same code over 2 years ending on the demo's last
   day, the everyday rate kept (``N_ROWS`` raised with the span; the planted bursts, at their fixed
   dates, come once).
   The detector runs as ``insight.warnings.detect`` runs it (default ``SpikeRules``, Vietnamese
   holidays, a warning per run of alert days, none below ``k_anonymity`` distinct senders; every
   generated submission has a sender of its own). A warning that overlaps the days of a planted
   burst (flood, water outage, school fees, petition campaign) on a series that carries it is that
   burst's detection; every other warning is a false alarm, counted per series per quarter of
   evaluated days (days with a verdict, the burst's days left out of the series that carry it).
   The generator makes a dip at Tết only; the detector leaves every holiday out all the same.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from types import ModuleType

import numpy as np
from scipy import stats

from civicpulse.insight.spikes import SpikeDetector, SpikeRules, alert_runs, holiday_mask, top_contributors
from civicpulse.settings import Settings

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
GENERATOR = Path(__file__).resolve().parents[1] / "examples" / "make_vietnamese_sample.py"
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
# the taxonomy topic each planted burst is about (the generator tags them, its background rows
# carry their topic); the flood is a natural disaster, the petition is against a waste plant
PLANTED_TOPICS = {
    "flood": "agriculture",
    "water_outage": "electricity_water",
    "school_fees": "education",
    "campaign": "environment",
}
REDRAW_DAYS = 730
QUARTER = 365.25 / 4
KINDS = ("total", "topic", "province", "topic × province")
BANDS = ("dense (≥ 1 a day)", "medium (0.1–1 a day)", "sparse (< 0.1 a day)")


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


@dataclass(frozen=True)
class DemoRecord:
    """One generated submission as the generator knows it: local day, topic, province and tag."""

    day: date
    topic: str | None
    province: str | None
    tag: str


@lru_cache(maxsize=1)
def demo_generator() -> ModuleType:
    """``examples/make_vietnamese_sample.py``, imported."""
    spec = importlib.util.spec_from_file_location("make_vietnamese_sample", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def demo_records(seed: int | None = None, days: int | None = None) -> list[DemoRecord]:
    """The demo's submissions with its year of history (``seed`` None, ``days`` None: the two files
    ``make demo-data`` imports) or a redraw with another seed and over ``days`` ending on the demo's
    last day; the spread-out rows (background, English, old names, rumours of no place) keep their
    daily rate, the bursts come once."""
    gen = demo_generator()
    if seed is None and days is None:
        return _labelled(gen, lambda: gen.history_drafts() + gen.build_drafts())
    demo_days = (gen.LAST_DAY - gen.FIRST_DAY).days + 1
    span = days or demo_days
    bursts = sum(1 for r in gen.RUMOURS if r[1]) + 45 + 25 + 20 + 40
    n_rows = gen.N_ROWS + round((gen.N_ROWS - bursts) * (span / demo_days - 1))
    original = (gen.FIRST_DAY, gen.N_ROWS)
    gen.FIRST_DAY, gen.N_ROWS = gen.LAST_DAY - timedelta(span - 1), n_rows
    try:
        return _labelled(gen, lambda: gen.build_drafts(gen.SEED if seed is None else seed))
    finally:
        gen.FIRST_DAY, gen.N_ROWS = original


def _labelled(gen: ModuleType, build: Callable[[], list]) -> list[DemoRecord]:
    """The records of the drafts ``build`` makes, each with the topic of the text it was drawn
    from (the generator's own label) and its province."""
    topic_of = {p: t for t, block in gen.TOPIC_TEXTS.items() for p in gen.paragraphs(block)}
    labels: dict[int, tuple[object, str | None, str]] = {}  # the draft kept: its id stays its own
    original = gen.vietnamese_draft

    def recording(rng, template, place, channel, when, tag, **options):
        draft = original(rng, template, place, channel, when, tag, **options)
        labels[id(draft)] = (draft, topic_of.get(template, PLANTED_TOPICS.get(tag)), place.province)
        return draft

    gen.vietnamese_draft = recording
    try:
        drafts = build()
    finally:
        gen.vietnamese_draft = original
    provinces = {row[1] for row in gen.LOCALITIES}
    found = []
    for d in drafts:
        _, topic, province = labels.get(id(d), (d, PLANTED_TOPICS.get(d.tag), None))
        if id(d) not in labels and d.locality:
            province = next((p for p in provinces if d.locality.endswith(p)), None)
        found.append(DemoRecord(d.received_at.date(), topic, province, d.tag))
    return found


SeriesKey = tuple[str | None, str | None]


def kind_of(key: SeriesKey) -> str:
    topic, province = key
    if topic is None:
        return "total" if province is None else "province"
    return "topic" if province is None else "topic × province"


def band_of(mean: float) -> str:
    return BANDS[0] if mean >= 1 else BANDS[1] if mean >= 0.1 else BANDS[2]


def daily_series(
    records: list[DemoRecord], first: date, n: int
) -> tuple[dict[SeriesKey, np.ndarray], dict[str, tuple[int, int, set[SeriesKey]]]]:
    """Daily counts of the total, every topic, province and topic × province with counts; and each
    planted burst's first and last day and the series that carry it."""
    series: dict[SeriesKey, np.ndarray] = defaultdict(lambda: np.zeros(n))
    planted: dict[str, tuple[int, int, set[SeriesKey]]] = {}
    for r in records:
        t = (r.day - first).days
        keys: list[SeriesKey] = [(None, None)]
        if r.topic:
            keys.append((r.topic, None))
        if r.province:
            keys.append((None, r.province))
        if r.topic and r.province:
            keys.append((r.topic, r.province))
        for key in keys:
            series[key][t] += 1
        if r.tag in PLANTED_TOPICS:
            low, high, carriers = planted.get(r.tag, (t, t, set()))
            planted[r.tag] = (min(low, t), max(high, t), carriers | set(keys))
    return dict(series), planted


def evaluated_days(holidays: np.ndarray, rules: SpikeRules) -> np.ndarray:
    """The steps that get a verdict on any series (working days with ``min_history`` working days
    before them; a 56-day history never holds fewer than 28 of them)."""
    before = np.concatenate(([0], np.cumsum(~holidays)[:-1]))
    return ~holidays & (before >= rules.min_history)


def false_alarm_rows(seed: int | None, days: int | None, k: int) -> tuple[list[dict], list[dict]]:
    """Per series: its kind, density band, false alarms, warnings suppressed by ``k`` and evaluated
    days; per planted burst and carrying series: whether a warning overlaps it."""
    records = demo_records(seed, days)
    first = min(r.day for r in records)
    n = (max(r.day for r in records) - first).days + 1
    rules = SpikeRules()
    holidays = holiday_mask(first, n)
    judged = evaluated_days(holidays, rules)
    detector = SpikeDetector(rules)
    series, planted = daily_series(records, first, n)
    rows, detections = [], []
    for key, y in series.items():
        runs = alert_runs(detector.run(y, holidays)) if y.max() >= rules.min_excess else []
        shown = [(a, b) for a, b in runs if y[a : b + 1].sum() >= k]
        windows = [(low, high, tag) for tag, (low, high, carriers) in planted.items() if key in carriers]
        outside = judged.copy()
        for low, high, tag in windows:
            outside[low : high + 1] = False
            hit = any(a <= high and b >= low for a, b in shown)
            judged_burst = bool(judged[low : high + 1].any())
            detections.append({"tag": tag, "kind": kind_of(key), "warned": hit, "judged": judged_burst})
        false = [(a, b) for a, b in shown if not any(a <= high and b >= low for low, high, _ in windows)]
        rows.append(
            {
                "kind": kind_of(key),
                "band": band_of(float(y.mean())),
                "false": len(false),
                "suppressed": len(runs) - len(shown),
                "days": int(outside.sum()),
            }
        )
    return rows, detections


def summary_table(rows: list[dict], field: str, groups: tuple[str, ...]) -> list[str]:
    lines = []
    for group in (*groups, "all"):
        part = [r for r in rows if group in ("all", r[field]) and r["days"] > 0]
        if not part:
            continue
        rates = np.array([r["false"] / (r["days"] / QUARTER) for r in part])
        quarters = sum(r["days"] for r in part) / QUARTER
        lines.append(
            f"| {group} | {len(part)} | {quarters:,.1f} | {sum(r['false'] for r in part)} | "
            f"{rates.mean():.3f} | {100 * np.mean(rates > 1):.2f} % | {rates.max():.2f} | "
            f"{sum(r['suppressed'] for r in part)} |"
        )
    return lines


def report_false_alarms(title: str, rows: list[dict], detections: list[dict]) -> None:
    head = (
        "| series | n | series-quarters | false alarms | per series per quarter (mean) | "
        "series over 1 per quarter | worst series | runs under k |\n|---|---|---|---|---|---|---|---|"
    )
    print(f"\n{title}\n{head}")
    print("\n".join(summary_table(rows, "kind", KINDS)))
    print(head)
    print("\n".join(summary_table(rows, "band", BANDS)))
    print("\nPlanted bursts warned (draws), by the kind of series that carries them")
    print("| burst | " + " | ".join(KINDS) + " |\n|---|---|---|---|---|")
    for tag in PLANTED_TOPICS:
        cells = []
        for kind in KINDS:
            found = [d for d in detections if d["tag"] == tag and d["kind"] == kind]
            hits = [d["warned"] for d in found if d["judged"]]
            cells.append(f"{sum(hits)}/{len(hits)}" if hits else "no verdict" if found else "")
        print(f"| {tag} | " + " | ".join(cells) + " |")


def run_false_alarms(draws: int, jobs: int) -> None:
    k = Settings.model_fields["k_anonymity"].default
    started = time.perf_counter()
    rows, detections = false_alarm_rows(None, None, k)
    report_false_alarms(
        f"Demo's own series (seeds {demo_generator().SEED} and {demo_generator().HISTORY_SEED}, 365 days, "
        f"k = {k}; {time.perf_counter() - started:.0f} s)",
        rows,
        detections,
    )
    started = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        parts = list(pool.map(false_alarm_rows, range(1, draws + 1), [REDRAW_DAYS] * draws, [k] * draws))
    report_false_alarms(
        f"{draws} redraws over {REDRAW_DAYS} days (seeds 1-{draws}, k = {k}; "
        f"{time.perf_counter() - started:.0f} s on {jobs} processes)",
        [r for part, _ in parts for r in part],
        [d for _, part in parts for d in part],
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip", action="append", default=[], choices=["nab", "explain", "false-alarms"])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--draws", type=int, default=40, help="redraws of the demo for false alarms")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    if "nab" not in args.skip:
        run_nab()
    if "explain" not in args.skip:
        run_explain(args.trials, args.seed)
    if "false-alarms" not in args.skip:
        run_false_alarms(args.draws, args.jobs)


if __name__ == "__main__":
    main()
