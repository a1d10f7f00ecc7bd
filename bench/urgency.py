"""Urgency stage: precision, recall and F1 of "urgent", and deadline agreement, beside a keyword baseline.

Run: ``.venv/bin/python bench/urgency.py`` (``--rules FILE`` scores another rules file, ``--errors``
lists the stage's mistakes on the train half, ``--json`` prints the figures as JSON).

Gold: ``bench/data/urgency_gold.jsonl``, 325 Vietnamese and English submissions written for
CivicPulse (some Vietnamese typed without marks; hard negatives such as "xe máy chết máy", "cháy
hàng", "cần gấp giấy xác nhận"), each labelled ``urgent`` (a danger to someone's life, health or
safety that calls for action within days) and with the deadline class expected of the stage
(``1d``: act within a day, ``3d``: within three days, ``10wd``: the normal ten working days). The
rows are split in halves (``split``: train / dev, alternating within each language and label): rules
are chosen looking at train only; dev is reported once, with a 95 % bootstrap interval.

"Urgent" is a score at or above the deadlines' ``urgent_min_score`` (0.5: the score from which cases
are brought forward); the deadline class is the policy band the score falls in.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from civicpulse.analysis.features import fold_ascii
from civicpulse.analysis.urgency import UrgencyStage, load_rules
from civicpulse.settings import Settings

GOLD = Path(__file__).parent / "data" / "urgency_gold.jsonl"
URGENT_MIN_SCORE = 0.5
BOOTSTRAP = 2000
TODAY = dt.date(2026, 10, 14)

KEYWORDS = (
    "gap", "khan cap", "khan", "cap cuu", "chay", "chet", "nguy hiem", "cuu", "sap", "no", "lu", "ngap",
    "tai nan", "dien giat", "sat lo", "ngo doc", "urgent", "emergency", "fire", "dead", "danger",
    "flood", "help", "collapse", "injured", "asap",
)  # fmt: skip
"""The baseline: urgent when any of these words appears in the text folded to plain ASCII."""
_WORDS = re.compile(r"\w+")

Prediction = tuple[bool, str]


def load_gold() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def keyword_baseline(text: str) -> Prediction:
    words = " " + " ".join(_WORDS.findall(fold_ascii(text))) + " "
    urgent = any(f" {keyword} " in words for keyword in KEYWORDS)
    return urgent, "3d" if urgent else "10wd"


def stage_predictor(rules_file: Path | None) -> Callable[[str], Prediction]:
    stage = UrgencyStage(Settings(urgency_rules_file=rules_file))
    rules = load_rules(rules_file)

    def predict(text: str) -> Prediction:
        score = stage.assess(text, TODAY).score
        band = next(b for b in rules.policy if score >= b.min_score)
        return score >= URGENT_MIN_SCORE, f"{band.days}{'wd' if band.working_days else 'd'}"

    return predict


def counts(gold: Sequence[dict[str, Any]], predicted: Sequence[Prediction]) -> dict[str, float]:
    tp = sum(g["urgent"] and p[0] for g, p in zip(gold, predicted, strict=True))
    fp = sum(not g["urgent"] and p[0] for g, p in zip(gold, predicted, strict=True))
    fn = sum(g["urgent"] and not p[0] for g, p in zip(gold, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    agree = sum(g["deadline"] == p[1] for g, p in zip(gold, predicted, strict=True)) / len(gold)
    return {"precision": precision, "recall": recall, "f1": f1, "deadline": agree, "fp": fp, "fn": fn}


def interval(
    gold: Sequence[dict[str, Any]], predicted: Sequence[Prediction], key: str
) -> tuple[float, float]:
    """95 % percentile bootstrap interval of ``key`` over resampled rows."""
    rng = random.Random(20261205)
    n = len(gold)
    values = []
    for _ in range(BOOTSTRAP):
        picks = [rng.randrange(n) for _ in range(n)]
        values.append(counts([gold[i] for i in picks], [predicted[i] for i in picks])[key])
    values.sort()
    return values[int(0.025 * BOOTSTRAP)], values[int(0.975 * BOOTSTRAP) - 1]


def report(name: str, gold: list[dict[str, Any]], predict: Callable[[str], Prediction]) -> dict[str, Any]:
    predicted = [predict(row["text"]) for row in gold]
    rows: dict[str, Any] = {}
    for part, chosen in (
        ("train", [i for i, g in enumerate(gold) if g["split"] == "train"]),
        ("dev", [i for i, g in enumerate(gold) if g["split"] == "dev"]),
        ("all", list(range(len(gold)))),
        ("hard negatives (all)", [i for i, g in enumerate(gold) if g["kind"] == "hard_negative"]),
        ("vi without marks (all)", [i for i, g in enumerate(gold) if g["marks"] is False]),
        ("en (all)", [i for i, g in enumerate(gold) if g["lang"] == "en"]),
    ):
        g, p = [gold[i] for i in chosen], [predicted[i] for i in chosen]
        found = counts(g, p) | {"n": len(g)}
        if part in ("dev", "all"):
            for key in ("precision", "recall", "f1"):
                found[f"{key}_ci"] = interval(g, p, key)
        rows[part] = found
    return {"method": name, "parts": rows, "predicted": predicted}


def _cell(found: dict[str, Any], key: str) -> str:
    value = f"{found[key]:.3f}"
    if f"{key}_ci" in found:
        low, high = found[f"{key}_ci"]
        value += f" [{low:.2f}-{high:.2f}]"
    return value


def print_table(results: list[dict[str, Any]]) -> None:
    print("| method | part | n | precision | recall | F1 | deadline agreement | FP | FN |")
    print("| --- | --- | ---: | --- | --- | --- | ---: | ---: | ---: |")
    for result in results:
        for part, found in result["parts"].items():
            cells = " | ".join(_cell(found, key) for key in ("precision", "recall", "f1"))
            print(
                f"| {result['method']} | {part} | {found['n']} | {cells} | {found['deadline']:.3f} | "
                f"{found['fp']} | {found['fn']} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=None, help="an urgency rules file (default: packaged)")
    parser.add_argument("--errors", action="store_true", help="list the stage's mistakes on the train half")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    gold = load_gold()
    results = [
        report("keyword baseline", gold, keyword_baseline),
        report("urgency stage", gold, stage_predictor(args.rules)),
    ]
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "predicted"} for r in results], indent=2))
    else:
        print_table(results)
    if args.errors:
        for row, (urgent, band) in zip(gold, results[1]["predicted"], strict=True):
            if row["split"] == "train" and (urgent != row["urgent"] or band != row["deadline"]):
                gold_class = f"{row['urgent']}/{row['deadline']}"
                print(f"{row['id']} gold={gold_class} got={urgent}/{band}: {row['text'][:90]}")


if __name__ == "__main__":
    main()
