"""Rumour matching (SQLite and PostgreSQL): the ``rumours`` hook signals submissions whose sentences
repeat a claim of the base (across Vietnamese and English, above the calibrated "show" threshold)
and none for unrelated ones; the matcher keeps the index's order; the rumour panel counts distinct
people, suppressing groups under k."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civicpulse.domain import SubmissionIn
from civicpulse.insight.base import AnalysedBatch
from civicpulse.knowledge import claims as claim_base
from civicpulse.knowledge.rumour_model import language_of, number_agreement, shipped
from civicpulse.knowledge.rumours import ClaimIndex, RumourMatcher, Thresholds, check_worthy, match_text
from civicpulse.runtime.hooks import analysed_hooks, lazy_embedder
from civicpulse.settings import Settings
from civicpulse.store import claims as stored
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.submissions import accept_submissions
from civicpulse.store.tables import AnnotationRow
from civicpulse.textkit.folding import fold
from tests.conftest import LiveServer, make_settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "official" / "claims.jsonld"
CLAIMS = json.loads(EXAMPLES.read_text(encoding="utf-8"))
MOTORBIKES = CLAIMS[0]["claimReviewed"]  # Vietnamese
LEMON = CLAIMS[1]["claimReviewed"]  # Vietnamese
LAND = CLAIMS[2]["claimReviewed"]  # Vietnamese: farmland by the river taken for an industrial zone
ARSENIC = CLAIMS[4]["claimReviewed"]  # English


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


DEMO = read_jsonl(EXAMPLES.parents[1] / "vietnamese_submissions.jsonl")
DEMO_RUMOURS = {
    row["source_id"]: row["text"] for row in read_jsonl(EXAMPLES.parents[1] / "rumour_submissions.jsonl")
}


def load_claims(db: Database) -> dict[str, int]:
    with db.write() as session:
        claim_base.import_many(session, CLAIMS, actor="test")
        return {row.claim_reviewed: row.id for row in stored.list_claims(session)}


def analysed(db: Database, settings: Settings, texts: list[str], province: str | None = None) -> list[int]:
    """Submissions stored with the ``pii`` stage's redacted text (here the text itself)."""
    cipher = ContactCipher(settings.fernet_key)
    with db.write() as session:
        accepted = accept_submissions(session, [SubmissionIn(text=text) for text in texts], cipher)
        for item, text in zip(accepted, texts, strict=True):
            session.add(AnnotationRow(submission_id=item.id, stage="pii", data={"redacted_text": text}))
            if province:
                session.add(
                    AnnotationRow(
                        submission_id=item.id, stage="places", data={"province": {"code": province}}
                    )
                )
    return [item.id for item in accepted]


def run_hook(db: Database, hook: RumourMatcher, ids: list[int]) -> None:
    with db.write() as session:
        hook.on_analysed(session, AnalysedBatch(tuple(ids), frozenset({"pii"})))


def rumour_hook(settings: Settings) -> RumourMatcher:
    """The ``rumours`` hook with the runtime's embedder."""
    matcher = RumourMatcher(settings)
    matcher.use_embedder(lazy_embedder(settings))
    return matcher


@pytest.fixture
def hook(settings: Settings) -> RumourMatcher:
    return rumour_hook(settings)


def signals(db: Database, submission_id: int) -> list[tuple[int, str]]:
    with db.read() as session:
        return [(row.claim_id, row.level) for row in stored.signals_of(session, submission_id)]


def test_check_worthy_sentences_have_a_claims_shape() -> None:
    text = "Cảm ơn. Nghe nói từ tháng 7 xe máy cũ sẽ bị cấm. Đường này đẹp quá đi mất thôi."
    kept = [text[s:e] for s, e in check_worthy(text)]
    assert kept == ["Nghe nói từ tháng 7 xe máy cũ sẽ bị cấm."]
    unmarked = "Cam on. nghe noi tu thang sau xe may cu bi cam. Duong nay dep qua di mat thoi."
    assert [unmarked[s:e] for s, e in check_worthy(unmarked)] == ["nghe noi tu thang sau xe may cu bi cam."]
    english = "Is it true that tap water has arsenic in it? Thanks a lot."
    assert [english[s:e] for s, e in check_worthy(english)] == [
        "Is it true that tap water has arsenic in it?"
    ]


def test_the_runtime_hands_the_rumour_hook_an_embedder(settings: Settings) -> None:
    [matcher] = [hook for hook in analysed_hooks(settings) if hook.name == "rumours"]
    assert isinstance(matcher, RumourMatcher) and matcher.provide is not None


def test_a_repeated_claim_is_signalled_and_an_unrelated_submission_is_not(
    db: Database, hook: RumourMatcher
) -> None:
    ids = load_claims(db)
    rumour, unrelated = analysed(
        db,
        hook.settings,
        [
            "Nghe nói từ 1/7 xe máy đăng ký hơn 10 năm sẽ bị cấm chạy trong nội thành. Bán xe à?",
            "Đường Lê Thánh Tông có nhiều ổ gà sâu, tuần trước có 2 người đi xe máy bị ngã, đề nghị sửa sớm.",
        ],
    )
    run_hook(db, hook, [rumour, unrelated])
    found = signals(db, rumour)
    assert found and found[0][0] == ids[MOTORBIKES]
    assert signals(db, unrelated) == []
    with db.read() as session:
        [signal] = [s for s in stored.signals_of(session, rumour) if s.claim_id == ids[MOTORBIKES]]
        text = "Nghe nói từ 1/7 xe máy đăng ký hơn 10 năm sẽ bị cấm chạy trong nội thành."
        assert (signal.start, signal.end) == (0, len(text))

    run_hook(db, hook, [rumour])  # analysed again: still one signal per submission and claim
    assert len(signals(db, rumour)) == len(found)


def best_claim(
    db: Database, hook: RumourMatcher, text: str
) -> tuple[dict[str, int], list[tuple[int, float]]]:
    ids = load_claims(db)
    index = hook.index()
    with db.read() as session:
        index.sync(session)
    [found] = index.best([text])
    return ids, found


def test_a_vietnamese_fact_check_is_the_best_match_of_an_english_rumour_and_is_shown(
    db: Database, hook: RumourMatcher
) -> None:
    english = "My neighbour says that from July motorbikes registered more than 10 years ago will be banned."
    ids, found = best_claim(db, hook, english)
    assert found[0][0] == ids[MOTORBIKES] and found[0][1] > found[1][1]
    assert found[0][1] >= hook.settings.rumour_show_threshold


def test_an_english_fact_check_is_the_best_match_of_a_vietnamese_rumour_and_is_shown(
    db: Database, hook: RumourMatcher
) -> None:
    ids, found = best_claim(db, hook, "Nước máy thành phố có thạch tín, uống vào không an toàn.")
    assert found[0][0] == ids[ARSENIC]
    assert found[0][1] >= hook.settings.rumour_show_threshold


def test_an_unrelated_sentence_in_the_other_language_is_not_shown(db: Database, hook: RumourMatcher) -> None:
    _, found = best_claim(db, hook, "The streetlight outside number 12 has been broken for two months.")
    assert all(score < hook.settings.rumour_show_threshold for _, score in found)


def test_the_matcher_keeps_the_index_order_of_same_language_candidates(
    db: Database, hook: RumourMatcher
) -> None:
    load_claims(db)
    index = hook.index()
    with db.read() as session:
        index.sync(session)
    queries = [
        "Nghe nói từ 1/7 xe máy cũ sẽ bị cấm chạy trong nội thành.",
        "Có phải nước máy có thạch tín không?",
        "Is it true that tap water has arsenic in it?",
    ]
    for query, ranked in zip(queries, index.best(queries), strict=True):
        language = language_of(query)
        same = [cid for cid, _ in ranked if index.languages[cid] == language]
        hits = [int(hit.id) for hit in index.index.search(query, index.candidates)]
        assert same == [cid for cid in hits if index.languages[cid] == language]
        scores = [score for _, score in ranked]
        assert scores == sorted(scores, reverse=True) and all(0.0 <= x <= 1.0 for x in scores)


def test_the_default_thresholds_are_those_calibrated_with_the_shipped_model() -> None:
    calibrated = shipped().thresholds
    defaults = Settings.model_fields
    assert defaults["rumour_show_threshold"].default == calibrated["show"]
    assert defaults["rumour_certain_threshold"].default == calibrated["certain"]
    assert 0.0 < calibrated["show"] < calibrated["certain"] <= 1.0


@pytest.mark.parametrize(
    ("sentence", "claim", "expected"),
    [
        ("Phạt 10 triệu đồng nếu không đội mũ", "fined 10 million dong", (1.0, 0.0)),
        ("Phạt 5 triệu đồng", "fined 10 million dong", (0.0, 1.0)),
        ("Phạt nặng lắm", "fined 10 million dong", (0.0, 0.0)),
    ],
)
def test_numbers_agree_across_languages(sentence: str, claim: str, expected: tuple[float, float]) -> None:
    assert number_agreement(sentence, claim) == expected


def test_the_language_is_told_by_letters_only_vietnamese_uses() -> None:
    assert language_of("Nước máy có thạch tín") == "vi"
    assert language_of("The café near the école is closed") == "en"


def test_vietnamese_typed_without_marks_is_vietnamese() -> None:
    assert language_of("nghe noi tu thang 7 xe may cu se bi cam chay trong noi thanh") == "vi"
    assert language_of("Chung toi, nguoi dan xa Phu Lang, kien quyet phan doi viec dat nha may") == "vi"
    assert language_of("I heard that old motorbikes will be banned from the city centre") == "en"


def test_without_claims_or_with_matching_off_nothing_is_signalled(db: Database, settings: Settings) -> None:
    [rumour] = analysed(
        db, settings, ["Nghe nói từ 1/7 xe máy đăng ký hơn 10 năm sẽ bị cấm chạy trong nội thành."]
    )
    matcher = RumourMatcher(settings)  # no embedder: lexical matching
    run_hook(db, matcher, [rumour])
    assert signals(db, rumour) == []
    load_claims(db)
    off = RumourMatcher(settings.model_copy(update={"rumour_matching": False}))
    run_hook(db, off, [rumour])
    assert signals(db, rumour) == []


def test_the_panel_counts_distinct_people_and_suppresses_groups_under_k(
    live_server: LiveServer, hook: RumourMatcher
) -> None:
    db = live_server.db
    ids = load_claims(db)
    repeat = "Nghe nói từ 1/7 xe máy đăng ký hơn 10 năm sẽ bị cấm lưu thông trong nội thành, lần {}."
    first = analysed(db, live_server.settings, [repeat.format(n) for n in range(3)], province="87")
    run_hook(db, hook, first)
    with live_server.client() as admin:
        body = admin.get("/api/v1/rumours").json()
    assert body["k_anonymity"] == 5
    [row] = [item for item in body["items"] if item["claim_id"] == ids[MOTORBIKES]]
    assert (row["people"], row["suppressed"], row["submissions"]) == (None, True, 3)
    assert row["provinces"] == [{"province": "87", "people": None, "suppressed": True}]
    assert all(day["suppressed"] for day in row["trend"])

    more = analysed(db, live_server.settings, [repeat.format(n) for n in range(3, 5)], province="87")
    run_hook(db, hook, more)
    with live_server.client() as admin:
        [row] = [i for i in admin.get("/api/v1/rumours").json()["items"] if i["claim_id"] == ids[MOTORBIKES]]
        page = admin.get("/rumours")
    assert (row["people"], row["suppressed"], row["submissions"]) == (5, False, 5)
    assert row["provinces"] == [{"province": "87", "people": 5, "suppressed": False}]
    assert row["trend"][-1] == {"day": row["trend"][-1]["day"], "people": 5, "suppressed": False}
    assert page.status_code == 200 and MOTORBIKES in page.text


def phu_lang_petitions() -> list[str]:
    """Every copy of the demo's coordinated petition from xã Phù Lãng against a waste plant on the
    banks of the Cầu river (with and without marks): a protest, not a repeat of the land claim."""
    return [
        row["text"]
        for row in DEMO
        if (row["locality"] or "").startswith("Xã Phù Lãng") and "ven song cau" in fold(row["text"])
    ]


@pytest.fixture(scope="module")
def demo_base() -> ClaimIndex:
    """The demo's fact-checks as a claim base, with the configured embedder."""
    index = ClaimIndex(lazy_embedder(make_settings("sqlite://"))())
    index.add([(i, claim["claimReviewed"], None) for i, claim in enumerate(CLAIMS)])
    return index


DEFAULTS = Thresholds.from_settings(make_settings("sqlite://"))


def test_the_demo_petition_from_phu_lang_is_not_a_rumour(demo_base: ClaimIndex) -> None:
    petitions = phu_lang_petitions()
    assert len(petitions) >= 30 and any(text.isascii() for text in petitions)
    found = [
        (match.level, text[match.start : match.end])
        for text in petitions
        for match in match_text(demo_base, text, DEFAULTS)
    ]
    assert found == []


@pytest.mark.parametrize(
    ("text", "claim"),
    [
        (DEMO_RUMOURS["demo-rumour-0001"], MOTORBIKES),
        (DEMO_RUMOURS["demo-rumour-0002"], MOTORBIKES),
        (DEMO_RUMOURS["demo-rumour-0003"], LEMON),
        (DEMO_RUMOURS["demo-rumour-0004"], LAND),
        (next(row["text"] for row in DEMO if "thu hoi toan bo dat nong nghiep" in fold(row["text"])), LAND),
        ("uong nuoc chanh nong moi sang chua khoi sot xuat huyet ko can di kham that ko moi nguoi", LEMON),
        ("nghe noi tu 1/7 xe may dang ky tren 10 nam bi cam luu thong trong noi thanh", MOTORBIKES),
    ],
)
def test_vietnamese_repeats_are_still_matched(demo_base: ClaimIndex, text: str, claim: str) -> None:
    [best, *_] = match_text(demo_base, text, DEFAULTS)
    assert demo_base.texts[best.claim_id] == claim


def test_the_hook_signals_a_repeat_but_not_a_petition_on_its_topic(db: Database, hook: RumourMatcher) -> None:
    ids = load_claims(db)
    petition = phu_lang_petitions()[0]
    rumour = "Nghe nói tỉnh sắp thu hồi toàn bộ đất nông nghiệp ven sông để xây khu công nghiệp."
    petition_id, rumour_id = analysed(db, hook.settings, [petition, rumour])
    run_hook(db, hook, [petition_id, rumour_id])
    assert signals(db, petition_id) == []
    assert [claim for claim, _ in signals(db, rumour_id)][:1] == [ids[LAND]]
