"""Any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI, vLLM, TEI, Ollama, LiteLLM ...), via httpx.

Requests carry at most ``batch`` texts; 429, 5xx and connection errors are retried with exponential
backoff (``Retry-After`` is honoured up to ``max_backoff``); anything else fails at once with the
server's message. Vectors are checked for count and width and L2-normalised here.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx
import numpy as np

from civicpulse.embeddings.base import EmbeddingError, batches, e5_prefixes, empty, l2_normalise, setting

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


def embeddings_url(endpoint: str) -> str:
    """``.../v1`` or ``.../v1/embeddings`` -> the embeddings URL."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith("/embeddings") else f"{endpoint}/embeddings"


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
        self.url = embeddings_url(endpoint)
        self.name = model
        self.api_key = api_key
        self.dim_ = dim
        self.batch = batch
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.query_prefix, self.passage_prefix = e5_prefixes(model)
        self.client_: httpx.Client | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> OpenAIEmbedder:
        """Built from ``embedding_endpoint``, ``embedding_model``, ``embedding_api_key`` and friends."""
        endpoint = setting(settings, "embedding_endpoint", None)
        model = setting(settings, "embedding_model", None)
        if not endpoint or not model:
            raise EmbeddingError("the openai embedder needs embedding_endpoint and embedding_model")
        return cls(
            endpoint,
            model,
            setting(settings, "embedding_api_key", None),
            dim=setting(settings, "embedding_dim", None),
            batch=setting(settings, "embedding_batch", 128),
        )

    @property
    def dim(self) -> int:
        """Width of the vectors; asks the server once when it was not configured."""
        if self.dim_ is None:
            self.embed_queries(["dimension probe"])
        assert self.dim_ is not None
        return self.dim_

    def _client(self) -> httpx.Client:
        if self.client_ is None:
            headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            self.client_ = httpx.Client(headers=headers, timeout=self.timeout)
        return self.client_

    def close(self) -> None:
        """Close the HTTP connections."""
        if self.client_ is not None:
            self.client_.close()
            self.client_ = None

    def _wait(self, attempt: int, response: httpx.Response | None) -> float:
        delay = self.backoff * (2**attempt)
        if response is not None:
            with contextlib.suppress(ValueError):
                delay = float(response.headers.get("Retry-After", delay))
        return max(0.0, min(delay, self.max_backoff))

    def _post(self, texts: list[str]) -> dict[str, Any]:
        """One request, retried on 429/5xx and connection errors."""
        body = {"model": self.name, "input": texts, "encoding_format": "float"}
        last = ""
        for attempt in range(self.max_retries + 1):
            response: httpx.Response | None = None
            try:
                response = self._client().post(self.url, json=body)
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200:
                    try:
                        return response.json()
                    except ValueError as exc:
                        raise EmbeddingError(f"{self.url} answered non-JSON") from exc
                last = f"HTTP {response.status_code}: {_message(response)}"
                if response.status_code not in RETRY_STATUSES:
                    raise EmbeddingError(f"embedding request to {self.url} failed: {last}")
            if attempt < self.max_retries:
                time.sleep(self._wait(attempt, response))
        raise EmbeddingError(
            f"embedding request to {self.url} failed after {self.max_retries + 1} attempts: {last}"
        )

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


def _message(response: httpx.Response) -> str:
    """The error message an OpenAI-style server put in its body, else the body's start."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:300]
    if isinstance(error, str):
        return error[:300]
    return response.text[:300]
