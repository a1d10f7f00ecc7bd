"""One client for OpenAI-compatible HTTP APIs (OpenAI, vLLM, TEI, Ollama, LiteLLM ...), via httpx.

JSON POSTs carry the bearer key when set; 408, 409, 429, 5xx and connection errors are retried with
exponential backoff (``Retry-After`` is honoured up to ``max_backoff``); anything else fails at once
with the server's own message. The embeddings and chat clients both speak through it.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx

RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


def endpoint_url(endpoint: str, path: str) -> str:
    """``.../v1`` or ``.../v1/<path>`` -> ``.../v1/<path>``."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(f"/{path}") else f"{endpoint}/{path}"


class OpenAIHttp:
    """Retrying JSON POSTs to one URL.

    Args:
        url: the full URL, e.g. ``http://localhost:8000/v1/embeddings``.
        api_key: sent as a bearer token when set.
        error: the exception raised on failure.
        what: what a request is, for messages ("embedding", "chat").
        timeout: seconds per request.
        max_retries: further attempts after a retryable failure.
        backoff: first wait in seconds, doubled on each retry, capped at ``max_backoff``.
    """

    def __init__(
        self,
        url: str,
        api_key: str | None,
        *,
        error: type[Exception],
        what: str,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
    ) -> None:
        self.url = url
        self.api_key = api_key
        self.error = error
        self.what = what
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.client_: httpx.Client | None = None

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

    def post(self, body: dict[str, Any]) -> Any:
        """The decoded JSON answer to one request, retried on 429/5xx and connection errors."""
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
                        raise self.error(f"{self.url} answered non-JSON") from exc
                last = f"HTTP {response.status_code}: {server_message(response)}"
                if response.status_code not in RETRY_STATUSES:
                    raise self.error(f"{self.what} request to {self.url} failed: {last}")
            if attempt < self.max_retries:
                time.sleep(self._wait(attempt, response))
        raise self.error(
            f"{self.what} request to {self.url} failed after {self.max_retries + 1} attempts: {last}"
        )


def server_message(response: httpx.Response) -> str:
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
