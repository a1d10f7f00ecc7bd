"""Claim matching on CheckThat! 2020 task 2: tweets -> 10,375 fact-checked claims (English).

Measures, in one run, on the dev tweets: BM25 alone, the bundled e5 alone, reciprocal rank fusion,
the reranker of the previous round (logistic over the first 17 pair features) and the chosen reranker,
all fitted on the train tweets, with MAP@1, MAP@5 (the official metric), Recall@5 and a bootstrap
interval. Every choice (the model: logistic or boosted trees and their settings, the candidates per
retriever) is made by 5-fold cross-validation on train; dev is scored once. Also the index build
time (with the e5 vectors cached under bench/out/; ``--cold`` also without) and the p50/p95 latency
of one query split into its parts, the query's embedding by the real e5 included, with the CPU time
and the load average (the machine is shared).

    .venv/bin/python bench/claims.py                 # a few minutes once bench/out/ has the vectors
    .venv/bin/python bench/claims.py --write-model   # also ship the fitted models (profile claims)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from civicpulse.embeddings import BundledEmbedder
from civicpulse.retrieval import Doc, HybridIndex, RetrievalConfig
from civicpulse.retrieval.features import FEATURES, LEXICAL_FEATURES
from retrieval_eval import (
    Fitter,
    Query,
    attach_candidates,
    bm25_alone,
    boosted,
    bootstrap,
    cross_validate,
    dense_alone,
    latency_parts,
    logistic,
    machine_load,
    map_at,
    mrr,
    parts_table,
    per_query,
    rankings,
    read_jsonl,
    recall_at,
    rrf,
    save_profile,
    table,
)
from retrieval_vectors import DiskCachedEmbedder

DATA = Path(__file__).resolve().parents[2] / "shared/data/checkthat2020-task2-claim-retrieval"
PUBLISHED = "published test MAP@5: BM25 0.853 (staging sanity check), best systems about 0.93"
TRAILER = re.compile(r"\s*\(@\w+\)\s*[A-Z][a-z]+ \d{1,2}, \d{4}\s*$")
CANDIDATES = (50, 100)
C_GRID = (0.1, 0.3, 1.0)
PREVIOUS_FEATURES = FEATURES[:17]


def tweet_text(text: str) -> str:
    """A tweet without its embed trailer's handle and date ("— Name (@name) May 1, 2020" -> "— Name")."""
    return TRAILER.sub("", text).strip()


def load(split: str) -> list[Query]:
    """The tweets of ``split`` with their gold claims."""
    return [
        Query(str(r["tweet_id"]), tweet_text(r["text"]), frozenset(map(str, r["gold_vclaim_ids"])))
        for r in read_jsonl(DATA / f"queries_{split}.jsonl")
    ]


def claims() -> list[Doc]:
    """The verified claims as documents (title, then the claim)."""
    return [
        Doc(str(r["vclaim_id"]), r["vclaim"], r.get("title") or "")
        for r in read_jsonl(DATA / "verified_claims.jsonl")
    ]


def build(docs: list[Doc], config: RetrievalConfig, embedder: object | None) -> tuple[HybridIndex, float]:
    """An index of ``docs`` and the seconds its build took (first search included: BM25 is lazy)."""
    started = time.perf_counter()
    index = HybridIndex(embedder, config)  # type: ignore[arg-type]
    index.add(docs)
    index.search("warm up", 1)
    return index, time.perf_counter() - started


def fitters(names: tuple[str, ...], lexical: bool, trees: bool = False) -> dict[str, Fitter]:
    """The models tried by cross-validation (boosted trees only with ``trees``: slow to fit)."""
    found = {f"logistic C={c}": logistic(names, c) for c in C_GRID}
    if trees:
        found["boosted 100 trees x 15 leaves"] = boosted(names, 100, 15)
    if not lexical:
        found["logistic C=0.3, previous 17 features"] = logistic(PREVIOUS_FEATURES, 0.3)
    return found


def choose(
    index: HybridIndex, train: list[Query], names: tuple[str, ...], lexical: bool, trees: bool
) -> tuple[str, int, float, list]:
    """The model and candidate count with the best 5-fold MAP@5 on ``train``, and every result."""
    results, best = [], None
    for candidates in CANDIDATES:
        index.config = replace(index.config, candidates=candidates)
        attach_candidates(index, train)
        for name, fitter in fitters(names, lexical, trees).items():
            score = cross_validate(train, fitter, map_at(5))
            results.append((f"{candidates} per retriever, {name}", f"{score:.3f}"))
            print(f"  CV {'lexical' if lexical else 'hybrid'}: {results[-1][0]}: {score:.3f}", flush=True)
            if best is None or score > best[2]:
                best = (name, candidates, score)
    assert best is not None
    return (*best, results)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--write-model", action="store_true", help="ship the fitted reranker (profile claims)"
    )
    parser.add_argument("--trees", action="store_true", help="also try boosted trees (slow: minutes a fit)")
    parser.add_argument(
        "--latency-only", action="store_true", help="only time searches with the shipped models"
    )
    parser.add_argument("--cold", action="store_true", help="also time a build that embeds every claim")
    args = parser.parse_args()
    cpu_started, wall_started = time.process_time(), time.perf_counter()

    docs = claims()
    train, dev = load("train"), load("dev")
    embedder = DiskCachedEmbedder(BundledEmbedder(threads=2))
    metrics = {"MAP@1": map_at(1), "MAP@5": map_at(5), "Recall@5": recall_at(5), "MRR": mrr}

    config = RetrievalConfig(profile="claims", pairs=True)
    index, warm_build = build(docs, config, embedder)
    lexical_index, lexical_build = build(docs, config, None)
    if args.latency_only:
        index.embedder = embedder.inner
        speed(index, lexical_index, dev, warm_build, lexical_build, args.cold)
        print(machine_load(cpu_started, wall_started))
        return
    name, candidates, _, choices = choose(index, train, FEATURES, False, args.trees)
    lexical_name, lexical_candidates, _, lexical_choices = choose(
        lexical_index, train, LEXICAL_FEATURES, True, args.trees
    )
    print("5-fold CV on train (MAP@5 of the reranker), with the e5 vectors:")
    print(table(choices, ("setting", "CV MAP@5")))
    print("BM25 only:")
    print(table(lexical_choices, ("setting", "CV MAP@5")))

    index.config = replace(index.config, candidates=candidates)
    lexical_index.config = replace(lexical_index.config, candidates=lexical_candidates)
    attach_candidates(index, train)
    model = fitters(FEATURES, False, args.trees)[name](train)
    previous = logistic(PREVIOUS_FEATURES, 0.3)(train)
    attach_candidates(lexical_index, train)
    lexical_model = fitters(LEXICAL_FEATURES, True, args.trees)[lexical_name](train)
    attach_candidates(index, dev)

    rows = []
    systems = {
        "BM25 alone": bm25_alone,
        "e5 alone": dense_alone,
        "fusion (RRF)": rrf,
        "previous reranker (logistic, 17 features)": previous.score,
        f"reranker ({name})": model.score,
    }
    for system, scorer in systems.items():
        rows.append(dev_row(system, rankings(dev, scorer), dev, metrics))
    lexical_dev = [Query(q.id, q.text, q.gold) for q in dev]
    attach_candidates(lexical_index, lexical_dev)
    rows.append(
        dev_row(
            f"reranker, BM25 only ({lexical_name})",
            rankings(lexical_dev, lexical_model.score),
            lexical_dev,
            metrics,
        )
    )
    print(
        f"\ndev ({len(dev)} tweets, {len(docs)} claims; chosen on train: {candidates} candidates per"
        f" retriever, {name}; BM25 only: {lexical_candidates}, {lexical_name})"
    )
    print(table(rows, ("system", *metrics, "MAP@5 95% CI")))
    print(PUBLISHED)

    index.reranker, lexical_index.reranker = model, lexical_model
    index.embedder = embedder.inner
    speed(index, lexical_index, dev, warm_build, lexical_build, args.cold)
    print(machine_load(cpu_started, wall_started))

    if args.write_model:
        note = f"bench/claims.py: CheckThat! 2020 train tweets, {index.config}, {name}"
        counts = (candidates, lexical_candidates)
        save_profile("claims", model, lexical_model, f"{note}; BM25 only: {lexical_name}", counts)
        print(f"wrote the claims profile ({note})")


def speed(
    index: HybridIndex,
    lexical_index: HybridIndex,
    dev: list[Query],
    build_s: float,
    lexical_s: float,
    cold: bool,
) -> None:
    """Print build times and the p50/p95 of each part of a search (``index`` embeds with the real e5)."""
    texts = [q.text for q in dev]
    hybrid_parts = latency_parts(index, texts, 5)
    lexical_parts = latency_parts(lexical_index, texts, 5)
    rows = [
        ("hybrid (e5 vectors of the claims cached)", f"{build_s:.1f}", *whole(hybrid_parts)),
        ("BM25 only", f"{lexical_s:.1f}", *whole(lexical_parts)),
    ]
    if cold:
        _, cold_build = build(claims(), index.config, BundledEmbedder(threads=2))
        rows.insert(0, ("hybrid, embedding every claim", f"{cold_build:.1f}", "", ""))
    print(f"\nspeed ({os.environ['OMP_NUM_THREADS']} threads, {len(index)} claims, {len(texts)} dev tweets)")
    print(table(rows, ("index", "build s", "p50 ms", "p95 ms")))
    print("\nparts of a hybrid search (the query embedded by the real e5):")
    print(parts_table(hybrid_parts))
    print("parts of a BM25-only search:")
    print(parts_table(lexical_parts))


def dev_row(system: str, ranked: list[list[str]], dev: list[Query], metrics: dict) -> tuple[str, ...]:
    """One row of the dev table: the metrics and the MAP@5 bootstrap interval."""
    low, high = bootstrap(per_query(map_at(5), ranked, dev))
    return (system, *(f"{metric(ranked, dev):.3f}" for metric in metrics.values()), f"{low:.3f}-{high:.3f}")


def whole(parts: dict[str, tuple[float, float]]) -> tuple[str, str]:
    """p50 and p95 of the whole search."""
    p50, p95 = parts["whole search"]
    return f"{p50:.1f}", f"{p95:.1f}"


if __name__ == "__main__":
    main()
