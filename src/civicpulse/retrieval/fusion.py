"""Fusing ranked lists and score vectors: reciprocal rank fusion and per-query z-scores."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

RRF_K = 60


def reciprocal_rank(rankings: Sequence[Sequence[int]], k: int = RRF_K) -> dict[int, float]:
    """RRF: each row's sum over rankings of ``1 / (k + rank)`` (rank from 1)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return fused


def zscores(scores: np.ndarray) -> np.ndarray:
    """``scores`` centred on their mean and scaled by their spread (zeros when all equal)."""
    if scores.size == 0:
        return scores.astype(np.float32)
    spread = float(scores.std())
    if spread == 0.0:
        return np.zeros_like(scores, dtype=np.float32)
    return ((scores - scores.mean()) / spread).astype(np.float32)


def top_rows(scores: np.ndarray, count: int) -> np.ndarray:
    """Rows of the ``count`` highest scores, best first (ties by row), only rows above zero."""
    if scores.size == 0 or count <= 0:
        return np.zeros(0, dtype=np.int64)
    count = min(count, scores.size)
    part = np.argpartition(-scores, count - 1)[:count] if count < scores.size else np.arange(scores.size)
    order = np.lexsort((part, -scores[part]))
    rows = part[order]
    return rows[scores[rows] > 0]
