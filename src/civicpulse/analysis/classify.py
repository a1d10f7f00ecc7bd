"""Topic classification: zero-shot from the taxonomy, supervised once analysts have labelled items.

Zero-shot scores each topic by (a) the mean cosine of the item's e5 passage vector with the topic's
prototypes: every description embedded both as an e5 ``query:`` and as a ``passage:`` (a label is
short like a query but reads like the items), and every example as a ``passage:``; (b) the TF-IDF
similarity of the item's words to the topic's names, description, examples and keywords, with and
without diacritics. A softmax with a temperature turns the blend into confidences. With a trained
model in the model directory, the model decides instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from civicpulse.analysis.base import AnalysisItem, StageResult, texts_to_analyse
from civicpulse.analysis.features import (
    CONFIGURED,
    UsesEmbedder,
    fold_ascii,
    model_dir,
    passage_vectors,
    softmax,
)
from civicpulse.analysis.training import ModelSlot
from civicpulse.annotations import Ranked, TopicOut
from civicpulse.embeddings import Embedder
from civicpulse.settings import Settings
from civicpulse.taxonomy import Taxonomy, load_taxonomy

POOLINGS = {"mean": np.mean, "max": np.max}


@dataclass
class ZeroShotTopics:
    """A zero-shot scorer built from label descriptions and examples.

    Works for any label set (the taxonomy, or a benchmark's own descriptions). ``embed_weight``,
    ``word_weight`` and ``keyword_weight`` blend embedding similarity, word similarity and keyword
    hits; ``pooling`` is how a label's prototype similarities combine (``mean``: prototype
    averaging, measured better than ``max`` on UIT-VSFC train and CFPB); ``temperature`` sharpens
    the softmax.
    """

    codes: list[str]
    descriptions: list[list[str]]
    examples: list[list[str]]
    embedder: Embedder | None = None
    embed_weight: float = 1.0
    word_weight: float = 0.15
    keyword_weight: float = 0.15
    keywords: list[list[str]] | None = None
    pooling: str = "mean"
    temperature: float = 0.01

    def __post_init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        docs = [" ".join(d + e) for d, e in zip(self.descriptions, self.examples, strict=True)]
        self.words_ = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True, preprocessor=fold_ascii
        )
        self.label_words_ = self.words_.fit_transform(docs)
        self.keywords_ = [[fold_ascii(k) for k in ks] for ks in (self.keywords or [[] for _ in self.codes])]
        self.prototypes_: list[np.ndarray] | None = None
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}; got {self.pooling!r}")
        if self.embedder is not None:
            self.prototypes_ = []
            for descriptions, examples in zip(self.descriptions, self.examples, strict=True):
                parts = [
                    self.embedder.embed_queries(list(descriptions)),
                    self.embedder.embed_passages(list(descriptions)),
                ]
                if examples:
                    parts.append(self.embedder.embed_passages(list(examples)))
                self.prototypes_.append(np.vstack(parts).astype(np.float32))

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy, embedder: Embedder | None = None) -> ZeroShotTopics:
        """Prototypes from every topic of the taxonomy."""
        return cls(
            codes=taxonomy.codes(),
            descriptions=[
                [f"{t.name_vi}: {t.description_vi}", f"{t.name_en}: {t.description_en}"]
                for t in taxonomy.topics
            ],
            examples=[list(t.examples) for t in taxonomy.topics],
            keywords=[[*t.keywords, t.name_vi] for t in taxonomy.topics],
            embedder=embedder,
        )

    def scores(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Raw blended similarity, one row per text and one column per code."""
        words = (self.words_.transform(texts) @ self.label_words_.T).toarray()
        total = self.word_weight * words
        if self.keywords_ and self.keyword_weight:
            folded = [f" {fold_ascii(t)} " for t in texts]
            hits = np.array(
                [[sum(f" {k} " in text for k in ks) for ks in self.keywords_] for text in folded], dtype=float
            )
            total = total + self.keyword_weight * np.minimum(hits, 3)
        if self.prototypes_ is not None and vectors is not None:
            pool = POOLINGS[self.pooling]
            sims = np.column_stack([pool(vectors @ p.T, axis=1) for p in self.prototypes_])
            total = total + self.embed_weight * sims
        return total

    def predict_proba(self, texts: list[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Confidences that sum to one per text."""
        temperature = self.temperature if vectors is not None else self.temperature * 5
        return softmax(self.scores(texts, vectors), temperature)


def ranked(codes: list[str], probs: np.ndarray, top: int = 3) -> list[Ranked]:
    """The ``top`` codes with their confidence, best first."""
    order = np.argsort(-probs)[:top]
    return [Ranked(code=codes[i], confidence=round(float(probs[i]), 4)) for i in order]


class TopicStage(UsesEmbedder):
    """Assigns a taxonomy topic with a calibrated confidence; low confidence goes to review.

    Output: ``{code, confidence, alternatives: [{code, confidence}] (top 3), method, review}``.
    """

    name: ClassVar[str] = "topic"
    output: ClassVar[type[TopicOut]] = TopicOut

    def __init__(self, settings: Settings, embedder: Embedder | None = CONFIGURED) -> None:
        self.settings = settings
        self.threshold = settings.topic_review_threshold
        self._use(embedder)
        self.taxonomy_: Taxonomy | None = None
        self.zero_shot_: ZeroShotTopics | None = None
        self.model_: ModelSlot | None = None

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Classify every item; an item with no text fails, the others go on."""
        result = StageResult()
        texts, live = texts_to_analyse(items, result, "no text to classify")
        if not live:
            return result
        if self.taxonomy_ is None:
            self.taxonomy_ = load_taxonomy(self.settings.taxonomy_file)
        taxonomy = self.taxonomy_
        embedder = self._embedder()
        vectors = passage_vectors(live, texts, embedder)
        if self.model_ is None:
            self.model_ = ModelSlot(model_dir(self.settings), "topic", set(taxonomy.codes()))
        model = self.model_.get()
        if model is not None:
            codes, probs, method = model.classes_, model.predict_proba(texts, vectors), "supervised"
        else:
            if self.zero_shot_ is None or self.zero_shot_.codes != taxonomy.codes():
                self.zero_shot_ = ZeroShotTopics.from_taxonomy(taxonomy, embedder)
            codes, method = self.zero_shot_.codes, "zero-shot"
            probs = self.zero_shot_.predict_proba(texts, vectors)
        for item, row in zip(live, probs, strict=True):
            best = ranked(codes, row)
            result.outputs[item.id] = TopicOut(
                code=best[0].code,
                confidence=best[0].confidence,
                alternatives=best,
                method=method,
                review=best[0].confidence < self.threshold,
            )
        return result
