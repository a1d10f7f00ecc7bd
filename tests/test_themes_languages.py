"""Themes of a mixed-language slice follow what people say, not the language they say it in: two
languages x two topics give two topic themes, each holding both languages (real bundled-model
vectors; the language comes from the item, or from the stored language stage)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from sklearn.metrics import adjusted_rand_score

from civicpulse.domain import SubmissionIn
from civicpulse.embeddings import BundledEmbedder
from civicpulse.insight.themes import ThemeItem, assign_to_themes, discover_themes
from civicpulse.insight.themes.service import ThemeSlice, themes_view
from civicpulse.insight.themes.slices import load_slice
from civicpulse.intake.service import accept
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database

VI_FLOOD = [
    "Đường trước nhà tôi ngập sâu sau mỗi trận mưa lớn.",
    "Mưa nửa tiếng là cả khu phố ngập nước đến đầu gối.",
    "Cống thoát nước bị tắc nên con hẻm ngập suốt ba ngày.",
    "Nước mưa tràn vào nhà dân vì hệ thống thoát nước quá kém.",
    "Đề nghị nạo vét cống để đường không còn ngập khi mưa.",
    "Triều cường và mưa lớn làm ngập nặng các tuyến đường.",
    "Xe máy chết máy giữa đường ngập sau cơn mưa chiều qua.",
    "Khu chợ ngập nước mỗi mùa mưa, người dân rất khổ.",
    "Mưa to kéo dài khiến nhiều nhà bị ngập, cần xử lý thoát nước.",
    "Đường ngập như sông sau trận mưa, cống không tiêu kịp.",
]
VI_WASTE = [
    "Rác thải chất đống ở đầu hẻm nhiều ngày không ai thu gom.",
    "Xe thu gom rác không đến, rác bốc mùi hôi thối khắp nơi.",
    "Người dân đổ rác bừa bãi ra vỉa hè gây ô nhiễm.",
    "Bãi rác tự phát cạnh trường học bốc mùi rất khó chịu.",
    "Đề nghị tăng số lần thu gom rác ở khu chợ.",
    "Thùng rác công cộng đầy tràn mà không được dọn.",
    "Rác xây dựng bị đổ trộm ven đường vào ban đêm.",
    "Điểm tập kết rác trước nhà tôi có ruồi nhặng và mùi hôi.",
    "Rác sinh hoạt ùn ứ nhiều ngày, đề nghị công ty môi trường thu gom.",
    "Túi rác vứt khắp lối đi trong công viên, không ai dọn dẹp.",
]
EN_FLOOD = [
    "Our basement took in water again during Tuesday's storm.",
    "Flash flooding on Elm Avenue left cars stranded for hours.",
    "Every spring the creek overflows and the park becomes a lake.",
    "The underpass fills with rainwater and buses cannot get through.",
    "Sandbags ran out before the river crested near the bridge.",
    "Standing water after rainstorms is damaging the foundations on our street.",
    "The culvert under Mill Road is too small and the road floods.",
    "When it pours, water rushes down the hill straight into our garage.",
    "After the downpour the school parking lot was under a foot of water.",
    "Residents near the bayou need better flood protection and pumps.",
]
EN_WASTE = [
    "Nobody picked up the recycling bins on our street this week.",
    "Litter along the highway exit is getting worse every month.",
    "The dumpster behind the restaurant overflows and attracts rats.",
    "Someone left an old mattress and tires on the corner lot.",
    "Trash collection was skipped twice and the bags are ripping open.",
    "Plastic bottles and food wrappers cover the beach after weekends.",
    "The landfill smell reaches our neighbourhood on warm days.",
    "Please add more litter bins downtown; people throw wrappers on the ground.",
    "Bulk waste pickup takes weeks and junk piles up on the curb.",
    "The alley behind the shops is full of garbage bags and broken boxes.",
]


CELLS = [
    ("vi", "flood", VI_FLOOD),
    ("vi", "waste", VI_WASTE),
    ("en", "flood", EN_FLOOD),
    ("en", "waste", EN_WASTE),
]
TEXTS = [text for _, _, texts in CELLS for text in texts]
LANGUAGES = [language for language, _, texts in CELLS for _ in texts]
TOPICS = [topic for _, topic, texts in CELLS for _ in texts]


@lru_cache(maxsize=1)
def _vectors() -> np.ndarray:
    return BundledEmbedder().embed_passages(TEXTS)


def _assert_topic_themes(labels: list[int], languages: list[str | None], topics: list[str]) -> None:
    assert adjusted_rand_score(topics, labels) >= 0.8
    assert adjusted_rand_score(languages, labels) <= 0.1
    for theme in set(labels) - {-1}:
        members = [i for i, label in enumerate(labels) if label == theme]
        assert {languages[i] for i in members} == {"vi", "en"}, f"theme {theme} speaks one language"


def test_two_languages_two_topics_give_topic_themes() -> None:
    items = [
        ThemeItem(id=10 + n, text=text, language=language)
        for n, (text, language) in enumerate(zip(TEXTS, LANGUAGES, strict=True))
    ]
    found = discover_themes(items, _vectors(), describe=False)
    labels = found.clustering.labels.tolist()
    _assert_topic_themes(labels, list(LANGUAGES), TOPICS)
    assert found.unassigned_share == 0.0

    # new submissions, whose language the stored space does not know, join their topic's theme
    flood_theme = labels[TOPICS.index("flood")]
    new = BundledEmbedder().embed_passages(
        [
            "Heavy rain flooded the street outside our building again.",
            "Rác thải ùn ứ trước cổng chợ nhiều ngày.",
        ]
    )
    flood_new, waste_new = assign_to_themes(found.clustering, new).tolist()
    assert flood_new == flood_theme and waste_new not in (flood_theme, -1)


def test_the_stored_language_reaches_theming(settings: Settings, db: Database) -> None:
    cipher = ContactCipher(settings.fernet_key)
    accepted = accept(db, cipher, [SubmissionIn(text=text) for text in TEXTS], actor="test", client=None)
    topic_of = {a.id: topic for a, topic in zip(accepted, TOPICS, strict=True)}
    staged = settings.model_copy(update={"stages": ["language", "normalize", "pii", "embed"]})
    assert Worker(db, build_pipeline(staged, db), staged).drain() == len(TEXTS)
    with db.read() as session:
        items, _, _, _ = load_slice(session, ThemeSlice())
        view = themes_view(session, ThemeSlice(), k_anonymity=1)
    expected = {a.id: language for a, language in zip(accepted, LANGUAGES, strict=True)}
    assert {item.id: item.language for item in items} == expected
    theme_of = {sid: theme.id for theme in view.themes for sid in theme.member_ids}
    ids = sorted(topic_of)
    _assert_topic_themes(
        [theme_of.get(i, -1) for i in ids], [expected[i] for i in ids], [topic_of[i] for i in ids]
    )


def test_words_join_the_vectors_and_centroids_stay_in_the_vector_space() -> None:
    """Themes come from embeddings plus words: vectors without structure, texts of two vocabularies
    give themes that each hold one topic; new vectors are still assigned from the vectors alone."""
    from sklearn.metrics import homogeneity_score

    from civicpulse.insight.themes.cluster import cluster

    rng = np.random.default_rng(5)
    pools = {
        "flood": ["mưa", "ngập", "cống", "nước", "triều", "đường", "hẻm", "thoát"],
        "waste": ["rác", "thu", "gom", "thùng", "bãi", "mùi", "đổ", "vỉa", "dọn"],
    }
    topics = [("flood", "waste")[i % 2] for i in range(300)]
    texts = [" ".join(rng.choice(pools[topic], size=6)) for topic in topics]
    vectors = rng.standard_normal((300, 384)).astype(np.float32)
    ids = np.arange(300)
    with_words = cluster(vectors, ids, texts=texts)
    assert homogeneity_score(topics, with_words.labels) >= 0.9
    assert homogeneity_score(topics, cluster(vectors, ids).labels) <= 0.2
    assert with_words.centroids.shape[1] == with_words.project(vectors[:3]).shape[1]
    assert (assign_to_themes(with_words, vectors[:3], threshold=-1.0) >= 0).all()
