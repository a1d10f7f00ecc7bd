"""Legal retrieval on ALQAC 2022/2023: Vietnamese questions -> the law article that answers them.

Train: the 520 ALQAC 2022 questions over its 1,377 articles; dev: the 100 ALQAC 2023 questions
over 2,249 articles of 17 laws. Each article is indexed with its document's title (the law's name),
as the product indexes a passage with its document. Measures, in one run, on dev: BM25 alone, the
bundled e5 alone, reciprocal rank fusion and the reranker fitted on train, with Recall@1/5/10, MRR,
macro-F2 (ALQAC task 1: the returned articles are the top one plus any scoring within a ratio of
it, the ratio chosen on train) and a bootstrap interval. Every choice (the model, its features, the
question embedded whole or from its first words as the library does) is made by 5-fold
cross-validation on train. Also the p50/p95 latency of one question over 10,000 passages, split
into its parts, with the CPU time and the load average (the machine is shared).

    .venv/bin/python bench/answers.py                 # a few minutes once bench/out/ has the vectors
    .venv/bin/python bench/answers.py --write-model   # also ship the fitted model (profile "passages")
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from civicpulse.embeddings import BundledEmbedder
from civicpulse.knowledge.library import QUERY_WORDS, CappedQueries
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

DATA = Path(__file__).resolve().parents[2] / "shared/data/alqac-legal-retrieval-vi"
TITLES_2022 = {  # the four documents of ALQAC 2022 by number (MANIFEST.md of the data set)
    "91/2015/QH13": "Bộ luật dân sự",
    "24/2018/QH14": "Luật An ninh mạng",
    "45/2019/QH14": "Bộ luật Lao động",
    "01/VBHN-VPQH": "Bộ luật Hình sự",
}
PREVIOUS_FEATURES = FEATURES[:17]
RATIOS = (1.0, 0.95, 0.9, 0.8)
LATENCY_PASSAGES = 10_000


def question_text(record: dict) -> str:
    """The question as asked: its text, then its options for a multiple-choice question."""
    choices = record.get("choices") or {}
    return "\n".join([record["question"], *(f"{key}. {text}" for key, text in sorted(choices.items()))])


def load(split: str) -> list[Query]:
    """The questions of ``split`` (with the options of multiple-choice ones) and their gold articles."""
    return [
        Query(r["qid"], question_text(r), frozenset(r["gold_doc_ids"]))
        for r in read_jsonl(DATA / f"queries_{split}.jsonl")
    ]


def articles(corpus: str) -> list[Doc]:
    """The articles of ``corpus``, each titled with its law."""
    docs = []
    for r in read_jsonl(DATA / f"corpus_{corpus}.jsonl"):
        name = TITLES_2022.get(r["law_id"])
        title = f"{name} ({r['law_id']})" if name else r["law_id"]
        docs.append(Doc(r["doc_id"], r["text"], title))
    return docs


def macro_f2(ratio: float, model_score) -> callable:
    """Macro-F2 when each question returns its top article and those scoring ``ratio`` of it or more."""

    def metric(_ranked: list[list[str]], queries: list[Query]) -> float:
        values = []
        for query in queries:
            scores = model_score(query.features)
            if not len(scores):
                values.append(0.0)
                continue
            top = float(scores.max())
            returned = {doc for doc, s in zip(query.ids, scores, strict=True) if s >= top * ratio}
            right = len(returned & query.gold)
            precision, recall = right / len(returned), right / len(query.gold)
            values.append(0.0 if right == 0 else 5 * precision * recall / (4 * precision + recall))
        return float(np.mean(values))

    return metric


def build(docs: list[Doc], config: RetrievalConfig, embedder: object | None) -> tuple[HybridIndex, float]:
    """An index of ``docs`` and the seconds its build took (first search included)."""
    started = time.perf_counter()
    index = HybridIndex(embedder, config)  # type: ignore[arg-type]
    index.add(docs)
    index.search("khởi động", 1)
    return index, time.perf_counter() - started


def fitters(names: tuple[str, ...], trees: bool = False) -> dict[str, Fitter]:
    """The models tried by cross-validation (boosted trees only with ``trees``: slow to fit)."""
    found = {
        "logistic C=3": logistic(names, 3.0),
        "logistic C=0.3": logistic(names, 0.3),
        "logistic C=3, previous 17 features": logistic(
            tuple(n for n in PREVIOUS_FEATURES if n in names), 3.0
        ),
    }
    if trees:
        found["boosted 100 trees x 15 leaves"] = boosted(names, 100, 15)
    return found


def latency_index(config: RetrievalConfig, embedder: object) -> HybridIndex:
    """10,000 passages: every article of both corpora, then their clauses (one per line) as passages.

    Queries are embedded for real; passages get random unit vectors (the cost of a dot product does
    not depend on its values), so no 10,000-passage embedding is needed to time a search.
    """
    docs = articles("alqac2022") + articles("alqac2023")
    clauses = [
        Doc(f"{doc.id}#{n}", line, doc.title)
        for doc in docs
        for n, line in enumerate(doc.text.split("\n"))
        if len(line) > 40
    ]
    docs += clauses[: LATENCY_PASSAGES - len(docs)]

    class RandomPassages:
        name, dim = embedder.name, embedder.dim
        rng = np.random.default_rng(3)

        def embed_passages(self, texts: list[str]) -> np.ndarray:
            vectors = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
            return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

        def embed_queries(self, texts: list[str]) -> np.ndarray:
            return embedder.embed_queries(texts)  # type: ignore[attr-defined]

    index = HybridIndex(RandomPassages(), config)  # type: ignore[arg-type]
    index.add(docs)
    return index


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--write-model", action="store_true", help="ship the fitted reranker (profile passages)"
    )
    parser.add_argument("--trees", action="store_true", help="also try boosted trees (slow: minutes a fit)")
    parser.add_argument("--lexical", action="store_true", help="BM25 only: no e5 vectors needed")
    args = parser.parse_args()
    cpu_started, wall_started = time.process_time(), time.perf_counter()

    train_docs, dev_docs = articles("alqac2022"), articles("alqac2023")
    train, dev = load("train"), load("dev")
    cached = None if args.lexical else DiskCachedEmbedder(BundledEmbedder(threads=2))
    names = LEXICAL_FEATURES if args.lexical else FEATURES
    question_words = (0,) if args.lexical else (0, QUERY_WORDS)
    config = RetrievalConfig(profile="passages", pairs=True)

    choices, best = [], None
    index, _ = build(train_docs, config, cached)
    for words in question_words:
        index.embedder = CappedQueries(cached, words) if cached else None
        attach_candidates(index, train)
        for name, fitter in fitters(names, args.trees).items():
            score = cross_validate(train, fitter, recall_at(1))
            asked = f"first {words} words" if words else "whole"
            choices.append((f"question embedded {asked}, {name}", f"{score:.3f}"))
            print(f"  CV: {choices[-1][0]}: {score:.3f}", flush=True)
            if best is None or score > best[0]:
                best = (score, words, name)
    assert best is not None
    _, words, name = best
    print("5-fold CV on train (Recall@1 of the reranker):")
    print(table(choices, ("setting", "CV Recall@1")))

    embedder = CappedQueries(cached, words) if cached else None
    index.embedder = embedder
    attach_candidates(index, train)
    model = fitters(names, args.trees)[name](train)
    lexical_name = (
        name
        if args.lexical
        else max(
            fitters(LEXICAL_FEATURES, args.trees),
            key=lambda n: cross_validate(train, fitters(LEXICAL_FEATURES, args.trees)[n], recall_at(1)),
        )
    )
    lexical_model = fitters(LEXICAL_FEATURES, args.trees)[lexical_name](train)
    ratio = max(RATIOS, key=lambda r: macro_f2(r, model.score)([], train))
    dev_index, build_s = build(dev_docs, config, embedder)
    attach_candidates(dev_index, dev)

    metrics = {"R@1": recall_at(1), "R@5": recall_at(5), "R@10": recall_at(10), "MRR": mrr}
    systems = {
        "BM25 alone": bm25_alone,
        f"reranker, BM25 features only ({lexical_name})": lexical_model.score,
    }
    if not args.lexical:
        systems |= {"e5 alone": dense_alone, "fusion (RRF)": rrf, f"reranker ({name})": model.score}
    rows = []
    for system, scorer in systems.items():
        ranked = rankings(dev, scorer)
        low, high = bootstrap(per_query(recall_at(1), ranked, dev))
        values = [f"{metric(ranked, dev):.3f}" for metric in metrics.values()]
        f2 = (
            macro_f2(ratio, scorer)([], dev)
            if scorer in (model.score, lexical_model.score)
            else macro_f2(1.0, scorer)([], dev)
        )
        rows.append((system, *values, f"{f2:.3f}", f"{low:.2f}-{high:.2f}"))
    asked = f"from its first {words} words" if words else "whole"
    print(
        f"\ndev ({len(dev)} questions, {len(dev_docs)} articles; chosen on train: question embedded {asked},"
        f" {name}, F2 ratio {ratio})"
    )
    print(table(rows, ("system", *metrics, "macro-F2", "R@1 95% CI")))

    real = CappedQueries(cached.inner, words) if cached else CappedQueries(BundledEmbedder(threads=2), words)
    big = latency_index(config, real)
    big.reranker = model
    started = time.perf_counter()
    big.search("khởi động", 1)
    big_build = time.perf_counter() - started
    parts = latency_parts(big, [q.text for q in dev], 10)
    p50, p95 = parts["whole search"]
    print(f"\nspeed ({os.environ['OMP_NUM_THREADS']} threads)")
    print(
        table(
            [
                (f"{len(dev_docs)} articles (dev)", f"{build_s:.1f}", "", ""),
                (f"{len(big)} passages", f"{big_build:.1f} (BM25 only)", f"{p50:.1f}", f"{p95:.1f}"),
            ],
            ("index", "build s (vectors cached)", "p50 ms", "p95 ms"),
        )
    )
    print(f"parts of a search over {len(big)} passages (the question embedded by the real e5, {asked}):")
    print(parts_table(parts))
    print(machine_load(cpu_started, wall_started))

    if args.write_model:
        note = f"bench/answers.py: ALQAC 2022 train questions, {config}, {name}, question embedded {asked}"
        if args.lexical:
            note += "; BM25 features only (the hybrid variant too: e5 gives candidates, not scores)"
        save_profile("passages", model, lexical_model, note)
        print(f"wrote the passages profile ({note})")


if __name__ == "__main__":
    main()
