"""Routing benchmark: the learned router beside TF-IDF + logistic regression, and learning from corrections.

Run: ``.venv/bin/python bench/routing.py`` (``--quick`` for smaller samples, ``--no-embed`` for
words-only features, ``--only cfpb payday corrections``; ``--only curve ambiguity`` for the two parts
that are not run by default). Data: ../shared/data/cfpb-consumer-complaints
(the files that are there; the held-out splits stay out). Passage embeddings of the bundled model are
cached in bench/out/ by dataset and a hash of the texts, so reruns are fast.

- **CFPB products** (700 complaints, 5 products standing for 5 agencies): 5-fold stratified CV.
- **Payday-loan issues** (CFPB issue labels of one product, 24 classes with a long tail): 5-fold
  stratified CV on a stratified sample (``--payday-sample``; all 2,827 complaints with ``0``).
- **Learning from reassignments** (payday issues): a small history trains the first router; it routes
  a stream of new complaints and officers correct the misrouted ones (the right issue, as a
  ``reassigned`` fact would carry it); after 0, 50, 100, 150 and 200 corrections the router is
  retrained on the history plus the corrections, and its top-1 on the held-back rest is reported.
- **Learning curve** (``--only curve``, CFPB products): the same 5 folds, each training fold cut to a
  stratified 25 / 50 / 75 % (``--curve-seeds`` draws each) or kept whole; top-1 / top-3 of both
  routers, and two curves fitted to the learned router's points (log-linear and ``a - b * n ** -c``)
  to say at which training size they would reach the targets (a weak extrapolation).
- **Label ambiguity** (``--only ambiguity``, CFPB products): identical and near-identical complaints
  (TF-IDF cosine) with different products, the confusion matrix of the out-of-fold predictions, and
  ``--errors N`` misrouted complaints drawn at random, written to bench/out/ to be read by a person.

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
import os
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


def folds(texts: Sequence[str], y: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The 5 stratified folds (seed 7) every CFPB figure here and in bench/finetune.py uses."""
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED).split(texts, y))


def subsample(train_idx: np.ndarray, y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A stratified ``fraction`` of ``train_idx`` (all of it at 1)."""
    if fraction >= 1:
        return train_idx
    from sklearn.model_selection import train_test_split

    chosen, _ = train_test_split(train_idx, train_size=fraction, stratify=y[train_idx], random_state=seed)
    return np.sort(chosen)


def cross_validate(
    texts: list[str], labels: list[str], vectors: np.ndarray | None, fraction: float = 1.0, seed: int = 0
) -> dict[str, Ranked]:
    """5-fold stratified CV of both rankers on the same folds (each training fold cut to ``fraction``)."""
    y = np.asarray(labels)
    n = len(texts)
    tops = {"baseline": np.empty((n, 3), dtype=object), "learned": np.empty((n, 3), dtype=object)}
    confidence = {"baseline": np.zeros(n), "learned": np.zeros(n)}
    rankers: dict[str, Ranker] = {"baseline": baseline, "learned": learned}
    for fold, (all_train, test_idx) in enumerate(folds(texts, y), start=1):
        train_idx = subsample(all_train, y, fraction, seed)
        train, test = [texts[i] for i in train_idx], [texts[i] for i in test_idx]
        vt, vs = (vectors[train_idx], vectors[test_idx]) if vectors is not None else (None, None)
        for name, ranker in rankers.items():
            ranked = rank(y[test_idx], *ranker(train, list(y[train_idx]), test, vt, vs))
            tops[name][test_idx], confidence[name][test_idx] = ranked.top, ranked.confidence
        print(f"  fold {fold}/5 done", flush=True)
    return {name: Ranked(y, top, confidence[name]) for name, top in tops.items()}


DIFFERENCES = {"Δ": ("learned", "baseline")}


def bootstrap(
    ranked: dict[str, Ranked], differences: dict[str, tuple[str, str]] | None = None
) -> dict[str, dict[str, tuple[float, float, float]]]:
    """Point estimate and 95 % interval of each metric, and of each paired difference (``Δ``: learned -
    baseline)."""
    differences = DIFFERENCES if differences is None else differences
    rng = np.random.default_rng(SEED)
    n = len(next(iter(ranked.values())).gold)
    everything = np.arange(n)
    samples = [rng.integers(0, n, n) for _ in range(RESAMPLES)]
    out: dict[str, dict[str, tuple[float, float, float]]] = {}
    for metric in METRICS:
        draws = {name: np.array([getattr(r, metric)(s) for s in samples]) for name, r in ranked.items()}
        points = {name: getattr(r, metric)(everything) for name, r in ranked.items()}
        for name, (first, second) in differences.items():
            draws[name] = draws[first] - draws[second]
            points[name] = points[first] - points[second]
        for name, values in draws.items():
            low, high = np.percentile(values, [2.5, 97.5])
            out.setdefault(name, {})[metric] = (points[name], float(low), float(high))
    return out


ROWS: list[str] = []


def cell(value: tuple[float, float, float]) -> str:
    """A point estimate and its interval, signed when the interval crosses zero."""
    point, low, high = value
    return (
        f"{point:+.3f} [{low:+.3f}, {high:+.3f}]"
        if low < 0 < high or point < 0
        else f"{point:.3f} [{low:.3f}, {high:.3f}]"
    )


def report(
    title: str,
    size: int,
    figures: dict[str, dict[str, tuple[float, float, float]]],
    note: str,
    names: Sequence[str] = ("baseline", "learned", "Δ"),
) -> None:
    for name in names:
        f = figures[name]
        ROWS.append(f"| {title} | {size} | {name} | " + " | ".join(cell(f[m]) for m in METRICS) + " |")
        print(
            f"{title:30s} {name:9s} top-1 {cell(f['top1']):24s} top-3 {cell(f['top3']):24s} "
            f"mF1 {cell(f['macro_f1']):24s} ECE {cell(f['ece'])} {note}"
        )
    if CHOSEN:
        print(f"  embedding's weight chosen on each training set: {', '.join(f'{s:g}' for s in CHOSEN)}")
        CHOSEN.clear()


def cfpb_data(embed: bool) -> tuple[list[str], list[str], np.ndarray | None]:
    """The 700 CFPB training complaints: texts, products and (with ``embed``) passage vectors."""
    rows = read(DATA / "ibm_product5_train.jsonl")
    texts, labels = [r["text"] for r in rows], [r["label"] for r in rows]
    return texts, labels, passages("cfpb-product5-train", texts, embed)


FULL: dict[bool, dict[str, Ranked]] = {}


def full_cv(embed: bool) -> dict[str, Ranked]:
    """Both routers' out-of-fold rankings on all of each training fold (computed once per run)."""
    if embed not in FULL:
        texts, labels, vectors = cfpb_data(embed)
        FULL[embed] = cross_validate(texts, labels, vectors)
    return FULL[embed]


def cfpb(embed: bool) -> None:
    started = time.perf_counter()
    ranked = full_cv(embed)
    figures = bootstrap(ranked)
    size = len(ranked["learned"].gold)
    report("CFPB products (5-fold CV)", size, figures, f"({time.perf_counter() - started:.0f} s)")


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


FRACTIONS = (0.25, 0.5, 0.75, 1.0)
TARGETS = {"top1": 0.85, "top3": 0.97}


@dataclass
class CurvePoint:
    """One training size: per router and metric, each complaint's hit rate over the subsample draws."""

    fraction: float
    size: float
    hits: dict[str, dict[str, np.ndarray]]
    spread: dict[str, dict[str, tuple[float, float]]]


def hit_rates(runs: Sequence[Ranked], metric: str) -> np.ndarray:
    """Per complaint, the share of ``runs`` that rank its product first (top1) or in the top 3 (top3)."""
    k = 1 if metric == "top1" else 3
    return np.mean([(r.top[:, :k] == r.gold[:, None]).any(axis=1) for r in runs], axis=0)


def curve_points(embed: bool, seeds: int) -> list[CurvePoint]:
    """Both routers' CV at each of ``FRACTIONS`` of every training fold (``seeds`` draws below 1)."""
    texts, labels, vectors = cfpb_data(embed)
    y = np.asarray(labels)
    points = []
    for fraction in FRACTIONS:
        draws = list(range(1, seeds + 1)) if fraction < 1 else [0]
        runs: dict[str, list[Ranked]] = {"baseline": [], "learned": []}
        for seed in draws:
            ranked = (
                full_cv(embed) if fraction >= 1 else cross_validate(texts, labels, vectors, fraction, seed)
            )
            for name, r in ranked.items():
                runs[name].append(r)
        size = float(
            np.mean([len(subsample(tr, y, fraction, s)) for tr, _ in folds(texts, y) for s in draws])
        )
        hits = {name: {m: hit_rates(rs, m) for m in TARGETS} for name, rs in runs.items()}
        spread = {
            name: {
                m: (
                    min(float(hit_rates([r], m).mean()) for r in rs),
                    max(float(hit_rates([r], m).mean()) for r in rs),
                )
                for m in TARGETS
            }
            for name, rs in runs.items()
        }
        points.append(CurvePoint(fraction, size, hits, spread))
        print(f"  curve: {fraction:.0%} of each training fold ({size:.0f} complaints) done", flush=True)
    return points


def log_linear(sizes: np.ndarray, values: np.ndarray, target: float) -> float:
    """Training size at which ``values = α + β ln(size)`` (least squares) reaches ``target``."""
    beta, alpha = np.polyfit(np.log(sizes), values, 1)
    return float(np.exp((target - alpha) / beta)) if beta > 0 else float("inf")


def power_law(sizes: np.ndarray, values: np.ndarray, target: float) -> tuple[float, float]:
    """Training size at which ``values = a - b * size ** -c`` reaches ``target``, and the asymptote a."""
    from scipy.optimize import curve_fit

    def f(n: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
        return a - b * n ** (-c)

    try:
        (a, b, c), _ = curve_fit(
            f, sizes, values, p0=(0.9, 1.0, 0.5), bounds=([0, 0, 0.01], [1, 1e4, 3]), maxfev=20000
        )
    except RuntimeError:
        return float("nan"), float("nan")
    return (float((b / (a - target)) ** (1 / c)) if a > target else float("inf")), float(a)


def curve(embed: bool, seeds: int) -> None:
    """The learning curve table and the extrapolated training size for each target."""
    points = curve_points(embed, seeds)
    sizes = np.array([p.size for p in points])
    n = len(next(iter(points[0].hits.values()))["top1"])
    samples = np.random.default_rng(SEED).integers(0, n, (RESAMPLES, n))
    print(f"Learning curve (CFPB products, same 5 folds, {seeds} draws per cut; 95 % bootstrap):")
    lines = ["| training complaints per fold | share | router | top-1 | top-3 |", "|---|---|---|---|---|"]
    for p in points:
        for name in ("baseline", "learned"):
            cells = []
            for metric in TARGETS:
                h = p.hits[name][metric]
                low, high = np.percentile(h[samples].mean(axis=1), [2.5, 97.5])
                lo, hi = p.spread[name][metric]
                draws = f" (draws {lo:.3f}-{hi:.3f})" if p.fraction < 1 else ""
                cells.append(f"{h.mean():.3f} [{low:.3f}, {high:.3f}]{draws}")
            lines.append(f"| {p.size:.0f} | {p.fraction:.0%} | {name} | {cells[0]} | {cells[1]} |")
    print("\n".join(lines))
    lines = [
        "| router | metric | target | log-linear: size [95 %] | a - b·n^-c: size [95 %] | asymptote a |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("baseline", "learned"):
        for metric, target in TARGETS.items():
            curves = np.stack([p.hits[name][metric] for p in points])  # (sizes, complaints)
            values = curves.mean(axis=1)
            resampled = np.stack([curves[:, s].mean(axis=1) for s in samples])  # (resamples, sizes)
            lin = np.array([log_linear(sizes, v, target) for v in resampled])
            fitted = [power_law(sizes, v, target) for v in resampled]
            pow_sizes, asymptotes = np.array([f[0] for f in fitted]), np.array([f[1] for f in fitted])
            pow_point, a_point = power_law(sizes, values, target)
            a_low, a_high = np.nanpercentile(asymptotes, [2.5, 97.5])
            lines.append(
                f"| {name} | {metric} | {target:.2f} | {size_cell(log_linear(sizes, values, target), lin)} | "
                f"{size_cell(pow_point, pow_sizes)} | {a_point:.3f} [{a_low:.3f}, {a_high:.3f}] |"
            )
    print("\n".join(lines))


def size_cell(point: float, draws: np.ndarray) -> str:
    """A fitted training size and its bootstrap interval ("never": the fitted curve stays below)."""

    def show(v: float) -> str:
        return "never" if not np.isfinite(v) else f"{v:,.0f}"

    draws = draws[~np.isnan(draws)]
    low, high = np.quantile(draws, [0.025, 0.975], method="inverted_cdf")
    return f"{show(point)} [{show(low)}, {show(high)}]"


NEAR = (0.9, 0.8, 0.7)


def duplicates(texts: Sequence[str], y: np.ndarray) -> list[str]:
    """Identical and near-identical (TF-IDF word 1-2 cosine) complaints; how often their products differ."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    lines = []
    groups: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(text, []).append(i)
    repeated = [g for g in groups.values() if len(g) > 1]
    mixed = [g for g in repeated if len(set(y[g])) > 1]
    lines.append(
        f"  identical texts: {len(repeated)} groups ({sum(map(len, repeated))} complaints); "
        f"{len(mixed)} groups ({sum(map(len, mixed))} complaints) carry more than one product"
    )
    x = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    similarity = (x @ x.T).toarray()
    upper = np.triu_indices(len(texts), k=1)
    for threshold in NEAR:
        close = similarity[upper] >= threshold
        i, j = upper[0][close], upper[1][close]
        differ = y[i] != y[j]
        involved = len(set(i[differ]) | set(j[differ]))
        lines.append(
            f"  cosine >= {threshold}: {close.sum()} pairs, {differ.sum()} with different products "
            f"({involved} complaints involved)"
        )
    return lines


def confusion(ranked: Ranked, classes: list[str]) -> list[str]:
    """The out-of-fold confusion matrix (rows: the product filed; columns: the router's first choice)."""
    from sklearn.metrics import confusion_matrix

    matrix = confusion_matrix(ranked.gold, ranked.top[:, 0], labels=classes)
    lines = ["| filed \\ routed | " + " | ".join(classes) + " | recall |", "|---" * (len(classes) + 2) + "|"]
    for name, row in zip(classes, matrix, strict=True):
        recall = row[classes.index(name)] / row.sum()
        lines.append(f"| {name} | " + " | ".join(str(v) for v in row) + f" | {recall:.3f} |")
    wrong = ranked.top[:, 0] != ranked.gold
    pairs = Counter(
        tuple(sorted((g, p))) for g, p in zip(ranked.gold[wrong], ranked.top[wrong, 0], strict=True)
    )
    second = (ranked.top[wrong, 1] == ranked.gold[wrong]).mean()
    lines.append(
        f"  {wrong.sum()} errors; the filed product is the router's second choice in {second:.0%} of them"
    )
    for (a, b), count in pairs.most_common():
        lines.append(f"  {a} <-> {b}: {count} ({count / wrong.sum():.0%} of the errors)")
    return lines


def reading_sheet(texts: Sequence[str], ranked: Ranked, count: int) -> tuple[Path, Path]:
    """``count`` misrouted complaints and a third as many routed right, shuffled, without labels (to be
    routed by a person), and the key with the product filed and the router's choices."""
    rng = np.random.default_rng(SEED)
    wrong = np.flatnonzero(ranked.top[:, 0] != ranked.gold)
    right = np.flatnonzero(ranked.top[:, 0] == ranked.gold)
    chosen = np.concatenate(
        [rng.choice(wrong, count, replace=False), rng.choice(right, count // 3, replace=False)]
    )
    rng.shuffle(chosen)
    OUT.mkdir(exist_ok=True)
    sheet, key = OUT / "routing-reading-sheet.txt", OUT / "routing-reading-key.tsv"
    sheet.write_text(
        "".join(f"[{n}] train-{i}\n{texts[i]}\n\n" for n, i in enumerate(chosen, 1)), encoding="utf-8"
    )
    key.write_text(
        "n\tid\tfiled\trouted\tsecond\tthird\tconfidence\n"
        + "".join(
            f"{n}\ttrain-{i}\t{ranked.gold[i]}\t"
            + "\t".join(ranked.top[i])
            + f"\t{ranked.confidence[i]:.2f}\n"
            for n, i in enumerate(chosen, 1)
        ),
        encoding="utf-8",
    )
    return sheet, key


def ambiguity(embed: bool, errors: int) -> None:
    """How much of the error sits in the labels: duplicates, the confusion matrix, a reading sheet."""
    texts, labels, _ = cfpb_data(embed)
    y = np.asarray(labels)
    classes = sorted(set(labels))
    print("Label ambiguity (CFPB products):")
    print("\n".join(duplicates(texts, y)))
    for name, ranked in full_cv(embed).items():
        print(f"Out-of-fold confusion, {name}:")
        print("\n".join(confusion(ranked, classes)))
    sheet, key = reading_sheet(texts, full_cv(embed)["learned"], errors)
    print(f"  reading sheet (no labels): {sheet}; key: {key}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples")
    parser.add_argument("--no-embed", action="store_true", help="words-only features")
    parser.add_argument(
        "--only", nargs="*", default=None, help="cfpb heldout payday corrections curve ambiguity"
    )
    parser.add_argument("--test", type=Path, default=DATA / "ibm_product5_test.jsonl", help="held-out file")
    parser.add_argument("--payday-sample", type=int, default=None, help="payday complaints used (0: all)")
    parser.add_argument("--history", type=int, default=150, help="first router's history (corrections)")
    parser.add_argument("--curve-seeds", type=int, default=3, help="draws of each cut training fold (curve)")
    parser.add_argument("--errors", type=int, default=30, help="misrouted complaints to read (ambiguity)")
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
    if "curve" in only:
        curve(embed, args.curve_seeds)
    if "ambiguity" in only:
        ambiguity(embed, args.errors)
    print("\n".join(ROWS))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"Peak memory (RSS): {peak:.0f} MiB; wall time {time.perf_counter() - started:.0f} s, "
        f"CPU time {time.process_time():.0f} s; load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
