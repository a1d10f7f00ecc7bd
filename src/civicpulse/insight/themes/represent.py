"""What a theme shows: keywords, label, verbatim quotes, an extractive summary, and its figures.

Themes are computed on each member's text as analysed: its restored text where the analysis
restored the diacritics of a text typed without them, else its redacted text as typed. Quotes are
the citizen's own words: true substrings of a member's redacted text as typed (a sentence, or a
window of one cut at word boundaries), taken from the members nearest the theme's centroid, never
paraphrased, found with the keywords' marks folded when the member was typed without marks.
Summary sentences are verbatim sentences of the members' analysed texts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np

from civicpulse.textkit.vietnamese import strip_marks

_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*", re.UNICODE)
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_QUOTE = 240
MMR_POOL = 50  # the best-scored candidate sentences that maximal marginal relevance chooses among
MMR_LAMBDA = 0.6  # relevance against novelty
REPEATED = 0.6  # two excerpts sharing this share of their words say the same thing
GROWTH_CAP = 3.0  # growth counts for attention up to +300 %
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class ThemeItem:
    """One submission as theming sees it: redacted text only, plus what figures need."""

    id: int
    text: str  # redacted, as the citizen typed it
    sender: str | None = None
    received_at: datetime | None = None
    sentiment: str | None = None
    province: str | None = None
    topic: str | None = None
    weight: float = 1.0
    language: str | None = None  # ISO 639-1 code from the language stage, when known
    urgency: float | None = None  # the urgency stage's 0-1 score
    restored: str | None = None  # the redacted text with diacritics restored, when the analysis restored them

    @property
    def analysed_text(self) -> str:
        """The text themes are computed on: restored when marks were restored, else as typed."""
        return self.restored or self.text

    def sender_key(self) -> str:
        """Who sent it; an anonymous submission counts as a sender of its own."""
        return self.sender or f"submission:{self.id}"


@dataclass(frozen=True)
class Quote:
    """A verbatim excerpt of one submission's redacted text (quotes: as typed; summary: as analysed)."""

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
    place_counts: dict[str, int] = field(default_factory=dict)  # members naming each place
    with_place: int = 0  # members that name a place at all
    urgency: float = 0.0  # mean urgency of the members
    growth: float = 0.0  # last week against the week before, relative (0.5 = +50 %)
    excerpts: list[Quote] = field(default_factory=list)  # the members nearest the centroid

    @property
    def attention(self) -> float:
        """How much a theme asks for attention: distinct senders, weighted up by urgency and growth."""
        return round(self.senders * (1 + self.urgency) * (1 + min(max(self.growth, 0.0), GROWTH_CAP)), 3)


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


def _fold(text: str) -> str:
    """``text`` lower-cased, without Vietnamese marks (``đ`` as ``d``)."""
    return strip_marks(text.lower())


def _score(text: str, keywords: dict[str, float], folded: bool = False) -> float:
    if folded:
        plain = _fold(text)
        return sum(weight for word, weight in keywords.items() if _folded_word(word) in plain)
    lowered = text.lower()
    return sum(weight for word, weight in keywords.items() if word.replace("_", " ") in lowered)


@lru_cache(maxsize=4096)
def _folded_word(word: str) -> str:
    return _fold(word.replace("_", " "))


def best_excerpt(text: str, keywords: dict[str, float], *, folded: bool = False) -> str:
    """The sentence of ``text`` that carries the most keyword weight, as a verbatim excerpt;
    ``folded`` matches the keywords with marks and case folded (a text typed without marks)."""
    spans = sentences(text) or [(0, len(text))]
    start, end = max(spans, key=lambda s: (_score(text[s[0] : s[1]], keywords, folded), -s[0]))
    return window(text, start, end)


def typed_excerpt(item: ThemeItem, keywords: dict[str, float]) -> str:
    """The best excerpt of the member's text as typed (keywords come from the analysed texts)."""
    return best_excerpt(item.text, keywords, folded=item.restored is not None)


def quotes_for(
    members: Sequence[ThemeItem], order: Sequence[int], keywords: dict[str, float], count: int = 5
) -> list[Quote]:
    """Up to ``count`` distinct excerpts of the members in ``order`` (nearest the centroid first),
    each in the member's own words as typed."""
    found: list[Quote] = []
    seen: list[frozenset[str]] = []
    for i in order:
        item = members[i]
        excerpt = typed_excerpt(item, keywords).strip()
        words = _words(excerpt)
        if len(excerpt) < 3 or any(overlap(words, other) >= REPEATED for other in seen):
            continue
        seen.append(words)
        found.append(Quote(item.id, excerpt))
        if len(found) == count:
            break
    return found


def _words(text: str) -> frozenset[str]:
    """The words of ``text``, marks and case folded: the same words typed with or without marks."""
    return frozenset(_WORD.findall(_fold(text)))


def overlap(a: frozenset[str], b: frozenset[str]) -> float:
    """Jaccard index of two word sets."""
    return len(a & b) / len(a | b) if a or b else 1.0


def summary_for(
    members: Sequence[ThemeItem], order: Sequence[int], keywords: dict[str, float], count: int = 3
) -> list[Quote]:
    """An extractive summary: ``count`` sentences of the nearest members' analysed texts chosen by
    maximal marginal relevance (keyword weight per word, less the overlap with a sentence already
    chosen), so no sentence is said twice; shown in the order of their members' closeness."""
    candidates: list[tuple[float, int, int, str, frozenset[str]]] = []
    for rank, i in enumerate(order):
        text = members[i].analysed_text
        for start, end in sentences(text):
            sentence = window(text, start, end)
            words = max(len(sentence.split()), 1)
            if words < 4:
                continue
            score = _score(sentence, keywords) / words**0.5
            candidates.append((score, rank, members[i].id, sentence, _words(sentence)))
    candidates.sort(key=lambda c: (-c[0], c[1], c[3]))
    top = max((c[0] for c in candidates), default=0.0) or 1.0
    chosen: list[tuple[float, int, int, str, frozenset[str]]] = []
    pool = candidates[:MMR_POOL]
    while pool and len(chosen) < count:

        def gain(c: tuple[float, int, int, str, frozenset[str]]) -> float:
            redundancy = max((overlap(c[4], other[4]) for other in chosen), default=0.0)
            return MMR_LAMBDA * c[0] / top - (1 - MMR_LAMBDA) * redundancy

        best = max(pool, key=lambda c: (gain(c), -c[1], c[3]))
        pool.remove(best)
        if any(overlap(best[4], other[4]) >= REPEATED for other in chosen):
            continue
        chosen.append(best)
    return [Quote(c[2], c[3]) for c in sorted(chosen, key=lambda c: (c[1], c[3]))]


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


def place_counts(members: Sequence[ThemeItem]) -> tuple[dict[str, int], int]:
    """Members naming each place (most first), and how many name a place at all."""
    counter = Counter(item.province for item in members if item.province)
    ranked = dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))
    return ranked, sum(counter.values())


def growth(members: Sequence[ThemeItem], end: datetime | None) -> float:
    """Weighted members of the week before ``end`` against the week before that, as a relative
    change (with one added to both, so a handful of items does not read as a surge)."""
    if end is None:
        return 0.0
    recent = sum(m.weight for m in members if m.received_at and end - WEEK < m.received_at <= end)
    before = sum(m.weight for m in members if m.received_at and end - 2 * WEEK < m.received_at <= end - WEEK)
    return round((recent + 1) / (before + 1) - 1, 3)


def mean_urgency(members: Sequence[ThemeItem]) -> float:
    """Mean urgency score of the members that have one."""
    scores = [m.urgency for m in members if m.urgency is not None]
    return round(sum(scores) / len(scores), 3) if scores else 0.0
