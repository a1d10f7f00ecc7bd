"""Rewritten text that remembers where each character came from, so spans found on it map back.

Normalisation squeezes repeats, folds spaces, expands abbreviations and restores marks; what people
read keeps the citizen's own spelling. ``MappedText`` carries, for every character of the rewritten
text, the span of the source it stands for; ``OffsetMap`` is its compact form (runs of blocks) that
maps spans both ways.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

Block = tuple[int, int, int, int]
"""``(start, end, source_start, source_end)``: a piece of the rewritten text and its source; a block
of equal lengths maps character for character, any other as a whole."""

_PIECE = re.compile(r"\w+|\s+|[^\w\s]+")


@dataclass(frozen=True, slots=True)
class MappedText:
    """A text and, per character, the ``[start, end)`` of the source it was written from."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    source_length: int

    @classmethod
    def of(cls, text: str) -> MappedText:
        """The source itself: every character maps onto itself."""
        return cls(text, tuple(range(len(text))), tuple(range(1, len(text) + 1)), len(text))

    def _at(self, index: int) -> int:
        """The source position where character ``index`` starts (the end for one past the last)."""
        if index < len(self.text):
            return self.starts[index]
        return self.ends[-1] if self.ends else 0

    def replace(self, edits: Iterable[tuple[int, int, str]]) -> MappedText:
        """Replace ``[start, end)`` with a string for each edit (sorted, not overlapping)."""
        parts: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        last = 0
        for start, end, value in edits:
            parts.append(self.text[last:start])
            starts += self.starts[last:start]
            ends += self.ends[last:start]
            if len(value) == end - start:
                starts += self.starts[start:end]
                ends += self.ends[start:end]
            else:
                first = self._at(start)
                stop = self.ends[end - 1] if end > start else first
                starts += [first] * len(value)
                ends += [stop] * len(value)
            parts.append(value)
            last = end
        parts.append(self.text[last:])
        starts += self.starts[last:]
        ends += self.ends[last:]
        return MappedText("".join(parts), tuple(starts), tuple(ends), self.source_length)

    def sub(self, pattern: re.Pattern[str], repl: str | Callable[[re.Match[str]], str]) -> MappedText:
        """``pattern.sub(repl, text)``, keeping the map."""
        edits = []
        for match in pattern.finditer(self.text):
            value = repl if isinstance(repl, str) else repl(match)
            if value != match.group():
                edits.append((match.start(), match.end(), value))
        return self.replace(edits) if edits else self

    def rewrite(self, text: str) -> MappedText:
        """This text rewritten word for word (same pieces, some spelt differently) by another step."""
        if text == self.text:
            return self
        if len(text) == len(self.text):
            return MappedText(text, self.starts, self.ends, self.source_length)
        old, new = list(_PIECE.finditer(self.text)), list(_PIECE.finditer(text))
        if len(old) != len(new):
            return self.replace([(0, len(self.text), text)])
        edits = [
            (a.start(), a.end(), b.group()) for a, b in zip(old, new, strict=True) if a.group() != b.group()
        ]
        return self.replace(edits)

    def offset_map(self) -> OffsetMap:
        """The compact form of the map."""
        blocks: list[Block] = []
        i, n = 0, len(self.text)
        while i < n:
            start, end = self.starts[i], self.ends[i]
            j = i + 1
            if end == start + 1:
                while j < n and self.starts[j] == self.ends[j - 1] and self.ends[j] == self.starts[j] + 1:
                    j += 1
                blocks.append((i, j, start, self.ends[j - 1]))
            else:
                while j < n and self.starts[j] == start and self.ends[j] == end:
                    j += 1
                blocks.append((i, j, start, end))
            i = j
        return OffsetMap(tuple(blocks), n, self.source_length)


@dataclass(frozen=True, slots=True)
class OffsetMap:
    """Maps spans between a rewritten text and its source, in both directions."""

    blocks: tuple[Block, ...]
    length: int
    source_length: int

    def to_source(self, start: int, end: int) -> tuple[int, int]:
        """The source span that ``[start, end)`` of the rewritten text was written from."""
        if not self.blocks or end <= start:
            return (self._source_at(start), self._source_at(start))
        first = self.blocks[self._block(start)]
        last = self.blocks[self._block(end - 1)]
        source_start = first[2] + (start - first[0]) if _linear(first) else first[2]
        source_end = last[2] + (end - last[0]) if _linear(last) else last[3]
        return source_start, source_end

    def from_source(self, start: int, end: int) -> tuple[int, int]:
        """The smallest span of the rewritten text that covers the source span ``[start, end)``."""
        inside = [b for b in self.blocks if b[2] < end and start < b[3]]
        if not inside:
            at = next((b[0] for b in self.blocks if b[2] >= end), self.length)
            return at, at
        first, last = inside[0], inside[-1]
        new_start = first[0] + max(0, start - first[2]) if _linear(first) else first[0]
        new_end = last[0] + min(last[1] - last[0], end - last[2]) if _linear(last) else last[1]
        return new_start, new_end

    def _block(self, index: int) -> int:
        return max(0, bisect_right([b[0] for b in self.blocks], index) - 1)

    def _source_at(self, index: int) -> int:
        if not self.blocks:
            return 0
        if index >= self.length:
            return self.blocks[-1][3]
        block = self.blocks[self._block(index)]
        return block[2] + (index - block[0]) if _linear(block) else block[2]


def _linear(block: Block) -> bool:
    return block[1] - block[0] == block[3] - block[2]
