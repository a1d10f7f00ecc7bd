"""Urgency: reasons by category, score bands, suggested deadlines, text without diacritics."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.features import tokens
from civicpulse.analysis.urgency import InvalidUrgencyRules, UrgencyStage, add_days, lift, load_rules
from civicpulse.analysis.urgency_model import (
    LearnedUrgency,
    Use,
    fit,
    fit_vectors,
    load_model,
    packaged_model,
)
from civicpulse.annotations import EmbedOut, UrgencyOut
from civicpulse.embeddings import BundledEmbedder
from civicpulse.settings import Settings

FRIDAY = dt.date(2025, 3, 7)
LEARNED_CATCH = "Since we reported the loan sharks someone threw paint at our door and left a note"


@pytest.fixture
def stage() -> UrgencyStage:
    return UrgencyStage(Settings(), today=lambda: FRIDAY)


def codes(output: UrgencyOut) -> list[str]:
    return [r.code for r in output.reason]


def test_danger_to_life_with_children_is_due_next_day(stage):
    out = stage.assess("Cột điện nghiêng sắp đổ, dây điện rơi xuống đường, trẻ em đi học qua lại", FRIDAY)
    assert codes(out) == ["danger_to_life", "safety", "children"]
    assert out.score >= 0.8
    assert out.deadline == "2025-03-08"
    assert "Nguy hiểm đến tính mạng (Danger to life)" in out.reason_text
    assert "dây điện rơi" in out.reason[0].terms


def test_health_and_many_people_add_up(stage):
    health = stage.assess("Nhiều người bị ngộ độc sau đám cưới", FRIDAY)
    more = stage.assess("Ngộ độc thực phẩm, hàng trăm học sinh phải nhập viện", FRIDAY)
    assert set(codes(more)) == {"health", "many_people", "children"}
    assert more.score > health.score >= 0.5
    assert health.deadline == "2025-03-10"  # 3 calendar days


def test_without_diacritics(stage):
    out = stage.assess("nha dan bi sat lo, ca xom phai so tan", FRIDAY)
    assert {"danger_to_life", "many_people"} <= set(codes(out))
    assert out.score >= 0.8


def test_ordinary_feedback_gets_ten_working_days(stage):
    out = stage.assess("Xin hỏi thủ tục làm giấy khai sinh cho con", FRIDAY)
    assert out.score == 0.0 and out.reason == [] and out.reason_text == ""
    assert out.deadline == "2025-03-21"  # two weeks of working days from a Friday
    assert "10 working day" in out.deadline_basis


def test_a_date_stated_in_the_text_wins_when_earlier(stage):
    out = stage.assess("Đề nghị sửa đèn đường trước ngày 10/3", FRIDAY)
    assert codes(out) == ["deadline"]
    assert out.deadline == "2025-03-10"
    assert out.deadline_basis == "date stated in the text"
    tomorrow = stage.assess("Hạn chót nộp hồ sơ là ngày mai mà chưa ai trả lời", FRIDAY)
    assert tomorrow.deadline == "2025-03-08"


def test_working_days_skip_weekends():
    assert add_days(FRIDAY, 1, working=True) == dt.date(2025, 3, 10)
    assert add_days(FRIDAY, 1, working=False) == dt.date(2025, 3, 8)


def test_stage_output_and_failures(stage):
    result = stage.process([AnalysisItem(id=1, text="Cháy nhà ở xóm 3!"), AnalysisItem(id=2, text=" ")])
    assert result.failures == {2: "no text to assess"}
    output = result.outputs[1]
    assert isinstance(output, UrgencyOut)
    assert set(output.public()) == {"score", "reason", "reason_text", "deadline", "deadline_basis"}
    assert output.deadline == "2025-03-08"


def test_rules_file_errors_are_clear(tmp_path: Path):
    bad = tmp_path / "rules.toml"
    bad.write_text("[[category]]\ncode = 'x'\n", encoding="utf-8")
    with pytest.raises(InvalidUrgencyRules, match="invalid"):
        load_rules(bad)
    with pytest.raises(InvalidUrgencyRules):
        load_rules(tmp_path / "missing.toml")


def test_a_stalled_motorbike_is_not_a_danger_to_life(stage):
    for text in (
        "Xe máy của tôi bị chết máy giữa đoạn đường ngập, phải dắt bộ cả cây số",
        "xe may chet may giua duong vi nuoc ngap",
    ):
        out = stage.assess(text, FRIDAY)
        assert "danger_to_life" not in codes(out) and out.score < 0.5, text


def test_figurative_words_are_neutral_but_the_real_danger_still_counts(stage):
    for text in (
        "Sản phẩm của hợp tác xã cháy hàng ngay ngày đầu",
        "Tiền điện tăng gấp đôi",
        "Lũ trẻ đá bóng ở sân",
    ):
        assert stage.assess(text, FRIDAY).score < 0.5, text
    assert (
        codes(stage.assess("Nhà bên cạnh đang cháy lớn, lửa lan sang dãy trọ", FRIDAY))[0] == "danger_to_life"
    )


def test_a_fall_caused_by_a_broken_street_light_is_urgent(stage):
    for text in (
        "Bác tôi bị ngã do đèn đường hỏng ở ngõ 68, gãy cổ tay phải bó bột",
        "bac toi bi nga do den duong hong, phai khau 5 mui",
        "My mother fell on the unlit street because the street lights are out and needed stitches",
    ):
        out = stage.assess(text, FRIDAY)
        assert "injury" in codes(out) and out.score >= 0.5, text


def test_the_deadline_counts_from_the_day_the_citizen_sent_it():
    analysed_today = dt.date(2026, 12, 5)
    stage = UrgencyStage(Settings(), today=lambda: analysed_today)
    sent = dt.datetime(2026, 10, 14, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    late_evening_utc = dt.datetime(2026, 10, 13, 20, 0, tzinfo=dt.UTC)  # 14/10 03:00 in Viet Nam
    items = [
        AnalysisItem(id=1, text="Nước lũ dâng cao, cả xóm cần cứu hộ gấp", received_at=sent),
        AnalysisItem(id=2, text="Nước lũ dâng cao, cả xóm cần cứu hộ gấp", received_at=late_evening_utc),
        AnalysisItem(id=3, text="Nước lũ dâng cao, cả xóm cần cứu hộ gấp"),
    ]
    result = stage.process(items)
    assert result.outputs[1].deadline == "2026-10-15"
    assert result.outputs[2].deadline == "2026-10-15"
    assert result.outputs[3].deadline == "2026-12-06"  # no sending time: from the day it is analysed


def test_lift_joins_the_learned_signal_only_below_the_first_urgent_band():
    policy = load_rules().policy
    assert lift(0.0, 0.6, policy) == 0.6
    assert lift(0.25, 0.4, policy) == round(1 - 0.75 * 0.6, 4)
    assert lift(0.55, 0.9, policy) == 0.55  # the rules already call it urgent: unchanged
    assert lift(0.45, 0.0, policy) == 0.45
    assert lift(0.0, 0.3, policy) == 0.0  # not enough to make it urgent: the rules' score stands
    assert lift(0.45, 0.99, policy) == 0.79  # never the top band, which only the rules reach


def test_fitted_models_survive_json_and_name_the_words_that_weigh(tmp_path: Path):
    texts = [
        "the wall is bulging and dropping bricks on the shops",
        "bricks dropping from the bulging wall over the market",
        "please repaint the faded crossing",
        "the crossing paint has faded, please repaint",
    ] * 3
    urgent = [True, True, False, False] * 3
    vectors = np.asarray([[1.0, 0.1], [0.9, 0.0], [0.0, 1.0], [0.1, 0.9]] * 3)
    learned = LearnedUrgency(
        pieces=fit(texts, urgent, c=10.0, min_df=1),
        words_only=Use(weight=0.6, gate=0.5),
        vectors=fit_vectors(vectors, urgent, c=10.0, embedder="e5"),
        with_vectors=Use(weight=0.8, gate=0.2),
    )
    path = tmp_path / "model.json"
    path.write_text(json.dumps(learned.to_json()), encoding="utf-8")
    again = load_model(path)
    text = "Bricks are dropping from a bulging wall"
    assert again.pieces.probability(text) == pytest.approx(learned.pieces.probability(text), abs=1e-3)
    assert again.pieces.probability(text) > 0.5 > again.pieces.probability("please repaint the crossing")
    assert again.pieces.common == learned.pieces.common and "the" in again.pieces.common
    shown = replace(again.pieces, common=frozenset()).telling_words(text)
    assert shown[0] in {"bricks", "dropping", "bulging"}
    assert set(shown) <= {"bricks", "dropping", "bulging", "wall", "from", "are"}
    assert shown[0] not in replace(again.pieces, common=frozenset({shown[0]})).telling_words(text)
    assert again.words_only.contribution(0.5) == 0.0
    assert again.words_only.contribution(1.0) == pytest.approx(0.6)
    with_vector = again.assess(text, [1.0, 0.0], "e5")
    assert with_vector > again.assess(text, [0.0, 1.0], "e5")
    assert again.assess(text, [1.0, 0.0], "another-embedder") == again.assess(text)  # pieces alone
    assert again.assess(text, [1.0, 0.0, 0.0], "e5") == again.assess(text)  # not this model's width


def test_the_learned_model_catches_a_threat_without_a_danger_word_and_says_so(stage):
    text = LEARNED_CATCH
    rules_only = UrgencyStage(Settings(), today=lambda: FRIDAY, learned=False).assess(text, FRIDAY)
    out = stage.assess(text, FRIDAY)
    assert rules_only.score < 0.5 <= out.score < 0.8
    assert out.reason[-1].code == "similar_to_urgent"
    assert out.reason[-1].en == "Similar to urgent reports" and out.reason[-1].terms
    assert set(out.reason[-1].terms) <= set(tokens(text))
    assert "Similar to urgent reports" in out.reason_text
    assert out.deadline == "2025-03-10"  # the three-day band


def test_the_learned_model_does_not_touch_what_the_rules_call_urgent(stage):
    text = "Nhà bên cạnh đang cháy lớn, lửa lan sang dãy trọ"
    rules_only = UrgencyStage(Settings(), today=lambda: FRIDAY, learned=False).assess(text, FRIDAY)
    assert stage.assess(text, FRIDAY) == rules_only


def test_the_stage_reads_the_vector_the_embed_stage_left(stage):
    vectors = packaged_model().vectors
    assert vectors is not None and vectors.embedder == BundledEmbedder.name
    toward = np.asarray(vectors.coef) / np.linalg.norm(vectors.coef)
    text = "Since we reported the loan sharks someone left a note at our door"
    items = [
        AnalysisItem(
            id=i,
            text=text,
            annotations={"embed": EmbedOut(model=BundledEmbedder.name, dim=384, content_hash="x", vector=v)},
        )
        for i, v in ((1, list(toward)), (2, list(-toward)))
    ]
    outputs = stage.process(items).outputs
    words_only = stage.assess(text, FRIDAY)
    assert outputs[1].score >= 0.5 and outputs[1].reason[-1].code == "similar_to_urgent"
    assert outputs[2].score < 0.5 and outputs[2].score <= words_only.score
