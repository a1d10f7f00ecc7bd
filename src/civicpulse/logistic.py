"""A fitted logistic model over named, standardised features, and the sigmoid every scorer shares.

The reranker (``retrieval.rerank``), the answer confidence (``knowledge.answer_confidence``) and the
rumour match (``knowledge.rumour_model``) ship such models as JSON: ``{"features", "mean", "scale",
"coef", "intercept"}``, fitted by scikit-learn on standardised features (``bench/``). The score is
``sigmoid(((x - mean) / scale) @ coef + intercept)``. The urgency models (``analysis.urgency_model``)
use the same ``sigmoid``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np

CLIP = 40.0
"""Log-odds are clipped to ±CLIP, so ``exp`` never overflows (the probability is then 1, or 4e-18)."""


@overload
def sigmoid(logit: float) -> float: ...


@overload
def sigmoid(logit: np.ndarray) -> np.ndarray: ...


def sigmoid(logit: float | np.ndarray) -> float | np.ndarray:
    """The probability of log-odds ``logit`` (an array: element-wise, in its own precision)."""
    if isinstance(logit, np.ndarray):
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -CLIP, CLIP)))
    return 1.0 / (1.0 + math.exp(-max(-CLIP, min(CLIP, logit))))


def feature_matrix(rows: Sequence[Mapping[str, float]], features: Sequence[str]) -> np.ndarray:
    """Rows of named values as a ``(len(rows), len(features))`` array in the order of ``features``
    (a missing feature reads as 0)."""
    values = [[row.get(name, 0.0) for name in features] for row in rows]
    return np.array(values, dtype=np.float64).reshape(len(rows), len(features))


@dataclass(frozen=True, eq=False)
class Logistic:
    """A fitted logistic model: feature names, the scaler's ``mean`` and ``scale``, ``coef`` and
    ``intercept`` (sequences are kept as float64 arrays)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "features", tuple(self.features))
        for name in ("mean", "scale", "coef"):
            values = np.asarray(getattr(self, name), dtype=np.float64)
            if values.shape != (len(self.features),):
                raise ValueError(
                    f"{name} has shape {values.shape}; the model has {len(self.features)} features"
                )
            object.__setattr__(self, name, values)
        object.__setattr__(self, "intercept", float(self.intercept))

    def logits(self, matrix: np.ndarray) -> np.ndarray:
        """The log-odds of each row of ``matrix`` (columns in ``features`` order), in the matrix's
        precision: float32 features (the reranker's) are scored in float32, anything else in float64."""
        dtype = np.float32 if matrix.dtype == np.float32 else np.float64
        mean, scale, coef = (
            values.astype(dtype, copy=False) for values in (self.mean, self.scale, self.coef)
        )
        return ((matrix - mean) / scale) @ coef + self.intercept

    def scores(self, matrix: np.ndarray) -> np.ndarray:
        """The probability of each row of ``matrix`` (columns in ``features`` order)."""
        return sigmoid(self.logits(matrix))

    def score(self, row: Mapping[str, float]) -> float:
        """The probability of one row of named values (a missing feature reads as 0)."""
        values = np.array([row.get(name, 0.0) for name in self.features], dtype=np.float64)
        return sigmoid(float(((values - self.mean) / self.scale) @ self.coef + self.intercept))

    def matrix(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Rows of named values in this model's feature order (a missing feature reads as 0)."""
        return feature_matrix(rows, self.features)

    def to_json(self, digits: int | None = None) -> dict[str, object]:
        """The model as plain JSON values, rounded to ``digits`` places when given."""

        def plain(value: float) -> float:
            return float(value) if digits is None else round(float(value), digits)

        return {
            "features": list(self.features),
            "mean": [plain(v) for v in self.mean],
            "scale": [plain(v) for v in self.scale],
            "coef": [plain(v) for v in self.coef],
            "intercept": plain(self.intercept),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Logistic:
        """A model read back from ``to_json`` (other keys are ignored)."""
        return cls(
            features=tuple(data["features"]),  # type: ignore[arg-type]
            mean=data["mean"],  # type: ignore[arg-type]
            scale=data["scale"],  # type: ignore[arg-type]
            coef=data["coef"],  # type: ignore[arg-type]
            intercept=data["intercept"],  # type: ignore[arg-type]
        )
