"""Embed each distinct text once per model: an in-memory LRU, then earlier vectors, then the model.

Texts are keyed by ``content_hash`` (NFC, whitespace folded), the same hash the store uses, so
"Rác  thải" and "Rác thải" share one vector.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Protocol

import numpy as np

from civicpulse.embeddings.base import Embedder, empty
from civicpulse.textkit.fingerprint import content_hash


class MemoryCache:
    """A thread-safe LRU of vectors keyed by ``(model, kind, content hash)``."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple[str, str, str]) -> np.ndarray | None:
        """The cached vector, marked as recently used."""
        with self._lock:
            vector = self._entries.get(key)
            if vector is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return vector

    def put(self, key: tuple[str, str, str], vector: np.ndarray) -> None:
        """Remember ``vector``; the least recently used entry goes when full."""
        if self.size <= 0:
            return
        with self._lock:
            self._entries[key] = vector
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class VectorLookup(Protocol):
    """Where vectors computed before may be found (the store implements it): the port of the cache."""

    def get_many(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        """Vectors of ``model`` for those of ``hashes`` that have one."""
        ...


class CachedEmbedder:
    """An ``Embedder`` in front of another: same name and width, each distinct text embedded once."""

    def __init__(
        self, inner: Embedder, memory: MemoryCache | None = None, store: VectorLookup | None = None
    ) -> None:
        self.inner = inner
        self.memory = memory if memory is not None else MemoryCache()
        self.store = store

    @property
    def name(self) -> str:
        """The wrapped model's name."""
        return self.inner.name

    @property
    def dim(self) -> int:
        """The wrapped model's width."""
        return self.inner.dim

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        if not texts:
            return empty(self.dim)
        hashes = [content_hash(text) for text in texts]
        found: dict[str, np.ndarray] = {}
        for digest in dict.fromkeys(hashes):
            vector = self.memory.get((self.name, kind, digest))
            if vector is not None:
                found[digest] = vector
        todo = [digest for digest in dict.fromkeys(hashes) if digest not in found]
        if todo and kind == "passage" and self.store is not None:
            stored = self.store.get_many(self.name, todo)
            found.update(stored)
            for digest, vector in stored.items():
                self.memory.put((self.name, kind, digest), vector)
            todo = [digest for digest in todo if digest not in found]
        if todo:
            first_text = {}
            for text, digest in zip(texts, hashes, strict=True):
                first_text.setdefault(digest, text)
            method = self.inner.embed_passages if kind == "passage" else self.inner.embed_queries
            computed = method([first_text[digest] for digest in todo])
            for digest, vector in zip(todo, computed, strict=True):
                vector = np.array(vector, dtype=np.float32)  # own copy, not a view of the batch
                found[digest] = vector
                self.memory.put((self.name, kind, digest), vector)
        return np.vstack([found[digest] for digest in hashes]).astype(np.float32, copy=False)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Vectors of documents, from the caches where possible."""
        return self._embed(list(texts), "passage")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors of search queries, from the memory cache where possible."""
        return self._embed(list(texts), "query")
