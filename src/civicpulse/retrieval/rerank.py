"""The reranker: a logistic model over the pair features, shipped as JSON coefficients.

``models/reranker.json`` holds one model per variant: ``hybrid`` (with an embedder) and ``lexical``
(BM25 only). Each is a feature list, the standard scaler's mean and scale, coefficients and an
intercept; the score is the model's probability that the candidate answers the query, so it lies
in [0, 1] and one threshold means the same for every query. ``bench/claims.py --train`` writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from civicpulse.retrieval.features import FEATURES

MODEL_FILE = "reranker.json"


@dataclass(frozen=True)
class Reranker:
    """A fitted logistic model over some of ``FEATURES``."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    def score(self, features: np.ndarray) -> np.ndarray:
        """Probability of relevance for each row of a ``(n, len(FEATURES))`` matrix."""
        columns = [FEATURES.index(name) for name in self.features]
        scaled = (features[:, columns] - self.mean) / self.scale
        logits = scaled @ self.coef + self.intercept
        return (1.0 / (1.0 + np.exp(-np.clip(logits, -40, 40)))).astype(np.float32)

    def to_json(self) -> dict[str, object]:
        """The model as plain JSON values."""
        return {
            "features": list(self.features),
            "mean": [float(v) for v in self.mean],
            "scale": [float(v) for v in self.scale],
            "coef": [float(v) for v in self.coef],
            "intercept": float(self.intercept),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Reranker:
        """A model read back from ``to_json``."""
        return cls(
            features=tuple(data["features"]),  # type: ignore[arg-type]
            mean=np.asarray(data["mean"], dtype=np.float32),
            scale=np.asarray(data["scale"], dtype=np.float32),
            coef=np.asarray(data["coef"], dtype=np.float32),
            intercept=float(data["intercept"]),  # type: ignore[arg-type]
        )


def load_models(path: Path | None = None) -> dict[str, dict[str, Reranker]]:
    """Every shipped model: ``{profile: {variant: Reranker}}`` (variants ``hybrid`` and ``lexical``)."""
    if path is None:
        raw = resources.files("civicpulse.retrieval").joinpath("models", MODEL_FILE).read_text()
    else:
        raw = Path(path).read_text()
    data = json.loads(raw)
    return {
        profile: {variant: Reranker.from_json(model) for variant, model in variants.items()}
        for profile, variants in data["profiles"].items()
    }


@lru_cache(maxsize=4)
def shipped(profile: str, variant: str) -> Reranker:
    """The shipped model of ``profile`` (e.g. ``claims``, ``passages``) for ``variant``."""
    models = load_models()
    if profile not in models:
        raise ValueError(f"no reranker profile {profile!r}; shipped: {', '.join(sorted(models))}")
    return models[profile][variant]
