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
