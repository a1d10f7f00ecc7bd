"""Embedding benchmark: items/s per backend and setting, peak memory, and exact-search latency.

Texts: the first 1,000 UIT-VSFC dev sentences (evaluation only), the 15-40-word ones among them,
and 60 long VNTC news articles (MIT) to show the effect of the token window. Each bundled setting
runs in a fresh process (OpenMP reads its thread count once per process), so peak memory is per
setting. ``items/cpu-s`` divides by the CPU time the process used: it stays meaningful when other
work shares the cores (the load average is printed beside each row).

Run: ``python bench/embeddings.py [--quick] [--index-sizes 100000,1000000]
[--openai-endpoint URL --openai-model NAME] [--st-model DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

DATA = Path(os.environ.get("CIVICPULSE_BENCH_DATA", Path(__file__).parents[2] / "shared" / "data"))
VSFC_DEV = DATA / "uit-vsfc" / "dev.jsonl"
VNTC = DATA / "vntc-10topics" / "train_subset.jsonl"


def texts(corpus: str) -> list[str]:
    """The benchmark texts of ``corpus``: ``vsfc1000``, ``vsfc15-40`` or ``vntc60``."""
    if corpus == "vntc60":
        lines = VNTC.read_text(encoding="utf-8").splitlines()[:60]
        return [json.loads(line)["text"] for line in lines]
    dev = [json.loads(line)["text"] for line in VSFC_DEV.read_text(encoding="utf-8").splitlines()[:1000]]
    if corpus == "vsfc15-40":
        return [t for t in dev if 15 <= len(t.split()) <= 40]
    return dev


def peak_mib() -> float:
    """Peak resident memory of this process in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(embed, batch: list[str]) -> dict[str, float]:
    """Wall and CPU throughput of one ``embed(batch)`` call sequence."""
    start, cpu = time.perf_counter(), time.process_time()
    embed(batch)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    return {"items_s": len(batch) / wall, "items_cpu_s": len(batch) / max(used, 1e-9), "seconds": wall}


def bundled(spec: dict):
    """The bundled embedder with the setting of ``spec``."""
    from civicpulse.embeddings import BundledEmbedder

    return BundledEmbedder(batch=spec["batch"], threads=spec["threads"], max_tokens=spec["max_tokens"])


def run_one(spec: dict) -> dict:
    """One setting, in this process: build the embedder, warm it up, embed the corpus."""
    corpus = texts(spec["corpus"])[: spec.get("limit")]
    if "wait" in spec:
        os.environ["OMP_WAIT_POLICY"] = spec["wait"]
    if spec["backend"] == "bundled":
        from civicpulse.embeddings import BundledEmbedder

        embedder = BundledEmbedder(
            batch=spec["batch"], threads=spec["threads"], max_tokens=spec["max_tokens"]
        )
    elif spec["backend"] == "stage":
        from civicpulse.analysis.base import AnalysisItem
        from civicpulse.analysis.embed import EmbedStage
        from civicpulse.settings import Settings

        inner = bundled(spec)
        stage = EmbedStage(Settings(), embedder=inner)
        chunk = spec["stage_batch"]

        class Staged:
            def embed_passages(self, batch: list[str]) -> None:
                for start in range(0, len(batch), chunk):
                    items = [AnalysisItem(id=i, text=t) for i, t in enumerate(batch[start : start + chunk])]
                    stage.process(items)

        embedder = Staged()  # type: ignore[assignment]
        inner.embed_passages(corpus[:8])
    elif spec["backend"] == "openai":
        from civicpulse.embeddings import OpenAIEmbedder

        embedder = OpenAIEmbedder(spec["endpoint"], spec["model"], batch=spec["batch"])  # type: ignore[assignment]
    else:
        from civicpulse.embeddings import SentenceTransformersEmbedder

        embedder = SentenceTransformersEmbedder(spec["model"], batch=spec["batch"])  # type: ignore[assignment]
    if spec["backend"] != "stage":
        embedder.embed_passages(corpus[:8])  # load and warm up
    result = timed(embedder.embed_passages, corpus)
    return {**spec, **result, "n": len(corpus), "peak_mib": peak_mib(), "load": os.getloadavg()[0]}


def in_subprocess(spec: dict) -> dict:
    """``run_one(spec)`` in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, __file__, "--one", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        return {**spec, "error": done.stderr.strip().splitlines()[-1] if done.stderr else "failed"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def bundled_specs(quick: bool) -> list[dict]:
    """The settings compared: threads x batch, OpenMP's wait policy, the token window, the stage."""
    base = {"backend": "bundled", "corpus": "vsfc15-40", "threads": 2, "batch": 256, "max_tokens": 128}
    specs = [
        {**base, "threads": threads, "batch": batch, **({"limit": 48} if batch == 1 else {})}
        for threads in (1, 2)
        for batch in ((16, 256) if quick else (1, 16, 64, 256))
    ]
    specs.append({**base, "wait": "ACTIVE"})
    specs += [{**base, "max_tokens": window} for window in ((32,) if quick else (64, 32))]
    specs += [{**base, "corpus": "vntc60", "max_tokens": window} for window in (0, 256, 128)]
    specs += [
        {**base, "backend": "stage", "stage_batch": stage_batch, "corpus": corpus}
        for corpus in ("vsfc15-40", "vsfc1000")
        for stage_batch in ((64,) if quick else (64, 256))
    ]
    return specs


def index_latency(sizes: list[int], dim: int = 384) -> list[dict]:
    """Exact search time at ``sizes`` vectors: one query, and 100 queries at once."""
    from civicpulse.embeddings import VectorIndex

    rng = np.random.default_rng(0)
    rows = []
    for size in sizes:
        index = VectorIndex(dim)
        for start in range(0, size, 100_000):
            count = min(100_000, size - start)
            index.add(np.arange(start, start + count), rng.standard_normal((count, dim), dtype=np.float32))
        queries = rng.standard_normal((100, dim), dtype=np.float32)
        index.search(queries[:1], 10)
        start = time.perf_counter()
        for query in queries[:20]:
            index.search(query, 10)
        one = (time.perf_counter() - start) / 20
        start = time.perf_counter()
        index.search(queries, 10)
        many = time.perf_counter() - start
        rows.append({"vectors": size, "one_query_ms": one * 1000, "100_queries_ms": many * 1000})
        del index
    return rows


HEADER = (
    "| backend  | texts     | thr | OMP wait | batch | stage batch | max tok |   n "
    "| items/s | items/cpu-s | peak MiB | load |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|"
)


def show(r: dict) -> None:
    """Print one row of the throughput table."""
    if "error" in r:
        print(f"| {r['backend']} | {r['corpus']} | error: {r['error']} |")
    else:
        print(
            f"| {r['backend']:8} | {r['corpus']:9} | {r.get('threads', '-'):>3} "
            f"| {r.get('wait', 'PASSIVE'):>8} | {r.get('batch', '-'):>5} "
            f"| {r.get('stage_batch', '-'):>11} | {r.get('max_tokens', '-') or 'all':>7} | {r['n']:>3} "
            f"| {r['items_s']:7.1f} "
            f"| {r['items_cpu_s']:11.1f} | {r['peak_mib']:8.0f} | {r['load']:4.1f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="fewer settings")
    parser.add_argument("--index-sizes", default="100000,1000000")
    parser.add_argument("--openai-endpoint")
    parser.add_argument("--openai-model")
    parser.add_argument("--st-model", help="a local sentence-transformers model directory")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(json.loads(args.one))))
        return
    print(f"cores: {os.cpu_count()}  load average at start: {os.getloadavg()[0]:.1f}\n")
    specs = bundled_specs(args.quick)
    if args.openai_endpoint and args.openai_model:
        specs.append(
            {"backend": "openai", "corpus": "vsfc1000", "batch": 128}
            | {"endpoint": args.openai_endpoint, "model": args.openai_model}
        )
    if args.st_model:
        specs.append({"backend": "st", "corpus": "vsfc1000", "batch": 64, "model": args.st_model})
    print(HEADER)
    for spec in specs:
        show(in_subprocess(spec))
    if args.index_sizes:
        print("\n| vectors (384-dim) | one query, top 10 (ms) | 100 queries, top 10 (ms) |\n|---|---|---|")
        for r in index_latency([int(s) for s in args.index_sizes.split(",") if s]):
            print(f"| {r['vectors']:,} | {r['one_query_ms']:.1f} | {r['100_queries_ms']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
