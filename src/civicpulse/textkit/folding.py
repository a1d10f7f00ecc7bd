"""Search folding: one function that makes "ngap" find "ngập", "Ha Noi" find "Hà Nội" and "d" match "đ".

``fold`` is what the store keeps beside each text (the folded search copy) and what a query is
turned into, on SQLite and PostgreSQL alike, so both databases compare the same strings with a
plain ``LIKE``. ``folded_spans`` finds a query's hits in the original text, for highlighting.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from civicpulse.textkit.vietnamese import strip_marks


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character folded: Vietnamese marks and đ first, then any other accent, then case."""
    plain = strip_marks(char)
    decomposed = unicodedata.normalize("NFD", plain)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return bare.casefold()


def fold(text: str) -> str:
    """``text`` without marks or accents, case-folded, whitespace runs as one space."""
    composed = unicodedata.normalize("NFC", text)
    return " ".join("".join(_fold_char(c) for c in composed).split())


def _folded_with_offsets(text: str) -> tuple[str, list[int]]:
    """The folded text (whitespace kept) and, for each folded character, its index in ``text``."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        piece = " " if char.isspace() else _fold_char(char)
        chars.append(piece)
        origin.extend([index] * len(piece))
    return "".join(chars), origin


def folded_spans(text: str, query: str) -> list[tuple[int, int]]:
    """Where ``query`` matches ``text`` once both are folded: ``(start, end)`` in ``text``, in order,
    not overlapping. Whitespace in either counts as one space."""
    needle = fold(query)
    if not needle:
        return []
    folded, origin = _folded_with_offsets(text)
    squeezed, kept = _squeeze_spaces(folded, origin)
    spans: list[tuple[int, int]] = []
    at = squeezed.find(needle)
    while at != -1:
        end = at + len(needle)
        spans.append((kept[at], kept[end - 1] + 1))
        at = squeezed.find(needle, end)
    return spans


def _squeeze_spaces(folded: str, origin: list[int]) -> tuple[str, list[int]]:
    chars: list[str] = []
    kept: list[int] = []
    for char, index in zip(folded, origin, strict=True):
        if char == " " and chars and chars[-1] == " ":
            continue
        chars.append(char)
        kept.append(index)
    return "".join(chars), kept
