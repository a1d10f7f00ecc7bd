"""Claim matching on CheckThat! 2020 task 2: tweets -> 10,375 fact-checked claims (English).

Measures, in one run, on the dev tweets: BM25 alone, the bundled e5 alone, reciprocal rank fusion,
and the reranker (logistic model over the pair features) fitted on the train tweets, with MAP@1,
MAP@5 (the official metric), Recall@5 and a bootstrap interval. Every choice (the regularisation,
the candidates per retriever, syllable pairs) is made by 5-fold cross-validation on train. Also the
index build time (without and with the e5 vectors cached under bench/out/) and the p95 latency of
one query (its embedding included).

    .venv/bin/python bench/claims.py                 # about 1 min once bench/out/ has the vectors
    .venv/bin/python bench/claims.py --write-model   # also ship the fitted model (profile "claims")
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from civicpulse.embeddings import BundledEmbedder
from civicpulse.retrieval import Doc, HybridIndex, RetrievalConfig
from civicpulse.retrieval.features import FEATURES, LEXICAL_FEATURES
from retrieval_eval import (
    Query,
    attach_candidates,
    bm25_alone,
    bootstrap,
    cross_validate,
    dense_alone,
    fit,
    latency_ms,
    map_at,
    mrr,
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
C_GRID = (0.03, 0.3, 3.0)


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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--write-model", action="store_true", help="ship the fitted reranker (profile claims)"
    )
    parser.add_argument("--cold", action="store_true", help="also time a build that embeds every claim")
    args = parser.parse_args()

    docs = claims()
    train, dev = load("train"), load("dev")
    embedder = DiskCachedEmbedder(BundledEmbedder(threads=2))
    metrics = {"MAP@1": map_at(1), "MAP@5": map_at(5), "Recall@5": recall_at(5), "MRR": mrr}

    choices = []
    best = None
    for pairs in (False, True):
        for candidates in (50,):
            config = RetrievalConfig(profile="claims", candidates=candidates, pairs=pairs)
            index, _ = build(docs, config, embedder)
            attach_candidates(index, train)
            for c in C_GRID:
                score = cross_validate(train, FEATURES, c, map_at(5))
                choices.append((f"pairs={pairs} candidates={candidates} C={c}", f"{score:.3f}"))
                if best is None or score > best[0]:
                    best = (score, config, c)
    assert best is not None
    _, config, c = best
    print("5-fold CV on train (MAP@5 of the reranker):")
    print(table(choices, ("setting", "CV MAP@5")))

    index, warm_build = build(docs, config, embedder)
    lexical_index, lexical_build = build(docs, config, None)
    attach_candidates(index, train)
    attach_candidates(index, dev)
    model = fit(train, FEATURES, c)
    lexical_model = fit(train, LEXICAL_FEATURES, c)

    rows = []
    systems = {
        "BM25 alone": bm25_alone,
        "e5 alone": dense_alone,
        "fusion (RRF)": rrf,
        "reranker, BM25 features only": lexical_model.score,
        "reranker (BM25 + e5 + cues)": model.score,
    }
    for name, scorer in systems.items():
        ranked = rankings(dev, scorer)
        low, high = bootstrap(per_query(map_at(5), ranked, dev))
        row = (
            [name] + [f"{metric(ranked, dev):.3f}" for metric in metrics.values()] + [f"{low:.3f}-{high:.3f}"]
        )
        rows.append(tuple(row))
    print(f"\ndev ({len(dev)} tweets, {len(docs)} claims; chosen on train: {config}, C={c})")
    print(table(rows, ("system", *metrics, "MAP@5 95% CI")))
    print(PUBLISHED)

    index.reranker = model
    p50, p95 = latency_ms(index, [q.text for q in dev], 5)
    lexical_index.reranker = lexical_model
    lp50, lp95 = latency_ms(lexical_index, [q.text for q in dev], 5)
    speed = [
        ("hybrid, e5 vectors cached", f"{warm_build:.1f}", f"{p50:.1f}", f"{p95:.1f}"),
        ("BM25 only", f"{lexical_build:.1f}", f"{lp50:.1f}", f"{lp95:.1f}"),
    ]
    if args.cold:
        _, cold_build = build(docs, config, BundledEmbedder(threads=2))
        speed.insert(0, ("hybrid, embedding every claim", f"{cold_build:.1f}", "", ""))
    print(f"\nspeed ({os.environ['OMP_NUM_THREADS']} threads, {len(docs)} claims)")
    print(table(speed, ("index", "build s", "p50 ms", "p95 ms")))

    if args.write_model:
        note = f"bench/claims.py: CheckThat! 2020 train tweets, {config}, C={c}"
        save_profile("claims", model, lexical_model, note)
        print(f"wrote the claims profile ({note})")


if __name__ == "__main__":
    main()
