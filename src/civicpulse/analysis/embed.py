"""The ``embed`` stage and ``embedder_from_settings``.

The stage embeds the text analysis reads (redacted when the PII stage ran, else normalised, else
raw) as an e5 passage. Its output (``EmbedOut``) names the model and width; the vector itself is a
private field that ``runtime`` saves to the ``embeddings`` table.
"""

from __future__ import annotations

from typing import ClassVar

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult, analysis_text
from civicpulse.annotations import EmbedOut
from civicpulse.embeddings import (
    CachedEmbedder,
    Embedder,
    EmbeddingError,
    MemoryCache,
    VectorLookup,
    embedders,
)
from civicpulse.settings import Settings
from civicpulse.textkit.fingerprint import content_hash


def embedder_from_settings(settings: Settings, *, store: VectorLookup | None = None) -> Embedder:
    """The backend named by ``settings.embedder`` behind an in-memory LRU (and ``store``, if given)."""
    backend = embedders.get(settings.embedder)(settings)
    return CachedEmbedder(backend, MemoryCache(settings.embedding_cache_size), store)


class EmbedStage(ShipsConfigOnly):
    """Embeds each item's analysed text; the vector travels in the output's private ``vector``.

    ``vector_cache`` (a port the store implements) lends vectors computed before for the same text.
    """

    name: ClassVar[str] = "embed"
    output: ClassVar[type[EmbedOut]] = EmbedOut

    def __init__(
        self, settings: Settings, embedder: Embedder | None = None, vector_cache: VectorLookup | None = None
    ) -> None:
        self.settings = settings
        self.vector_cache = vector_cache if settings.embedding_store_cache else None
        self.embedder_: Embedder | None = embedder

    def _embedder(self) -> Embedder:
        if self.embedder_ is None:
            self.embedder_ = embedder_from_settings(self.settings, store=self.vector_cache)
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
            result.outputs[item.id] = EmbedOut(
                model=embedder.name,
                dim=embedder.dim,
                content_hash=content_hash(text),
                vector=[float(x) for x in vector],
            )
        return result
