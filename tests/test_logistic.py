"""The one logistic model type: every shipped model reads back unchanged and scores real feature rows,
built the way its user builds them, as the plain formula on the JSON file says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import civicpulse
from civicpulse.analysis.urgency_model import packaged_model, piece_counts
from civicpulse.embeddings import BundledEmbedder
from civicpulse.knowledge.answer_confidence import ConfidenceModel, signals
from civicpulse.knowledge.answer_confidence import shipped as shipped_confidence
from civicpulse.knowledge.rumour_model import shipped as shipped_rumour
from civicpulse.knowledge.rumours import ClaimIndex
from civicpulse.logistic import Logistic, feature_matrix, sigmoid
from civicpulse.retrieval import Doc, HybridIndex, RetrievalConfig
from civicpulse.retrieval.features import COLUMN
from civicpulse.retrieval.rerank import Reranker, shipped
from tests.test_ask import OFF_TOPIC, QUESTION, sources
from tests.test_retrieval import DOCS as RETRIEVAL_DOCS

PACKAGE = Path(civicpulse.__file__).parent
EXAMPLES = PACKAGE.parents[1] / "examples"
RERANKER = json.loads((PACKAGE / "retrieval" / "models" / "reranker.json").read_text(encoding="utf-8"))
CONFIDENCE = json.loads((PACKAGE / "knowledge" / "answer_confidence.json").read_text(encoding="utf-8"))
RUMOUR = json.loads((PACKAGE / "knowledge" / "rumour_model.json").read_text(encoding="utf-8"))
URGENCY = json.loads((PACKAGE / "data" / "urgency_model.json").read_text(encoding="utf-8"))
PROFILES = [(profile, variant) for profile, variants in RERANKER["profiles"].items() for variant in variants]
DOCS = [*RETRIEVAL_DOCS, Doc("bus", "Tuyến xe buýt số 19 đổi lộ trình từ thứ hai, 12/5.", title="Thông báo")]
QUERIES = ["phi giu xe may cho ben thanh", "chống ngập triều cường quận 7", "is the vaccine free?", "12/5"]


def by_formula(model: dict, x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-(((x - mean) / scale) @ coef + intercept)))`` straight from the JSON values."""
    mean, scale, coef = (np.asarray(model[key], dtype=np.float64) for key in ("mean", "scale", "coef"))
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ coef + model["intercept"])))


def named(rows: list[dict[str, float]], model: dict) -> np.ndarray:
    return np.array([[row.get(name, 0.0) for name in model["features"]] for row in rows], dtype=np.float64)


@pytest.fixture(scope="module")
def embedder() -> BundledEmbedder:
    """The bundled e5 (offline)."""
    return BundledEmbedder()


def test_every_shipped_model_reads_back_unchanged() -> None:
    for profile, variant in PROFILES:
        model = RERANKER["profiles"][profile][variant]
        assert Reranker.from_json(model).to_json() == model
        assert shipped(profile, variant).to_json() == model
    assert ConfidenceModel.from_json(CONFIDENCE).to_json() == CONFIDENCE
    assert shipped_confidence().to_json() == CONFIDENCE
    for model in (*RUMOUR["same_language"].values(), RUMOUR["cross_language"]["model"]):
        assert Logistic.from_json(model).to_json() == model
        assert Logistic.from_json(model).to_json(6) == model


@pytest.mark.parametrize(("profile", "variant"), PROFILES)
def test_the_reranker_scores_real_candidates_as_the_formula(
    profile: str, variant: str, embedder: BundledEmbedder
) -> None:
    index = HybridIndex(embedder if variant == "hybrid" else None, RetrievalConfig(profile=profile))
    index.add(DOCS)
    model = RERANKER["profiles"][profile][variant]
    vectors = index.query_vectors(QUERIES)
    seen: list[float] = []
    for number, query in enumerate(QUERIES):
        rows, matrix = index.candidates(query, None if vectors is None else vectors[number])
        assert rows.size and matrix.dtype == np.float32
        expected = by_formula(
            model, matrix[:, [COLUMN[name] for name in model["features"]]].astype(np.float64)
        )
        assert np.all((expected > 0.0) & (expected < 1.0))
        seen += list(expected)
        assert shipped(profile, variant).score(matrix) == pytest.approx(expected, rel=1e-5, abs=1e-6)
        hits = index.search(query, top=len(DOCS))
        ids = index.row_ids()
        by_id = {ids[row]: value for row, value in zip(rows, expected, strict=True)}
        assert [hit.score for hit in hits] == pytest.approx([by_id[hit.id] for hit in hits], abs=2e-6)
    assert len(seen) > len(QUERIES) and np.ptp(seen) > 0.1


def test_the_answer_confidence_scores_real_signals_as_the_formula() -> None:
    found, stats = sources()
    rows = [
        signals(question, passages, stats)
        for question in (QUESTION, OFF_TOPIC, "Hộ nghèo được hỗ trợ gì?", "tiền điện")
        for passages in (found, found[::-1], found[1:])
    ]
    expected = by_formula(CONFIDENCE, named(rows, CONFIDENCE))
    assert np.ptp(expected) > 0.1
    model = shipped_confidence()
    assert [model.probability(row) for row in rows] == pytest.approx(list(expected), rel=1e-12, abs=1e-15)
    assert model.threshold == CONFIDENCE["threshold"]


def claim_index(embedder: BundledEmbedder | None) -> ClaimIndex:
    claims = json.loads((EXAMPLES / "official" / "claims.jsonld").read_text(encoding="utf-8"))
    index = ClaimIndex(embedder)
    index.add([(number, claim["claimReviewed"], None) for number, claim in enumerate(claims, start=1)])
    return index


def rumour_queries() -> list[str]:
    lines = (EXAMPLES / "rumour_submissions.jsonl").read_text(encoding="utf-8").splitlines()
    said = [json.loads(line)["text"] for line in lines if line.strip()][:8]
    return [*said, "They say arsenic was found in the tap water of the district", "nghe noi xe may cu bi cam"]


@pytest.mark.parametrize("dense", [True, False], ids=["hybrid", "lexical"])
def test_the_rumour_models_score_real_candidates_as_the_formula(
    dense: bool, embedder: BundledEmbedder
) -> None:
    index = claim_index(embedder if dense else None)
    candidates = [c for found in index.scored(rumour_queries()) for c in found]
    models = shipped_rumour()
    for cross, model, scorer in (
        (False, RUMOUR["same_language"]["hybrid" if dense else "lexical"], models.same(dense)),
        (True, RUMOUR["cross_language"]["model"], models.cross),
    ):
        rows = [c.features for c in candidates if c.cross == cross]
        assert len(rows) >= (2 if cross else 5) or (cross and not dense)  # cross by cosine needs vectors
        if not rows:
            continue
        expected = by_formula(model, named(rows, model))
        assert np.ptp(expected) > 0.0
        assert [scorer.score(row) for row in rows] == pytest.approx(list(expected), rel=1e-12, abs=1e-15)
        assert scorer.scores(scorer.matrix(rows)) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_the_urgency_models_score_real_texts_as_the_formula(embedder: BundledEmbedder) -> None:
    texts = [
        "Since we reported the loan sharks someone threw paint at our door and left a note",
        "Tường nhà bị sạt lở đến tận móng, gia đình rất lo",
        "please repaint the zebra crossing",
        "Đèn đường ở hẻm 12 bị hỏng mấy hôm nay",
    ]
    model = packaged_model()
    assert model.vectors is not None
    vectors = embedder.embed_passages(texts).astype(np.float64)  # as the embed stage stores them
    coef = np.asarray(URGENCY["vectors"]["coef"], dtype=np.float64)
    expected = 1.0 / (1.0 + np.exp(-(vectors @ coef + URGENCY["vectors"]["intercept"])))
    assert [model.vectors.probability(v.tolist()) for v in vectors] == pytest.approx(
        list(expected), rel=1e-12
    )
    assert np.ptp(expected) > 0.1
    pieces = URGENCY["pieces"]["pieces"]
    for text in texts:
        found = {p: c for p, c in piece_counts(text).items() if p in pieces}
        weights = np.array([(1.0 + np.log(c)) * pieces[p][0] for p, c in found.items()])
        coefs = np.array([pieces[p][1] for p in found])
        logit = URGENCY["pieces"]["intercept"] + weights @ coefs / (np.linalg.norm(weights) or 1.0)
        assert model.pieces.probability(text) == pytest.approx(1.0 / (1.0 + np.exp(-logit)), rel=1e-12)


def test_rows_and_matrices_score_alike_and_a_missing_feature_reads_as_zero() -> None:
    model = Logistic(("a", "b"), [1.0, -2.0], [2.0, 0.5], [0.7, -1.3], 0.25)
    rows = [{"a": 3.0, "b": -1.0}, {"a": 1.0}, {"b": 0.0, "a": 1.0, "unused": 9.0}, {}]
    matrix = feature_matrix(rows, model.features)
    assert matrix.tolist() == [[3.0, -1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]
    expected = by_formula(model.to_json(), matrix)
    assert model.scores(matrix) == pytest.approx(expected, rel=1e-12)
    assert [model.score(row) for row in rows] == pytest.approx(list(expected), rel=1e-12)
    assert model.score(rows[1]) == model.score(rows[2])
    assert model.scores(matrix.astype(np.float32)).dtype == np.float32
    assert model.scores(matrix.astype(np.float32)) == pytest.approx(expected, rel=1e-6)
    assert feature_matrix([], model.features).shape == (0, 2) and model.scores(model.matrix([])).shape == (0,)


def test_json_numbers_round_only_when_asked_and_a_misshapen_model_is_refused() -> None:
    model = Logistic(("a",), np.array([0.123456789]), (1.0,), [2.000000049], -0.5)
    assert model.to_json()["mean"] == [0.123456789]
    assert model.to_json(6) == {
        "features": ["a"],
        "mean": [0.123457],
        "scale": [1.0],
        "coef": [2.0],
        "intercept": -0.5,
    }
    with pytest.raises(ValueError, match="coef"):
        Logistic.from_json(
            {"features": ["a", "b"], "mean": [0, 0], "scale": [1, 1], "coef": [1], "intercept": 0}
        )


def test_one_sigmoid_for_numbers_and_arrays_without_overflow() -> None:
    logits = np.array([-1000.0, -3.0, 0.0, 2.5, 1000.0])
    as_array = sigmoid(logits)
    assert [sigmoid(float(z)) for z in logits] == pytest.approx(list(as_array), rel=1e-15)
    assert sigmoid(0.0) == 0.5 and 0.0 < sigmoid(-1000.0) < 1e-17 and sigmoid(1000.0) == 1.0
    assert sigmoid(logits.astype(np.float32)).dtype == np.float32
