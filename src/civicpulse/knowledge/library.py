"""The library: one ``HybridIndex`` over every stored passage, built from the store (in the background
when ``civicpulse serve`` starts, see ``warm_in_background``) and brought up to date (new passages,
whoever stored them) before each search.

Passages are indexed by their stable id; ties in score are ordered by id, so SQLite and PostgreSQL
give the same results. A question is embedded from its first ``QUERY_WORDS`` words only: the
embedding is most of an answer's time and grows with the question's length (bench/ask.py)."""

from __future__ import annotations

import itertools
import logging
import math
import threading
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session

from civicpulse.retrieval import Doc, Hit, HybridIndex, RetrievalConfig
from civicpulse.retrieval.tokens import syllables
from civicpulse.store.documents import IndexedPassage, last_passage_id, passages_after

if TYPE_CHECKING:
    from civicpulse.embeddings.base import Embedder
    from civicpulse.store.db import Database

log = logging.getLogger(__name__)

LOAD_BATCH = 5000
QUERY_WORDS = 16
WARM_QUESTION = "khởi động thư viện"
PRIOR_TEXTS, PRIOR_WEIGHT = 100, 3.0
# words that ask rather than say: left out when weighing how much of a question a text covers
_QUESTION_WORDS = """ai gì nào đâu sao bao nhiêu mấy không có phải hay hoặc là thì mà được bị của và với cho
các những một này đó kia theo quy định như thế nào trường hợp khi nếu tôi em mình chúng ta bạn ông bà
anh chị cần muốn xin hỏi ạ vậy đúng sai luật văn bản"""
QUESTION_WORDS = frozenset(_QUESTION_WORDS.split())


def terms(text: str) -> set[str]:
    """The terms that weigh in an overlap: syllables and neighbouring pairs, question words left out."""
    found: set[str] = set()
    for run in syllables(text):
        found.update(term for term in run if term not in QUESTION_WORDS)
        pairs = itertools.pairwise(run)
        found.update(f"{a}_{b}" for a, b in pairs if not (a in QUESTION_WORDS and b in QUESTION_WORDS))
    return found


class TermStats:
    """In how many indexed texts each term occurs, for weighing overlaps by rarity."""

    def __init__(self) -> None:
        self.df: Counter[str] = Counter()
        self.seen: set[str] = set()

    def add(self, key: str, text: str) -> None:
        """Count the terms of one text once (a key counted before is skipped)."""
        if key not in self.seen:
            self.seen.add(key)
            self.df.update(terms(text))

    def idf(self, term: str) -> float:
        """How rare ``term`` is among the counted texts (a term never seen weighs the most), drawn
        towards one even weight while few texts are counted (rarity means little in a small library)."""
        counted = len(self.seen)
        rarity = math.log((counted + 1) / (self.df.get(term, 0) + 0.5))
        return (counted * rarity + PRIOR_TEXTS * PRIOR_WEIGHT) / (counted + PRIOR_TEXTS)


def passage_doc(passage: IndexedPassage) -> Doc:
    """A stored passage as the retrieval core indexes it."""
    return Doc(str(passage.id), passage.text, passage.title, passage.published)


class CappedQueries:
    """An ``Embedder`` that embeds a query from its first ``words`` words (passages whole)."""

    def __init__(self, inner: Embedder, words: int = QUERY_WORDS) -> None:
        self.inner = inner
        self.words = words
        self.name = inner.name
        self.dim = inner.dim

    def cap(self, text: str) -> str:
        """``text`` cut to its first ``words`` words (``0``: whole)."""
        parts = text.split()
        return " ".join(parts[: self.words]) if 0 < self.words < len(parts) else text

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """The inner embedder's passage vectors."""
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors of the queries cut to their first words."""
        return self.inner.embed_queries([self.cap(text) for text in texts])


class Library:
    """Search over the stored passages; thread-safe, one per process. ``warmed`` is set once
    ``warm`` has indexed the store and loaded what a question needs."""

    def __init__(self, embedder: Embedder | None = None, config: RetrievalConfig | None = None) -> None:
        capped = CappedQueries(embedder) if embedder is not None else None
        self.index = HybridIndex(capped, config or RetrievalConfig(profile="passages"))
        self._seen = 0
        self._lock = threading.Lock()
        self.stats = TermStats()
        self.warmed = threading.Event()

    def __len__(self) -> int:
        return len(self.index)

    def add(self, passages: Sequence[IndexedPassage]) -> None:
        """Index passages just stored (the next ``refresh`` would find them too)."""
        with self._lock:
            self._index(passages)
            if passages:
                self._seen = max(self._seen, max(p.id for p in passages))

    def _index(self, passages: Sequence[IndexedPassage]) -> None:
        for passage in passages:
            self.stats.add(str(passage.id), f"{passage.title}\n{passage.text}")
        self.index.add([passage_doc(p) for p in passages])

    def refresh(self, session: Session) -> int:
        """Index what the store holds beyond what was seen; how many passages were added."""
        with self._lock:
            if last_passage_id(session) <= self._seen:
                return 0
            added = 0
            while True:
                batch = passages_after(session, self._seen, limit=LOAD_BATCH)
                if not batch:
                    return added
                self._index(batch)
                self._seen = batch[-1].id
                added += len(batch)

    def search(self, session: Session, query: str, top: int = 10) -> list[Hit]:
        """The ``top`` passages for ``query``, best first (hit ids are passage ids as text)."""
        self.refresh(session)
        return self.index.search(query, top)

    def warm(self, session: Session) -> None:
        """Index the stored passages and, when there are any, search once so that the embedder's model
        is loaded and the BM25 fields are built before the first question."""
        self.refresh(session)
        if len(self):
            self.index.search(WARM_QUESTION, 1)
        self.warmed.set()


def warm_in_background(library: Library, db: Database) -> threading.Thread:
    """Run ``library.warm`` in a daemon thread (a failure is logged; the first question retries)."""

    def run() -> None:
        try:
            with db.read() as session:
                library.warm(session)
        except Exception:
            log.exception("warming the library of official documents failed")

    thread = threading.Thread(target=run, name="civicpulse-library", daemon=True)
    thread.start()
    return thread
