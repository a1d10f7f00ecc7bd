"""Refuse form bodies that are not valid text, before any route reads them.

Starlette decodes form fields leniently: invalid UTF-8 in a url-encoded field becomes U+FFFD and a
multipart text part falls back to Latin-1, so a citizen's bytes would be stored changed without a
word. ``FormEncodingMiddleware`` buffers url-encoded and multipart bodies (``BodyLimitMiddleware``
caps them) and answers 400 when a field name, a text value or a file name does not decode in the
body's charset (UTF-8 unless the content type names another); file contents are not text and are
not checked. JSON bodies need nothing here: the JSON parser refuses invalid UTF-8 itself.
"""

from __future__ import annotations

import codecs
from urllib.parse import unquote_to_bytes

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from civicpulse.api.errors import error_response

URLENCODED = b"application/x-www-form-urlencoded"
MULTIPART = b"multipart/form-data"


def _undecodable(raw: bytes, charset: str) -> bool:
    try:
        raw.decode(charset)
    except UnicodeDecodeError:
        return True
    return False


def _urlencoded_problem(body: bytes) -> str | None:
    if not body.isascii():
        return "url-encoded form data must percent-encode every non-ASCII byte"
    for pair in body.split(b"&"):
        name, _, value = (unquote_to_bytes(part.replace(b"+", b" ")) for part in pair.partition(b"="))
        if _undecodable(name, "utf-8"):
            return "a form field name is not valid UTF-8"
        if _undecodable(value, "utf-8"):
            return f"form field {name.decode()!r} is not valid UTF-8 text"
    return None


class _Parts:
    """Collects what ``MultipartParser`` reports and remembers the first field that does not decode."""

    def __init__(self, charset: str) -> None:
        self.charset = charset
        self.shown = charset.upper()
        self.problem: str | None = None
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._name = ""
        self._is_file = False
        self._data = bytearray()

    def callbacks(self) -> dict[str, object]:
        """The parser's callbacks, bound to this collector."""
        return {
            "on_part_begin": self._begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_part,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _fail(self, message: str) -> None:
        self.problem = self.problem or message

    def _begin(self) -> None:
        self._disposition, self._name, self._is_file = b"", "", False
        self._data = bytearray()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_part(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._disposition)
        name = options.get(b"name", b"")
        if _undecodable(name, self.charset):
            self._fail(f"a form field name is not valid {self.shown} text")
            return
        self._name = name.decode(self.charset)
        self._is_file = b"filename" in options
        if self._is_file and _undecodable(options[b"filename"], self.charset):
            self._fail(f"the file name of form field {self._name!r} is not valid {self.shown} text")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if not self._is_file:
            self._data += data[start:end]

    def _part_end(self) -> None:
        if not self._is_file and _undecodable(bytes(self._data), self.charset):
            self._fail(f"form field {self._name!r} is not valid {self.shown} text")


def _multipart_problem(content_type: bytes, body: bytes) -> str | None:
    _, params = parse_options_header(content_type)
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    try:
        charset = codecs.lookup(charset).name
    except LookupError:
        return f"unknown charset {charset!r} in the content type; send the form as UTF-8"
    boundary = params.get(b"boundary")
    if not boundary:
        return None  # Starlette refuses it with its own message
    parts = _Parts(charset)
    try:
        parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
        parser.write(body)
        parser.finalize()
    except FormParserError:
        return parts.problem  # malformed: Starlette answers that itself
    return parts.problem


def form_problem(content_type: bytes, body: bytes) -> str | None:
    """Why this form body is refused (a field that is not valid text), or ``None``."""
    media = content_type.split(b";", 1)[0].strip().lower()
    if media == URLENCODED:
        return _urlencoded_problem(body)
    if media == MULTIPART:
        return _multipart_problem(content_type, body)
    return None


async def _read_body(receive: Receive) -> tuple[bytes, Message | None]:
    """The whole body, and the disconnect message if the client left before sending it all."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


class FormEncodingMiddleware:
    """Answers 400 to a form body that ``form_problem`` refuses; other requests pass untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        content_type = dict(scope.get("headers", ())).get(b"content-type", b"")
        media = content_type.split(b";", 1)[0].strip().lower()
        if scope["type"] != "http" or media not in (URLENCODED, MULTIPART):
            await self.app(scope, receive, send)
            return
        body, disconnect = await _read_body(receive)
        problem = None if disconnect else form_problem(content_type, body)
        if problem is not None:
            request = Request(scope)
            response = error_response(request, 400, "bad_request", f"{problem}; nothing was stored")
            await response(scope, receive, send)
            return
        pending: list[Message] = [disconnect or {"type": "http.request", "body": body, "more_body": False}]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, replay, send)
