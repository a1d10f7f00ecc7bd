"""Rumour matching on CheckThat! 2020 task 2 (English tweets -> 10,375 verified claims), on a
Vietnamese set written for the project and on translated Vietnamese/English pairs: the match models
fitted, the two thresholds chosen by cross-validation on train, dev scored once.

Run: ``.venv/bin/python bench/rumour_thresholds.py`` (writes ``knowledge/rumour_model.json``;
``--check`` only prints). Vectors are cached in bench/out/rumours/ (``DiskCachedEmbedder``).

The claim base (``knowledge.rumours.ClaimIndex``) keeps the ``HybridIndex``'s order of candidates
and scores each with ``knowledge.rumour_model``: a logistic model over features that do not depend
on the size of the base.

1. **Trials.** Queries are split in two halves (CheckThat tweets alternately, Vietnamese claims
   with all their sentences); base A lacks the claims of half 1, base B those of half 2. Every
   query is tried against both: with its claim in the base (a positive trial: right when the
   best-scored claim is that one) and without (a negative trial: any best score at or above a
   threshold is a false alarm). A Vietnamese near miss (same topic or place, not the claim) is a
   negative trial in both, with its claim in the base in one. CheckThat claims of the same words as
   a gold claim (duplicates that differ only in quote style) count as gold, and go with it.
   Vietnamese trials search CheckThat's claims and the Vietnamese claims together.
2. **Vietnamese set** (bench/data/rumour_pairs_vi.jsonl, 48 claims, written for the project): each
   official-style claim with three repeats as citizens write them (one typed without marks) and two
   or three near misses (one without marks; petitions about the same commune, complaints about
   the same market or bridge); ``split`` puts claims alternately in train and dev.
3. **Fit** (train: 800 tweets and 24 Vietnamese claims): scikit-learn's logistic regression (C=1,
   standardised features) on the index's first candidate of each trial (the one a decision is
   made on), with and without the embedder (``hybrid``, ``lexical``); Vietnamese sentences have
   their own weights for cosine, margins and coverage (``rumour_model.PER_LANGUAGE``).
4. **Thresholds** (train, 5-fold cross-validation by tweet and by Vietnamese claim): ``show`` is
   the lowest threshold whose out-of-fold precision is at least 0.80 in each language, ``certain``
   the lowest with 0.95. Precision = right best matches / best matches at or above the threshold;
   recall = right best matches / positive trials; false alarms = negative trials at or above.
5. **Dev** (197 tweets, 24 Vietnamese claims), scored once with the model fitted on all of train;
   95 % intervals from 1,000 bootstrap resamples of tweets or claims (seed 13).
6. **Cross-language** (bench/data/rumour_pairs.jsonl: 20 Vietnamese rumours with English claims
   and 20 back, plus 30 unrelated rumour-shaped sentences; the CheckThat claims stay in the base as
   distractors): the same two-trial scheme, a logistic model over the cross-language features,
   reported by 5-fold cross-validation over pairs; its scores for precision 0.80 / 0.95 are moved
   onto the same-language thresholds.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

sys.path.insert(0, str(Path(__file__).resolve().parent))

from civicpulse.analysis.diacritics import marked_share
from civicpulse.analysis.embed import embedder_from_settings
from civicpulse.knowledge.rumour_model import (
    CROSS,
    CROSS_FEATURES,
    LEXICAL_FEATURES,
    MODEL_FILE,
    PER_LANGUAGE,
    SAME,
    SAME_FEATURES,
    MatchModels,
    language_of,
)
from civicpulse.knowledge.rumours import ClaimIndex, Scored, rank
from civicpulse.logistic import Logistic, feature_matrix
from civicpulse.settings import Settings
from retrieval_vectors import OUT, DiskCachedEmbedder

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "checkthat2020-task2-claim-retrieval"
PAIRS = ROOT / "bench" / "data" / "rumour_pairs.jsonl"
UNRELATED = ROOT / "bench" / "data" / "rumour_pairs_unrelated.jsonl"
VIETNAMESE = ROOT / "bench" / "data" / "rumour_pairs_vi.jsonl"
MODEL_PATH = ROOT / "src" / "civicpulse" / "knowledge" / MODEL_FILE
SHOW_PRECISION, CERTAIN_PRECISION = 0.80, 0.95
DIGITS = 6
"""Decimal places of the shipped model's numbers."""
GRID = np.round(np.arange(0.0, 1.0001, 0.005), 3)
VECTORS = OUT / "rumours"
SEED, RESAMPLES, FOLDS = 13, 1000, 5
PAIR_OFFSET, VI_OFFSET = 1_000_000, 2_000_000
WORD = re.compile(r"\w+")
HYBRID_FEATURES = (*SAME_FEATURES, "vietnamese", *(f"vi_{name}" for name in PER_LANGUAGE))
LEXICAL_VI_FEATURES = (*LEXICAL_FEATURES, "vietnamese", "vi_terms", "vi_pairs")


@dataclass(frozen=True)
class Query:
    """A sentence to try: the claims it repeats (``gold``, none for a near miss), the claims that
    leave the base with its half (``own``), its group (a tweet, a Vietnamese claim: folds and
    resamples keep a group together) and its half."""

    text: str
    gold: frozenset[int]
    own: frozenset[int]
    group: str
    half: int


@dataclass(frozen=True)
class Trial:
    """One query against one base: its candidates, gold claims and whether one is in the base."""

    query: str
    candidates: list[Scored]
    gold: frozenset[int]
    present: bool
    group: str = ""


Decided = tuple[bool, bool, float]
"""``(positive trial, best is right, best score)``."""


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


def trials(embedder, claims: Sequence[tuple[int, str]], queries: Sequence[Query]) -> list[Trial]:
    """Each query against the base without its half's claims and against the other base."""
    out: list[Trial] = []
    for half in (0, 1):
        absent = {cid for query in queries if query.half == half for cid in query.own}
        index = build(embedder, claims, absent)
        found = index.scored([query.text for query in queries])
        for query, candidates in zip(queries, found, strict=True):
            present = any(cid in index.texts for cid in query.gold)
            out.append(Trial(query.text, candidates, query.gold, present, query.group))
    return out


def fit(rows: list[dict[str, float]], labels: list[bool], features: Sequence[str]) -> Logistic:
    matrix = feature_matrix(rows, features)
    mean, scale = matrix.mean(axis=0), matrix.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000).fit((matrix - mean) / scale, labels)
    return Logistic(tuple(features), mean, scale, model.coef_[0], float(model.intercept_[0]))


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


def tweet_queries(items: list[tuple[str, frozenset[int]]]) -> list[Query]:
    """CheckThat tweets, alternately in the two halves."""
    return [Query(text, gold, gold, f"tweet{i}", i % 2) for i, (text, gold) in enumerate(items)]


def vietnamese_queries(groups: list[dict]) -> tuple[list[tuple[int, str]], list[Query]]:
    """The Vietnamese claims and their sentences; a claim's sentences share its half (claims in
    pairs alternate, so each split has claims in both halves)."""
    claims, queries = [], []
    for k, group in enumerate(groups):
        cid, half = VI_OFFSET + k, (k // 2) % 2
        claims.append((cid, group["claim"]))
        own = frozenset({cid})
        queries += [Query(text, own, own, group["id"], half) for text in group["repeats"]]
        queries += [Query(text, frozenset(), own, group["id"], half) for text in group["near_misses"]]
    return claims, queries


def decide(found: list[Trial], models: MatchModels, dense: bool) -> list[Decided]:
    """``(positive trial, best is right, best score)`` of each trial."""
    out = []
    for trial in found:
        ranked = rank(trial.candidates, models, dense=dense)
        claim, score = ranked[0] if ranked else (None, 0.0)
        out.append((trial.present, claim in trial.gold, score))
    return out


def rates(decided: list[Decided], t: float) -> tuple[float, float, float]:
    """Precision, recall and false-alarm rate at threshold ``t``."""
    present = np.array([p for p, _, _ in decided], dtype=bool)
    right = np.array([r for _, r, _ in decided], dtype=bool)
    score = np.array([s for _, _, s in decided], dtype=float)
    shown = score >= t
    hits = int(np.sum(shown & right & present))
    precision = hits / int(shown.sum()) if shown.any() else 1.0
    recall = hits / max(int(present.sum()), 1)
    alarms = float(np.mean(shown[~present])) if (~present).any() else 0.0
    return precision, recall, alarms


def lowest(decided: Sequence[list[Decided]], floor: float) -> float:
    """The lowest threshold at which every list of decisions has precision >= ``floor``."""
    for t in GRID:
        if all(rates(d, float(t))[0] >= floor for d in decided):
            return float(t)
    return 1.0


def bootstrap(decided: list[Decided], groups: list[str], t: float) -> list[tuple[float, float]]:
    """95 % intervals of precision, recall and false alarms, resampling groups (all their trials)."""
    members: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        members.setdefault(group, []).append(i)
    keys = list(members)
    rng = np.random.default_rng(SEED)
    samples = []
    for _ in range(RESAMPLES):
        picked = rng.integers(0, len(keys), len(keys))
        samples.append(rates([decided[i] for k in picked for i in members[keys[k]]], t))
    values = np.array(samples)
    return [
        (float(np.percentile(values[:, i], 2.5)), float(np.percentile(values[:, i], 97.5))) for i in range(3)
    ]


def table(rows: list[tuple[str, list[Decided], list[str]]], marks: dict[str, float]) -> None:
    """Precision, recall and false alarms with their intervals at each threshold, per row set."""
    print("| trials | threshold | precision [95 % CI] | recall [95 % CI] | false alarms [95 % CI] |")
    print("| --- | --- | ---: | ---: | ---: |")
    for label, decided, groups in rows:
        for name, t in marks.items():
            values = rates(decided, t)
            ci = bootstrap(decided, groups, t)
            cells = " | ".join(
                f"{v:.3f} [{lo:.3f}, {hi:.3f}]" for v, (lo, hi) in zip(values, ci, strict=True)
            )
            print(f"| {label} | {name} {t:.3f} | {cells} |")


def same_only(found: list[Trial]) -> list[Trial]:
    """The trials with their same-language candidates only (thresholds are chosen on these)."""
    return [replace(t, candidates=[c for c in t.candidates if not c.cross]) for t in found]


def folds_of(groups: Sequence[str]) -> dict[str, int]:
    names = sorted(set(groups))
    rng = np.random.default_rng(SEED)
    return dict(zip(names, (rng.permutation(len(names)) % FOLDS).tolist(), strict=True))


def out_of_fold(found: list[Trial], features: Sequence[str], dense: bool) -> list[Decided]:
    """Decisions on each trial by the same-language model fitted on the other folds."""
    fold_of = folds_of([t.group for t in found])
    decided: list[Decided] = [(False, False, 0.0)] * len(found)
    for fold in range(FOLDS):
        model = fit(*rows_of([t for t in found if fold_of[t.group] != fold], cross=False), features)
        held = [i for i, t in enumerate(found) if fold_of[t.group] == fold]
        models = MatchModels(model, model, model, {})
        for i, result in zip(held, decide([found[i] for i in held], models, dense), strict=True):
            decided[i] = result
    return decided


def cross_rows(found: list[Trial], negatives: list[Trial]) -> tuple[list[dict[str, float]], list[bool]]:
    """The cross-language candidates of ``found`` and of ``negatives`` (sentences whose claim is in
    their own language: every claim of the other language is wrong for them), once each."""
    rows, labels = rows_of(found, cross=True)
    once = list({trial.query: trial for trial in negatives}.values())
    more, wrong = rows_of(once, cross=True)
    return rows + more, labels + wrong


def cross_validated(
    found: list[Trial],
    keys: list[str],
    negatives: list[Trial],
    same: Logistic,
    lexical: Logistic,
    anchors: tuple[tuple[float, float], ...],
) -> list[Decided]:
    """Cross-language decisions with the cross model fitted on the other folds (by pair)."""
    fold_of = folds_of(keys)
    decided: list[Decided] = [(False, False, 0.0)] * len(found)
    for fold in range(FOLDS):
        train = [t for t, k in zip(found, keys, strict=True) if fold_of[k] != fold]
        model = fit(*cross_rows(train, negatives), CROSS_FEATURES)
        held = [i for i, k in enumerate(keys) if fold_of[k] == fold]
        for i, result in zip(
            held,
            decide([found[i] for i in held], MatchModels(same, lexical, model, {}, anchors), True),
            strict=True,
        ):
            decided[i] = result
    return decided


@dataclass
class Corpus:
    """The trials of one variant (``hybrid`` or ``lexical``): tweets and Vietnamese, by split."""

    tweets_train: list[Trial]
    tweets_dev: list[Trial]
    vi_train: list[Trial]
    vi_dev: list[Trial]


def corpus(embedder, claims, train, dev, vi_claims, vi_queries, vi_split: dict[str, str]) -> Corpus:
    tweets = trials(embedder, claims, tweet_queries(with_duplicates(claims, train + dev)))
    is_train = [i < len(train) for _ in range(2) for i in range(len(train) + len(dev))]
    vietnamese = trials(embedder, claims + vi_claims, vi_queries)
    return Corpus(
        [t for t, tr in zip(tweets, is_train, strict=True) if tr],
        [t for t, tr in zip(tweets, is_train, strict=True) if not tr],
        [t for t in vietnamese if vi_split[t.group] == "train"],
        [t for t in vietnamese if vi_split[t.group] == "dev"],
    )


def thresholds(found: Corpus, features: Sequence[str], dense: bool) -> tuple[dict[str, float], dict]:
    """``show`` and ``certain`` from out-of-fold decisions on train (tweets and Vietnamese sentences
    in the same folds), with those decisions by language."""
    decided = out_of_fold(same_only(found.tweets_train + found.vi_train), features, dense)
    oof = {"en": decided[: len(found.tweets_train)], "vi": decided[len(found.tweets_train) :]}
    both = [oof["en"], oof["vi"]]
    return {"show": lowest(both, SHOW_PRECISION), "certain": lowest(both, CERTAIN_PRECISION)}, oof


def marked_groups(found: list[Trial]) -> dict[str, list[int]]:
    """Trial positions of Vietnamese sentences written with marks and without."""
    out: dict[str, list[int]] = {"with marks": [], "without marks": []}
    for i, trial in enumerate(found):
        out["with marks" if marked_share(trial.query) > 0 else "without marks"].append(i)
    return out


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
    vi_groups = read_jsonl(VIETNAMESE)
    vi_claims, vi_queries = vietnamese_queries(vi_groups)
    vi_split = {group["id"]: group["split"] for group in vi_groups}
    embedder = DiskCachedEmbedder(
        embedder_from_settings(Settings(embedding_cache_size=50_000)), own_vectors()
    )

    started = time.perf_counter()
    hybrid_trials = corpus(embedder, claims, train, dev, vi_claims, vi_queries, vi_split)
    lexical_trials = corpus(None, claims, train, dev, vi_claims, vi_queries, vi_split)
    embedder.save()
    marks, oof = thresholds(hybrid_trials, HYBRID_FEATURES, True)
    lex_marks, _ = thresholds(lexical_trials, LEXICAL_VI_FEATURES, False)
    hybrid = fit(*rows_of(hybrid_trials.tweets_train + hybrid_trials.vi_train, cross=False), HYBRID_FEATURES)
    lexical = fit(
        *rows_of(lexical_trials.tweets_train + lexical_trials.vi_train, cross=False), LEXICAL_VI_FEATURES
    )

    pairs = read_jsonl(PAIRS)
    unrelated = read_jsonl(UNRELATED)
    pair_claims = [(PAIR_OFFSET + i, p["claim"]) for i, p in enumerate(pairs)]
    pair_queries = [
        Query(p["rumour"], frozenset({PAIR_OFFSET + i}), frozenset({PAIR_OFFSET + i}), p["id"], i % 2)
        for i, p in enumerate(pairs)
    ]
    pair_trials = trials(embedder, claims + pair_claims, pair_queries)
    full = build(embedder, claims + pair_claims, set())
    unrelated_trials = [
        Trial(u["text"], found, frozenset(), False, u["id"])
        for u, found in zip(unrelated, full.scored([u["text"] for u in unrelated]), strict=True)
    ]
    embedder.save()
    cross_trials = pair_trials + unrelated_trials
    keys = [t.group for t in cross_trials]
    cross = fit(*cross_rows(cross_trials, hybrid_trials.vi_train), CROSS_FEATURES)
    cv_raw = cross_validated(cross_trials, keys, hybrid_trials.vi_train, hybrid, lexical, ())
    raw = {
        name: lowest([cv_raw], floor)
        for name, floor in (("show", SHOW_PRECISION), ("certain", CERTAIN_PRECISION))
    }
    anchors = tuple((raw[name], marks[name]) for name in ("show", "certain") if raw[name] < 1.0)
    cv = cross_validated(cross_trials, keys, hybrid_trials.vi_train, hybrid, lexical, anchors)
    final = MatchModels(hybrid, lexical, cross, marks, anchors)

    dev_en = decide(hybrid_trials.tweets_dev, final, True)
    dev_vi = decide(hybrid_trials.vi_dev, final, True)
    lex_en = decide(lexical_trials.tweets_dev, final, False)
    lex_vi = decide(lexical_trials.vi_dev, final, False)
    seconds = time.perf_counter() - started

    print("## Rumour matching: same language (CheckThat! 2020, the Vietnamese set) and across languages\n")
    positives = [d for d in dev_en if d[0]]
    vi_positives = [d for d in dev_vi if d[0]]
    print(
        f"Dev: {len(dev)} tweets ({len(dev_en)} trials), {sum(s == 'dev' for s in vi_split.values())} "
        f"Vietnamese claims ({len(dev_vi)} trials). The best match is right on "
        f"{np.mean([r for _, r, _ in positives]):.3f} (tweets) and "
        f"{np.mean([r for _, r, _ in vi_positives]):.3f} (Vietnamese) of the positive trials. "
        f"Run {seconds:.0f} s."
    )
    print(f"\nThresholds (5-fold cross-validation on train): {marks}.\n")
    train_rows = [
        ("train (out of fold), en", oof["en"], [t.group for t in hybrid_trials.tweets_train]),
        ("train (out of fold), vi", oof["vi"], [t.group for t in hybrid_trials.vi_train]),
    ]
    table(train_rows, marks)
    print("\n### Hybrid (e5 + BM25), dev\n")
    dev_rows = [
        ("CheckThat tweets (en)", dev_en, [t.group for t in hybrid_trials.tweets_dev]),
        ("Vietnamese set (vi)", dev_vi, [t.group for t in hybrid_trials.vi_dev]),
    ]
    for label, chosen in marked_groups(hybrid_trials.vi_dev).items():
        dev_rows.append(
            (f"vi, {label}", [dev_vi[i] for i in chosen], [hybrid_trials.vi_dev[i].group for i in chosen])
        )
    table(dev_rows, marks)
    print(f"\n### Lexical only (no embedder), dev, its own thresholds {lex_marks}\n")
    table(
        [
            ("CheckThat tweets (en)", lex_en, [t.group for t in lexical_trials.tweets_dev]),
            ("Vietnamese set (vi)", lex_vi, [t.group for t in lexical_trials.vi_dev]),
        ],
        lex_marks,
    )
    print(
        f"\nLexical at the hybrid thresholds: en {rates(lex_en, marks['show'])} / "
        f"{rates(lex_en, marks['certain'])}, vi {rates(lex_vi, marks['show'])} / "
        f"{rates(lex_vi, marks['certain'])}"
    )
    print(
        f"\nCross-language: {len(pair_trials)} pair trials (half with the claim in the base), "
        f"{len(unrelated_trials)} unrelated; 5-fold CV over pairs. Cross-language scores for precision "
        f"0.80 / 0.95 on the pairs ({raw['show']:.3f} / {raw['certain']:.3f}) are moved onto the "
        "same-language thresholds."
    )
    halves_of: dict[str, list[int]] = {"vi rumour -> en claim": [], "en rumour -> vi claim": []}
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
        "about": "Fitted by bench/rumour_thresholds.py (CheckThat! 2020 train, the train half of "
        "bench/data/rumour_pairs_vi.jsonl; bench/data/rumour_pairs.jsonl); thresholds by 5-fold "
        "cross-validation on train.",
        SAME: {"hybrid": hybrid.to_json(DIGITS), "lexical": lexical.to_json(DIGITS)},
        CROSS: {"model": cross.to_json(DIGITS), "anchors": [list(pair) for pair in anchors]},
        "thresholds": marks,
    }
    if not args.check:
        MODEL_PATH.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nwrote {MODEL_PATH.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
