"""The reranker: a model over the pair features, shipped as JSON (no pickles, no training at run time).

``models/reranker.json`` holds one model per profile and variant: ``hybrid`` (with an embedder) and
``lexical`` (BM25 only). A model is either logistic (``Reranker``: a ``civicpulse.logistic.Logistic``
over some of the feature columns) or boosted trees (``Boosted``: scikit-learn's
``HistGradientBoostingClassifier`` written out node by node). Either way the score is the model's
probability that the candidate answers the query, so it lies in [0, 1] and one threshold means the
same for every query. ``bench/claims.py`` and ``bench/answers.py --write-model`` write it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from civicpulse.logistic import Logistic, sigmoid
from civicpulse.retrieval.features import COLUMN

MODEL_FILE = "reranker.json"
DEFAULT_CANDIDATES = 50


@dataclass(frozen=True)
class Reranker:
    """A fitted logistic model over some of ``FEATURES``, read from their columns of the matrix."""

    model: Logistic

    @property
    def features(self) -> tuple[str, ...]:
        """The features the model reads."""
        return self.model.features

    def score(self, features: np.ndarray) -> np.ndarray:
        """Probability of relevance for each row of a ``(n, len(FEATURES))`` matrix."""
        return self.model.scores(features[:, [COLUMN[name] for name in self.model.features]])

    def to_json(self) -> dict[str, object]:
        """The model as plain JSON values."""
        return self.model.to_json()

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Reranker:
        """A model read back from ``to_json``."""
        return cls(Logistic.from_json(data))


@dataclass(frozen=True)
class Boosted:
    """Boosted regression trees over some of ``FEATURES``; the score is the sigmoid of their sum.

    Node arrays are ``(trees, nodes)``, padded: ``feature`` (a column of ``features``),
    ``threshold`` (a row goes left when its value is at most this), ``left`` / ``right`` (child
    nodes), ``leaf`` and ``value`` (a leaf's contribution, learning rate included).
    """

    features: tuple[str, ...]
    baseline: float
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    depth: int

    def score(self, features: np.ndarray) -> np.ndarray:
        """Probability of relevance for each row of a ``(n, len(FEATURES))`` matrix."""
        x = features[:, [COLUMN[name] for name in self.features]].astype(np.float64)
        trees = np.arange(self.feature.shape[0])
        node = np.zeros((x.shape[0], trees.size), dtype=np.int64)
        for _ in range(self.depth):
            values = np.take_along_axis(x, self.feature[trees, node], axis=1)
            child = np.where(
                values <= self.threshold[trees, node], self.left[trees, node], self.right[trees, node]
            )
            node = np.where(self.leaf[trees, node], node, child)
        return sigmoid(self.baseline + self.value[trees, node].sum(axis=1)).astype(np.float32)

    def to_json(self) -> dict[str, object]:
        """The model as plain JSON values."""
        return {
            "kind": "boosted",
            "features": list(self.features),
            "baseline": float(self.baseline),
            "depth": int(self.depth),
            "trees": [
                {
                    "feature": self.feature[t].tolist(),
                    "threshold": [float(v) for v in self.threshold[t]],
                    "left": self.left[t].tolist(),
                    "right": self.right[t].tolist(),
                    "leaf": [int(v) for v in self.leaf[t]],
                    "value": [float(v) for v in self.value[t]],
                }
                for t in range(self.feature.shape[0])
            ],
        }

    @classmethod
    def from_sklearn(cls, model: object, features: tuple[str, ...]) -> Boosted:
        """The trees of a fitted binary ``HistGradientBoostingClassifier`` over ``features``."""
        nodes = [predictors[0].nodes for predictors in model._predictors]  # type: ignore[attr-defined]
        width = max(len(tree) for tree in nodes)

        def padded(key: str, fill: object, dtype: type) -> np.ndarray:
            out = np.full((len(nodes), width), fill, dtype=dtype)
            for t, tree in enumerate(nodes):
                out[t, : len(tree)] = tree[key]
            return out

        return cls(
            features=tuple(features),
            baseline=float(np.ravel(model._baseline_prediction)[0]),  # type: ignore[attr-defined]
            feature=padded("feature_idx", 0, np.int64),
            threshold=padded("num_threshold", 0.0, np.float64),
            left=padded("left", 0, np.int64),
            right=padded("right", 0, np.int64),
            leaf=padded("is_leaf", True, bool),
            value=padded("value", 0.0, np.float64),
            depth=max(int(tree["depth"].max()) for tree in nodes),
        )

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Boosted:
        """A model read back from ``to_json``."""
        trees: list[dict[str, list]] = data["trees"]  # type: ignore[assignment]

        def stack(key: str, dtype: type) -> np.ndarray:
            return np.asarray([tree[key] for tree in trees], dtype=dtype)

        return cls(
            features=tuple(data["features"]),  # type: ignore[arg-type]
            baseline=float(data["baseline"]),  # type: ignore[arg-type]
            feature=stack("feature", np.int64),
            threshold=stack("threshold", np.float64),
            left=stack("left", np.int64),
            right=stack("right", np.int64),
            leaf=stack("leaf", bool),
            value=stack("value", np.float64),
            depth=int(data["depth"]),  # type: ignore[arg-type]
        )


Model = Reranker | Boosted


def model_from_json(data: dict[str, object]) -> Model:
    """A shipped model of either kind."""
    return Boosted.from_json(data) if data.get("kind") == "boosted" else Reranker.from_json(data)


def load_models(path: Path | None = None) -> dict[str, dict[str, Model]]:
    """Every shipped model: ``{profile: {variant: model}}`` (variants ``hybrid`` and ``lexical``)."""
    data = _read(path) if path is not None else _shipped_data()
    return {
        profile: {variant: model_from_json(model) for variant, model in variants.items()}
        for profile, variants in data["profiles"].items()
    }


def _read(path: Path) -> dict:
    return json.loads(Path(path).read_text())


@lru_cache(maxsize=1)
def _shipped_data() -> dict:
    return json.loads(resources.files("civicpulse.retrieval").joinpath("models", MODEL_FILE).read_text())


@lru_cache(maxsize=8)
def shipped(profile: str, variant: str) -> Model:
    """The shipped model of ``profile`` (e.g. ``claims``, ``passages``) for ``variant``."""
    models = load_models()
    if profile not in models:
        raise ValueError(f"no reranker profile {profile!r}; shipped: {', '.join(sorted(models))}")
    return models[profile][variant]


def shipped_candidates(profile: str, variant: str) -> int:
    """Candidates per retriever the shipped model of ``profile`` was chosen and fitted with."""
    counts = _shipped_data().get("candidates", {}).get(profile, {})
    return int(counts.get(variant, DEFAULT_CANDIDATES))
