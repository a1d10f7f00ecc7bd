"""One fingerprint of a text's words: the same words, however spaced or composed, hash the same."""

from __future__ import annotations

import hashlib
import unicodedata


def content_hash(text: str) -> str:
    """SHA-256 of the text after NFC and whitespace folding: the same words hash the same."""
    folded = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.sha256(folded.encode()).hexdigest()
