"""Local stand-ins for OpenAI-compatible endpoints (the real services cannot run here): they record
each request and answer as scripted, so tests check our clients' protocol and nothing more."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

Reply = Callable[[dict[str, Any]], "int | str"]


class _JsonHandler(BaseHTTPRequestHandler):
    """POSTs of JSON in, JSON out; each request is kept in ``requests`` with its path and key."""

    path_served: ClassVar[str] = ""
    requests: ClassVar[list[dict[str, Any]]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(data)

    def _fail(self, status: int) -> None:
        self._send(status, {"error": {"message": f"scripted {status}", "type": "server_error"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.path != self.path_served:
            self._send(404, {"error": {"message": "no such route"}})
        else:
            self.answer(body)

    def answer(self, body: dict[str, Any]) -> None:
        raise NotImplementedError


def fake_vector(text: str, dim: int) -> list[float]:
    """A deterministic, unnormalised vector for ``text``."""
    digest = hashlib.sha256(text.encode()).digest()
    return [float(digest[i % 32]) + 1.0 for i in range(dim)]


class FakeEmbeddings(_JsonHandler):
    """Speaks POST /v1/embeddings; ``script`` holds statuses to answer before succeeding."""

    path_served = "/v1/embeddings"
    requests: ClassVar[list[dict[str, Any]]] = []
    script: ClassVar[list[int]] = []
    dim: ClassVar[int] = 6

    def answer(self, body: dict[str, Any]) -> None:
        if FakeEmbeddings.script:
            self._fail(FakeEmbeddings.script.pop(0))
            return
        data = [
            {"object": "embedding", "index": i, "embedding": fake_vector(text, FakeEmbeddings.dim)}
            for i, text in enumerate(body["input"])
        ]
        data.reverse()  # servers may answer out of order; "index" says where each belongs
        self._send(200, {"object": "list", "data": data, "model": body["model"]})


class FakeChat(_JsonHandler):
    """Speaks POST /v1/chat/completions, answering what ``reply`` makes of the request: a status
    code to fail with, or the message content to send back."""

    path_served = "/v1/chat/completions"
    requests: ClassVar[list[dict[str, Any]]] = []
    reply: ClassVar[Reply] = staticmethod(lambda body: "{}")

    def answer(self, body: dict[str, Any]) -> None:
        content = FakeChat.reply(body)
        if isinstance(content, int):
            self._fail(content)
            return
        message = {"role": "assistant", "content": content}
        self._send(200, {"object": "chat.completion", "choices": [{"index": 0, "message": message}]})


@contextmanager
def serving(handler: type[_JsonHandler]) -> Iterator[str]:
    """``handler`` on a free local port; yields its base URL (``.../v1``)."""
    handler.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def fake_chat(reply: Reply) -> Iterator[str]:
    """A fake chat endpoint answering with ``reply``; yields its base URL."""
    FakeChat.reply = staticmethod(reply)
    with serving(FakeChat) as url:
        yield url
