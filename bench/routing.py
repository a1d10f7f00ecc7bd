"""Routing benchmark: the learned router beside TF-IDF + logistic regression, and learning from corrections.

Run: ``.venv/bin/python bench/routing.py`` (``--quick`` for smaller samples, ``--no-embed`` for
words-only features, ``--only cfpb payday corrections``). Data: ../shared/data/cfpb-consumer-complaints
(the files that are there; the held-out splits stay out). Passage embeddings of the bundled model are
cached in bench/out/ by dataset and a hash of the texts, so reruns are fast.

- **CFPB products** (700 complaints, 5 products standing for 5 agencies): 5-fold stratified CV.
- **Payday-loan issues** (CFPB issue labels of one product, 24 classes with a long tail): 5-fold
  stratified CV on a stratified sample (``--payday-sample``; all 2,827 complaints with ``0``).
- **Learning from reassignments** (payday issues): a small history trains the first router; it routes
  a stream of new complaints and officers correct the misrouted ones (the right issue, as a
  ``reassigned`` fact would carry it); after 0, 50, 100, 150 and 200 corrections the router is
  retrained on the history plus the corrections, and its top-1 on the held-back rest is reported.

The learned router is ``civicpulse.analysis.routing.train_router`` (the project's supervised text
model: TF-IDF words 1-2 + characters 2-5 and the bundled e5 embedding, calibrated linear SVM; the
weight of the embedding chosen by cross-validation inside each training fold). The baseline is
trained in the same run on the same folds: TF-IDF word 1-3 + char 2-5 grams, logistic regression
(C=10). Intervals: 95 % percentile bootstrap (1,000 resamples) of the pooled out-of-fold predictions;
"Δ" is the paired difference learned - baseline. Nothing is tuned on the evaluation folds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from civicpulse.analysis.routing import train_router
from civicpulse.settings import Settings

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cfpb-consumer-complaints"
OUT = Path(__file__).parent / "out"
SEED = 7
RESAMPLES = 1000
BINS = 10
METRICS = ("top1", "top3", "macro_f1", "ece")
STEPS = (0, 50, 100, 150, 200)

Ranker = Callable[[Sequence[str], Sequence[str], Sequence[str], Any, Any], tuple[np.ndarray, np.ndarray]]


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def passages(dataset: str, texts: Sequence[str], embed: bool) -> np.ndarray | None:
    """Bundled-model passage vectors of ``texts``, from bench/out when cached."""
    if not embed:
        return None
    from civicpulse.analysis.features import embedder_for

    embedder = embedder_for(Settings(classify_with_embeddings=True))
    assert embedder is not None
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    path = OUT / f"emb-routing-{dataset}-{embedder.name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    started = time.perf_counter()
    vectors = np.vstack(
        [embedder.embed_passages(list(texts[i : i + 256])) for i in range(0, len(texts), 256)]
    )
    print(f"  embedded {dataset}: {len(texts)} texts, {len(texts) / (time.perf_counter() - started):.0f}/s")
    OUT.mkdir(exist_ok=True)
    np.save(path, vectors)
    return vectors


def baseline(
    train: Sequence[str], labels: Sequence[str], test: Sequence[str], *_: Any
) -> tuple[np.ndarray, np.ndarray]:
    """TF-IDF word 1-3 + char 2-5 grams, logistic regression (C=10): classes and probabilities."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    word = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, lowercase=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    x = sparse.hstack([word.fit_transform(train), char.fit_transform(train)]).tocsr()
    x_test = sparse.hstack([word.transform(test), char.transform(test)]).tocsr()
    model = LogisticRegression(C=10.0, max_iter=1000).fit(x, list(labels))
    return np.asarray(model.classes_), model.predict_proba(x_test)


CHOSEN: list[float] = []


def learned(
    train: Sequence[str], labels: Sequence[str], test: Sequence[str], vectors: Any, test_vectors: Any
) -> tuple[np.ndarray, np.ndarray]:
    """CivicPulse's learned router: classes and probabilities (the embedding's weight noted in CHOSEN)."""
    model = train_router(train, labels, vectors=vectors)
    if model.embedding:
        CHOSEN.append(model.embedding_weight)
    return np.asarray(model.classes_), model.predict_proba(list(test), test_vectors)


@dataclass
class Ranked:
    """Pooled out-of-fold rankings: gold labels, each item's top 3 and the top one's probability."""

    gold: np.ndarray
    top: np.ndarray
    confidence: np.ndarray

    def top1(self, idx: np.ndarray) -> float:
        return float((self.top[idx, 0] == self.gold[idx]).mean())

    def top3(self, idx: np.ndarray) -> float:
        return float((self.top[idx, :3] == self.gold[idx, None]).any(axis=1).mean())

    def macro_f1(self, idx: np.ndarray) -> float:
        from sklearn.metrics import f1_score

        return float(f1_score(self.gold[idx], self.top[idx, 0], average="macro", labels=np.unique(self.gold)))

    def ece(self, idx: np.ndarray) -> float:
        """Expected calibration error of the top-1 confidence (10 equal-width bins)."""
        confidence, right = self.confidence[idx], (self.top[idx, 0] == self.gold[idx]).astype(float)
        bins = np.minimum((confidence * BINS).astype(int), BINS - 1)
        total = np.bincount(bins, minlength=BINS)
        gap = np.abs(np.bincount(bins, right - confidence, minlength=BINS))
        return float(gap.sum() / max(total.sum(), 1))


def rank(gold: np.ndarray, classes: np.ndarray, probs: np.ndarray) -> Ranked:
    """The top 3 and the top-1 probability of each row of ``probs``."""
    order = np.argsort(-probs, axis=1)[:, :3]
    return Ranked(gold, classes[order], probs[np.arange(len(probs)), order[:, 0]])


def cross_validate(texts: list[str], labels: list[str], vectors: np.ndarray | None) -> dict[str, Ranked]:
    """5-fold stratified CV of both rankers on the same folds."""
    from sklearn.model_selection import StratifiedKFold

    y = np.asarray(labels)
    n = len(texts)
    tops = {"baseline": np.empty((n, 3), dtype=object), "learned": np.empty((n, 3), dtype=object)}
    confidence = {"baseline": np.zeros(n), "learned": np.zeros(n)}
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    rankers: dict[str, Ranker] = {"baseline": baseline, "learned": learned}
    for fold, (train_idx, test_idx) in enumerate(folds.split(texts, y), start=1):
        train, test = [texts[i] for i in train_idx], [texts[i] for i in test_idx]
        vt, vs = (vectors[train_idx], vectors[test_idx]) if vectors is not None else (None, None)
        for name, ranker in rankers.items():
            ranked = rank(y[test_idx], *ranker(train, list(y[train_idx]), test, vt, vs))
            tops[name][test_idx], confidence[name][test_idx] = ranked.top, ranked.confidence
        print(f"  fold {fold}/5 done", flush=True)
    return {name: Ranked(y, top, confidence[name]) for name, top in tops.items()}


def bootstrap(ranked: dict[str, Ranked]) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Point estimate and 95 % interval of each metric, and of the paired difference learned - baseline."""
    rng = np.random.default_rng(SEED)
    n = len(next(iter(ranked.values())).gold)
    everything = np.arange(n)
    samples = [rng.integers(0, n, n) for _ in range(RESAMPLES)]
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for metric in METRICS:
        draws = {name: np.array([getattr(r, metric)(s) for s in samples]) for name, r in ranked.items()}
        draws["Δ"] = draws["learned"] - draws["baseline"]
        points = {name: getattr(r, metric)(everything) for name, r in ranked.items()}
        points["Δ"] = points["learned"] - points["baseline"]
        for name, values in draws.items():
            low, high = np.percentile(values, [2.5, 97.5])
            out.setdefault(name, {})[metric] = (points[name], float(low), float(high))
    return out


ROWS: list[str] = []


def report(
    title: str, size: int, figures: dict[str, dict[str, tuple[float, float, float]]], note: str
) -> None:
    def cell(value: tuple[float, float, float]) -> str:
        point, low, high = value
        return (
            f"{point:+.3f} [{low:+.3f}, {high:+.3f}]"
            if low < 0 < high or point < 0
            else f"{point:.3f} [{low:.3f}, {high:.3f}]"
        )

    for name in ("baseline", "learned", "Δ"):
        f = figures[name]
        ROWS.append(f"| {title} | {size} | {name} | " + " | ".join(cell(f[m]) for m in METRICS) + " |")
        print(
            f"{title:30s} {name:9s} top-1 {cell(f['top1']):24s} top-3 {cell(f['top3']):24s} "
            f"mF1 {cell(f['macro_f1']):24s} ECE {cell(f['ece'])} {note}"
        )
    if CHOSEN:
        print(f"  embedding's weight chosen on each training set: {', '.join(f'{s:g}' for s in CHOSEN)}")
        CHOSEN.clear()


def cfpb(embed: bool) -> None:
    rows = read(DATA / "ibm_product5_train.jsonl")
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    vectors = passages("cfpb-product5-train", texts, embed)
    started = time.perf_counter()
    figures = bootstrap(cross_validate(texts, labels, vectors))
    report("CFPB products (5-fold CV)", len(texts), figures, f"({time.perf_counter() - started:.0f} s)")


def heldout(embed: bool, test_path: Path) -> None:
    """Both routers trained on the whole train file and evaluated once on the held-out ``test_path``,
    with and without the test narratives that also appear verbatim in train."""
    if not test_path.is_file():
        print(f"Held-out test: {test_path} is not here (kept out for independent evaluation); skipped.")
        return
    train_rows, test_rows = read(DATA / "ibm_product5_train.jsonl"), read(test_path)
    texts, labels = [r["text"] for r in train_rows], [r["label"] for r in train_rows]
    test_texts, gold = [r["text"] for r in test_rows], np.asarray([r["label"] for r in test_rows])
    vectors = passages("cfpb-product5-train", texts, embed)
    test_vectors = passages(f"cfpb-product5-{test_path.stem}", test_texts, embed)
    rankers: dict[str, Ranker] = {"baseline": baseline, "learned": learned}
    ranked = {
        name: rank(gold, *ranker(texts, labels, test_texts, vectors, test_vectors))
        for name, ranker in rankers.items()
    }
    report("CFPB products (held-out test)", len(gold), bootstrap(ranked), "(trained on all of train)")
    seen = set(texts)
    fresh = np.asarray([t not in seen for t in test_texts])
    if fresh.all() or not fresh.any():
        return
    unseen = {name: Ranked(r.gold[fresh], r.top[fresh], r.confidence[fresh]) for name, r in ranked.items()}
    title = f"CFPB products (held-out test, without the {int((~fresh).sum())} also in train)"
    report(title, int(fresh.sum()), bootstrap(unseen), "")


def payday_rows(sample: int) -> list[dict[str, Any]]:
    """The payday-loan complaints, or a stratified sample of ``sample`` of them (fixed seed)."""
    rows = read(DATA / "payday_loans_issue_all.jsonl")
    if not sample or sample >= len(rows):
        return rows
    from sklearn.model_selection import train_test_split

    labels = [r["issue"] for r in rows]
    common = {label for label, count in Counter(labels).items() if count >= 2}
    keep = [i for i, label in enumerate(labels) if label in common]
    chosen, _ = train_test_split(
        keep, train_size=sample, stratify=[labels[i] for i in keep], random_state=SEED
    )
    return [rows[i] for i in sorted(chosen)]


def payday(embed: bool, sample: int) -> None:
    rows = payday_rows(sample)
    texts, labels = [r["text"] for r in rows], [r["issue"] for r in rows]
    vectors = passages(f"payday-{len(rows)}", texts, embed)
    started = time.perf_counter()
    figures = bootstrap(cross_validate(texts, labels, vectors))
    note = f"({len(set(labels))} issues, {time.perf_counter() - started:.0f} s)"
    report("Payday-loan issues (5-fold CV)", len(texts), figures, note)


def corrections(embed: bool, sample: int, history: int) -> None:
    """Top-1 on the held-back rest after 0 ... 200 officers' corrections of the router's mistakes."""
    rows = payday_rows(sample)
    all_vectors = passages(f"payday-{len(rows)}", [r["text"] for r in rows], embed)
    order = np.random.default_rng(SEED).permutation(len(rows))
    texts = [rows[i]["text"] for i in order]
    labels = np.asarray([rows[i]["issue"] for i in order])
    vectors = all_vectors[order] if all_vectors is not None else None
    rest = np.arange(len(texts) // 2)  # held back: never trained on
    first = np.arange(len(rest), len(rest) + history)
    stream = np.arange(len(rest) + history, len(texts))

    def route(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        pick = (lambda idx: vectors[idx]) if vectors is not None else (lambda idx: None)
        classes, probs = learned(
            [texts[i] for i in train], list(labels[train]), [texts[i] for i in test], pick(train), pick(test)
        )
        return classes[probs.argmax(axis=1)]

    misrouted = stream[route(first, stream) != labels[stream]]
    print(f"  first router: {history} history items; {len(stream)} routed, {len(misrouted)} misrouted")
    curve = []
    for step in STEPS:
        if step > len(misrouted):
            break
        top1 = float((route(np.concatenate([first, misrouted[:step]]), rest) == labels[rest]).mean())
        curve.append((step, top1))
        print(f"  after {step:3d} corrections: top-1 on the {len(rest)} held back {top1:.3f}", flush=True)
    steps = " / ".join(str(step) for step, _ in curve)
    ROWS.append(
        f"| top-1 after {steps} corrections | {len(rest)} held back | "
        + " / ".join(f"{t:.3f}" for _, t in curve)
        + " |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples")
    parser.add_argument("--no-embed", action="store_true", help="words-only features")
    parser.add_argument("--only", nargs="*", default=None, help="cfpb heldout payday corrections")
    parser.add_argument("--test", type=Path, default=DATA / "ibm_product5_test.jsonl", help="held-out file")
    parser.add_argument("--payday-sample", type=int, default=None, help="payday complaints used (0: all)")
    parser.add_argument("--history", type=int, default=150, help="first router's history (corrections)")
    args = parser.parse_args(argv)
    embed = not args.no_embed
    sample = args.payday_sample if args.payday_sample is not None else (600 if args.quick else 1200)
    only = set(args.only or ["cfpb", "heldout", "payday", "corrections"])
    started = time.perf_counter()
    print("Learned router vs TF-IDF + logistic regression (same folds, same run); 95 % bootstrap intervals:")
    if "cfpb" in only:
        cfpb(embed)
    if "heldout" in only:
        heldout(embed, args.test)
    if "payday" in only:
        payday(embed, sample)
    if "corrections" in only:
        print("Learning from reassignments (payday issues):")
        corrections(embed, sample, args.history)
    print("\n".join(ROWS))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak memory (RSS): {peak:.0f} MiB; wall time {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
