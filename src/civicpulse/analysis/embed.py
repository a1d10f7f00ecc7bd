"""The ``embed`` stage, ``embedder_from_settings`` and the hand-over of vectors to the store.

The stage embeds the text analysis reads (redacted when the PII stage ran, else normalised, else
raw) as an e5 passage. Its output is ``{"model", "dim", "content_hash", "_vector"}``; the worker
takes ``_vector`` out with ``save_stage_vectors`` before storing the annotation.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from civicpulse.analysis.base import AnalysisItem, StageResult, analysis_text
from civicpulse.embeddings import (
    CachedEmbedder,
    Embedder,
    EmbeddingError,
    MemoryCache,
    StoreCache,
    VectorIndex,
    embedders,
)
from civicpulse.embeddings.base import setting
from civicpulse.settings import Settings
from civicpulse.store.submissions import content_hash
from civicpulse.store.vectors import save_vectors

log = logging.getLogger(__name__)

VECTOR_KEY = "_vector"
DEFAULT_CACHE_SIZE = 10_000

__all__ = [
    "EmbedStage",
    "Embedder",
    "VectorIndex",
    "embedder_from_settings",
    "embedders",
    "save_stage_vectors",
]


def embedder_from_settings(settings: Settings, *, store: StoreCache | None = None) -> Embedder:
    """The backend named by ``settings.embedder`` behind an in-memory LRU (and ``store``, if given)."""
    backend = embedders.get(setting(settings, "embedder", "bundled"))(settings)
    memory = MemoryCache(setting(settings, "embedding_cache_size", DEFAULT_CACHE_SIZE))
    return CachedEmbedder(backend, memory, store)


def _store_cache(settings: Settings) -> StoreCache | None:
    """A cache over the stored vectors when the configured store exists; never creates one."""
    if not setting(settings, "embedding_store_cache", True):
        return None
    path = settings.sqlite_path
    if path is not None and not path.exists():
        return None
    from civicpulse.store.db import Database

    return StoreCache(Database.from_settings(settings))


class EmbedStage:
    """Embeds each item's analysed text; the vector travels in the output under ``_vector``."""

    name: ClassVar[str] = "embed"

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder_: Embedder | None = embedder

    def _embedder(self) -> Embedder:
        if self.embedder_ is None:
            self.embedder_ = embedder_from_settings(self.settings, store=_store_cache(self.settings))
        return self.embedder_

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Embed the batch in one call to the backend."""
        result = StageResult()
        if not items:
            return result
        embedder = self._embedder()
        texts = [analysis_text(item) for item in items]
        vectors = embedder.embed_passages(texts)
        if vectors.shape != (len(items), embedder.dim):
            raise EmbeddingError(f"embedder returned {vectors.shape} for {len(items)} texts")
        for item, text, vector in zip(items, texts, vectors, strict=True):
            result.outputs[item.id] = {
                "model": embedder.name,
                "dim": embedder.dim,
                "content_hash": content_hash(text),
                VECTOR_KEY: [float(x) for x in vector],
            }
        return result


def save_stage_vectors(session: Session, outputs: dict[int, dict[str, dict[str, Any]]]) -> int:
    """Move the ``embed`` stage's vectors from pipeline outputs into the ``embeddings`` table.

    ``outputs`` is ``PipelineResult.outputs`` (submission id -> stage -> output); ``_vector`` is
    removed from each embed output, so the annotation keeps only model, width and hash. Returns
    how many vectors were saved; call it inside the worker's write transaction.
    """
    by_model: dict[str, list[tuple[int, list[float], str]]] = {}
    for submission_id, stages in outputs.items():
        data = stages.get(EmbedStage.name)
        if not data or VECTOR_KEY not in data:
            continue
        vector = data.pop(VECTOR_KEY)
        by_model.setdefault(data["model"], []).append((submission_id, vector, data["content_hash"]))
    return sum(save_vectors(session, model, rows) for model, rows in by_model.items())
