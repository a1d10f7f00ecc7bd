"""Passages along a document's own structure, with exact character offsets into its text.

Vietnamese legal texts are cut at Chương / Mục / Điều / Khoản / Điểm; other texts at the headings
their format marks (HTML ``h1``-``h4``, DOCX heading styles) and at numbered lines ("1.", "Bước 2:",
"Câu hỏi 3:"). A unit short enough is one passage; a longer one is cut at its parts, and a unit
without parts at sentence ends, so no passage is longer than ``max_chars`` (a single sentence longer
than that is cut between words). ``text[start:end]`` of the document gives each passage back."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from civicpulse.knowledge.parsing import Heading, ParsedDocument

MAX_PASSAGE_CHARS = 1500
MERGE_INTRO_CHARS = 300
PATH_SEPARATOR = " › "
LABEL_CHARS = 60

CHAPTER, SECTION, ARTICLE, CLAUSE, POINT = 10, 20, 30, 40, 50
NUMBERED, SUBNUMBERED = 40, 45
_HEADING_LEVELS = {1: 10, 2: 20, 3: 30, 4: 35}

_CHAPTER = re.compile(r"^(?:CHƯƠNG|Chương)\s+([IVXLCDM]+|\d+)\b")
_SECTION = re.compile(r"^(?:MỤC|Mục)\s+(\d+|[IVXLCDM]+)\b")
_ARTICLE = re.compile(r"^Điều\s+(\d{1,4}[a-z]?)\s*[.:]")
_CLAUSE = re.compile(r"^(\d{1,3})\.\s+\S")
_SUBNUMBER = re.compile(r"^(\d{1,3}\.\d{1,3})\.?\s+\S")
_POINT = re.compile(r"^([a-zđ])\)\s+\S")
_STEP = re.compile(r"^((?:Bước|Câu hỏi|Câu|Hỏi|Step|Question|Q)\s*\d{0,3})\s*[:.]\s*\S", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?;…])\s+|\n+")


@dataclass(frozen=True)
class PassageSpan:
    """One passage: its place in the structure, and ``text[start:end]`` of its document."""

    position: int
    path: str
    start: int
    end: int
    text: str


@dataclass
class _Node:
    level: int
    label: str
    start: int
    end: int = 0
    soft: bool = False  # a clause, point or numbered line: kept inside its parent when that fits
    children: list[_Node] = field(default_factory=list)


def split_passages(parsed: ParsedDocument, max_chars: int = MAX_PASSAGE_CHARS) -> list[PassageSpan]:
    """The passages of a document, in order."""
    text = parsed.text
    root = _Node(0, "", 0, len(text))
    stack = [root]
    for level, label, start, soft in _markers(text, parsed.headings):
        while stack[-1] is not root and stack[-1].level >= level:
            stack.pop().end = start
        node = _Node(level, label, start, soft=soft)
        stack[-1].children.append(node)
        stack.append(node)
    for node in stack[1:]:
        node.end = len(text)
    spans: list[tuple[str, int, int]] = []
    _emit(text, root, [], spans, max_chars)
    passages = []
    for path, start, end in spans:
        start, end = _trimmed(text, start, end)
        if end > start:
            passages.append(PassageSpan(len(passages), path, start, end, text[start:end]))
    return passages


def _markers(text: str, headings: tuple[Heading, ...]) -> list[tuple[int, str, int, bool]]:
    """``(level, label, start, soft)`` of every structural line, in text order."""
    marked = {heading.start: heading for heading in headings}
    found: list[tuple[int, str, int, bool]] = []
    in_article = False
    offset = 0
    for line in text.split("\n"):
        start, stripped = offset, line.strip()
        offset += len(line) + 1
        if not stripped:
            continue
        start += len(line) - len(line.lstrip())
        heading = marked.get(start)
        marker = _legal_marker(stripped, in_article)
        if marker is not None:
            level, label = marker
            if level <= ARTICLE:
                in_article = level == ARTICLE
        elif heading is not None:
            level, label = _HEADING_LEVELS.get(heading.level, 35), _label(stripped)
            in_article = False
        else:
            generic = _generic_marker(stripped)
            if generic is None:
                continue
            level, label = generic
        found.append((level, label, start, level >= CLAUSE and not _STEP.match(stripped)))
    return found


def _legal_marker(line: str, in_article: bool) -> tuple[int, str] | None:
    for pattern, level, name in ((_CHAPTER, CHAPTER, "Chương"), (_SECTION, SECTION, "Mục")):
        found = pattern.match(line)
        if found:
            return level, f"{name} {found.group(1)}"
    found = _ARTICLE.match(line)
    if found:
        return ARTICLE, f"Điều {found.group(1)}"
    if in_article:
        found = _CLAUSE.match(line)
        if found:
            return CLAUSE, f"Khoản {found.group(1)}"
        found = _POINT.match(line)
        if found:
            return POINT, f"Điểm {found.group(1)}"
    return None


def _generic_marker(line: str) -> tuple[int, str] | None:
    found = _STEP.match(line)
    if found:
        return NUMBERED, _label(found.group(1))
    found = _SUBNUMBER.match(line)
    if found:
        return SUBNUMBERED, _label(line)
    if _CLAUSE.match(line):
        return NUMBERED, _label(line)
    return None


def _label(line: str) -> str:
    line = " ".join(line.split()).rstrip(":")
    if len(line) <= LABEL_CHARS:
        return line
    cut = line.rfind(" ", 0, LABEL_CHARS)
    return line[: cut if cut > 0 else LABEL_CHARS] + "…"


def _emit(text: str, node: _Node, path: list[str], out: list[tuple[str, int, int]], max_chars: int) -> None:
    here = [*path, node.label] if node.label else path
    joined = PATH_SEPARATOR.join(here)
    fits = node.end - node.start <= max_chars
    if fits and all(child.soft for child in node.children):
        out.append((joined, node.start, node.end))
        return
    if not node.children:
        out.extend(
            (joined, start, end) for start, end in _sentence_chunks(text, node.start, node.end, max_chars)
        )
        return
    first = node.children[0]
    intro = text[node.start : first.start]
    if intro.strip():
        short = len(intro.strip()) <= MERGE_INTRO_CHARS and first.end - node.start <= max_chars
        if node.label and short:
            first.start = node.start
        else:
            _emit(text, _Node(node.level, "", node.start, first.start), here, out, max_chars)
    for child in node.children:
        _emit(text, child, here, out, max_chars)


def _sentence_chunks(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """``[start, end)`` cut at sentence ends into pieces of at most ``max_chars``."""
    bounds = [start]
    for found in _SENTENCE_END.finditer(text, start, end):
        bounds.append(found.end())
    bounds.append(end)
    chunks: list[tuple[int, int]] = []
    chunk_start = start
    previous = start
    for bound in bounds[1:]:
        if bound - chunk_start > max_chars and previous > chunk_start:
            chunks.append((chunk_start, previous))
            chunk_start = previous
        previous = bound
    chunks.append((chunk_start, end))
    return [piece for lo, hi in chunks for piece in _word_chunks(text, lo, hi, max_chars)]


def _word_chunks(text: str, start: int, end: int, max_chars: int) -> list[tuple[int, int]]:
    """A piece still too long (one endless sentence) cut between words."""
    pieces = []
    while end - start > max_chars:
        cut = text.rfind(" ", start + 1, start + max_chars)
        cut = cut if cut > start else start + max_chars
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
