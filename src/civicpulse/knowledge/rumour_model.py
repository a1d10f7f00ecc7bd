"""The rumour match model: "does this sentence repeat this claim?" as a calibrated probability.

Two logistic models (``civicpulse.logistic.Logistic``), shipped as JSON (``rumour_model.json``, written
by bench/rumour_thresholds.py):

- ``same_language`` (variants ``hybrid`` and ``lexical``): a candidate of the ``HybridIndex`` in
  the sentence's language, from the e5 cosine and its margins over everyday sentences, coverage
  of the claim's terms and term pairs, and agreement of numbers, with weights of their own for
  Vietnamese sentences (``PER_LANGUAGE``). Fitted on CheckThat! 2020 train and the train half of
  bench/data/rumour_pairs_vi.jsonl (Vietnamese repeats and near misses), each sentence with its
  claim in the base and without it.
- ``cross_language``: a claim in the other language (Vietnamese ↔ English), where BM25 sees
  nothing: the e5 cosine, its margins and agreement of numbers only. Fitted on the translated pairs
  of bench/data/rumour_pairs.jsonl.

No feature depends on the size or the other claims of the base (the index's probability and rank
do: in a base of five claims the first is always "the best"), so one threshold holds for five
claims or ten thousand; the index decides the order, the model only whether. The file also
holds the thresholds chosen by cross-validation on train.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path

from civicpulse.analysis.diacritics import looks_vietnamese
from civicpulse.logistic import Logistic, sigmoid
from civicpulse.retrieval.tokens import numbers, syllables
from civicpulse.textkit.vietnamese import strip_marks

MODEL_FILE = "rumour_model.json"
SAME = "same_language"
CROSS = "cross_language"
SAME_FEATURES = (
    "cosine",
    "claim_margin",
    "query_margin",
    "terms",
    "pairs",
    "numbers_shared",
    "numbers_missing",
)
LEXICAL_FEATURES = ("terms", "pairs", "numbers_shared", "numbers_missing")
PER_LANGUAGE = ("cosine", "claim_margin", "query_margin", "terms", "pairs")
"""Features weighed apart for Vietnamese sentences (``vi_<name>``, with the ``vietnamese`` flag):
e5 places Vietnamese paraphrases closer than English ones, and syllables cover more than words."""
CROSS_FEATURES = ("cosine", "claim_margin", "query_margin", "numbers_shared", "numbers_missing")
_VIETNAMESE_ONLY = re.compile(r"[ăâđêôơưĂÂĐÊÔƠƯ\u1ea0-\u1ef9]")


def language_of(text: str) -> str:
    """``vi`` for a text with letters only Vietnamese uses (ă, đ, ơ, ạ ...) or typed without marks
    ("nghe noi tu thang 7 ..."), else ``en``."""
    return "vi" if _VIETNAMESE_ONLY.search(text) or looks_vietnamese(text) else "en"


def _terms(text: str) -> tuple[set[str], set[str]]:
    runs = [[strip_marks(term) for term in run] for run in syllables(text)]
    return {t for run in runs for t in run}, {f"{a}_{b}" for run in runs for a, b in pairwise(run)}


def coverage(sentence: str, claim: str) -> tuple[float, float]:
    """Shares of the claim's terms and of its neighbouring term pairs that the sentence has (marks
    folded): corpus-free, unlike BM25."""
    said, said_pairs = _terms(sentence)
    terms, pairs = _terms(claim)
    return (
        len(terms & said) / len(terms) if terms else 0.0,
        len(pairs & said_pairs) / len(pairs) if pairs else 0.0,
    )


def number_agreement(sentence: str, claim: str) -> tuple[float, float]:
    """``(shared, missing)``: the share of the claim's numbers the sentence has, and 1 when the
    sentence has numbers and shares none of the claim's."""
    said, stated = numbers(sentence), numbers(claim)
    shared = len(said & stated) / len(stated) if stated else 0.0
    return shared, float(bool(said) and bool(stated) and not said & stated)


def logit(probability: float) -> float:
    """The log-odds of a probability (clipped away from 0 and 1)."""
    p = min(max(probability, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class Candidate:
    """What the model reads of one (sentence, claim) pair; cosines ``None`` without an embedder."""

    probability: float
    rank: int
    cosine: float | None
    claim_margin: float | None
    query_margin: float | None
    terms: float
    pairs: float
    numbers_shared: float
    numbers_missing: float
    vietnamese: bool = False


def feature_rows(candidates: Sequence[Candidate]) -> list[dict[str, float]]:
    """Each candidate's named features; the gaps compare it with the best of the others."""
    rows = []
    for i, candidate in enumerate(candidates):
        others = [c for j, c in enumerate(candidates) if j != i]
        best_p = max((c.probability for c in others), default=0.0)
        cosines = [c.cosine for c in others if c.cosine is not None]
        row = {
            "logit_p": logit(candidate.probability),
            "p_gap": candidate.probability - best_p,
            "rank": 1.0 / (1.0 + candidate.rank),
            "terms": candidate.terms,
            "pairs": candidate.pairs,
            "numbers_shared": candidate.numbers_shared,
            "numbers_missing": candidate.numbers_missing,
        }
        if candidate.cosine is not None:
            row["cosine"] = candidate.cosine
            row["cosine_gap"] = candidate.cosine - max(cosines) if cosines else 0.0
            row["claim_margin"] = candidate.claim_margin or 0.0
            row["query_margin"] = candidate.query_margin or 0.0
        if candidate.vietnamese:
            row |= {"vietnamese": 1.0} | {f"vi_{name}": row[name] for name in PER_LANGUAGE if name in row}
        rows.append(row)
    return rows


def rescale(probability: float, anchors: Sequence[tuple[float, float]]) -> float:
    """``probability`` moved, in log-odds, through the ``(from, to)`` anchor points (a line
    through two or more, a shift with one; none: unchanged)."""
    if not anchors:
        return probability
    points = sorted((logit(a), logit(b)) for a, b in anchors)
    z = logit(probability)
    if len(points) == 1:
        moved = z + points[0][1] - points[0][0]
    else:
        (x0, y0), (x1, y1) = (points[0], points[1]) if z <= points[1][0] else (points[-2], points[-1])
        moved = y0 + (z - x0) * (y1 - y0) / (x1 - x0) if x1 > x0 else z + y0 - x0
    return sigmoid(moved)


@dataclass(frozen=True)
class MatchModels:
    """The shipped models: same-language (``hybrid`` or ``lexical``) and cross-language, whose
    scores are moved onto the same-language scale through ``cross_anchors`` (its thresholds for
    the same precision, calibrated on the translated pairs, onto the same-language ones)."""

    hybrid: Logistic
    lexical: Logistic
    cross: Logistic
    thresholds: Mapping[str, float]
    cross_anchors: tuple[tuple[float, float], ...] = ()

    def same(self, dense: bool) -> Logistic:
        return self.hybrid if dense else self.lexical

    def cross_score(self, row: Mapping[str, float]) -> float:
        """The cross-language probability on the same-language scale."""
        return rescale(self.cross.score(row), self.cross_anchors)


def read_models(path: Path | None = None) -> dict[str, object]:
    """The raw JSON of the shipped model file (or of ``path``)."""
    if path is None:
        raw = resources.files("civicpulse.knowledge").joinpath(MODEL_FILE).read_text(encoding="utf-8")
    else:
        raw = path.read_text(encoding="utf-8")
    return json.loads(raw)


@lru_cache(maxsize=1)
def shipped() -> MatchModels:
    """The models of ``rumour_model.json``."""
    data = read_models()
    same, cross = data[SAME], data[CROSS]
    return MatchModels(
        hybrid=Logistic.from_json(same["hybrid"]),  # type: ignore[index]
        lexical=Logistic.from_json(same["lexical"]),  # type: ignore[index]
        cross=Logistic.from_json(cross["model"]),  # type: ignore[index]
        thresholds=dict(data.get("thresholds", {})),  # type: ignore[arg-type]
        cross_anchors=tuple(tuple(pair) for pair in cross.get("anchors", [])),  # type: ignore[union-attr]
    )
