"""Urgency stage: precision, recall and F1 of "urgent", and deadline agreement, beside a keyword baseline.

Run: ``.venv/bin/python bench/urgency.py`` (``--rules FILE`` scores another rules file, ``--errors``
lists the stage's mistakes on the train half, ``--json`` prints the figures as JSON,
``--write-model`` fits the learned model on the train half and ships it as
``src/civicpulse/data/urgency_model.json`` before scoring, ``--speed`` adds CPU time per item).

The learned model (``civicpulse.analysis.urgency_model``) is chosen on train only: its
regularisation by the average precision of out-of-fold probabilities (5 folds, 3 shuffles), then how
much it adds to the rules (``weight``) and from which probability (``gate``) by the out-of-fold
recall-weighted F2 of the combined stage under a precision of at least ``MIN_PRECISION``.

Gold: ``bench/data/urgency_gold.jsonl``, 385 Vietnamese and English submissions written for
CivicPulse (325, then 60 more marked ``"round": 2``, also split in halves; some Vietnamese typed
without marks; hard negatives such as "xe máy chết máy", "cháy hàng", "cần gấp giấy xác nhận",
"diễn tập phòng cháy"), each labelled ``urgent`` (a danger to someone's life, health or
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
import os
import random
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedKFold

from civicpulse.analysis.features import fold_ascii
from civicpulse.analysis.urgency import Band, UrgencyStage, lift, load_rules
from civicpulse.analysis.urgency_model import (
    MODEL_FILE,
    LearnedUrgency,
    Use,
    fit,
    fit_vectors,
    packaged_model,
)
from civicpulse.embeddings import BundledEmbedder
from civicpulse.settings import Settings

GOLD = Path(__file__).parent / "data" / "urgency_gold.jsonl"
SHIPPED = Path(__file__).resolve().parents[1] / "src" / "civicpulse" / "data" / MODEL_FILE
URGENT_MIN_SCORE = 0.5
BOOTSTRAP = 2000
TODAY = dt.date(2026, 10, 14)
C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)
WEIGHTS = tuple(round(0.3 + 0.05 * i, 2) for i in range(13))  # 0.30 .. 0.90
GATES = tuple(round(0.05 * i, 2) for i in range(19))  # 0.00 .. 0.90
FOLDS, SHUFFLES = 5, 3
MIN_PRECISION = 0.9

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


def stage_predictor(
    rules_file: Path | None, *, learned: bool = True, vectors: dict[str, list[float]] | None = None
) -> Callable[[str], Prediction]:
    """The stage's prediction; with ``vectors`` (text -> e5 vector) as if the embed stage had run."""
    stage = UrgencyStage(Settings(urgency_rules_file=rules_file), learned=learned)
    rules = load_rules(rules_file)
    embedder = BundledEmbedder.name if vectors else None

    def predict(text: str) -> Prediction:
        score = stage.assess(text, TODAY, vectors[text] if vectors else None, embedder).score
        band = next(b for b in rules.policy if score >= b.min_score)
        return score >= URGENT_MIN_SCORE, f"{band.days}{'wd' if band.working_days else 'd'}"

    return predict


def embed(texts: list[str]) -> dict[str, list[float]]:
    """The bundled e5 vectors of ``texts``, as the embed stage computes them (default settings)."""
    embedder = BundledEmbedder.from_settings(Settings())
    return {t: [float(x) for x in v] for t, v in zip(texts, embedder.embed_passages(texts), strict=True)}


def out_of_fold(
    texts: list[str], urgent: list[bool], c: float, vectors: np.ndarray | None = None, pieces_c: float = 1.0
) -> np.ndarray:
    """Out-of-fold probabilities (one column per shuffle) of the pieces' model fitted with ``c``, or,
    with ``vectors``, of the mean of the pieces' model (fitted with ``pieces_c``) and the vectors'."""
    found = np.zeros((len(texts), SHUFFLES))
    for shuffle in range(SHUFFLES):
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=20261205 + shuffle)
        for fit_rows, held_rows in folds.split(texts, urgent):
            labels = [urgent[i] for i in fit_rows]
            pieces = fit([texts[i] for i in fit_rows], labels, c=c if vectors is None else pieces_c)
            for i in held_rows:
                found[i, shuffle] = pieces.probability(texts[i])
            if vectors is not None:
                model = fit_vectors(vectors[fit_rows], labels, c=c, embedder=BundledEmbedder.name)
                for i in held_rows:
                    found[i, shuffle] = (found[i, shuffle] + model.probability(vectors[i])) / 2
    return found


def quality(
    rule_scores: list[float],
    probabilities: np.ndarray,
    urgent: list[bool],
    use: Use,
    policy: tuple[Band, ...],
) -> tuple[float, float, float]:
    """Mean precision, recall and F2 over the shuffles of the stage with the model used as ``use``."""
    figures = []
    for shuffle in range(probabilities.shape[1]):
        predicted = [
            lift(score, use.contribution(p), policy) >= URGENT_MIN_SCORE
            for score, p in zip(rule_scores, probabilities[:, shuffle], strict=True)
        ]
        tp = sum(p and g for p, g in zip(predicted, urgent, strict=True))
        precision = tp / max(sum(predicted), 1)
        recall = tp / max(sum(urgent), 1)
        f2 = 5 * precision * recall / (4 * precision + recall) if tp else 0.0
        figures.append((precision, recall, f2))
    return tuple(float(np.mean(column)) for column in zip(*figures, strict=True))  # type: ignore[return-value]


def best_c(name: str, urgent: list[bool], by_c: dict[float, np.ndarray]) -> float:
    """The regularisation whose out-of-fold probabilities rank best (average precision)."""
    scores = {
        c: float(np.mean([average_precision_score(urgent, col) for col in p.T])) for c, p in by_c.items()
    }
    print(
        f"{name}: out-of-fold average precision by C: "
        + ", ".join(f"{c:g}: {v:.3f}" for c, v in scores.items())
    )
    return max(scores, key=lambda c: (scores[c], -c))


def best_use(
    name: str, rule_scores: list[float], probabilities: np.ndarray, urgent: list[bool], policy
) -> Use:
    """The weight and gate of the best F2 (averaged with the grid's neighbours, so a choice inside a
    plateau rather than on its edge) among those keeping precision at least ``MIN_PRECISION``."""
    grid = {
        (w, g): quality(rule_scores, probabilities, urgent, Use(WEIGHTS[w], GATES[g]), policy)
        for w in range(len(WEIGHTS))
        for g in range(len(GATES))
    }

    def steady_f2(cell: tuple[int, int]) -> float:
        near = [(cell[0] + dw, cell[1] + dg) for dw in (-1, 0, 1) for dg in (-1, 0, 1)]
        return float(np.mean([grid[n][2] for n in near if n in grid]))

    allowed = [cell for cell, (precision, _, _) in grid.items() if precision >= MIN_PRECISION]
    best = max(allowed, key=lambda cell: (round(steady_f2(cell), 6), grid[cell][0]))
    precision, recall, f2 = grid[best]
    alone = quality(rule_scores, probabilities, urgent, Use(0.0, 0.99), policy)
    print(
        f"{name}: weight {WEIGHTS[best[0]]:g}, gate {GATES[best[1]]:g}; out-of-fold train precision "
        f"{precision:.3f} recall {recall:.3f} F2 {f2:.3f} (rules alone {alone[0]:.3f} / {alone[1]:.3f})"
    )
    return Use(WEIGHTS[best[0]], GATES[best[1]])


def choose_and_write_model(
    gold: list[dict[str, Any]], rules_file: Path | None, vectors: dict[str, list[float]]
) -> None:
    """Fit the learned models on train, their settings chosen by cross-validation there; ship them."""
    train = [row for row in gold if row["split"] == "train"]
    texts, urgent = [row["text"] for row in train], [bool(row["urgent"]) for row in train]
    matrix = np.asarray([vectors[text] for text in texts], dtype=np.float64)
    policy = load_rules(rules_file).policy
    rules_only = UrgencyStage(Settings(urgency_rules_file=rules_file), learned=False)
    rule_scores = [rules_only.assess(text, TODAY).score for text in texts]
    pieces_oof = {c: out_of_fold(texts, urgent, c) for c in C_GRID}
    pieces_c = best_c("pieces", urgent, pieces_oof)
    both_oof = {c: out_of_fold(texts, urgent, c, matrix, pieces_c) for c in C_GRID}
    vectors_c = best_c("pieces + e5", urgent, both_oof)
    words_only = best_use("words only", rule_scores, pieces_oof[pieces_c], urgent, policy)
    with_vectors = best_use("with e5", rule_scores, both_oof[vectors_c], urgent, policy)
    learned = LearnedUrgency(
        pieces=fit(texts, urgent, c=pieces_c),
        words_only=words_only,
        vectors=fit_vectors(matrix, urgent, c=vectors_c, embedder=BundledEmbedder.name),
        with_vectors=with_vectors,
    )
    shipped = {
        "trained_on": f"bench/data/urgency_gold.jsonl, train half ({len(train)} rows), bench/urgency.py",
        "c": {"pieces": pieces_c, "vectors": vectors_c},
        **learned.to_json(),
    }
    SHIPPED.write_text(json.dumps(shipped, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    packaged_model.cache_clear()


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


def report(
    name: str, gold: list[dict[str, Any]], predict: Callable[[str], Prediction], *, train_only: bool = False
) -> dict[str, Any]:
    if train_only:
        gold = [row for row in gold if row["split"] == "train"]
    predicted = [predict(row["text"]) for row in gold]
    rows: dict[str, Any] = {}
    for part, chosen in (
        ("train", [i for i, g in enumerate(gold) if g["split"] == "train"]),
        ("dev", [i for i, g in enumerate(gold) if g["split"] == "dev"]),
        (
            "dev, first 325 rows",
            [i for i, g in enumerate(gold) if g["split"] == "dev" and g.get("round", 1) == 1],
        ),
        (
            "dev, rows added later",
            [i for i, g in enumerate(gold) if g["split"] == "dev" and g.get("round", 1) > 1],
        ),
        ("all", list(range(len(gold)))),
        ("hard negatives (all)", [i for i, g in enumerate(gold) if g["kind"] == "hard_negative"]),
        ("vi without marks (all)", [i for i, g in enumerate(gold) if g["marks"] is False]),
        ("en (all)", [i for i, g in enumerate(gold) if g["lang"] == "en"]),
    ):
        if not chosen or (train_only and part != "train"):
            continue
        g, p = [gold[i] for i in chosen], [predicted[i] for i in chosen]
        found = counts(g, p) | {"n": len(g)}
        if part.startswith("dev") or part == "all":
            for key in ("precision", "recall", "f1"):
                found[f"{key}_ci"] = interval(g, p, key)
        rows[part] = found
    return {"method": name, "parts": rows, "predicted": predicted, "gold": gold}


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


def speed(gold: list[dict[str, Any]], vectors: dict[str, list[float]], repeat: int = 10) -> None:
    """CPU time per assessment (the machine may be shared: CPU time, not wall time, and the load)."""
    texts = [row["text"] for row in gold] * repeat
    for name, learned, with_vectors in (
        ("rules alone", False, False),
        ("rules + pieces", True, False),
        ("rules + pieces + e5 vector", True, True),
    ):
        stage = UrgencyStage(Settings(), learned=learned)
        stage.assess("warm up", TODAY)
        embedder = BundledEmbedder.name if with_vectors else None
        started = time.process_time()
        for text in texts:
            stage.assess(text, TODAY, vectors[text] if with_vectors else None, embedder)
        per_item = (time.process_time() - started) / len(texts) * 1000
        print(f"{name}: {per_item:.3f} ms CPU per item over {len(texts)} (load {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=None, help="an urgency rules file (default: packaged)")
    parser.add_argument("--errors", action="store_true", help="list the stage's mistakes on the train half")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--speed", action="store_true", help="also print CPU time per assessment")
    parser.add_argument(
        "--train-only", action="store_true", help="score the train half only (while choosing)"
    )
    parser.add_argument(
        "--write-model", action="store_true", help="fit the learned model on train and ship it"
    )
    args = parser.parse_args()
    gold = load_gold()
    vectors = embed([row["text"] for row in gold])
    if args.write_model:
        choose_and_write_model(gold, args.rules, vectors)
    only = args.train_only
    results = [
        report("keyword baseline", gold, keyword_baseline, train_only=only),
        report("rules alone", gold, stage_predictor(args.rules, learned=False), train_only=only),
        report("rules + pieces (no embed stage)", gold, stage_predictor(args.rules), train_only=only),
        report(
            "rules + pieces + e5 (default)",
            gold,
            stage_predictor(args.rules, vectors=vectors),
            train_only=only,
        ),
    ]
    if args.json:
        print(
            json.dumps(
                [{k: v for k, v in r.items() if k not in ("predicted", "gold")} for r in results], indent=2
            )
        )
    else:
        print_table(results)
    if args.speed:
        speed(gold, vectors)
    if args.errors:
        for row, (urgent, band) in zip(results[-1]["gold"], results[-1]["predicted"], strict=True):
            if row["split"] == "train" and (urgent != row["urgent"] or band != row["deadline"]):
                gold_class = f"{row['urgent']}/{row['deadline']}"
                print(f"{row['id']} gold={gold_class} got={urgent}/{band}: {row['text'][:90]}")


if __name__ == "__main__":
    main()
