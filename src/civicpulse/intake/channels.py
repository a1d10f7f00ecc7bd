"""The intake channels by name: what each is, and how to poll the ones that fetch by themselves.

Every channel module offers a factory of its ``ChannelInfo``; built-ins are listed in the entry-point
group ``civicpulse.channels`` (pyproject.toml) exactly as an add-on would list its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from civicpulse.domain import Channel
from civicpulse.registry import Registry


@dataclass(frozen=True)
class ChannelInfo:
    """A channel: its name, the ``Channel`` its submissions carry, and a one-line description.

    ``poll`` is set for channels that fetch by themselves (feeds): ``poll(db, settings)`` fetches
    once and stores what is new.
    """

    name: str
    channel: Channel
    description: str
    poll: Callable[..., Any] | None = None


channels: Registry[ChannelInfo] = Registry("channel", "civicpulse.channels")


def describe_all() -> list[ChannelInfo]:
    """Every registered channel, by name."""
    return [channels.get(name)() for name in channels.names()]


# Channels whose mapping is the pydantic model itself (REST) or lives in a reader module of
# several formats (files, e-mail) are described here.


def rest() -> ChannelInfo:
    """POST /api/v1/submissions: one ``SubmissionIn`` or a list, as JSON."""
    return ChannelInfo("api", Channel.api, "REST API: JSON submissions at POST /api/v1/submissions")


def files() -> ChannelInfo:
    """``civicpulse ingest``: CSV, TSV, XLSX and JSONL files."""
    return ChannelInfo(
        "file_import", Channel.file_import, "File import: CSV, TSV, XLSX and JSONL (civicpulse ingest)"
    )


def email() -> ChannelInfo:
    """``civicpulse ingest`` of ``.eml`` messages and mbox mailboxes."""
    return ChannelInfo("email", Channel.email, "E-mail: .eml messages and mbox mailboxes (civicpulse ingest)")


def ask() -> ChannelInfo:
    """Citizens' questions to the official documents (``/ask``, POST /api/v1/answers)."""
    return ChannelInfo("ask", Channel.ask, "Questions to official documents: /ask and POST /api/v1/answers")
