"""Fit and check the abstention of cited answers (``knowledge.ask``) on ALQAC legal QA; time answers.

    .venv/bin/python bench/ask.py                  # fit on train (5-fold CV), score dev once, time
    .venv/bin/python bench/ask.py --write-model    # also ship knowledge/answer_confidence.json
    .venv/bin/python bench/ask.py --caps 0,16,24,32,48   # the question's cap for its embedding

Retrieval is the product's: a ``HybridIndex`` (profile ``passages``) with the bundled e5 (vectors
cached under bench/out/ by text hash), each article titled with its law as the library titles a
passage with its document, a multiple-choice question asked with its options (as bench/answers.py),
the question embedded from its first ``QUERY_WORDS`` words (``knowledge.library.CappedQueries``).

Every question is asked twice. Once of its own law corpus (answerable: it should be answered), once
of the other corpus (alqac2022 <-> alqac2023) with the articles of the question's own law taken out
(unanswerable: it should abstain). The two corpora share two laws (the Civil Code 91/2015/QH13 is
"Bộ luật dân sự" in alqac2023, the Cybersecurity Law 24/2018/QH14 is "Luật An ninh mạng"), so a
question about one of them could be answered from the other corpus; its own law is removed from that
corpus for the unanswerable trial.

The confidence model (``knowledge.answer_confidence``: a logistic model over the signals of the top
passages) is chosen on train only: its feature set and regularisation by 5-fold cross-validation over
the train questions (a question's two trials in the same fold), its threshold on the out-of-fold
probabilities (the one that clears both targets, answering >= 90 % of answerable questions and
abstaining on >= 80 % of the others, by the widest margin). Dev is scored once, with a bootstrap
interval over its questions. Also: the share of answers citing the gold article, the share of train
answers quoting the short gold answer ("07 năm"), and the p50/p95 answer latency (search + compose,
wall and CPU time, with the load average) over 10,000 passages.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from answers import DATA, articles, question_text
from civicpulse.embeddings import BundledEmbedder
from civicpulse.knowledge.answer_confidence import SIGNALS, ConfidenceModel, model_path, signals
from civicpulse.knowledge.ask import TOP_PASSAGES, Source, compose, extract
from civicpulse.knowledge.library import QUERY_WORDS, CappedQueries, TermStats
from civicpulse.logistic import Logistic
from civicpulse.retrieval import Doc, HybridIndex, RetrievalConfig
from retrieval_eval import bootstrap, read_jsonl, table
from retrieval_vectors import DiskCachedEmbedder

SAME_LAW = {"91/2015/QH13": "Bộ luật dân sự", "24/2018/QH14": "Luật An ninh mạng"}
SAME_LAW |= {b: a for a, b in SAME_LAW.items()}
OTHER = {"alqac2022": "alqac2023", "alqac2023": "alqac2022"}
ANSWER_FLOOR, ABSTAIN_FLOOR = 0.90, 0.80
OLD_RULE = ("coverage", 0.38)  # the confidence shipped before the model: coverage >= 0.38
FEATURE_SETS = {
    "coverage only": ("coverage",),
    "coverage + length": ("coverage", "length"),
    "best passage's shares + length": ("coverage", "body_coverage", "title_coverage", "rare_found", "length"),
    "all signals": SIGNALS,
}
C_GRID = (0.1, 1.0, 10.0)
LATENCY_PASSAGES = 10_000


class Corpus:
    """One law corpus indexed the way the library indexes passages (the law's name as title)."""

    def __init__(self, name: str, embedder: object | None) -> None:
        self.index = HybridIndex(embedder, RetrievalConfig(profile="passages"))  # type: ignore[arg-type]
        self.stats = TermStats()
        self.docs = {doc.id: doc for doc in articles(name)}
        self.numbers = {doc_id: number for number, doc_id in enumerate(self.docs, start=1)}
        self.ids = {number: doc_id for doc_id, number in self.numbers.items()}
        for doc in self.docs.values():
            self.stats.add(doc.id, f"{doc.title}\n{doc.text}")
        self.index.add(list(self.docs.values()))

    def sources(self, hits: list, leave_out: set[str]) -> list[Source]:
        kept = [hit for hit in hits if hit.id.split("|")[0] not in leave_out][:TOP_PASSAGES]
        return [self.source(hit.id, hit.score) for hit in kept]

    def source(self, doc_id: str, score: float) -> Source:
        doc = self.docs[doc_id]
        return Source(self.numbers[doc_id], 0, doc.text, 0, score, doc.title)


@dataclass
class Trial:
    """One question asked of one corpus: its signals, passages, and whether it is answerable."""

    answerable: bool
    question: dict
    text: str
    sources: list[Source]
    corpus: Corpus
    signals: dict[str, float]


def trials(split: str, corpora: dict[str, Corpus]) -> list[Trial]:
    """Each question of ``split`` asked of its own corpus and of the wrong one (in that order)."""
    queries = read_jsonl(DATA / f"queries_{split}.jsonl")
    texts = [question_text(q) for q in queries]
    hits = {name: corpus.index.search_many(texts, 60) for name, corpus in corpora.items()}
    out = []
    for number, (query, text) in enumerate(zip(queries, texts, strict=True)):
        own = query["gold_doc_ids"][0].split("|")[0]
        for answerable, name, leave_out in (
            (True, query["corpus"], set()),
            (False, OTHER[query["corpus"]], {own, SAME_LAW.get(own, own)}),
        ):
            corpus = corpora[name]
            sources = corpus.sources(hits[name][number], leave_out)
            out.append(Trial(answerable, query, text, sources, corpus, signals(text, sources, corpus.stats)))
    return out


def matrix(found: list[Trial], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[trial.signals[name] for name in names] for trial in found], dtype=np.float64)


def labels(found: list[Trial]) -> np.ndarray:
    return np.array([trial.answerable for trial in found], dtype=int)


def fit(found: list[Trial], names: tuple[str, ...], c: float) -> ConfidenceModel:
    """A logistic model over ``names`` (threshold 0.5 until one is chosen)."""
    x = matrix(found, names)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=c, max_iter=5000).fit((x - mean) / scale, labels(found))
    return ConfidenceModel(Logistic(names, mean, scale, model.coef_[0], float(model.intercept_[0])), 0.5)


def probabilities(model: ConfidenceModel, found: list[Trial]) -> np.ndarray:
    return np.array([model.probability(trial.signals) for trial in found])


def out_of_fold(found: list[Trial], names: tuple[str, ...], c: float, folds: int = 5) -> np.ndarray:
    """Each trial's probability from a model fitted on the other folds' questions."""
    questions = len(found) // 2  # a question's two trials are neighbours
    out = np.zeros(len(found))
    for fitted, held in KFold(folds, shuffle=True, random_state=13).split(np.arange(questions)):
        rows = lambda ids: [row for q in ids for row in (2 * q, 2 * q + 1)]  # noqa: E731
        model = fit([found[i] for i in rows(fitted)], names, c)
        for i in rows(held):
            out[i] = model.probability(found[i].signals)
    return out


def rates(scores: np.ndarray, found: list[Trial], threshold: float) -> tuple[float, float]:
    """(share of answerable trials answered, share of unanswerable trials abstained)."""
    answerable = labels(found).astype(bool)
    return float(np.mean(scores[answerable] >= threshold)), float(np.mean(scores[~answerable] < threshold))


def margin(answered_abstained: tuple[float, float]) -> float:
    """How far both rates clear their floors (the smaller of the two margins)."""
    answered, abstained = answered_abstained
    return min(answered - ANSWER_FLOOR, abstained - ABSTAIN_FLOOR)


def best_threshold(scores: np.ndarray, found: list[Trial]) -> float:
    """The threshold with the widest margin over both floors (the middle of equally good ones)."""
    grid = np.unique(np.round(scores, 4))
    margins = np.array([margin(rates(scores, found, t)) for t in grid])
    best = np.flatnonzero(margins == margins.max())
    return float(grid[best[len(best) // 2]])


def answer_quality(scores: np.ndarray, found: list[Trial], threshold: float) -> dict[str, float]:
    """Of the answerable trials answered: gold article cited, short gold answer quoted."""
    cited = quoted = with_answer = answered = 0
    for score, trial in zip(scores, found, strict=True):
        if not trial.answerable or score < threshold:
            continue
        citations = extract(trial.text, trial.sources, trial.corpus.stats.idf)
        if not citations:
            continue
        answered += 1
        ids = {trial.corpus.ids[c.passage_id] for c in citations}
        cited += bool(ids & set(trial.question["gold_doc_ids"]))
        gold = (trial.question.get("answer") or "").strip()
        if trial.question.get("question_type") is None and gold:
            with_answer += 1
            quoted += gold.lower() in " ".join(c.quote for c in citations).lower()
    return {
        "cited": cited / answered if answered else 0.0,
        "quoted": quoted / with_answer if with_answer else float("nan"),
    }


def paired_intervals(scores: np.ndarray, found: list[Trial], threshold: float) -> tuple[str, str]:
    """95 % bootstrap intervals over the questions of the answered and the abstained rates."""
    answerable = labels(found).astype(bool)
    answered = bootstrap((scores[answerable] >= threshold).astype(float))
    abstained = bootstrap((scores[~answerable] < threshold).astype(float))
    return f"{answered[0]:.2f}-{answered[1]:.2f}", f"{abstained[0]:.2f}-{abstained[1]:.2f}"


def recall_at_1(found: list[Trial]) -> float:
    hits = [
        bool(t.sources) and t.corpus.ids[t.sources[0].passage_id] in t.question["gold_doc_ids"]
        for t in found
        if t.answerable
    ]
    return float(np.mean(hits))


class RandomPassages:
    """Random unit passage vectors (a dot product costs the same whatever its values) and real,
    capped question vectors, so that 10,000 passages need no embedding to time an answer."""

    def __init__(self, inner: BundledEmbedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.rng = np.random.default_rng(3)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        vectors = self.rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.inner.embed_queries(texts)


def latency(embedder: BundledEmbedder, questions: list[str], caps: list[int]) -> list[tuple[str, ...]]:
    """p50/p95 wall and CPU ms of search + compose over 10,000 passages (articles, then clauses),
    for each cap of the question's embedding; with the 1-minute load average around each run."""
    docs = articles("alqac2022") + articles("alqac2023")
    clauses = [
        Doc(f"{doc.id}#{n}", line, doc.title)
        for doc in docs
        for n, line in enumerate(doc.text.split("\n"))
        if len(line) > 40
    ]
    docs += clauses[: LATENCY_PASSAGES - len(docs)]
    stats = TermStats()
    for doc in docs:
        stats.add(doc.id, f"{doc.title}\n{doc.text}")
    by_id = {doc.id: doc for doc in docs}
    rows = []
    for cap in caps:
        index = HybridIndex(CappedQueries(RandomPassages(embedder), cap), RetrievalConfig(profile="passages"))
        index.add(docs)
        index.search(questions[0], TOP_PASSAGES)
        wall, cpu = [], []
        load = os.getloadavg()[0]
        for question in questions:
            started, started_cpu = time.perf_counter(), time.process_time()
            hits = index.search(question, TOP_PASSAGES)
            sources = [
                Source(n, 0, by_id[h.id].text, 0, h.score, by_id[h.id].title) for n, h in enumerate(hits)
            ]
            compose(question, sources, stats)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
        load = f"{load:.1f}-{os.getloadavg()[0]:.1f}"
        rows.append(
            (
                str(cap or "whole (128 tokens)"),
                f"{np.percentile(wall, 50):.0f}",
                f"{np.percentile(wall, 95):.0f}",
                f"{np.percentile(cpu, 50):.0f}",
                f"{np.percentile(cpu, 95):.0f}",
                load,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-model", action="store_true", help="ship the model chosen on train")
    parser.add_argument("--lexical", action="store_true", help="BM25 retrieval only (no e5)")
    parser.add_argument("--caps", default=str(QUERY_WORDS), help="question caps (words) to compare")
    parser.add_argument("--no-latency", action="store_true", help="skip the 10,000-passage timing")
    args = parser.parse_args()
    caps = [int(cap) for cap in args.caps.split(",")]
    bundled = BundledEmbedder(threads=int(os.environ["OMP_NUM_THREADS"]))
    cached = None if args.lexical else DiskCachedEmbedder(bundled)

    found: dict[int, dict[str, list[Trial]]] = {}
    for cap in caps:
        embedder = None if cached is None else CappedQueries(cached, cap)  # type: ignore[arg-type]
        started = time.perf_counter()
        corpora = {name: Corpus(name, embedder) for name in ("alqac2022", "alqac2023")}
        found[cap] = {split: trials(split, corpora) for split in ("train", "dev")}
        print(f"cap {cap}: indexed and asked in {time.perf_counter() - started:.0f} s")
    if cached is not None:
        cached.save()
    if len(caps) > 1:
        rows = [
            (str(cap), f"{recall_at_1(found[cap]['train']):.3f}", f"{recall_at_1(found[cap]['dev']):.3f}")
            for cap in caps
        ]
        print("\nRecall@1 of the answerable trials by the question's cap (words embedded; 0: whole)")
        print(table(rows, ("cap", "train", "dev")))
    train, dev = found[QUERY_WORDS if QUERY_WORDS in found else caps[0]].values()

    choices, best = [], None
    for label, names in FEATURE_SETS.items():
        for c in C_GRID:
            scores = out_of_fold(train, names, c)
            threshold = best_threshold(scores, train)
            answered, abstained = rates(scores, train, threshold)
            value = margin((answered, abstained))
            choices.append((label, f"{c:g}", f"{threshold:.3f}", f"{answered:.3f}", f"{abstained:.3f}"))
            if best is None or value > best[0] + 1e-9:
                best = (value, label, names, c, threshold, scores)
    assert best is not None
    _, label, names, c, threshold, oof = best
    print("\n5-fold CV on train (out-of-fold probabilities; threshold with the widest margin)")
    print(table(choices, ("signals", "C", "threshold", "answered", "abstained")))
    model = fit(train, names, c)
    model = ConfidenceModel(model.model, threshold)
    print(f"\nchosen on train: {label}, C={c:g}, threshold {threshold:.3f}")

    old_name, old_threshold = OLD_RULE
    rows = []
    for split, found_split in (("train", train), ("dev", dev)):
        old = np.array([t.signals[old_name] for t in found_split])
        new = oof if split == "train" else probabilities(model, found_split)
        for rule, scores, cut in (
            (f"before: coverage >= {old_threshold}", old, old_threshold),
            ("confidence model" + (" (out of fold)" if split == "train" else ""), new, threshold),
        ):
            answered, abstained = rates(scores, found_split, cut)
            low_high = paired_intervals(scores, found_split, cut) if split == "dev" else ("", "")
            quality = answer_quality(scores, found_split, cut)
            quoted = quality["quoted"]
            rows.append(
                (
                    f"{split} ({len(found_split) // 2})",
                    rule,
                    f"{answered:.3f}",
                    low_high[0],
                    f"{abstained:.3f}",
                    low_high[1],
                    f"{quality['cited']:.3f}",
                    "—" if np.isnan(quoted) else f"{quoted:.3f}",
                )
            )
    print()
    print(
        table(
            rows,
            (
                "split",
                "rule",
                "answerable answered",
                "95 % CI",
                "wrong-corpus abstained",
                "95 % CI",
                "gold article cited",
                "short answer quoted",
            ),
        )
    )
    print("\nmodel:", json.dumps(model.to_json()))

    if not args.no_latency:
        questions = [question_text(q) for q in read_jsonl(DATA / "queries_dev.jsonl")]
        rows = latency(bundled, questions, sorted({0, *caps}))
        print(f"\nanswer latency over {LATENCY_PASSAGES} passages, {len(questions)} dev questions (ms)")
        print(table(rows, ("question embedded", "p50 wall", "p95 wall", "p50 CPU", "p95 CPU", "load 1 min")))

    if args.write_model:
        model_path().write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"wrote {model_path()} ({label}, C={c:g}, threshold {threshold:.3f})")


if __name__ == "__main__":
    main()
