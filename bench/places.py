"""Places stage: province and commune resolution on hand-written complaints, and throughput.

Run: ``.venv/bin/python bench/places.py`` (optionally ``--repeat N`` for the speed run).
Beside the stage, a trivial baseline finds only the current provinces' names, exactly as written.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.gazetteer import gazetteer
from civicpulse.analysis.places import PlacesStage
from civicpulse.settings import Settings

GOLD = Path(__file__).parent / "data" / "places_gold.jsonl"

Prediction = tuple[str | None, str | None]


def load_gold() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def baseline() -> Callable[[str, str | None], Prediction]:
    """The first current province whose short or full name appears verbatim in the text or hint."""
    names = []
    for unit in gazetteer().provinces.values():
        short = unit.name.removeprefix("Tỉnh ").removeprefix("Thành phố ")
        names += [(unit.name, unit.code), (short, unit.code)]

    def predict(text: str, locality: str | None) -> Prediction:
        for source in (text, locality or ""):
            hits = [(source.find(name), code) for name, code in names if name in source]
            if hits:
                return min(hits)[1], None
        return None, None

    return predict


def stage_predictor(stage: PlacesStage) -> Callable[[str, str | None], Prediction]:
    def predict(text: str, locality: str | None) -> Prediction:
        out = stage.analyse(text, locality)
        return (
            out.province.code if out.province else None,
            out.commune.code if out.commune else None,
        )

    return predict


def score(gold: list[dict[str, Any]], predict: Callable[[str, str | None], Prediction]) -> dict[str, Any]:
    """Accuracy of the province and of the commune (both exact, ``None`` included) overall and by kind."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    misses = []
    for row in gold:
        province, commune = predict(row["text"], row.get("locality"))
        ok_p, ok_c = province == row["province_code"], commune == row["commune_code"]
        for key in ("all", row["category"], f"split:{row.get('split', 'dev')}"):
            totals[key][0] += 1
            totals[key][1] += ok_p
            totals[key][2] += ok_c
        if not (ok_p and ok_c):
            misses.append((row["text"], row["province_code"], row["commune_code"], province, commune))
    return {"totals": dict(totals), "misses": misses}


def throughput(stage: PlacesStage, gold: list[dict[str, Any]], repeat: int) -> float:
    items = [
        AnalysisItem(id=i, text=row["text"], locality=row.get("locality"))
        for i, row in enumerate(gold * repeat)
    ]
    started = time.perf_counter()
    for start in range(0, len(items), 64):
        stage.process(items[start : start + 64])
    return len(items) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20, help="copies of the gold set for the speed run")
    parser.add_argument("--misses", action="store_true", help="print the stage's errors")
    args = parser.parse_args()

    gold = load_gold()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stage = PlacesStage(Settings())
    started = time.perf_counter()
    stage._gazetteer()
    load_s = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    ours, base = score(gold, stage_predictor(stage)), score(gold, baseline())
    print(f"places gold: {len(gold)} sentences ({GOLD.name})")
    print(
        "| subset | n | province acc (stage) | province acc (baseline) | commune acc (stage) |"
        " commune acc (baseline) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key in [
        "all",
        "split:dev",
        "split:blind",
        *sorted(k for k in ours["totals"] if k != "all" and ":" not in k),
    ]:
        n, p, c = ours["totals"][key]
        _, bp, bc = base["totals"][key]
        print(f"| {key} | {n} | {p / n:.3f} | {bp / n:.3f} | {c / n:.3f} | {bc / n:.3f} |")
    print(
        f"load: {load_s:.2f} s (read mapping, build index), peak RSS {rss_after:.0f} MiB "
        f"(before load {rss_before:.0f} MiB)"
    )
    print(
        f"speed: {throughput(stage, gold, args.repeat):,.0f} items/s on one core "
        f"({len(gold) * args.repeat} items, batches of 64)"
    )
    if args.misses:
        for miss in ours["misses"]:
            print("MISS", miss)


if __name__ == "__main__":
    main()
