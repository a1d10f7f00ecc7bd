"""Features of one (query, candidate) pair for the reranker: lexical, dense, numbers, names, recency."""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np

from civicpulse.retrieval.fusion import RRF_K
from civicpulse.retrieval.tokens import numbers, syllables
from civicpulse.textkit.vietnamese import strip_marks

FEATURES = (
    "bm25_marked",
    "bm25_folded",
    "bm25_words",
    "bm25_log",
    "bm25_rank",
    "cosine",
    "cosine_gap",
    "cosine_z",
    "dense_rank",
    "numbers_shared",
    "numbers_missing",
    "names_shared",
    "recency",
    "query_coverage",
    "doc_coverage",
    "query_pair_coverage",
    "doc_pair_coverage",
    "title_coverage",
    "doc_length",
    "query_length",
    "numbers_extra",
    "names_doc_share",
    "dense_rrf",
)
LEXICAL_FEATURES = tuple(name for name in FEATURES if not name.startswith(("cosine", "dense")))
COLUMN = {name: column for column, name in enumerate(FEATURES)}
CUE_FEATURES = (
    "numbers_shared",
    "numbers_missing",
    "names_shared",
    "recency",
    "query_coverage",
    "doc_coverage",
    "query_pair_coverage",
    "doc_pair_coverage",
    "title_coverage",
    "doc_length",
    "numbers_extra",
    "names_doc_share",
)
_CUE_COLUMNS = [COLUMN[name] for name in CUE_FEATURES]

_TOKEN = re.compile(r"[^\W_]+")
_SENTENCE_END = frozenset(".!?:\n\"'“”")
RECENCY_YEARS = 3.0


def names(text: str) -> frozenset[str]:
    """Capitalised words that do not start a sentence (people, places, bodies), folded lower case."""
    text = unicodedata.normalize("NFC", text)
    found = set()
    for match in _TOKEN.finditer(text):
        word = match.group()
        if not word[0].isupper():
            continue
        at = match.start() - 1
        while at >= 0 and text[at] in " \t":
            at -= 1
        if at >= 0 and text[at] not in _SENTENCE_END:
            found.add(strip_marks(word.lower()))
    return frozenset(found)


@dataclass(frozen=True)
class Cues:
    """What the reranker compares besides terms: the numbers and names of a text, its date."""

    numbers: frozenset[str]
    names: frozenset[str]
    terms: frozenset[str]
    pairs: frozenset[str]
    published: date | None = None
    title_terms: frozenset[str] = frozenset()

    @classmethod
    def of(cls, text: str, published: date | None = None, title: str = "") -> Cues:
        """The cues of ``text``: its numbers, names, distinct folded terms and term pairs (and
        the distinct folded terms of its ``title``)."""
        runs = _folded_runs(text)
        terms = frozenset(term for run in runs for term in run)
        pairs = frozenset(f"{a} {b}" for run in runs for a, b in itertools.pairwise(run))
        title_terms = frozenset(term for run in _folded_runs(title) for term in run) if title else frozenset()
        return cls(numbers(text), names(text), terms, pairs, published, title_terms)


def _folded_runs(text: str) -> list[list[str]]:
    return [[strip_marks(term) for term in run] for run in syllables(text)]


def _share(query: frozenset[str], doc: frozenset[str]) -> float:
    return len(query & doc) / len(query) if query else 0.0


def recency(published: date | None, today: date) -> float:
    """1 for a document published today, falling by half every three years; 0 when undated."""
    if published is None:
        return 0.0
    years = max(0.0, (today - published).days / 365.25)
    return float(0.5 ** (years / RECENCY_YEARS))


def matrix(
    rows: np.ndarray,
    bm25: dict[str, np.ndarray],
    cosine: np.ndarray | None,
    query: Cues,
    docs: list[Cues],
    today: date,
) -> np.ndarray:
    """``(len(rows), len(FEATURES))`` features of the candidate ``rows`` for one query.

    ``bm25`` holds each field's scores over all documents; ``cosine`` the dense similarities (or
    ``None`` without an embedder). Scores are scaled by the query's best so queries compare.
    """
    out = np.zeros((len(rows), len(FEATURES)), dtype=np.float32)
    total = sum(bm25.values())
    for column, field in enumerate(("marked", "folded", "words")):
        scores = bm25[field]
        best = float(scores.max()) if scores.size else 0.0
        if best > 0:
            out[:, column] = scores[rows] / best
    out[:, COLUMN["bm25_log"]] = np.log1p(total[rows])
    lexical_ranks = _ranks(total, rows)
    out[:, COLUMN["bm25_rank"]] = 1.0 / (1.0 + lexical_ranks)
    out[:, COLUMN["query_length"]] = np.log1p(len(query.terms))
    if cosine is not None and cosine.size:
        chosen = cosine[rows]
        out[:, COLUMN["cosine"]] = chosen
        out[:, COLUMN["cosine_gap"]] = chosen - float(cosine.max())
        spread = float(cosine.std()) or 1.0
        out[:, COLUMN["cosine_z"]] = (chosen - float(cosine.mean())) / spread
        dense_ranks = _ranks(cosine, rows)
        out[:, COLUMN["dense_rank"]] = 1.0 / (1.0 + dense_ranks)
        out[:, COLUMN["dense_rrf"]] = 1.0 / (RRF_K + 1.0 + lexical_ranks) + 1.0 / (RRF_K + 1.0 + dense_ranks)
    if len(rows):
        out[:, _CUE_COLUMNS] = [_pair(query, docs[row], today) for row in rows]
    return out


def _pair(query: Cues, doc: Cues, today: date) -> tuple[float, ...]:
    """The cue features of one (query, document) pair, in ``CUE_FEATURES`` order."""
    shared, shared_pairs = len(query.terms & doc.terms), len(query.pairs & doc.pairs)
    return (
        _share(query.numbers, doc.numbers),
        float(bool(query.numbers) and not (query.numbers & doc.numbers)),
        _share(query.names, doc.names),
        recency(doc.published, today),
        shared / len(query.terms) if query.terms else 0.0,
        shared / len(doc.terms) if doc.terms else 0.0,
        shared_pairs / len(query.pairs) if query.pairs else 0.0,
        shared_pairs / len(doc.pairs) if doc.pairs else 0.0,
        _share(doc.title_terms, query.terms),
        float(np.log1p(len(doc.terms))),
        _share(doc.numbers, doc.numbers - query.numbers),
        _share(doc.names, query.names),
    )


def _ranks(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The 0-based rank of each of ``rows`` among all ``scores`` (count of strictly higher)."""
    ordered = np.sort(scores)
    higher = scores.size - np.searchsorted(ordered, scores[rows], side="right")
    return np.minimum(higher, 1000).astype(np.float32)
