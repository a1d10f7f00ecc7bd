"""Tokens for BM25: syllables and syllable pairs, the same with Vietnamese marks folded, word segments.

Every text gets three fields. ``marked``: lower-case syllables (Vietnamese tone marks placed the one
conventional way, English lightly stemmed) plus each pair of neighbouring syllables, so "thành phố"
also counts as one term. ``folded``: the same with marks removed, so a query typed without marks
("thanh pho") matches marked text. ``words``: multi-syllable words from the word segmenter
(optional: it is the slow part). Numbers are kept ("10", "2024", "13.5" -> "13", "5").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from civicpulse.textkit.vietnamese import place_tone, strip_marks

FIELDS = ("marked", "folded", "words")

_TOKEN = re.compile(r"[^\W_]+")
_PAIR_BREAK = re.compile(r"[.!?;:\n]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_URL = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/)\S+", re.IGNORECASE)
_HASHTAG = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-zà-ỹ])(?=[A-ZÀ-Ỹ])|(?<=[A-Za-z])(?=\d)")

_ENGLISH_STOPWORDS = (
    "a an and are as at be been but by for from has have he her his i if in into is it its me my of on or"
    " our she so that the their them they this to was we were what when which who will with you your"
)
ENGLISH_STOPWORDS = frozenset(_ENGLISH_STOPWORDS.split())


@dataclass(frozen=True)
class Fields:
    """The tokens of one text, one list per field."""

    marked: list[str]
    folded: list[str]
    words: list[str]

    def get(self, field: str) -> list[str]:
        """The tokens of ``field``."""
        return getattr(self, field)


@lru_cache(maxsize=65536)
def _term(token: str) -> str:
    """One lower-case token as a term: tone placed (Vietnamese) or lightly stemmed (English)."""
    if not token.isascii():
        return place_tone(token)
    if token.isdigit() or len(token) <= 3:
        return token
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("'s", ""), ("s", "")):
        if token.endswith(suffix) and not token.endswith(("ss", "us", "is")):
            return token[: -len(suffix)] + keep
    return token


def without_urls(text: str) -> str:
    """``text`` without web addresses (noise to both retrievers) and with hashtags read as words
    ("#AustralianFires" -> "Australian Fires")."""
    if "/" in text or "www." in text.lower():
        text = _URL.sub(" ", text)
    if "#" in text:
        text = _HASHTAG.sub(lambda match: _CAMEL.sub(" ", match.group(1)), text)
    return text


def syllables(text: str) -> list[list[str]]:
    """Lower-case terms of ``text``, in runs that a sentence break or punctuation ends."""
    text = unicodedata.normalize("NFC", without_urls(text)).lower()
    runs = []
    for piece in _PAIR_BREAK.split(text):
        terms = [_term(token) for token in _TOKEN.findall(piece)]
        terms = [term for term in terms if term not in ENGLISH_STOPWORDS]
        if terms:
            runs.append(terms)
    return runs


def _with_pairs(runs: list[list[str]], pairs: bool) -> list[str]:
    out = [term for run in runs for term in run]
    if pairs:
        out += [f"{a}_{b}" for run in runs for a, b in pairwise(run)]
    return out


def numbers(text: str) -> frozenset[str]:
    """The numbers written in ``text`` ("13,5" and "13.5" read the same)."""
    return frozenset(match.replace(",", ".").lstrip("0") or "0" for match in _NUMBER.findall(text))


def words(text: str) -> list[str]:
    """Multi-syllable words of ``text`` from the word segmenter, lower case, marks as written."""
    if text.isascii():
        return []
    from civicpulse.textkit.segment import segment

    out = []
    for word in segment(unicodedata.normalize("NFC", text)):
        if "_" in word and any(char.isalpha() for char in word):
            out.append("_".join(_term(part) for part in word.lower().split("_")))
    return out


def fields(text: str, *, pairs: bool = True, segment_words: bool = False) -> Fields:
    """The three token fields of ``text``."""
    runs = syllables(text)
    marked = _with_pairs(runs, pairs)
    folded = _with_pairs([[strip_marks(term) for term in run] for run in runs], pairs)
    return Fields(marked, folded, words(text) if segment_words else [])
