"""How sure an answer is: a logistic model over what the best passages have of the question.

The signals are shares of the question found in the passages, so they mean the same in a library of
ten passages or ten thousand: how much of the question's weight (rare terms weigh most) the best
passage with its document's title covers, the passage alone, the title alone (the law or body the
question names), the best three passages together, the share of its rarest terms the best passage
has, and the question's length (a long question is covered less). Nothing that describes the library
as a whole (how much of the question it has never seen) or the retrieval model (its score and
margin) is used: on ALQAC those tell one law corpus from the other, not an answer from none
(bench/ask.py). The model and its threshold are fitted on ALQAC train by bench/ask.py
(``--write-model``) and shipped as ``answer_confidence.json``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from civicpulse.knowledge.library import TermStats, terms
from civicpulse.logistic import Logistic

if TYPE_CHECKING:
    from civicpulse.knowledge.ask import Source

MODEL_FILE = "answer_confidence.json"
SIGNALS = (
    "coverage",
    "body_coverage",
    "title_coverage",
    "rare_found",
    "top3_coverage",
    "length",
)
RARE_SHARE = 1 / 3


def _share(weights: dict[str, float], found: set[str]) -> float:
    total = sum(weights.values())
    return sum(w for term, w in weights.items() if term in found) / total if total else 0.0


def signals(question: str, sources: Sequence[Source], stats: TermStats) -> dict[str, float]:
    """Every signal of ``SIGNALS`` for the question and its retrieved passages, best first."""
    asked = terms(question)
    weights = {term: stats.idf(term) for term in sorted(asked)}  # sorted: sums alike in every process
    out = dict.fromkeys(SIGNALS, 0.0)
    out["length"] = math.log1p(len(asked))
    if not sources or not asked:
        return out
    best = sources[0]
    context = terms(best.context())
    rare = sorted(asked, key=lambda term: (-weights[term], term))[: max(1, round(len(asked) * RARE_SHARE))]
    top3 = set().union(*(terms(source.context()) for source in sources[:3]))
    out |= {
        "coverage": _share(weights, context),
        "body_coverage": _share(weights, terms(best.text)),
        "title_coverage": _share(weights, terms(best.title)),
        "rare_found": sum(term in context for term in rare) / len(rare),
        "top3_coverage": _share(weights, top3),
    }
    return out


@dataclass(frozen=True)
class ConfidenceModel:
    """A fitted logistic model over some of ``SIGNALS`` and the least probability to answer."""

    model: Logistic
    threshold: float

    @property
    def features(self) -> tuple[str, ...]:
        """The signals the model reads."""
        return self.model.features

    def probability(self, found: dict[str, float]) -> float:
        """The model's probability that the passages answer the question."""
        return self.model.score(found)

    def to_json(self) -> dict[str, object]:
        """The model as plain JSON values."""
        return self.model.to_json() | {"threshold": float(self.threshold)}

    @classmethod
    def from_json(cls, data: dict) -> ConfidenceModel:
        """A model read back from ``to_json``."""
        return cls(Logistic.from_json(data), float(data["threshold"]))


def model_path() -> Path:
    """Where the shipped model lies in the source tree (bench/ask.py writes it there)."""
    return Path(str(resources.files("civicpulse.knowledge").joinpath(MODEL_FILE)))


@lru_cache(maxsize=1)
def shipped() -> ConfidenceModel:
    """The shipped model."""
    return ConfidenceModel.from_json(json.loads(model_path().read_text(encoding="utf-8")))
