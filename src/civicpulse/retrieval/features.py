"""Features of one (query, candidate) pair for the reranker: lexical, dense, numbers, names, recency."""

from __future__ import annotations

import itertools
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

import numpy as np

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
)
LEXICAL_FEATURES = tuple(name for name in FEATURES if not name.startswith(("cosine", "dense")))

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

    @classmethod
    def of(cls, text: str, published: date | None = None) -> Cues:
        """The cues of ``text``: its numbers, names, distinct folded terms and term pairs."""
        runs = [[strip_marks(term) for term in run] for run in syllables(text)]
        terms = frozenset(term for run in runs for term in run)
        pairs = frozenset(f"{a} {b}" for run in runs for a, b in itertools.pairwise(run))
        return cls(numbers(text), names(text), terms, pairs, published)


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
    out[:, 3] = np.log1p(total[rows])
    out[:, 4] = 1.0 / (1.0 + _ranks(total, rows))
    if cosine is not None and cosine.size:
        chosen = cosine[rows]
        out[:, 5] = chosen
        out[:, 6] = chosen - float(cosine.max())
        spread = float(cosine.std()) or 1.0
        out[:, 7] = (chosen - float(cosine.mean())) / spread
        out[:, 8] = 1.0 / (1.0 + _ranks(cosine, rows))
    for index, row in enumerate(rows):
        doc = docs[row]
        out[index, 9] = _share(query.numbers, doc.numbers)
        out[index, 10] = float(bool(query.numbers) and not (query.numbers & doc.numbers))
        out[index, 11] = _share(query.names, doc.names)
        out[index, 12] = recency(doc.published, today)
        shared, shared_pairs = len(query.terms & doc.terms), len(query.pairs & doc.pairs)
        out[index, 13] = shared / len(query.terms) if query.terms else 0.0
        out[index, 14] = shared / len(doc.terms) if doc.terms else 0.0
        out[index, 15] = shared_pairs / len(query.pairs) if query.pairs else 0.0
        out[index, 16] = shared_pairs / len(doc.pairs) if doc.pairs else 0.0
    return out


def _ranks(scores: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The 0-based rank of each of ``rows`` among all ``scores`` (count of strictly higher)."""
    ordered = np.sort(scores)
    higher = scores.size - np.searchsorted(ordered, scores[rows], side="right")
    return np.minimum(higher, 1000).astype(np.float32)
