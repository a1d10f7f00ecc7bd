"""What a theme shows: keywords, label, verbatim quotes, an extractive summary, and its figures.

Quotes are true substrings of a member's redacted text (a sentence, or a window of one cut at
word boundaries), taken from the members nearest the theme's centroid; never paraphrased.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*", re.UNICODE)
MAX_QUOTE = 240


@dataclass(frozen=True)
class ThemeItem:
    """One submission as theming sees it: redacted text only, plus what figures need."""

    id: int
    text: str
    sender: str | None = None
    received_at: datetime | None = None
    sentiment: str | None = None
    province: str | None = None
    topic: str | None = None
    weight: float = 1.0
    language: str | None = None  # ISO 639-1 code from the language stage, when known

    def sender_key(self) -> str:
        """Who sent it; an anonymous submission counts as a sender of its own."""
        return self.sender or f"submission:{self.id}"


@dataclass(frozen=True)
class Quote:
    """A verbatim excerpt of one submission's redacted text."""

    submission_id: int
    text: str


@dataclass
class Theme:
    """One theme of a slice."""

    index: int
    member_ids: list[int]
    keywords: list[str]
    label: str
    quotes: list[Quote]
    summary: list[Quote]
    senders: int
    weight: float
    sentiment: dict[str, float] = field(default_factory=dict)
    places: dict[str, float] = field(default_factory=dict)
    trend: dict[str, float] = field(default_factory=dict)


def sentences(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, stripped of surrounding spaces."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end - start >= 3:
            spans.append((start, end))
    return spans


def window(text: str, start: int, end: int, limit: int = MAX_QUOTE) -> str:
    """``text[start:end]``, cut at a word boundary to at most ``limit`` characters."""
    if end - start <= limit:
        return text[start:end]
    cut = text.rfind(" ", start, start + limit)
    return text[start : cut if cut > start else start + limit]


def _score(text: str, keywords: dict[str, float]) -> float:
    lowered = text.lower()
    return sum(weight for word, weight in keywords.items() if word.replace("_", " ") in lowered)


def best_excerpt(text: str, keywords: dict[str, float]) -> str:
    """The sentence of ``text`` that carries the most keyword weight, as a verbatim excerpt."""
    spans = sentences(text) or [(0, len(text))]
    start, end = max(spans, key=lambda s: (_score(text[s[0] : s[1]], keywords), -s[0]))
    return window(text, start, end)


def quotes_for(
    members: Sequence[ThemeItem], order: Sequence[int], keywords: dict[str, float], count: int = 5
) -> list[Quote]:
    """Up to ``count`` distinct excerpts of the members in ``order`` (nearest the centroid first)."""
    found: list[Quote] = []
    seen: set[str] = set()
    for i in order:
        item = members[i]
        excerpt = best_excerpt(item.text, keywords).strip()
        key = excerpt.lower()
        if len(excerpt) < 3 or key in seen:
            continue
        seen.add(key)
        found.append(Quote(item.id, excerpt))
        if len(found) == count:
            break
    return found


def summary_for(
    members: Sequence[ThemeItem], order: Sequence[int], keywords: dict[str, float], count: int = 3
) -> list[Quote]:
    """An extractive summary: the ``count`` most central sentences (keyword weight per word) of the
    nearest members, in the order of their members' closeness."""
    candidates: list[tuple[float, int, int, str]] = []
    for rank, i in enumerate(order):
        item = members[i]
        for start, end in sentences(item.text):
            sentence = window(item.text, start, end)
            words = max(len(sentence.split()), 1)
            if words < 4:
                continue
            candidates.append((_score(sentence, keywords) / words**0.5, rank, item.id, sentence))
    chosen: list[tuple[int, Quote]] = []
    seen: set[str] = set()
    for _, rank, sid, sentence in sorted(candidates, key=lambda c: (-c[0], c[1], c[3])):
        if sentence.lower() in seen:
            continue
        seen.add(sentence.lower())
        chosen.append((rank, Quote(sid, sentence)))
        if len(chosen) == count:
            break
    return [quote for _, quote in sorted(chosen, key=lambda c: c[0])]


def shares(values: Sequence[str | None], weights: Sequence[float]) -> dict[str, float]:
    """Weighted share of each value (``None`` left out), largest first."""
    counter: Counter[str] = Counter()
    for value, w in zip(values, weights, strict=True):
        if value:
            counter[value] += w
    total = sum(counter.values())
    return (
        {k: round(v / total, 4) for k, v in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))}
        if total
        else {}
    )


def trend(members: Sequence[ThemeItem]) -> dict[str, float]:
    """Weighted members per day (ISO date), oldest first."""
    days: Counter[str] = Counter()
    for item in members:
        if item.received_at is not None:
            days[item.received_at.date().isoformat()] += item.weight
    return {day: round(days[day], 3) for day in sorted(days)}


def nearest_first(projected: np.ndarray, centroid: np.ndarray, ids: Sequence[int]) -> list[int]:
    """Member positions by decreasing cosine to the centroid (ties by id)."""
    sims = projected @ centroid
    return sorted(range(len(ids)), key=lambda i: (-float(sims[i]), ids[i]))
