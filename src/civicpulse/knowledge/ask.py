"""Cited answers: a question → the passages that fit it → the sentences that answer it, verbatim, each
citing its document, passage and offsets into the document's text; or an honest abstention.

Confidence is a calibrated probability that the best passages answer the question, from how much of
it (its rare terms weigh most) they cover (``answer_confidence``); below ``ANSWER_THRESHOLD`` (chosen
on ALQAC train by bench/ask.py) no answer is given. With a chat model configured, a
rewritten answer replaces the extractive one only when every sentence cites passages it was given and
those passages contain its figures and names."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from sqlalchemy.orm import Session

from civicpulse.knowledge.answer_confidence import shipped, signals
from civicpulse.knowledge.library import Library, TermStats, terms
from civicpulse.retrieval.tokens import numbers
from civicpulse.store.documents import documents_by_ids, passages_by_ids

ANSWER_THRESHOLD = shipped().threshold
"""Least confidence to answer: on ALQAC train (out of fold), questions asked of the wrong laws abstain
≥ 80 % while answerable ones are answered ≥ 90 % (bench/ask.py; docs/benchmarks.md)."""
TOP_PASSAGES = 5
ANSWER_PASSAGES = 3
MAX_SENTENCES = 3
KEEP_RATIO = 0.75
MIN_SENTENCE_CHARS = 12
TITLE_CHARS = 100
AMOUNT_BONUS = 0.2

_LINE = re.compile(r"[^\n]+")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+(?=[^\W\d_])")
_ASKS_AMOUNT = re.compile(r"bao nhiêu|mấy|bao lâu|mức|how (?:many|much|long)", re.IGNORECASE)
_DIGIT = re.compile(r"\d")
_NAME = re.compile(r"(?<![\w])([^\W\d_][^\W_]*)", re.UNICODE)


@dataclass(frozen=True)
class Source:
    """A retrieved passage: where it lies in its document, its text and its retrieval score."""

    passage_id: int
    document_id: int
    text: str
    start: int
    score: float
    title: str = ""

    def context(self) -> str:
        """The passage with its document's title, as the library indexed it."""
        return f"{self.title}\n{self.text}" if self.title else self.text


@dataclass(frozen=True)
class Citation:
    """A quoted piece of a passage: ``document.text[start:end] == quote``."""

    document_id: int
    passage_id: int
    quote: str
    start: int
    end: int


@dataclass(frozen=True)
class Answer:
    """An answer (``None`` when abstaining), its citations, how confident, and how it was written."""

    answer: str | None
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    confidence: float = 0.0
    mode: str = "extractive"


class Chat(Protocol):
    """The optional chat model (``civicpulse.llm.ChatClient``)."""

    def complete_json(self, system: str, user: str, max_tokens: int = 800) -> dict[str, Any]: ...


Weigh = Callable[[str], float]


def coverage(question: set[str], text: set[str], idf: Weigh) -> float:
    """The share of the question's weight (rare terms weigh most) found in the text."""
    total = sum(idf(term) for term in question)
    return sum(idf(term) for term in question if term in text) / total if total else 0.0


def confidence(question: str, sources: Sequence[Source], stats: TermStats) -> float:
    """The probability, in [0, 1], that the passages (best first) answer the question."""
    if not sources:
        return 0.0
    return shipped().probability(signals(question, sources, stats))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence or list line of a passage; headings and questions (an FAQ's
    "Câu hỏi 2: ...?") are left out: they never answer."""
    lines = [match.span() for match in _LINE.finditer(text)]
    spans: list[tuple[int, int]] = []
    for line_start, line_end in lines:
        line = text[line_start:line_end].strip()
        if len(lines) > 1 and len(line) < TITLE_CHARS and line[-1:] not in ".;:!?…)":
            continue  # a heading ("Điều 5. Mức hỗ trợ", "QUY ĐỊNH CHUNG")
        start = line_start
        for found in _SENTENCE_BREAK.finditer(text, line_start, line_end):
            spans.append((start, found.start()))
            start = found.end()
        spans.append((start, line_end))
    trimmed = [_trim(text, start, end) for start, end in spans]
    return [(s, e) for s, e in trimmed if e - s >= MIN_SENTENCE_CHARS and not text[s:e].endswith("?")]


def extract(question: str, sources: Sequence[Source], idf: Weigh) -> list[Citation]:
    """The sentences of the best passages that answer the question, verbatim, in reading order."""
    asked = terms(question)
    amount = _ASKS_AMOUNT.search(question) is not None
    scored: list[tuple[float, int, int, int]] = []  # score, rank, start, end (in the passage)
    for rank, source in enumerate(sources[:ANSWER_PASSAGES]):
        context = coverage(asked, terms(source.context()), idf)
        for start, end in sentence_spans(source.text):
            sentence = source.text[start:end]
            own = coverage(asked, terms(sentence), idf)
            figure = AMOUNT_BONUS if amount and _DIGIT.search(sentence) else 0.0
            scored.append((own + 0.25 * context + figure - 0.1 * rank, rank, start, end))
    if not scored:
        return []
    best = max(scored, key=lambda item: (item[0], -item[1], -item[2]))
    chosen = [item for item in scored if item[0] >= KEEP_RATIO * best[0] and item[0] > 0]
    chosen = sorted(chosen, key=lambda item: (-item[0], item[1], item[2]))[:MAX_SENTENCES]
    chosen += _list_after(sources, best, scored, MAX_SENTENCES - len(chosen))
    picked = sorted(set((rank, start, end) for _, rank, start, end in chosen))
    return [_citation(sources[rank], start, end) for rank, start, end in picked]


def _list_after(
    sources: Sequence[Source], best: tuple[float, int, int, int], scored: list, room: int
) -> list[tuple[float, int, int, int]]:
    """The lines a chosen sentence announces ("... gồm:"), when room is left."""
    _, rank, start, end = best
    if room <= 0 or not sources[rank].text[start:end].rstrip().endswith(":"):
        return []
    following = sorted(item for item in scored if item[1] == rank and item[2] >= end)
    return [(0.0, rank, s, e) for _, _, s, e in sorted(following, key=lambda item: item[2])[:room]]


def _citation(source: Source, start: int, end: int) -> Citation:
    return Citation(
        source.document_id,
        source.passage_id,
        source.text[start:end],
        source.start + start,
        source.start + end,
    )


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def compose(
    question: str,
    sources: Sequence[Source],
    stats: TermStats,
    *,
    threshold: float = ANSWER_THRESHOLD,
    chat: Chat | None = None,
) -> Answer:
    """The answer the sources give, or an abstention below ``threshold``."""
    sure = confidence(question, sources, stats)
    if sure < threshold:
        return Answer(None, True, [], round(sure, 4))
    citations = extract(question, sources, stats.idf)
    if not citations:
        return Answer(None, True, [], round(sure, 4))
    if chat is not None:
        rewritten = abstractive(chat, question, sources[:ANSWER_PASSAGES])
        if rewritten is not None:
            text, cited = rewritten
            return Answer(text, False, cited, round(sure, 4), "abstractive")
    return Answer(" ".join(c.quote for c in citations), False, citations, round(sure, 4))


def ask(session: Session, library: Library, question: str, *, chat: Chat | None = None) -> Answer:
    """Answer a question from the stored documents."""
    hits = library.search(session, question, TOP_PASSAGES)
    rows = passages_by_ids(session, (int(hit.id) for hit in hits))
    titles = {
        row.id: row.title
        for row in documents_by_ids(session, (r.document_id for r in rows.values())).values()
    }
    sources = [
        Source(row.id, row.document_id, row.text, row.start, hit.score, titles.get(row.document_id, ""))
        for hit in hits
        if (row := rows.get(int(hit.id))) is not None
    ]
    return compose(question, sources, library.stats, chat=chat)


# ---------------------------------------------------------------------------- the chat model

SYSTEM = (
    "You answer a citizen's question using ONLY the numbered official passages given. Answer in the "
    "language of the question, in at most three short sentences. Every sentence must cite the passages "
    'it comes from by number. Reply with JSON: {"sentences": [{"text": "...", "passages": [1]}]}. '
    'If the passages do not answer the question, reply {"sentences": []}.'
)


def abstractive(chat: Chat, question: str, sources: Sequence[Source]) -> tuple[str, list[Citation]] | None:
    """The chat model's answer when every sentence is backed by the passages it cites, else ``None``."""
    numbered = "\n\n".join(f"[{i}] {source.text}" for i, source in enumerate(sources, start=1))
    try:
        reply = chat.complete_json(SYSTEM, f"Question: {question}\n\nPassages:\n{numbered}")
    except Exception:  # any failure of the optional model leaves the extractive answer
        return None
    sentences = reply.get("sentences") if isinstance(reply, dict) else None
    if not isinstance(sentences, list) or not sentences:
        return None
    texts: list[str] = []
    cited: dict[int, None] = {}
    for sentence in sentences:
        checked = _checked_sentence(sentence, sources)
        if checked is None:
            return None
        text, indexes = checked
        texts.append(text)
        cited.update(dict.fromkeys(indexes))
    citations = [
        Citation(s.document_id, s.passage_id, s.text, s.start, s.start + len(s.text))
        for s in (sources[i] for i in cited)
    ]
    return " ".join(texts), citations


def _checked_sentence(sentence: Any, sources: Sequence[Source]) -> tuple[str, list[int]] | None:
    """A sentence's text and cited passage indexes, when it cites given passages holding its figures
    and names."""
    if not isinstance(sentence, dict):
        return None
    text, cites = sentence.get("text"), sentence.get("passages")
    if not isinstance(text, str) or not text.strip() or not isinstance(cites, list) or not cites:
        return None
    indexes = []
    for cite in cites:
        if isinstance(cite, bool) or not isinstance(cite, int) or not 1 <= cite <= len(sources):
            return None
        indexes.append(cite - 1)
    backing = "\n".join(sources[i].text for i in indexes)
    if not numbers(text) <= numbers(backing):
        return None
    if any(name not in backing for name in names(text)):
        return None
    return " ".join(text.split()), indexes


def names(text: str) -> list[str]:
    """Capitalised words that do not open a sentence: names of people, places, bodies."""
    found = []
    for sentence in re.split(r"(?<=[.!?])\s+", text.strip()):
        words = _NAME.findall(sentence)
        found += [word for word in words[1:] if word[:1].isupper()]
    return found


def as_json(answer: Answer) -> dict[str, Any]:
    """The API's shape: ``{"answer", "abstained", "citations": [{"document_id", "passage_id",
    "quote", "start", "end"}]}``."""
    return {
        "answer": answer.answer,
        "abstained": answer.abstained,
        "citations": [asdict(citation) for citation in answer.citations],
    }
