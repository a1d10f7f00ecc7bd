"""``HybridIndex``: BM25 over Vietnamese-aware fields plus dense vectors, candidates reranked."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from civicpulse.embeddings.base import Embedder
from civicpulse.retrieval import features
from civicpulse.retrieval.bm25 import FieldIndex
from civicpulse.retrieval.config import RetrievalConfig
from civicpulse.retrieval.features import Cues
from civicpulse.retrieval.fusion import top_rows
from civicpulse.retrieval.rerank import Model, shipped, shipped_candidates
from civicpulse.retrieval.tokens import FIELDS, Fields, fields, without_urls


@dataclass(frozen=True)
class Doc:
    """A searchable text: a claim, a passage of an official document."""

    id: str
    text: str
    title: str = ""
    published: date | None = None


@dataclass(frozen=True)
class Hit:
    """One result: the document's id and its reranked score in [0, 1], higher is better."""

    id: str
    score: float


def id_order(doc_id: str) -> tuple[int, int, str]:
    """How ids sort, and so how equal scores are ordered: numbers by value ("9" before "10"), then text."""
    return (0, int(doc_id), "") if doc_id.isdigit() and len(doc_id) < 19 else (1, 0, doc_id)


def passage_text(doc: Doc) -> str:
    """What is indexed and embedded of ``doc``: its title, then its text."""
    return f"{doc.title}\n{doc.text}" if doc.title else doc.text


@dataclass
class _Entry:
    doc: Doc
    fields: Fields
    cues: Cues
    vector: np.ndarray | None


class HybridIndex:
    """Documents searchable by BM25 and (with an embedder) dense similarity, reranked.

    ``add`` and ``remove`` are incremental; the BM25 fields are rebuilt lazily at the next search.
    Documents with the same words (differing only in case, punctuation or quote style) share one
    vector, so they score the same. Results are deterministic: equal scores are ordered by id
    (numbers by value), so the earlier of two duplicates comes first. Thread-safe.
    """

    def __init__(self, embedder: Embedder | None = None, config: RetrievalConfig | None = None) -> None:
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        variant = "hybrid" if embedder else "lexical"
        self.reranker: Model = shipped(self.config.profile, variant)
        self.shipped_candidates = shipped_candidates(self.config.profile, variant)
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.RLock()
        self._built = False
        self._ids: list[str] = []
        self._cues: list[Cues] = []
        self._vectors: np.ndarray | None = None
        self._fields = {field: FieldIndex(self.config.k1, self.config.b) for field in FIELDS}

    def _tokens(self, text: str) -> Fields:
        return fields(text, pairs=self.config.pairs, segment_words=self.config.segment_words)

    def add(self, docs: Sequence[Doc]) -> None:
        """Index ``docs``; a document whose id is already indexed is replaced."""
        latest = list({doc.id: doc for doc in docs}.values())
        if not latest:
            return
        texts = [passage_text(doc) for doc in latest]
        vectors: Sequence[np.ndarray | None] = [None] * len(latest)
        if self.embedder is not None:
            vectors = list(self.embedder.embed_passages([t[: self.config.max_passage_chars] for t in texts]))
        entries = [
            _Entry(doc, self._tokens(text), Cues.of(text, doc.published, doc.title), vector)
            for doc, text, vector in zip(latest, texts, vectors, strict=True)
        ]
        with self._lock:
            for entry in entries:
                self._entries.pop(entry.doc.id, None)
                self._entries[entry.doc.id] = entry
            self._built = False

    def remove(self, ids: Iterable[str]) -> None:
        """Drop the documents with these ids (unknown ids are ignored)."""
        with self._lock:
            for doc_id in ids:
                if self._entries.pop(doc_id, None) is not None:
                    self._built = False

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._entries

    def _build(self) -> None:
        if self._built:
            return
        entries = sorted(self._entries.values(), key=lambda entry: id_order(entry.doc.id))
        self._ids = [entry.doc.id for entry in entries]
        self._cues = [entry.cues for entry in entries]
        for field, index in self._fields.items():
            index.build([entry.fields.get(field) for entry in entries])
        if self.embedder is not None and entries:
            first_of: dict[tuple[str, ...], np.ndarray] = {}
            vectors = [first_of.setdefault(tuple(e.fields.marked), e.vector) for e in entries]  # type: ignore[arg-type]
            self._vectors = np.ascontiguousarray(np.vstack(vectors), dtype=np.float32)
        else:
            self._vectors = None
        self._built = True

    def search(self, query: str, top: int = 10) -> list[Hit]:
        """The ``top`` best documents for ``query``, best first."""
        return self.search_many([query], top)[0]

    def search_many(self, queries: Sequence[str], top: int = 10) -> list[list[Hit]]:
        """``search`` for each query (the query vectors are computed in one batch)."""
        queries = list(queries)
        vectors = self.query_vectors(queries) if self._entries else None
        with self._lock:
            self._build()
            today = date.today()
            return [
                self._search_one(query, None if vectors is None else vectors[i], top, today)
                for i, query in enumerate(queries)
            ]

    def query_vectors(self, queries: Sequence[str]) -> np.ndarray | None:
        """The embedder's vectors of ``queries`` (web addresses left out); ``None`` without one."""
        if self.embedder is None or not queries:
            return None
        return self.embedder.embed_queries([without_urls(query).strip() or " " for query in queries])

    def candidates(
        self, query: str, vector: np.ndarray | None, today: date | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidate rows of ``query`` and their feature matrix (for search and for training)."""
        with self._lock:
            self._build()
            bm25 = self.lexical_scores(query)
            cosine = self.dense_scores(vector)
            rows = self.pool(bm25, cosine)
            matrix = features.matrix(rows, bm25, cosine, Cues.of(query), self._cues, today or date.today())
            return rows, matrix

    def lexical_scores(self, query: str) -> dict[str, np.ndarray]:
        """Each BM25 field's scores of every row for ``query`` (the index must be built)."""
        tokens = self._tokens(query)
        return {field: index.scores(tokens.get(field)) for field, index in self._fields.items()}

    def dense_scores(self, vector: np.ndarray | None) -> np.ndarray | None:
        """The cosine of every row with the query's ``vector`` (``None`` without vectors).

        ``einsum`` runs on the calling thread: a threaded BLAS product of one vector waits on its
        threads (20 ms instead of 0.2 ms over 10,000 rows on a busy machine)."""
        if vector is None or self._vectors is None:
            return None
        return np.einsum("ij,j->i", self._vectors, np.asarray(vector, dtype=np.float32))

    def pool(self, bm25: dict[str, np.ndarray], cosine: np.ndarray | None) -> np.ndarray:
        """The candidate rows: the best ``candidates`` of each retriever, in row order."""
        count = self.config.candidates or self.shipped_candidates
        pool = [top_rows(sum(bm25.values()), count)]
        if cosine is not None:
            pool.append(top_rows(cosine + 1.0, count))
        return np.unique(np.concatenate(pool))

    def _search_one(self, query: str, vector: np.ndarray | None, top: int, today: date) -> list[Hit]:
        if not query.strip() or not self._ids or top <= 0:
            return []
        rows, matrix = self.candidates(query, vector, today)
        if rows.size == 0:
            return []
        scores = self.reranker.score(matrix)
        order = sorted(range(rows.size), key=lambda i: (-float(scores[i]), int(rows[i])))
        return [Hit(self._ids[rows[i]], round(float(scores[i]), 6)) for i in order[:top]]

    def row_ids(self) -> list[str]:
        """Ids of every indexed document in row order (the rows ``candidates`` returns)."""
        with self._lock:
            self._build()
            return list(self._ids)
