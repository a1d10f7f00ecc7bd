"""An optional chat model behind any OpenAI-compatible ``/v1/chat/completions`` endpoint.

Nothing in CivicPulse needs it: features that use it fall back to extractive output when it is not
configured or fails. Callers send redacted text only and check what comes back.
"""

from __future__ import annotations

import json
import re
from typing import Any

from civicpulse.errors import CivicPulseError
from civicpulse.openai_http import OpenAIHttp, endpoint_url
from civicpulse.settings import Settings

_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$")


class LLMError(CivicPulseError):
    """The chat endpoint failed or answered something unusable."""

    status, code = 502, "llm_failed"


class ChatClient:
    """Asks a chat model for a JSON object (temperature 0, JSON response format)."""

    def __init__(
        self,
        endpoint: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 2,
        backoff: float = 1.0,
    ) -> None:
        self.model = model
        self.http = OpenAIHttp(
            endpoint_url(endpoint, "chat/completions"),
            api_key,
            error=LLMError,
            what="chat",
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ChatClient | None:
        """The configured client, or ``None`` when ``llm_endpoint`` / ``llm_model`` are unset."""
        if not settings.llm_endpoint or not settings.llm_model:
            return None
        return cls(
            settings.llm_endpoint, settings.llm_model, settings.llm_api_key, timeout=settings.llm_timeout
        )

    def close(self) -> None:
        """Close the HTTP connections."""
        self.http.close()

    def complete_json(self, system: str, user: str, max_tokens: int = 800) -> dict[str, Any]:
        """The model's answer to one system + user message, decoded as a JSON object."""
        payload = self.http.post(
            {
                "model": self.model,
                "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
                "temperature": 0,
                "max_tokens": max_tokens,
                "response_format": {"type": "json_object"},
            }
        )
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"{self.http.url} answered without a message: {str(payload)[:200]}") from exc
        try:
            answer = json.loads(_FENCE.sub("", str(content).strip()))
        except ValueError as exc:
            raise LLMError(f"{self.model} answered text that is not JSON: {str(content)[:200]}") from exc
        if not isinstance(answer, dict):
            raise LLMError(f"{self.model} answered JSON that is not an object")
        return answer
