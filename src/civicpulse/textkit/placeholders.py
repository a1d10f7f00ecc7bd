"""The typed placeholders that redaction writes in place of personal data: ``[PHONE]``, ``[PERSON]``."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
"""A placeholder as the ``pii`` stage writes it."""


def placeholder(kind: str) -> str:
    """The placeholder for personal data of ``kind`` (``PHONE``, ``EMAIL`` ...)."""
    return f"[{kind}]"


def without_placeholders(text: str) -> str:
    """``text`` with every placeholder replaced by a space (for word statistics)."""
    return PLACEHOLDER.sub(" ", text)
