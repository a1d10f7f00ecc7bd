"""How a ``HybridIndex`` tokenises, how many candidates it reranks and with which shipped model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetrievalConfig:
    """Settings of the retrieval core (chosen by cross-validation on train queries, bench/).

    Attributes:
        profile: the shipped reranker profile: ``claims`` (short claims and posts), ``passages``
            (articles of official documents) or ``general``.
        candidates: candidates taken from each retriever (BM25, dense) before reranking; ``None``
            takes the count the profile's shipped model was chosen with (``models/reranker.json``).
        pairs: index pairs of neighbouring syllables besides single syllables.
        segment_words: also index the word segmenter's multi-syllable words (slower to build).
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation.
        max_passage_chars: text embedded per document (the dense model reads only the start).
    """

    profile: str = "general"
    candidates: int | None = None
    pairs: bool = True
    segment_words: bool = False
    k1: float = 1.2
    b: float = 0.75
    max_passage_chars: int = 2000
