"""Sentiment (negative / neutral / positive): zero-shot from written prototypes and a lexicon,
supervised once analysts have corrected enough items (a ``sentiment`` model in the model directory).
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

import numpy as np

from civicpulse.analysis.base import AnalysisItem, StageResult, texts_to_analyse
from civicpulse.analysis.features import (
    CONFIGURED,
    Lexicon,
    UsesEmbedder,
    model_dir,
    passage_vectors,
    softmax,
    tokens,
)
from civicpulse.analysis.training import ModelSlot
from civicpulse.annotations import SentimentOut
from civicpulse.domain import SENTIMENT_LABELS
from civicpulse.embeddings import Embedder
from civicpulse.settings import Settings

LABELS = SENTIMENT_LABELS
_WEIGHTS = {"strong": 2.0, "normal": 1.0}


def _data(name: str) -> dict[str, Any]:
    return tomllib.loads((resources.files("civicpulse") / "data" / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def lexicon() -> tuple[Lexicon, frozenset[str]]:
    """The packaged sentiment lexicon and its negators."""
    raw = _data("sentiment_lexicon.toml")
    entries = [
        (term, polarity, _WEIGHTS[strength])
        for polarity in ("positive", "negative")
        for strength, terms in raw[polarity].items()
        for term in terms
    ]
    return Lexicon(entries), frozenset(raw["negators"])


@lru_cache(maxsize=1)
def prototypes() -> dict[str, list[str]]:
    """The packaged example sentences per label."""
    raw = _data("sentiment_prototypes.toml")
    return {label: list(raw[label]) for label in LABELS}


def lexicon_polarity(text: str) -> tuple[float, float]:
    """Summed (positive, negative) weights of lexicon terms, a negator flipping the term after it."""
    lex, negators = lexicon()
    words = tokens(text)
    positive = negative = 0.0
    for start, _end, category, weight in lex.find(text):
        negated = any(w in negators for w in words[max(0, start - 2) : start])
        if (category == "positive") != negated:
            positive += weight
        else:
            negative += weight
    return positive, negative


class ZeroShotSentiment:
    """Blends similarity to prototype sentences with lexicon polarity into label confidences."""

    def __init__(self, embedder: Embedder | None, temperature: float = 0.35) -> None:
        self.temperature = temperature
        self.prototypes_: list[np.ndarray] | None = None
        if embedder is not None:
            self.prototypes_ = [embedder.embed_passages(prototypes()[label]) for label in LABELS]

    def predict_proba(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Confidences over ``LABELS`` for each text."""
        scores = np.zeros((len(texts), 3))
        for row, text in enumerate(texts):
            positive, negative = lexicon_polarity(text)
            lean = np.tanh(positive - negative)
            strength = np.tanh(positive + negative)
            scores[row] = (max(-lean, 0.0), 0.5 * (1.0 - strength), max(lean, 0.0))
        if self.prototypes_ is not None and vectors is not None:
            sims = np.column_stack(
                [np.sort(vectors @ p.T, axis=1)[:, -3:].mean(axis=1) for p in self.prototypes_]
            )
            scores = scores + (sims - sims.mean(axis=1, keepdims=True)) * 10.0
        return softmax(scores, self.temperature)


class SentimentStage(UsesEmbedder):
    """Output: ``{label, score, scores: {negative, neutral, positive}, method}``; ``score`` is the
    confidence of ``label``."""

    name: ClassVar[str] = "sentiment"
    output: ClassVar[type[SentimentOut]] = SentimentOut

    def __init__(self, settings: Settings, embedder: Embedder | None = CONFIGURED) -> None:
        self.settings = settings
        self.model_slot = ModelSlot(model_dir(settings), "sentiment", set(LABELS))
        self._use(embedder)
        self.zero_shot_: ZeroShotSentiment | None = None

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Score every item; an item with no text fails, the others go on."""
        result = StageResult()
        texts, live = texts_to_analyse(items, result, "no text to score")
        if not live:
            return result
        embedder = self._embedder()
        vectors = passage_vectors(live, texts, embedder)
        model = self.model_slot.get()
        if model is not None:
            labels, probs, method = model.classes_, model.predict_proba(texts, vectors), "supervised"
        else:
            if self.zero_shot_ is None:
                self.zero_shot_ = ZeroShotSentiment(embedder)
            labels, probs, method = list(LABELS), self.zero_shot_.predict_proba(texts, vectors), "zero-shot"
        for item, row in zip(live, probs, strict=True):
            scores = {label: round(float(p), 4) for label, p in zip(labels, row, strict=True)}
            best = max(scores, key=scores.__getitem__)
            result.outputs[item.id] = SentimentOut(
                label=best, score=scores[best], scores=scores, method=method
            )
        return result
