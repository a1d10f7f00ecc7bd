"""The retrieval core: marks folded, incremental indexing, determinism, batch = single, scores in [0, 1]."""

from __future__ import annotations

from datetime import date

import pytest

from civicpulse.embeddings import BundledEmbedder
from civicpulse.retrieval import Doc, HybridIndex, RetrievalConfig
from civicpulse.retrieval.features import names, recency
from civicpulse.retrieval.tokens import fields, numbers

DOCS = [
    Doc("water", "Công ty cấp nước thông báo tạm ngừng cấp nước tại phường Bến Nghé ngày 12/5."),
    Doc("fee", "Mức phí trông giữ xe máy tại chợ Bến Thành là 5.000 đồng mỗi lượt.", title="Phí gửi xe"),
    Doc("flood", "Quận 7 triển khai phương án chống ngập khi triều cường dâng cao."),
    Doc("vaccine", "The ministry says the vaccine is free for every child under five."),
    Doc("school", "Học sinh tiểu học được miễn học phí từ năm học 2025-2026."),
]


@pytest.fixture(scope="module")
def embedder() -> BundledEmbedder:
    """The bundled e5 (offline)."""
    return BundledEmbedder()


@pytest.fixture(params=["lexical", "hybrid"])
def index(request: pytest.FixtureRequest, embedder: BundledEmbedder) -> HybridIndex:
    """An index of ``DOCS``, BM25 only and with the bundled embedder."""
    built = HybridIndex(embedder if request.param == "hybrid" else None)
    built.add(DOCS)
    return built


def test_unmarked_query_finds_marked_text(index: HybridIndex) -> None:
    assert index.search("tam ngung cap nuoc ben nghe", top=3)[0].id == "water"
    assert index.search("phi giu xe may cho ben thanh", top=3)[0].id == "fee"
    assert index.search("mien hoc phi tieu hoc", top=3)[0].id == "school"


def test_marked_and_english_queries(index: HybridIndex) -> None:
    assert index.search("chống ngập triều cường", top=3)[0].id == "flood"
    assert index.search("is the vaccine free for children?", top=3)[0].id == "vaccine"


def test_add_replaces_and_remove_drops(index: HybridIndex) -> None:
    assert len(index) == len(DOCS)
    index.add([Doc("water", "Lịch cắt điện khu vực Thủ Đức tuần này.")])
    assert len(index) == len(DOCS)
    assert index.search("cat dien thu duc", top=1)[0].id == "water"
    assert "water" not in [hit.id for hit in index.search("tam ngung cap nuoc ben nghe", top=5)][:1]
    index.remove(["water", "no-such-id"])
    assert len(index) == len(DOCS) - 1
    assert all(hit.id != "water" for hit in index.search("cat dien thu duc", top=10))
    index.add([Doc("late", "Tuyến xe buýt số 19 đổi lộ trình từ thứ hai.")])
    assert index.search("xe buyt so 19 doi lo trinh", top=1)[0].id == "late"


def test_same_results_on_repeated_builds_in_any_order(embedder: BundledEmbedder) -> None:
    first, second = HybridIndex(embedder), HybridIndex(embedder)
    first.add(DOCS)
    for doc in reversed(DOCS):
        second.add([doc])
    for query in ("phí gửi xe", "nuoc", "vaccine for children", "học phí năm 2025"):
        assert first.search(query, top=5) == second.search(query, top=5)


def test_search_many_equals_search(index: HybridIndex) -> None:
    queries = ["cap nuoc", "phí gửi xe máy", "flood tide", "học phí"]
    assert index.search_many(queries, top=4) == [index.search(query, top=4) for query in queries]


def test_scores_lie_in_unit_interval_best_first(index: HybridIndex) -> None:
    for query in ("cấp nước", "vaccine", "xe máy 5.000 đồng", "zzz qqq"):
        hits = index.search(query, top=10)
        assert all(0.0 <= hit.score <= 1.0 for hit in hits)
        assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)
        assert len({hit.id for hit in hits}) == len(hits)


def test_blank_query_and_empty_index(embedder: BundledEmbedder) -> None:
    assert HybridIndex(embedder).search("cấp nước") == []
    built = HybridIndex(None)
    built.add(DOCS)
    assert built.search("   ") == []
    assert built.search("cấp nước", top=0) == []


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="no reranker profile"):
        HybridIndex(None, RetrievalConfig(profile="nonsense"))


def test_tokens_fold_marks_and_keep_numbers() -> None:
    tokens = fields("Phường Bến Nghé, ngày 12/5: 5.000 đồng")
    assert "bến_nghé" in tokens.marked and "ben_nghe" in tokens.folded
    assert {"12", "5"} <= set(tokens.marked)
    assert "5.000" in numbers("phí 5.000 đồng") and numbers("13,5 và 13.5") == frozenset({"13.5"})
    assert "ben" not in set(fields("x.\nbến").marked) - {"bến"}


def test_names_skip_sentence_starts_and_recency_halves() -> None:
    assert names("Hôm nay ở Hà Nội mưa. Trời lạnh.") == frozenset({"ha", "noi"})
    assert recency(None, date(2026, 1, 1)) == 0.0
    assert recency(date(2023, 1, 1), date(2026, 1, 1)) == pytest.approx(0.5, abs=0.01)


def test_duplicates_differing_in_quotes_score_the_same_lower_id_first(embedder: BundledEmbedder) -> None:
    built = HybridIndex(embedder)
    built.add(
        [
            Doc("12", "Trump 'crashed' a wedding and 'groped' the bride."),
            Doc("9", 'Trump "crashed" a wedding and "groped" the bride.'),
            Doc("100", "The city bans motorbikes downtown."),
        ]
    )
    first, second = built.search("creepy photos of Trump crashing a wedding", top=2)
    assert (first.id, second.id) == ("9", "12")
    assert first.score == second.score


def test_bm25_scores_equal_those_of_bm25s() -> None:
    import bm25s
    import numpy as np

    from civicpulse.retrieval.bm25 import FieldIndex

    documents = [fields(doc.text).marked for doc in DOCS] + [["cấp", "nước", "cấp", "nước", "nước"], []]
    ours = FieldIndex()
    ours.build(documents)
    vocab: dict[str, int] = {}
    ids = [[vocab.setdefault(term, len(vocab)) for term in doc] for doc in documents]
    theirs = bm25s.BM25(k1=ours.k1, b=ours.b)
    theirs.index(
        bm25s.tokenization.Tokenized(ids=ids, vocab=vocab), create_empty_token=False, show_progress=False
    )
    for query in (["nước", "cấp", "nước"], ["bến_nghé", "unknown"], ["vaccine"], ["nothing"]):
        known = [vocab[term] for term in query if term in vocab]
        expected = theirs.get_scores_from_ids(known) if known else np.zeros(len(documents))
        assert ours.scores(query) == pytest.approx(expected, rel=1e-5, abs=1e-6)
        assert ours.scores(query).shape == (len(documents),)


def test_boosted_reranker_scores_as_scikit_learn_and_round_trips_json() -> None:
    import json

    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from civicpulse.retrieval.features import FEATURES
    from civicpulse.retrieval.rerank import Boosted, model_from_json

    rng = np.random.default_rng(5)
    x = rng.standard_normal((600, len(FEATURES))).astype(np.float32)
    y = (x[:, 5] + 0.5 * x[:, 0] * x[:, 13] + 0.3 * rng.standard_normal(600) > 0.8).astype(int)
    names = ("bm25_marked", "cosine", "query_coverage")
    columns = [FEATURES.index(name) for name in names]
    fitted = HistGradientBoostingClassifier(max_iter=40, max_leaf_nodes=7, random_state=1)
    fitted.fit(x[:, columns].astype(np.float64), y)
    model = Boosted.from_sklearn(fitted, names)
    expected = fitted.predict_proba(x[:, columns].astype(np.float64))[:, 1]
    assert model.score(x) == pytest.approx(expected, abs=1e-5)
    again = model_from_json(json.loads(json.dumps(model.to_json())))
    assert isinstance(again, Boosted)
    assert np.array_equal(again.score(x), model.score(x))
    assert float(model.score(x).min()) >= 0.0 and float(model.score(x).max()) <= 1.0


def test_candidate_features_cover_title_length_and_numbers(embedder: BundledEmbedder) -> None:
    from civicpulse.retrieval.features import COLUMN

    built = HybridIndex(embedder)
    built.add(DOCS)
    rows, matrix = built.candidates("phí gửi xe máy 2025", built.query_vectors(["phí gửi xe máy 2025"])[0])
    ids = built.row_ids()
    by_id = {ids[row]: matrix[i] for i, row in enumerate(rows)}
    fee, school = by_id["fee"], by_id["school"]
    assert fee[COLUMN["title_coverage"]] == pytest.approx(1.0)
    assert school[COLUMN["title_coverage"]] == 0.0
    assert fee[COLUMN["numbers_extra"]] == pytest.approx(1.0)
    assert school[COLUMN["numbers_extra"]] == pytest.approx(0.5)
    assert fee[COLUMN["doc_length"]] > 0 and fee[COLUMN["query_length"]] == school[COLUMN["query_length"]]
    assert 0 < fee[COLUMN["dense_rrf"]] <= 2 / 61


def test_candidates_come_from_the_shipped_profile_unless_set() -> None:
    narrow = HybridIndex(None, RetrievalConfig(profile="claims", candidates=1))
    shipped = HybridIndex(None, RetrievalConfig(profile="claims"))
    for built in (narrow, shipped):
        built.add(DOCS)
    assert len(narrow.search("cấp nước, phí gửi xe", top=5)) == 1
    assert {"water", "fee"} <= {hit.id for hit in shipped.search("cấp nước, phí gửi xe", top=5)}
