"""Urgency: reasons by category, score bands, suggested deadlines, text without diacritics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.urgency import InvalidUrgencyRules, UrgencyStage, add_days, load_rules
from civicpulse.annotations import UrgencyOut
from civicpulse.settings import Settings

FRIDAY = dt.date(2025, 3, 7)


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
