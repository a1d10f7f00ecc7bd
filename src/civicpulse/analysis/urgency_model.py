"""The learned half of urgency: logistic models over the text's character pieces and its e5 vector.

The rules see danger words; these models see reports that read like the urgent ones they were
trained on ("threw paint at our door and left a note", "eroded to the foundations") even without
such a word. ``PieceModel``: the 2- to 5-character pieces of each word folded to ASCII (padded with
spaces, so a piece never crosses words), TF-IDF weighted (sublinear counts, L2-normalised); a few
hundred dictionary look-ups per text. ``VectorModel``: the vector the ``embed`` stage left on the
item (the bundled multilingual-e5-small), used only when that stage ran with the same embedder, and
then averaged with the pieces' probability. Each way has its own ``Use``: how much it may add to
the rules' score (``weight``) and the probability at or below which it adds nothing (``gate``).
Everything is chosen by cross-validation on the train half of ``bench/data/urgency_gold.jsonl`` and
shipped as JSON (``data/urgency_model.json``) by ``bench/urgency.py --write-model``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from civicpulse.analysis.features import tokens
from civicpulse.logistic import sigmoid
from civicpulse.textkit.vietnamese import strip_marks

MODEL_FILE = "urgency_model.json"
SHORTEST, LONGEST = 2, 5
TERMS_SHOWN = 3
COMMON_SHARE = 0.05


def folded_words(text: str) -> list[str]:
    """The text's word tokens, lower-cased and without marks (aligned with ``tokens(text)``)."""
    return [strip_marks(word) for word in tokens(text)]


def word_pieces(word: str) -> list[str]:
    """The 2- to 5-character pieces of `` word `` (padded, so starts and ends are pieces too)."""
    padded = f" {word} "
    return [padded[i : i + n] for n in range(SHORTEST, LONGEST + 1) for i in range(len(padded) - n + 1)]


def piece_counts(text: str) -> Counter[str]:
    """How often each piece occurs in ``text``."""
    return Counter(piece for word in folded_words(text) for piece in word_pieces(word))


@dataclass(frozen=True)
class Use:
    """How a probability joins the rules: nothing up to ``gate``, then rising to ``weight``."""

    weight: float
    gate: float

    def contribution(self, probability: float) -> float:
        """The signal added for ``probability``."""
        if probability <= self.gate:
            return 0.0
        return self.weight * (probability - self.gate) / (1.0 - self.gate)


@dataclass(frozen=True)
class PieceModel:
    """Fitted pieces ``{piece: (idf, coefficient)}`` and the intercept."""

    pieces: dict[str, tuple[float, float]]
    intercept: float
    common: frozenset[str] = frozenset()
    """Folded words found in at least ``COMMON_SHARE`` of the training texts: never shown as why."""

    def _weights(self, counts: Counter[str]) -> tuple[dict[str, float], float]:
        values = {
            piece: (1.0 + math.log(count)) * self.pieces[piece][0]
            for piece, count in counts.items()
            if piece in self.pieces
        }
        norm = math.sqrt(sum(v * v for v in values.values())) or 1.0
        return values, norm

    def probability(self, text: str) -> float:
        """The model's probability that ``text`` is urgent."""
        values, norm = self._weights(piece_counts(text))
        logit = self.intercept + sum(v * self.pieces[p][1] for p, v in values.items()) / norm
        return sigmoid(logit)

    def telling_words(self, text: str, top: int = TERMS_SHOWN) -> list[str]:
        """The words of ``text`` (as written) that push the model most towards urgent."""
        written = tokens(text)
        words = [strip_marks(word) for word in written]
        counts = piece_counts(text)
        values, norm = self._weights(counts)
        pull: Counter[int] = Counter()
        for index, word in enumerate(words):
            for piece in word_pieces(word):
                if piece in values:
                    pull[index] += values[piece] * self.pieces[piece][1] / norm / counts[piece]
        shown: list[str] = []
        for index, value in pull.most_common():
            if value <= 0 or len(shown) == top:
                break
            word = written[index]
            if len(word) >= 2 and word.isalpha() and words[index] not in self.common and word not in shown:
                shown.append(word)
        return shown

    def to_json(self) -> dict[str, object]:
        """The model as plain JSON values (rounded: the file ships with the package)."""
        return {
            "features": f"char {SHORTEST}-{LONGEST} grams of folded words, tf-idf (sublinear, l2)",
            "intercept": round(self.intercept, 6),
            "common": sorted(self.common),
            "pieces": {p: [round(idf, 5), round(c, 5)] for p, (idf, c) in sorted(self.pieces.items())},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PieceModel:
        """A model read back from ``to_json``."""
        pieces = {p: (float(v[0]), float(v[1])) for p, v in data["pieces"].items()}
        return cls(pieces, float(data["intercept"]), frozenset(data.get("common", ())))


@dataclass(frozen=True)
class VectorModel:
    """Coefficients over the vectors of one embedder (``embedder``: its name) and the intercept."""

    embedder: str
    coef: tuple[float, ...]
    intercept: float

    def probability(self, vector: Sequence[float]) -> float:
        """The model's probability that the text of ``vector`` is urgent."""
        logit = self.intercept + sum(c * v for c, v in zip(self.coef, vector, strict=True))
        return sigmoid(logit)

    def to_json(self) -> dict[str, object]:
        """The model as plain JSON values."""
        return {
            "embedder": self.embedder,
            "intercept": round(self.intercept, 6),
            "coef": [round(c, 6) for c in self.coef],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> VectorModel:
        """A model read back from ``to_json``."""
        return cls(str(data["embedder"]), tuple(float(c) for c in data["coef"]), float(data["intercept"]))


@dataclass(frozen=True)
class LearnedUrgency:
    """The pieces' model (always), the vectors' model (when shipped), and how each way is used."""

    pieces: PieceModel
    words_only: Use
    vectors: VectorModel | None = None
    with_vectors: Use | None = None

    def assess(self, text: str, vector: Sequence[float] | None = None, embedder: str | None = None) -> float:
        """The signal to add to the rules: from the pieces alone, or averaged with the vector's
        probability when ``vector`` comes from the embedder the vectors' model was fitted on."""
        probability = self.pieces.probability(text)
        model, use = self.vectors, self.with_vectors
        if model is None or use is None or vector is None or embedder != model.embedder:
            return self.words_only.contribution(probability)
        if len(vector) != len(model.coef):
            return self.words_only.contribution(probability)
        return use.contribution((probability + model.probability(vector)) / 2)

    def to_json(self) -> dict[str, object]:
        """Both models and their uses as plain JSON values."""
        found: dict[str, object] = {"pieces": self.pieces.to_json(), "words_only": asdict(self.words_only)}
        if self.vectors is not None and self.with_vectors is not None:
            found |= {"vectors": self.vectors.to_json(), "with_vectors": asdict(self.with_vectors)}
        return found

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LearnedUrgency:
        """Models read back from ``to_json``."""
        vectors = VectorModel.from_json(data["vectors"]) if "vectors" in data else None
        with_vectors = Use(**data["with_vectors"]) if "with_vectors" in data else None
        return cls(PieceModel.from_json(data["pieces"]), Use(**data["words_only"]), vectors, with_vectors)


def load_model(path: Path | None = None) -> LearnedUrgency:
    """The models at ``path``, or the packaged ones."""
    if path is None:
        return packaged_model()
    return LearnedUrgency.from_json(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def packaged_model() -> LearnedUrgency:
    """The models shipped with CivicPulse (read once per process)."""
    raw = (resources.files("civicpulse") / "data" / MODEL_FILE).read_text(encoding="utf-8")
    return LearnedUrgency.from_json(json.loads(raw))


def fit(texts: Sequence[str], urgent: Sequence[bool], *, c: float, min_df: int = 2) -> PieceModel:
    """A pieces' model fitted on ``texts`` (pieces found in at least ``min_df`` texts; L2 strength
    ``1 / c``, classes balanced)."""
    from scipy.sparse import csr_matrix

    counts = [piece_counts(text) for text in texts]
    df = Counter(piece for found in counts for piece in found)
    vocabulary = sorted(piece for piece, n in df.items() if n >= min_df)
    column = {piece: i for i, piece in enumerate(vocabulary)}
    idf = {piece: math.log((1 + len(texts)) / (1 + df[piece])) + 1.0 for piece in vocabulary}
    draft = PieceModel({piece: (idf[piece], 0.0) for piece in vocabulary}, 0.0)
    rows, cols, data = [], [], []
    for row, found in enumerate(counts):
        values, norm = draft._weights(found)
        for piece, value in values.items():
            rows.append(row)
            cols.append(column[piece])
            data.append(value / norm)
    matrix = csr_matrix((data, (rows, cols)), shape=(len(texts), len(vocabulary)))
    coefficients, intercept = _logistic(matrix, urgent, c)
    fitted = {piece: (idf[piece], float(coefficients[column[piece]])) for piece in vocabulary}
    word_df = Counter(word for text in texts for word in set(folded_words(text)))
    common = frozenset(word for word, n in word_df.items() if n >= COMMON_SHARE * len(texts))
    return PieceModel(fitted, intercept, common)


def fit_vectors(vectors: Any, urgent: Sequence[bool], *, c: float, embedder: str) -> VectorModel:
    """A vectors' model fitted on ``vectors`` (one row per text) of ``embedder``."""
    coefficients, intercept = _logistic(vectors, urgent, c)
    return VectorModel(embedder, tuple(float(v) for v in coefficients), intercept)


def _logistic(matrix: Any, urgent: Sequence[bool], c: float) -> tuple[Any, float]:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
    model.fit(matrix, np.asarray(urgent, dtype=int))
    return model.coef_[0], float(model.intercept_[0])
