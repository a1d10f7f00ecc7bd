"""Any local sentence-transformers model directory, on the GPU when there is one.

``sentence-transformers`` (and PyTorch) come with the ``gpu`` extra only and are imported lazily.
Prefixes: the model's own ``query``/``passage`` prompts when its config declares them, else e5's
when the directory name says e5, else none.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from civicpulse.embeddings.base import (
    EmbeddingError,
    MissingDependency,
    e5_prefixes,
    empty,
    l2_normalise,
)
from civicpulse.settings import Settings

INSTALL_HINT = "pip install 'civicpulse[gpu]'"


def require_package() -> None:
    """Fail early, with the install hint, when sentence-transformers is missing (imports nothing)."""
    if importlib.util.find_spec("sentence_transformers") is None:
        raise MissingDependency(
            f"the sentence-transformers embedder needs the sentence-transformers package: {INSTALL_HINT}"
        )


def _sentence_transformer_class() -> Any:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise MissingDependency(
            f"the sentence-transformers embedder needs the sentence-transformers package: {INSTALL_HINT}",
            details=str(exc),
        ) from exc
    return SentenceTransformer


class SentenceTransformersEmbedder:
    """A local model directory loaded with sentence-transformers.

    Args:
        model_path: directory of the model (never downloaded: a name that is not a directory fails).
        batch: texts per forward pass.
        device: ``cuda``, ``cpu`` ... ; ``None`` lets sentence-transformers pick (GPU if present).
    """

    def __init__(self, model_path: str | Path, batch: int = 64, device: str | None = None) -> None:
        self.model_path = Path(model_path)
        self.batch = batch
        self.device = device
        self.name = self.model_path.name
        self.model_: Any = None
        self.dim_: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SentenceTransformersEmbedder:
        """Built from ``embedding_model`` (a directory) and ``embedding_batch``."""
        path = settings.embedding_model
        if not path:
            raise EmbeddingError("the sentence-transformers embedder needs embedding_model (a directory)")
        require_package()
        return cls(path, batch=settings.embedding_batch)

    def _model(self) -> Any:
        if self.model_ is None:
            model_class = _sentence_transformer_class()
            if not self.model_path.is_dir():
                raise EmbeddingError(f"embedding model directory not found: {self.model_path}")
            self.model_ = model_class(str(self.model_path), device=self.device, local_files_only=True)
            self.dim_ = int(self.model_.get_sentence_embedding_dimension())
        return self.model_

    @property
    def dim(self) -> int:
        """Width of the vectors (loads the model)."""
        self._model()
        assert self.dim_ is not None
        return self.dim_

    def _prefix(self, kind: str) -> str:
        prompts = getattr(self._model(), "prompts", None) or {}
        if kind in prompts:
            return str(prompts[kind])
        query, passage = e5_prefixes(self.name)
        return query if kind == "query" else passage

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        model = self._model()
        if not texts:
            return empty(self.dim)
        prefix = self._prefix(kind)
        vectors = model.encode(
            [prefix + text for text in texts],
            batch_size=self.batch,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return l2_normalise(vectors, self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Vectors of documents."""
        return self._embed(list(texts), "passage")

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors of search queries."""
        return self._embed(list(texts), "query")
