"""Throughput of the per-item pipeline: each stage and the whole, with and without embeddings.

Texts: UIT-VSFC dev sentences (evaluation only) and the project's illustrative submissions, the
stages exactly as the worker builds them (``runtime.stages.build_pipeline``), in batches of 64 after a
warm-up batch. Beside them, in the same run, a baseline: a plain TF-IDF + logistic regression
sentiment model's prediction over the same texts (trained on UIT-VSFC train in the run).

Run: ``python bench/pipeline.py [--items 1000] [--markdown]``
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.runtime.stages import build_pipeline
from civicpulse.settings import Settings
from civicpulse.store.db import Database

ROOT = Path(__file__).resolve().parent.parent
VSFC = ROOT.parent / "shared" / "data" / "uit-vsfc"
DEMO = ROOT / "examples" / "vietnamese_submissions.jsonl"
BATCH = 64


def load_texts(count: int) -> list[str]:
    """Half UIT-VSFC dev sentences, half demo submissions (repeated to ``count`` if needed)."""
    vsfc = [json.loads(line)["text"] for line in (VSFC / "dev.jsonl").open(encoding="utf-8")]
    demo = [json.loads(line)["text"] for line in DEMO.open(encoding="utf-8")]
    mixed = [text for pair in zip(vsfc, demo, strict=False) for text in pair]
    while len(mixed) < count:
        mixed += mixed
    return mixed[:count]


def timed_run(pipeline: Pipeline, texts: list[str]) -> tuple[float, dict[str, float]]:
    """Seconds for the whole run, and seconds per stage (stages timed one after another)."""
    per_stage = {stage.name: 0.0 for stage in pipeline.stages}
    warm = [AnalysisItem(id=-i - 1, text=t) for i, t in enumerate(texts[:BATCH])]
    pipeline.run(warm)
    started = time.perf_counter()
    for start in range(0, len(texts), BATCH):
        items = [AnalysisItem(id=start + i, text=t) for i, t in enumerate(texts[start : start + BATCH])]
        for stage in pipeline.stages:
            began = time.perf_counter()
            result = stage.process(items)
            per_stage[stage.name] += time.perf_counter() - began
            for item in items:
                if item.id in result.outputs:
                    item.annotations[stage.name] = result.outputs[item.id]
    return time.perf_counter() - started, per_stage


def baseline_seconds(texts: list[str]) -> float:
    """Prediction time of TF-IDF (word 1-3 + char 2-5) + logistic regression over ``texts``."""
    from scipy.sparse import hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    train = [json.loads(line) for line in (VSFC / "train.jsonl").read_text(encoding="utf-8").splitlines()]
    words = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, min_df=2)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    train_texts = [row["text"] for row in train]
    features = hstack([words.fit_transform(train_texts), chars.fit_transform(train_texts)]).tocsr()
    model = LogisticRegression(max_iter=1000).fit(features, [row["sentiment"] for row in train])
    started = time.perf_counter()
    model.predict(hstack([words.transform(texts), chars.transform(texts)]).tocsr())
    return time.perf_counter() - started


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1000)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    texts = load_texts(args.items)
    store = Path(tempfile.mkdtemp(prefix="civicpulse-bench-")) / "bench.db"
    settings = Settings(database_url=f"sqlite:///{store}", embedding_store_cache=False)
    db = Database.from_settings(settings)
    db.upgrade()  # an empty store, as a fresh installation has
    full = list(settings.stages)
    without = [name for name in full if name != "embed"]
    rows: list[tuple[str, str, float]] = []
    for label, names, extra in (
        ("without embeddings", without, {"classify_with_embeddings": False}),
        ("with embeddings", full, {}),
    ):
        pipeline = build_pipeline(settings.model_copy(update={"stages": names, **extra}), db)
        total, per_stage = timed_run(pipeline, texts)
        for name, seconds in per_stage.items():
            rows.append((label, name, len(texts) / seconds if seconds else float("inf")))
        rows.append((label, "whole pipeline", len(texts) / total))
    rows.append(("baseline", "TF-IDF + LR predict (sentiment)", len(texts) / baseline_seconds(texts)))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{len(texts)} texts, batches of {BATCH}, peak memory {peak:,.0f} MiB")
    print(f"{'run':<20} {'stage':<34} {'items/s':>10}")
    for run, stage, rate in rows:
        print(f"{run:<20} {stage:<34} {rate:>10,.0f}")
    if args.markdown:
        print("\n| run | stage | items/s |\n|---|---|---|")
        for run, stage, rate in rows:
            print(f"| {run} | {stage} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
