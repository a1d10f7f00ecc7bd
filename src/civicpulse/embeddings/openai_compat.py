"""Any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, vLLM, TEI, Ollama, LiteLLM ...).

Requests carry at most ``batch`` texts and are retried by ``civicpulse.openai_http``; vectors are
checked for count and width and L2-normalised here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from civicpulse.embeddings.base import EmbeddingError, batches, e5_prefixes, empty, l2_normalise
from civicpulse.openai_http import OpenAIHttp, endpoint_url
from civicpulse.settings import Settings


class OpenAIEmbedder:
    """Client of an OpenAI-compatible embeddings API.

    Args:
        endpoint: base URL such as ``http://localhost:8000/v1``.
        model: the model name sent in each request and stored with each vector.
        api_key: sent as a bearer token when set.
        dim: expected width; ``None`` learns it from the first answer.
        batch: texts per request.
        timeout: seconds per request.
        max_retries: further attempts after a retryable failure.
        backoff: first wait in seconds, doubled on each retry, capped at ``max_backoff``.
    """

    def __init__(
        self,
        endpoint: str,
        model: str,
        api_key: str | None = None,
        *,
        dim: int | None = None,
        batch: int = 128,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        self.url = endpoint_url(endpoint, "embeddings")
        self.name = model
        self.dim_ = dim
        self.batch = batch
        self.query_prefix, self.passage_prefix = e5_prefixes(model)
        self.http = OpenAIHttp(
            self.url,
            api_key,
            error=EmbeddingError,
            what="embedding",
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            max_backoff=max_backoff,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIEmbedder:
        """Built from ``embedding_endpoint``, ``embedding_model``, ``embedding_api_key`` and friends."""
        endpoint = settings.embedding_endpoint
        model = settings.embedding_model
        if not endpoint or not model:
            raise EmbeddingError("the openai embedder needs embedding_endpoint and embedding_model")
        return cls(
            endpoint,
            model,
            settings.embedding_api_key,
            dim=settings.embedding_dim,
            batch=settings.embedding_batch,
        )

    @property
    def dim(self) -> int:
        """Width of the vectors; asks the server once when it was not configured."""
        if self.dim_ is None:
            self.embed_queries(["dimension probe"])
        assert self.dim_ is not None
        return self.dim_

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def _post(self, texts: list[str]) -> dict[str, Any]:
        return self.http.post({"model": self.name, "input": texts, "encoding_format": "float"})

    def _vectors(self, payload: dict[str, Any], expected: int) -> np.ndarray:
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) != expected:
            got = len(data) if isinstance(data, list) else "no"
            raise EmbeddingError(f"{self.url} returned {got} embeddings for {expected} inputs")
        try:
            ordered = sorted(data, key=lambda row: int(row.get("index", 0)))
            matrix = np.asarray([row["embedding"] for row in ordered], dtype=np.float32)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise EmbeddingError(f"{self.url} returned malformed embeddings: {exc}") from exc
        if matrix.ndim != 2:
            raise EmbeddingError(f"{self.url} returned embeddings of unequal length")
        if self.dim_ is None:
            self.dim_ = int(matrix.shape[1])
        elif matrix.shape[1] != self.dim_:
            raise EmbeddingError(
                f"dimension mismatch: {self.name} at {self.url} returned {matrix.shape[1]}-dim vectors, "
                f"expected {self.dim_}"
            )
        return l2_normalise(matrix, self.dim_)

    def _embed(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return empty(self.dim)
        parts = [
            self._vectors(self._post([prefix + text for text in chunk]), len(chunk))
            for chunk in batches(texts, self.batch)
        ]
        return np.concatenate(parts)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Vectors of documents."""
        return self._embed(list(texts), self.passage_prefix)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors of search queries."""
        return self._embed(list(texts), self.query_prefix)
