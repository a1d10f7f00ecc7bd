"""What ``claims.py`` and ``answers.py`` share: metrics, candidate features, reranker fitting, timing.

Every ranking measured here goes through ``civicpulse.retrieval.HybridIndex``: BM25 alone ranks the
candidates by the summed BM25 fields, e5 alone by cosine, fusion by reciprocal rank, and the
reranker by a model (logistic or boosted trees) fitted on train queries only.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from civicpulse.logistic import Logistic
from civicpulse.retrieval import HybridIndex
from civicpulse.retrieval.features import FEATURES, Cues, matrix
from civicpulse.retrieval.fusion import reciprocal_rank
from civicpulse.retrieval.rerank import MODEL_FILE, Boosted, Model, Reranker

MODEL_PATH = Path(__file__).resolve().parents[1] / "src/civicpulse/retrieval/models" / MODEL_FILE
BM25, DENSE = FEATURES.index("bm25_log"), FEATURES.index("cosine")


@dataclass
class Query:
    """One evaluation query: its id, text, gold document ids and (once computed) its candidates."""

    id: str
    text: str
    gold: frozenset[str]
    ids: list[str] | None = None
    features: np.ndarray | None = None


def read_jsonl(path: Path) -> list[dict]:
    """The objects of a JSONL file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def attach_candidates(index: HybridIndex, queries: Sequence[Query]) -> float:
    """Fill each query's candidate ids and features; return the seconds taken (vectors included)."""
    started = time.perf_counter()
    vectors = index.query_vectors([q.text for q in queries])
    ids = index.row_ids()
    for number, query in enumerate(queries):
        rows, matrix = index.candidates(query.text, None if vectors is None else vectors[number])
        query.ids = [ids[row] for row in rows]
        query.features = matrix
    return time.perf_counter() - started


Scorer = Callable[[np.ndarray], np.ndarray]


def rankings(queries: Sequence[Query], scorer: Scorer) -> list[list[str]]:
    """Each query's candidate ids ordered by ``scorer`` (ties in index order, as ``search`` does)."""
    out = []
    for query in queries:
        assert query.ids is not None and query.features is not None
        scores = scorer(query.features) if len(query.ids) else np.zeros(0)
        order = sorted(range(len(query.ids)), key=lambda i: (-float(scores[i]), i))
        out.append([query.ids[i] for i in order])
    return out


def bm25_alone(features: np.ndarray) -> np.ndarray:
    """Summed BM25 fields (its log, same order)."""
    return features[:, BM25]


def dense_alone(features: np.ndarray) -> np.ndarray:
    """Cosine of the e5 vectors."""
    return features[:, DENSE]


def rrf(features: np.ndarray) -> np.ndarray:
    """Reciprocal rank fusion of the BM25 and e5 orders among the candidates."""
    lexical = list(np.lexsort((np.arange(len(features)), -features[:, BM25])))
    dense = list(np.lexsort((np.arange(len(features)), -features[:, DENSE])))
    fused = reciprocal_rank([lexical, dense])
    return np.array([fused.get(i, 0.0) for i in range(len(features))])


def _training_rows(queries: Sequence[Query], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    columns = [FEATURES.index(name) for name in names]
    x = np.vstack([q.features[:, columns] for q in queries if q.features is not None and len(q.ids)])
    y = np.concatenate([[doc in q.gold for doc in q.ids] for q in queries if q.ids]).astype(int)
    return x, y


def fit(queries: Sequence[Query], names: Sequence[str], c: float) -> Reranker:
    """A logistic reranker over ``names`` fitted on the candidates of ``queries`` (gold = 1)."""
    x, y = _training_rows(queries, names)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=2000, class_weight=None)
    model.fit((x - mean) / scale, y)
    return Reranker(Logistic(tuple(names), mean, scale, model.coef_[0], float(model.intercept_[0])))


def fit_boosted(queries: Sequence[Query], names: Sequence[str], trees: int, leaves: int) -> Boosted:
    """Boosted trees over ``names`` fitted on the candidates of ``queries`` (gold = 1), pointwise."""
    x, y = _training_rows(queries, names)
    model = HistGradientBoostingClassifier(
        max_iter=trees,
        learning_rate=0.05,
        max_leaf_nodes=leaves,
        min_samples_leaf=40,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=13,
    )
    model.fit(x.astype(np.float64), y)
    return Boosted.from_sklearn(model, tuple(names))


Fitter = Callable[[Sequence[Query]], Model]


def logistic(names: Sequence[str], c: float) -> Fitter:
    """A fitter of the logistic reranker."""
    return lambda queries: fit(queries, names, c)


def boosted(names: Sequence[str], trees: int, leaves: int) -> Fitter:
    """A fitter of the boosted reranker."""
    return lambda queries: fit_boosted(queries, names, trees, leaves)


def cross_validate(queries: Sequence[Query], fitter: Fitter, metric: Callable, folds: int = 5) -> float:
    """Mean of ``metric(rankings, queries)`` over ``folds`` folds of ``queries`` (fitted on the rest)."""
    values = []
    for train, test in KFold(folds, shuffle=True, random_state=13).split(queries):
        model = fitter([queries[i] for i in train])
        held = [queries[i] for i in test]
        values.append(metric(rankings(held, model.score), held))
    return float(np.mean(values))


def average_precision(ranked: Sequence[str], gold: frozenset[str], k: int) -> float:
    """AP@k as CheckThat! computes it: precision at each gold hit within k, over the number of gold."""
    hits, total = 0, 0.0
    for position, doc in enumerate(ranked[:k], start=1):
        if doc in gold:
            hits += 1
            total += hits / position
    return total / len(gold) if gold else 0.0


def map_at(k: int) -> Callable[[list[list[str]], Sequence[Query]], float]:
    """MAP@k over queries."""
    return lambda ranked, queries: float(
        np.mean([average_precision(r, q.gold, k) for r, q in zip(ranked, queries, strict=True)])
    )


def recall_at(k: int) -> Callable[[list[list[str]], Sequence[Query]], float]:
    """Share of gold found in the top k, averaged over queries."""
    return lambda ranked, queries: float(
        np.mean([len(q.gold & set(r[:k])) / len(q.gold) for r, q in zip(ranked, queries, strict=True)])
    )


def mrr(ranked: list[list[str]], queries: Sequence[Query]) -> float:
    """Mean reciprocal rank of the first gold document (0 when none is among the candidates)."""
    values = []
    for r, q in zip(ranked, queries, strict=True):
        first = next((i for i, doc in enumerate(r, start=1) if doc in q.gold), None)
        values.append(1.0 / first if first else 0.0)
    return float(np.mean(values))


def per_query(metric: Callable, ranked: list[list[str]], queries: Sequence[Query]) -> np.ndarray:
    """``metric`` on each query alone (for the bootstrap)."""
    return np.array([metric([r], [q]) for r, q in zip(ranked, queries, strict=True)])


def bootstrap(values: np.ndarray, rounds: int = 2000, seed: int = 7) -> tuple[float, float]:
    """95 % percentile bootstrap interval of the mean of ``values``."""
    rng = np.random.default_rng(seed)
    means = rng.choice(values, size=(rounds, len(values)), replace=True).mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def latency_ms(index: HybridIndex, texts: Sequence[str], top: int) -> tuple[float, float]:
    """p50 and p95 of one ``search`` each (the query's embedding by ``index.embedder`` included), in ms."""
    index.search(texts[0], top)
    times = []
    for text in texts:
        started = time.perf_counter()
        index.search(text, top)
        times.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(times, 50)), float(np.percentile(times, 95))


PARTS = (
    "query embedding",
    "BM25",
    "vector search",
    "candidates",
    "features",
    "reranker",
    "whole search",
    "whole search, CPU time",
)


def latency_parts(index: HybridIndex, texts: Sequence[str], top: int) -> dict[str, tuple[float, float]]:
    """p50 and p95 (ms) of each part of a search, then of the whole ``search`` call, over ``texts``.

    The parts are the steps of ``HybridIndex.search`` done one by one: the query's vector from
    ``index.embedder`` (give it the real embedder, not a cache), BM25 over every field, the cosine
    with every row, the candidate pool, the pair features, and the reranker with the ordering; and
    the CPU time of the whole search (all threads of the process), which the machine's load inflates less.
    """
    index.search(texts[0], top)
    today = date.today()
    times: dict[str, list[float]] = {part: [] for part in PARTS}

    def timed(part: str, started: float) -> float:
        now = time.perf_counter()
        times[part].append((now - started) * 1000)
        return now

    for text in texts:
        started = time.perf_counter()
        vectors = index.query_vectors([text])
        started = timed("query embedding", started)
        bm25 = index.lexical_scores(text)
        started = timed("BM25", started)
        cosine = index.dense_scores(None if vectors is None else vectors[0])
        started = timed("vector search", started)
        rows = index.pool(bm25, cosine)
        started = timed("candidates", started)
        features = matrix(rows, bm25, cosine, Cues.of(text), index._cues, today)
        started = timed("features", started)
        scores = index.reranker.score(features)
        sorted(range(rows.size), key=lambda i: (-float(scores[i]), int(rows[i])))[:top]
        started = timed("reranker", started)
        cpu = time.process_time()
        index.search(text, top)
        timed("whole search", started)
        times["whole search, CPU time"].append((time.process_time() - cpu) * 1000)
    return {part: (float(np.percentile(v, 50)), float(np.percentile(v, 95))) for part, v in times.items()}


def machine_load(cpu_started: float, wall_started: float) -> str:
    """CPU seconds and wall seconds since the given ``process_time`` / ``perf_counter`` readings,
    and the load average now (the machine is shared: wall times vary with the load)."""
    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    return f"CPU {cpu:.1f} s over {wall:.1f} s wall ({os.cpu_count()} cores); load average {load}"


def parts_table(parts: dict[str, tuple[float, float]]) -> str:
    """The parts of a search as a Markdown table."""
    return table(
        [(part, f"{p50:.2f}", f"{p95:.2f}") for part, (p50, p95) in parts.items()],
        ("part", "p50 ms", "p95 ms"),
    )


def save_profile(
    profile: str, hybrid: Model, lexical: Model, note: str, candidates: tuple[int, int] | None = None
) -> None:
    """Write ``profile``'s two models into the shipped reranker file, keeping the other profiles;
    ``candidates``: the counts per retriever (hybrid, lexical) they were chosen with (default 50)."""
    data = json.loads(MODEL_PATH.read_text()) if MODEL_PATH.exists() else {"profiles": {}}
    data["profiles"][profile] = {"hybrid": hybrid.to_json(), "lexical": lexical.to_json()}
    counts = data.setdefault("candidates", {})
    counts.pop(profile, None)
    if candidates is not None:
        counts[profile] = {"hybrid": candidates[0], "lexical": candidates[1]}
    data.setdefault("notes", {})[profile] = note
    data.pop("note", None)
    MODEL_PATH.write_text(readable_json(data) + "\n")


def readable_json(data: dict) -> str:
    """``data`` indented, each tree of a boosted model on one line (a model is thousands of numbers)."""
    trees: list[str] = []

    def marked(value: object) -> object:
        if isinstance(value, dict):
            if set(value) == {"feature", "threshold", "left", "right", "leaf", "value"}:
                trees.append(json.dumps(value, separators=(",", ":")))
                return f"@tree{len(trees) - 1}@"
            return {key: marked(item) for key, item in value.items()}
        return value

    text = json.dumps(marked(data), indent=1)
    for number, tree in enumerate(trees):
        text = text.replace(f'"@tree{number}@"', tree, 1)
    return text


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
