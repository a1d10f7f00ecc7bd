"""BM25 (bm25s) over one token field, rebuilt lazily after documents are added or removed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import bm25s
import numpy as np

# bm25s sets its own logger to DEBUG, which prints a line per index build through any handler
logging.getLogger("bm25s").setLevel(logging.WARNING)


class FieldIndex:
    """A bm25s index over pre-tokenised documents; rows follow the order given to ``build``.

    bm25s computes every term's score in each document at build time (a term-major sparse matrix);
    a query's scores are the sum of its terms' columns, added here with one ``bincount`` over the
    terms' postings (no loop of ``np.add.at`` per term).
    """

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._vocab: dict[str, int] = {}
        self._size = 0
        self._data = np.zeros(0, dtype=np.float32)
        self._indices = np.zeros(0, dtype=np.int64)
        self._indptr = np.zeros(1, dtype=np.int64)

    def build(self, documents: Sequence[list[str]]) -> None:
        """Index ``documents`` (lists of terms), replacing what was there."""
        self._size = len(documents)
        self._vocab = {}
        ids = [[self._vocab.setdefault(term, len(self._vocab)) for term in doc] for doc in documents]
        if not self._vocab or not documents:
            self._indptr = np.zeros(1, dtype=np.int64)
            return
        model = bm25s.BM25(k1=self.k1, b=self.b)
        vocab = {term: index for term, index in self._vocab.items()}
        model.index(
            bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), create_empty_token=False, show_progress=False
        )
        self._data = np.asarray(model.scores["data"], dtype=np.float32)
        self._indices = np.asarray(model.scores["indices"], dtype=np.int64)
        self._indptr = np.asarray(model.scores["indptr"], dtype=np.int64)

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every document for ``terms`` (zeros where nothing matches; a repeated
        term counts each time, as in bm25s)."""
        known = [self._vocab[term] for term in terms if term in self._vocab]
        if not known:
            return np.zeros(self._size, dtype=np.float32)
        spans = [slice(self._indptr[term], self._indptr[term + 1]) for term in known]
        rows = np.concatenate([self._indices[span] for span in spans])
        weights = np.concatenate([self._data[span] for span in spans])
        return np.bincount(rows, weights=weights, minlength=self._size).astype(np.float32)
