"""A local stand-in for an OpenAI-compatible chat endpoint (the real service cannot run here).

It records each request and answers with what ``FakeChat.reply`` makes of it: a status code to
fail with, or the message content to send back.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

Reply = Callable[[dict[str, Any]], "int | str"]


class FakeChat(BaseHTTPRequestHandler):
    """Speaks POST /v1/chat/completions."""

    requests: ClassVar[list[dict[str, Any]]] = []
    reply: ClassVar[Reply] = staticmethod(lambda body: "{}")

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

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeChat.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if self.path != "/v1/chat/completions":
            self._send(404, {"error": {"message": "no such route"}})
            return
        answer = FakeChat.reply(body)
        if isinstance(answer, int):
            self._send(answer, {"error": {"message": f"scripted {answer}"}})
            return
        message = {"role": "assistant", "content": answer}
        self._send(200, {"object": "chat.completion", "choices": [{"index": 0, "message": message}]})


@contextmanager
def fake_chat(reply: Reply) -> Iterator[str]:
    """A running fake endpoint answering with ``reply``; yields its base URL (``.../v1``)."""
    FakeChat.requests = []
    FakeChat.reply = staticmethod(reply)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeChat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
