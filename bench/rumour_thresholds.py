"""Rumour matching on CheckThat! 2020 task 2 (tweets -> 10,375 verified claims) and on translated
Vietnamese/English pairs: the match models fitted, the two thresholds calibrated on dev.

Run: ``.venv/bin/python bench/rumour_thresholds.py`` (writes ``knowledge/rumour_model.json``;
``--check`` only prints). Vectors are cached in bench/out/rumours/ (``DiskCachedEmbedder``).

The claim base (``knowledge.rumours.ClaimIndex``) keeps the ``HybridIndex``'s order of candidates
and scores each with ``knowledge.rumour_model``: a logistic model over features that do not depend
on the size of the base.

1. **Trials.** Train and dev tweets are split in two halves; base A lacks the claims of half 1,
   base B those of half 2. Every tweet is tried against both: once with its verified claim in the
   base (a positive trial: right when the best-scored claim is that one) and once without (a
   negative trial: any best score at or above a threshold is a false alarm).
   Claims of the same words as a gold claim (CheckThat holds duplicates that differ only in quote
   style) count as gold, and are removed with it.
2. **Fit** (train, 800 tweets, both trials): scikit-learn's logistic regression (C=1, standardised
   features) on the index's first candidate of each trial (the one a decision is made on), with
   and without the embedder (``hybrid``, ``lexical``).
3. **Cross-language** (bench/data/rumour_pairs.jsonl: 20 Vietnamese rumours with English claims
   and 20 back, plus 30 unrelated rumour-shaped sentences; the CheckThat claims stay in the base as
   distractors): the same two-trial scheme, a logistic model over the cross-language features,
   reported by 5-fold cross-validation over pairs.
4. **Calibrate** (dev, 197 tweets): precision = right best matches / all best matches at or above
   the threshold; recall = right best matches / positive trials; false alarms = negative trials at
   or above. ``show`` is the lowest threshold with precision >= 0.80, ``certain`` the lowest with
   precision >= 0.95; 95 % intervals from 1,000 bootstrap resamples of the dev tweets (seed 13).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

from civicpulse.analysis.embed import embedder_from_settings
from civicpulse.knowledge.rumour_model import (
    CROSS,
    CROSS_FEATURES,
    LEXICAL_FEATURES,
    MODEL_FILE,
    SAME,
    SAME_FEATURES,
    Logistic,
    MatchModels,
    language_of,
)
from civicpulse.knowledge.rumours import ClaimIndex, Scored, rank
from civicpulse.settings import Settings
from retrieval_vectors import OUT, DiskCachedEmbedder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "checkthat2020-task2-claim-retrieval"
PAIRS = ROOT / "bench" / "data" / "rumour_pairs.jsonl"
UNRELATED = ROOT / "bench" / "data" / "rumour_pairs_unrelated.jsonl"
MODEL_PATH = ROOT / "src" / "civicpulse" / "knowledge" / MODEL_FILE
SHOW_PRECISION, CERTAIN_PRECISION = 0.80, 0.95
GRID = np.round(np.arange(0.0, 1.0001, 0.005), 3)
VECTORS = OUT / "rumours"
SEED, RESAMPLES, FOLDS = 13, 1000, 5
PAIR_OFFSET = 1_000_000
WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Trial:
    """One query against one base: its candidates, gold claims and whether one is in the base."""

    query: str
    candidates: list[Scored]
    gold: frozenset[int]
    present: bool


def own_vectors() -> Path:
    """A folder of this benchmark's vectors, started from those bench/claims.py computed."""
    if not VECTORS.exists():
        VECTORS.mkdir(parents=True)
        for path in OUT.glob("vectors-*.npz"):
            shutil.copy(path, VECTORS / path.name)
    return VECTORS


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def build(embedder, claims: Sequence[tuple[int, str]], absent: set[int]) -> ClaimIndex:
    index = ClaimIndex(embedder)
    index.add([(cid, text, None) for cid, text in claims if cid not in absent])
    index.index.search("warm up", top=1)
    return index


def trials(
    embedder, claims: Sequence[tuple[int, str]], queries: list[tuple[str, frozenset[int]]]
) -> list[Trial]:
    """Each query against the base without its half's claims and against the other base."""
    halves = [list(range(0, len(queries), 2)), list(range(1, len(queries), 2))]
    out: list[Trial] = []
    for missing in halves:
        absent = {cid for i in missing for cid in queries[i][1]}
        index = build(embedder, claims, absent)
        found = index.scored([text for text, _ in queries])
        for (text, gold), candidates in zip(queries, found, strict=True):
            present = any(cid in index.texts for cid in gold)
            out.append(Trial(text, candidates, gold, present))
    return out


def fit(rows: list[dict[str, float]], labels: list[bool], features: Sequence[str]) -> Logistic:
    matrix = np.array([[row.get(name, 0.0) for name in features] for row in rows], dtype=float)
    mean, scale = matrix.mean(axis=0), matrix.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000).fit((matrix - mean) / scale, labels)
    return Logistic(
        tuple(features),
        tuple(mean.tolist()),
        tuple(scale.tolist()),
        tuple(model.coef_[0].tolist()),
        float(model.intercept_[0]),
    )


def rows_of(found: list[Trial], cross: bool) -> tuple[list[dict[str, float]], list[bool]]:
    """Features and labels: the index's first same-language candidate of each trial (the one a
    decision is made on), or every cross-language candidate."""
    rows, labels = [], []
    for trial in found:
        chosen = [c for c in trial.candidates if c.cross == cross]
        for candidate in chosen if cross else chosen[:1]:
            rows.append(candidate.features)
            labels.append(candidate.claim_id in trial.gold)
    return rows, labels


def same_words(text: str) -> tuple[str, ...]:
    """A claim's words, lower case: claims that differ only in quotes or punctuation share them."""
    return tuple(WORD.findall(text.lower()))


def with_duplicates(
    claims: Sequence[tuple[int, str]], queries: list[tuple[str, frozenset[int]]]
) -> list[tuple[str, frozenset[int]]]:
    """Each query's gold claims with the claims of the same words (the base holds duplicates that
    differ only in quote style: matching one is right, and removing the gold removes them all)."""
    groups: dict[tuple[str, ...], set[int]] = {}
    key_of = {}
    for cid, text in claims:
        key_of[cid] = same_words(text)
        groups.setdefault(key_of[cid], set()).add(cid)
    return [
        (text, frozenset(c for g in gold if g in key_of for c in groups[key_of[g]]) | gold)
        for text, gold in queries
    ]


def decide(found: list[Trial], models: MatchModels, dense: bool) -> list[tuple[bool, bool, float]]:
    """``(positive trial, best is right, best score)`` of each trial."""
    out = []
    for trial in found:
        ranked = rank(trial.candidates, models, dense=dense)
        claim, score = ranked[0] if ranked else (None, 0.0)
        out.append((trial.present, claim in trial.gold, score))
    return out


def rates(decided: list[tuple[bool, bool, float]], t: float) -> tuple[float, float, float]:
    """Precision, recall and false-alarm rate at threshold ``t``."""
    present = np.array([p for p, _, _ in decided])
    right = np.array([r for _, r, _ in decided])
    score = np.array([s for _, _, s in decided])
    shown = score >= t
    hits = int(np.sum(shown & right & present))
    precision = hits / int(shown.sum()) if shown.any() else 1.0
    recall = hits / max(int(present.sum()), 1)
    alarms = float(np.mean(shown[~present])) if (~present).any() else 0.0
    return precision, recall, alarms


def lowest(decided: list[tuple[bool, bool, float]], floor: float) -> float:
    for t in GRID:
        if rates(decided, float(t))[0] >= floor:
            return float(t)
    return 1.0


def bootstrap(decided: list[tuple[bool, bool, float]], groups: int, t: float) -> list[tuple[float, float]]:
    """95 % intervals of precision, recall and false alarms, resampling queries (both trials)."""
    per_query = len(decided) // groups
    rng = np.random.default_rng(SEED)
    samples = []
    for _ in range(RESAMPLES):
        picked = rng.integers(0, groups, groups)
        chosen = [decided[q + h * groups] for q in picked for h in range(per_query)]
        samples.append(rates(chosen, t))
    values = np.array(samples)
    return [
        (float(np.percentile(values[:, i], 2.5)), float(np.percentile(values[:, i], 97.5))) for i in range(3)
    ]


def table(title: str, decided: list[tuple[bool, bool, float]], groups: int, marks: dict[str, float]) -> None:
    print(f"\n### {title}\n")
    print("| threshold | precision [95 % CI] | recall [95 % CI] | false alarms [95 % CI] |")
    print("| --- | ---: | ---: | ---: |")
    for name, t in marks.items():
        values = rates(decided, t)
        ci = bootstrap(decided, groups, t)
        cells = " | ".join(f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, (lo, hi) in zip(values, ci, strict=True))
        print(f"| {name} {t:.3f} | {cells} |")


def cross_validated(
    found: list[Trial],
    keys: list[str],
    same: Logistic,
    lexical: Logistic,
    anchors: tuple[tuple[float, float], ...],
) -> list[tuple[bool, bool, float]]:
    """Cross-language decisions with the cross model fitted on the other folds (by pair)."""
    names = sorted(set(keys))
    rng = np.random.default_rng(SEED)
    fold_of = dict(zip(names, rng.permutation(len(names)) % FOLDS, strict=True))
    decided: list[tuple[bool, bool, float]] = [(False, False, 0.0)] * len(found)
    for fold in range(FOLDS):
        train = [t for t, k in zip(found, keys, strict=True) if fold_of[k] != fold]
        model = fit(*rows_of(train, cross=True), CROSS_FEATURES)
        held = [i for i, k in enumerate(keys) if fold_of[k] == fold]
        for i, result in zip(
            held,
            decide([found[i] for i in held], MatchModels(same, lexical, model, {}, anchors), True),
            strict=True,
        ):
            decided[i] = result
    return decided


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--check", action="store_true", help="print only; do not write the model file")
    args = parser.parse_args()

    claims = [(int(c["vclaim_id"]), c["vclaim"]) for c in read_jsonl(args.data / "verified_claims.jsonl")]
    train = [
        (q["text"], frozenset(int(g) for g in q["gold_vclaim_ids"]))
        for q in read_jsonl(args.data / "queries_train.jsonl")
    ]
    dev = [
        (q["text"], frozenset(int(g) for g in q["gold_vclaim_ids"]))
        for q in read_jsonl(args.data / "queries_dev.jsonl")
    ]
    embedder = DiskCachedEmbedder(
        embedder_from_settings(Settings(embedding_cache_size=50_000)), own_vectors()
    )

    started = time.perf_counter()
    queries = with_duplicates(claims, train + dev)
    models: dict[str, Logistic] = {}
    for variant, source, features in (
        ("hybrid", embedder, SAME_FEATURES),
        ("lexical", None, LEXICAL_FEATURES),
    ):
        found = trials(source, claims, queries)
        is_train = [i < len(train) for _ in range(2) for i in range(len(queries))]
        models[variant] = fit(
            *rows_of([t for t, tr in zip(found, is_train, strict=True) if tr], cross=False), features
        )
        models[variant + "_dev"] = [t for t, tr in zip(found, is_train, strict=True) if not tr]  # type: ignore[assignment]
    embedder.save()

    pairs = read_jsonl(PAIRS)
    unrelated = read_jsonl(UNRELATED)
    pair_claims = [(PAIR_OFFSET + i, p["claim"]) for i, p in enumerate(pairs)]
    pair_queries = [(p["rumour"], frozenset({PAIR_OFFSET + i})) for i, p in enumerate(pairs)]
    pair_trials = trials(embedder, claims + pair_claims, pair_queries)
    full = build(embedder, claims + pair_claims, set())
    unrelated_trials = [
        Trial(u["text"], found, frozenset(), False)
        for u, found in zip(unrelated, full.scored([u["text"] for u in unrelated]), strict=True)
    ]
    embedder.save()
    cross_trials = pair_trials + unrelated_trials
    keys = [p["id"] for p in pairs] * 2 + [u["id"] for u in unrelated]
    cross = fit(*rows_of(cross_trials, cross=True), CROSS_FEATURES)
    hybrid, lexical = models["hybrid"], models["lexical"]
    final = MatchModels(hybrid, lexical, cross, {})

    dev_hybrid = decide(models["hybrid_dev"], final, True)  # type: ignore[arg-type]
    dev_lexical = decide(models["lexical_dev"], final, False)  # type: ignore[arg-type]
    show, certain = lowest(dev_hybrid, SHOW_PRECISION), lowest(dev_hybrid, CERTAIN_PRECISION)
    marks = {"show": show, "certain": certain}
    seconds = time.perf_counter() - started

    print("## Rumour matching: CheckThat! 2020 dev (same language) and translated pairs (cross-language)\n")
    positives = [d for d in dev_hybrid if d[0]]
    print(
        f"Dev: {len(dev)} tweets, {len(dev_hybrid)} trials; the best match is right on "
        f"{np.mean([r for _, r, _ in positives]):.3f} of the positive trials (the index's own top 1). "
        f"Run {seconds:.0f} s."
    )
    table("Hybrid (e5 + BM25), dev", dev_hybrid, len(dev), marks)
    lex_marks = {
        "show": lowest(dev_lexical, SHOW_PRECISION),
        "certain": lowest(dev_lexical, CERTAIN_PRECISION),
    }
    table("Lexical only (no embedder), dev, its own thresholds", dev_lexical, len(dev), lex_marks)
    at_show, at_certain = rates(dev_lexical, show), rates(dev_lexical, certain)
    print(f"\nLexical at the hybrid thresholds: show {at_show}, certain {at_certain}")
    cv_raw = cross_validated(cross_trials, keys, hybrid, lexical, ())
    raw = {
        name: lowest(cv_raw, floor)
        for name, floor in (("show", SHOW_PRECISION), ("certain", CERTAIN_PRECISION))
    }
    anchors = tuple((raw[name], marks[name]) for name in ("show", "certain") if raw[name] < 1.0)
    cv = cross_validated(cross_trials, keys, hybrid, lexical, anchors)
    print(
        f"\nCross-language: {len(pair_trials)} pair trials (half with the claim in the base), "
        f"{len(unrelated_trials)} unrelated; 5-fold CV over pairs. Cross-language scores for precision "
        f"0.80 / 0.95 on the pairs ({raw['show']:.3f} / {raw['certain']:.3f}) are moved onto the "
        "same-language thresholds."
    )
    halves_of = {"vi rumour -> en claim": [], "en rumour -> vi claim": []}
    for i, p in enumerate(pairs):
        halves_of[
            "vi rumour -> en claim" if language_of(p["rumour"]) == "vi" else "en rumour -> vi claim"
        ].append(i)
    print("\n| trials | threshold | precision | recall | false alarms |\n| --- | --- | ---: | ---: | ---: |")
    for name, t in marks.items():
        values = rates(cv, t)
        print(f"| all | {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")
    for label, chosen in halves_of.items():
        subset = [cv[i] for i in chosen] + [cv[i + len(pairs)] for i in chosen]
        for name, t in marks.items():
            values = rates(subset, t)
            print(f"| {label} | {name} | " + " | ".join(f"{v:.3f}" for v in values) + " |")

    document = {
        "about": "Fitted by bench/rumour_thresholds.py (CheckThat! 2020 train; "
        "bench/data/rumour_pairs.jsonl); thresholds calibrated on CheckThat! 2020 dev.",
        SAME: {"hybrid": hybrid.to_json(), "lexical": lexical.to_json()},
        CROSS: {"model": cross.to_json(), "anchors": [list(pair) for pair in anchors]},
        "thresholds": {"show": show, "certain": certain},
    }
    if not args.check:
        MODEL_PATH.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwrote {MODEL_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
