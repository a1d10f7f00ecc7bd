"""Embedding vectors for the retrieval benchmarks, kept on disk under bench/out/ by text hash.

Embedding 10k claims with the bundled e5 takes minutes; the vectors of each text are computed once
and reused by every later run (``claims.py`` and ``answers.py`` report build times with and without).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from civicpulse.embeddings.base import Embedder, empty
from civicpulse.textkit.fingerprint import content_hash

OUT = Path(__file__).resolve().parent / "out"


class DiskCachedEmbedder:
    """An ``Embedder`` that looks each text up in ``bench/out/vectors-<name>-<kind>.npz`` first."""

    def __init__(self, inner: Embedder, folder: Path = OUT) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.folder = folder
        self._vectors: dict[str, dict[str, np.ndarray]] = {}
        self._dirty: set[str] = set()
        self.computed = 0

    def _path(self, kind: str) -> Path:
        return self.folder / f"vectors-{self.name}-{kind}.npz"

    def _table(self, kind: str) -> dict[str, np.ndarray]:
        if kind not in self._vectors:
            table: dict[str, np.ndarray] = {}
            path = self._path(kind)
            if path.exists():
                with np.load(path) as data:
                    for digest, vector in zip(data["hashes"], data["vectors"], strict=True):
                        table[str(digest)] = vector
            self._vectors[kind] = table
        return self._vectors[kind]

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if not texts:
            return empty(self.dim)
        table = self._table(kind)
        hashes = [content_hash(text) for text in texts]
        todo = {digest: text for digest, text in zip(hashes, texts, strict=True) if digest not in table}
        if todo:
            method = self.inner.embed_passages if kind == "passage" else self.inner.embed_queries
            for start in range(0, len(todo), 512):
                chunk = list(todo.items())[start : start + 512]
                vectors = method([text for _, text in chunk])
                for (digest, _), vector in zip(chunk, vectors, strict=True):
                    table[digest] = np.array(vector, dtype=np.float32)
                self.computed += len(chunk)
                self._dirty.add(kind)
                self.save()
        return np.vstack([table[digest] for digest in hashes]).astype(np.float32, copy=False)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Passage vectors, from disk where computed before."""
        return self._embed(list(texts), "passage")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors, from disk where computed before."""
        return self._embed(list(texts), "query")

    def save(self) -> None:
        """Write the tables that gained vectors."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for kind in sorted(self._dirty):
            table = self._vectors[kind]
            path = self._path(kind)
            partial = path.with_suffix(".part.npz")
            np.savez(partial, hashes=np.array(list(table)), vectors=np.vstack(list(table.values())))
            partial.replace(path)
        self._dirty.clear()
