"""The embedder contract, its registry, its errors and the helpers every backend shares."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

from civicpulse.errors import CivicPulseError
from civicpulse.registry import Registry

E5_QUERY = "query: "
E5_PASSAGE = "passage: "


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors; ``name`` is stored with every vector."""

    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """``(n, dim)`` float32 vectors of documents (e5 ``passage:`` where the model needs it)."""
        ...

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """``(n, dim)`` float32 vectors of search queries (e5 ``query:`` where the model needs it)."""
        ...


embedders: Registry[Embedder] = Registry("embedder", "civicpulse.embedders")


class MissingDependency(CivicPulseError):
    """An optional package that the configured backend needs is not installed."""

    status, code = 503, "missing_dependency"


class EmbeddingError(CivicPulseError):
    """The embedding backend failed or answered something unusable."""

    status, code = 502, "embedding_failed"


def e5_prefixes(model_name: str) -> tuple[str, str]:
    """``(query, passage)`` prefixes: e5's for a model whose name says e5, else none."""
    return (E5_QUERY, E5_PASSAGE) if "e5" in model_name.lower() else ("", "")


def l2_normalise(vectors: Any, dim: int | None = None) -> np.ndarray:
    """Rows scaled to unit length as C-contiguous float32; an all-zero row stays zero."""
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    if matrix.ndim != 2 or (dim is not None and matrix.shape[1] != dim):
        expected = f"(n, {dim})" if dim is not None else "(n, dim)"
        raise EmbeddingError(f"embedding backend returned shape {matrix.shape}, expected {expected}")
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def empty(dim: int) -> np.ndarray:
    """No vectors: a ``(0, dim)`` float32 array."""
    return np.zeros((0, dim), dtype=np.float32)


def batches(texts: list[str], size: int) -> list[list[str]]:
    """``texts`` cut into consecutive chunks of at most ``size``."""
    size = max(1, int(size))
    return [texts[start : start + size] for start in range(0, len(texts), size)]
