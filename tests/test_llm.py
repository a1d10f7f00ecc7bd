"""The chat client's protocol against a local fake of an OpenAI-compatible endpoint."""

from __future__ import annotations

import json

import pytest

from civicpulse.llm import ChatClient, LLMError
from civicpulse.settings import Settings
from tests.fake_openai import FakeChat, fake_chat


def test_client_sends_an_openai_chat_request_and_decodes_the_json_answer() -> None:
    with fake_chat(lambda body: '```json\n{"label": "Ngập"}\n```') as url:
        client = ChatClient(url, "qwen2.5-7b-instruct", "sk-test")
        answer = client.complete_json("system text", "user text", max_tokens=50)
    assert answer == {"label": "Ngập"}
    [request] = FakeChat.requests
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer sk-test"
    assert request["model"] == "qwen2.5-7b-instruct" and request["temperature"] == 0
    assert request["messages"] == [
        {"role": "system", "content": "system text"},
        {"role": "user", "content": "user text"},
    ]
    assert request["response_format"] == {"type": "json_object"} and request["max_tokens"] == 50


def test_client_retries_rate_limits_and_refuses_answers_that_are_not_objects() -> None:
    script = [429, 503, json.dumps({"ok": True}), "plain words", "[1, 2]"]
    with fake_chat(lambda body: script.pop(0)) as url:
        client = ChatClient(url, "m", backoff=0.01)
        assert client.complete_json("s", "u") == {"ok": True}
        with pytest.raises(LLMError, match="not JSON: plain words"):
            client.complete_json("s", "u")
        with pytest.raises(LLMError, match="not an object"):
            client.complete_json("s", "u")
    assert len(FakeChat.requests) == 5


def test_client_is_built_only_when_configured(settings: Settings) -> None:
    assert ChatClient.from_settings(settings) is None
    configured = settings.model_copy(update={"llm_endpoint": "http://127.0.0.1:9/v1", "llm_model": "m"})
    client = ChatClient.from_settings(configured)
    assert client is not None and client.http.url == "http://127.0.0.1:9/v1/chat/completions"
    with pytest.raises(LLMError, match="after 1 attempts"):
        ChatClient("http://127.0.0.1:9/v1", "m", max_retries=0, timeout=2).complete_json("s", "u")
