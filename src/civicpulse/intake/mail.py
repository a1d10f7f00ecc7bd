"""Readers for e-mail: one message (``.eml``) or a mailbox (mbox); each message is one record.

A message becomes the fields of ``SubmissionIn``: its subject as the first line of the text, then the
text/plain body (or the HTML body reduced to text), ``Message-ID`` as source id, ``Date`` as the time
received, the sender as contact, and the attachments' metadata. In an mbox, a record's "line" is the
message's number in the mailbox (1 for the first).
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, BinaryIO

from civicpulse.intake.tabular import Record, Row, RowError, UnreadableFile

_BLOCK_TAGS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"}
_SKIP_TAGS = {"script", "style", "head", "title"}
# What a malformed message can raise while its headers or body are decoded.
_MESSAGE_ERRORS = (ValueError, TypeError, LookupError, AttributeError, IndexError)


class _TextOfHtml(HTMLParser):
    """Collects the visible text of an HTML document, one line per block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP_TAGS:
            self._skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of an HTML body: scripts and styles dropped, one line per block."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    if part is not None:
        return str(part.get_content()).strip()
    part = message.get_body(preferencelist=("html",))
    if part is not None:
        return html_to_text(str(part.get_content()))
    return ""


def _attachments(message: EmailMessage) -> list[dict[str, Any]]:
    found = []
    for part in message.iter_attachments():
        payload = part.get_payload(decode=True)
        found.append(
            {
                "filename": part.get_filename() or "(unnamed)",
                "content_type": part.get_content_type(),
                "size_bytes": len(payload) if isinstance(payload, bytes) else None,
            }
        )
    return found


def message_fields(message: EmailMessage) -> dict[str, Any]:
    """The ``SubmissionIn`` fields of one message (channel ``email``)."""
    subject = " ".join(str(message.get("subject", "") or "").split())
    body = _body(message)
    fields: dict[str, Any] = {
        "channel": "email",
        "text": f"{subject}\n{body}" if subject and body else subject or body,
        "attachments": _attachments(message),
    }
    message_id = str(message.get("message-id", "") or "").strip()
    if message_id:
        fields["source_id"] = message_id
    date = message.get("date")
    if date is not None and getattr(date, "datetime", None) is not None:
        fields["received_at"] = date.datetime
    sender = message.get("from")
    addresses = getattr(sender, "addresses", ()) if sender is not None else ()
    if addresses:
        contact = {"name": addresses[0].display_name or None, "email": addresses[0].addr_spec or None}
        fields["contact"] = {key: value for key, value in contact.items() if value}
    return fields


def _record(number: int, message: EmailMessage) -> Record:
    try:
        return Row(number, message_fields(message))
    except _MESSAGE_ERRORS as exc:
        return RowError(number, f"malformed message: {exc}")


def _parse(handle: BinaryIO) -> EmailMessage:
    return BytesParser(policy=policy.default).parse(handle)  # type: ignore[return-value]


def read_eml(path: Path) -> Iterator[Record]:
    """One RFC 5322 message."""
    with path.open("rb") as handle:
        message = _parse(handle)
    yield _record(1, message)


def read_mbox(path: Path) -> Iterator[Record]:
    """Every message of an mbox file, one at a time."""
    with path.open("rb") as handle:
        if not handle.read(5).startswith(b"From "):
            raise UnreadableFile(f"{path.name}: not an mbox file (it must start with a 'From ' line)")
    box = mailbox.mbox(str(path), factory=_parse, create=False)
    try:
        for number, key in enumerate(box.iterkeys(), start=1):
            yield _record(number, box[key])
    finally:
        box.close()


def is_mbox(path: Path) -> bool:
    """Whether a file without a known suffix looks like an mbox."""
    with path.open("rb") as handle:
        return handle.read(5) == b"From "
