"""Exact cosine search in process: one float32 matrix product per block of queries.

Fast enough for the intended scale (up to about a million 384-dim vectors: 1.5 GB of RAM; see
``bench/embeddings.py`` for timings), so no approximate index is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from civicpulse.embeddings.base import l2_normalise

_SCORE_BUDGET = 32_000_000  # floats (128 MB) of the (queries x vectors) score block held at once


class VectorIndex:
    """Vectors by integer id; ``search`` returns the ``k`` most cosine-similar ids per query.

    Vectors are L2-normalised on the way in, so a score is the cosine similarity. Adding an id
    that is already present replaces its vector.
    """

    def __init__(self, dim: int | None = None) -> None:
        self.dim = dim
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, dim or 0), dtype=np.float32)
        self._size = 0
        self._rows: dict[int, int] = {}

    def __len__(self) -> int:
        return self._size

    @property
    def ids(self) -> np.ndarray:
        """The ids held, in insertion order."""
        return self._ids[: self._size]

    @property
    def vectors(self) -> np.ndarray:
        """The normalised vectors held, row ``i`` for ``ids[i]``."""
        return self._matrix[: self._size]

    def _grow(self, extra: int) -> None:
        need = self._size + extra
        if need <= len(self._ids):
            return
        capacity = max(need, 2 * len(self._ids), 1024)
        ids = np.zeros(capacity, dtype=np.int64)
        matrix = np.zeros((capacity, self.dim or 0), dtype=np.float32)
        ids[: self._size] = self.ids
        matrix[: self._size] = self.vectors
        self._ids, self._matrix = ids, matrix

    def add(self, ids: Sequence[int] | np.ndarray, vectors: Any) -> None:
        """Add (or replace) ``vectors[i]`` under ``ids[i]``."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        matrix = np.asarray(vectors, dtype=np.float32)
        if matrix.ndim == 1 and len(ids) == 1:
            matrix = matrix.reshape(1, -1)
        if len(ids) == 0:
            return
        if self.dim is None:
            self.dim = int(matrix.shape[-1])
            self._matrix = np.zeros((0, self.dim), dtype=np.float32)
        if matrix.shape != (len(ids), self.dim):
            raise ValueError(f"expected vectors of shape ({len(ids)}, {self.dim}), got {matrix.shape}")
        matrix = l2_normalise(matrix, self.dim)
        self._grow(len(ids))
        keys = ids.tolist()
        if len(set(keys)) == len(keys) and self._rows.keys().isdisjoint(keys):  # all new: bulk copy
            rows = np.arange(self._size, self._size + len(keys))
            self._ids[rows], self._matrix[rows] = ids, matrix
            self._rows.update(zip(keys, rows.tolist(), strict=True))
            self._size += len(keys)
            return
        for key, vector in zip(keys, matrix, strict=True):
            row = self._rows.get(key)
            if row is None:
                row = self._rows[key] = self._size
                self._ids[row] = key
                self._size += 1
            self._matrix[row] = vector

    def search(self, query_vectors: Any, k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, scores)``, each ``(n_queries, k)``, best first; where fewer than ``k`` vectors
        exist the rest is padded with id ``-1`` and score ``-inf``."""
        queries = np.asarray(query_vectors, dtype=np.float32)
        if queries.ndim == 1:
            queries = queries.reshape(1, -1)
        n = len(queries)
        out_ids = np.full((n, k), -1, dtype=np.int64)
        out_scores = np.full((n, k), -np.inf, dtype=np.float32)
        if n == 0 or k <= 0 or self._size == 0:
            return out_ids, out_scores
        queries = l2_normalise(queries, self.dim)
        top = min(k, self._size)
        block = max(1, _SCORE_BUDGET // self._size)
        vectors = self.vectors
        for start in range(0, n, block):
            scores = queries[start : start + block] @ vectors.T
            if top < self._size:
                part = np.argpartition(scores, self._size - top, axis=1)[:, -top:]
            else:
                part = np.broadcast_to(np.arange(self._size), scores.shape).copy()
            part_scores = np.take_along_axis(scores, part, axis=1)
            order = np.argsort(-part_scores, axis=1, kind="stable")
            best = np.take_along_axis(part, order, axis=1)
            out_ids[start : start + block, :top] = self._ids[best]
            out_scores[start : start + block, :top] = np.take_along_axis(part_scores, order, axis=1)
        return out_ids, out_scores
