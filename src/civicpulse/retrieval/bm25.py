"""BM25 (bm25s) over one token field, rebuilt lazily after documents are added or removed."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import bm25s
import numpy as np

# bm25s sets its own logger to DEBUG, which prints a line per index build through any handler
logging.getLogger("bm25s").setLevel(logging.WARNING)


class FieldIndex:
    """A bm25s index over pre-tokenised documents; rows follow the order given to ``build``."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._model: bm25s.BM25 | None = None
        self._vocab: dict[str, int] = {}
        self._size = 0

    def build(self, documents: Sequence[list[str]]) -> None:
        """Index ``documents`` (lists of terms), replacing what was there."""
        self._size = len(documents)
        self._vocab = {}
        ids = [[self._vocab.setdefault(term, len(self._vocab)) for term in doc] for doc in documents]
        if not self._vocab or not documents:
            self._model = None
            return
        model = bm25s.BM25(k1=self.k1, b=self.b)
        vocab = {term: index for term, index in self._vocab.items()}
        model.index(
            bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), create_empty_token=False, show_progress=False
        )
        self._model = model

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 score of every document for ``terms`` (zeros where nothing matches)."""
        known = [self._vocab[term] for term in terms if term in self._vocab]
        if self._model is None or not known:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._model.get_scores_from_ids(known), dtype=np.float32)
