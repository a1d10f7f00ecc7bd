"""Toxicity: lexicon with obfuscations, clean text stays clean, hate vs offensive, optional model."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.toxicity import ToxicityStage, assess, deobfuscate
from civicpulse.analysis.training import Example, model_path, train_toxicity_model
from civicpulse.annotations import ToxicityOut
from civicpulse.settings import Settings

CLEAN = [
    "Đường hư hỏng nặng, đề nghị sửa sớm",
    "Duong sa o day tot lam, cam on",
    "Tối qua mất ngủ vì karaoke, đi ngủ sớm cũng không được",
    "di ngu som di, mai con di lam",  # "ngu" here is "ngủ" (sleep) typed without diacritics
    "Ngôi nhà lớn ở đầu ngõ bị nứt",
    "Ở đây có 2024 hộ dân, danh mục đính kèm",
    "Xin cảm ơn các anh chị cán bộ",
]


@pytest.mark.parametrize("text", CLEAN)
def test_clean_text_stays_clean(text):
    out = assess(text)
    assert out["label"] == "clean" and out["score"] == 0.0 and out["terms"] == []


@pytest.mark.parametrize(
    "text",
    ["dm bọn này", "Đ.m mấy thằng làm ăn", "vcllll thật", "đồ ngu như bò", "d i t me may", "L0N", "DJT"],
)
def test_profanity_and_obfuscations_are_offensive(text):
    out = assess(text)
    assert out["label"] == "offensive", (text, deobfuscate(text), out)
    assert out["score"] > 0.5 and out["terms"]


def test_slurs_against_a_group_are_hate():
    out = assess("Bọn bắc kỳ toàn lũ ăn hại")
    assert out["label"] == "hate"
    assert "bọn bắc kỳ" in out["terms"]
    assert out["score"] > assess("toàn lũ ăn hại")["score"]


def test_deobfuscate_leaves_numbers_alone():
    assert deobfuscate("Nhà số 10, 2024 hộ") == "nhà số 10, 2024 hộ"
    assert deobfuscate("nguuuu v.c.l") == "ngu vcl"


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/cp.db")


def test_stage_flags_for_moderation_and_keeps_every_item(local_settings):
    items = [
        AnalysisItem(id=1, text="Cán bộ xã đúng là đồ ăn hại"),
        AnalysisItem(id=2, text="Đề nghị sửa đường"),
        AnalysisItem(id=3, text=""),
    ]
    result = ToxicityStage(local_settings).process(items)
    flagged, clean = result.outputs[1], result.outputs[2]
    assert isinstance(flagged, ToxicityOut) and isinstance(clean, ToxicityOut)
    assert flagged.moderation is True and flagged.label == "offensive"
    assert clean.moderation is False and clean.label == "clean"
    assert result.failures == {3: "no text to assess"}
    assert set(clean.public()) == {"label", "score", "terms", "method", "moderation"}


def test_a_trained_model_takes_over_and_lexicon_terms_stay(local_settings):
    examples = [Example(f"bài viết số {i} rất hay", "clean") for i in range(5)]
    examples += [Example(f"thằng số {i} đúng là đồ ăn hại", "offensive") for i in range(5)]
    examples += [Example(f"bọn bắc kỳ số {i} cút đi", "hate") for i in range(5)]
    train_toxicity_model(examples).save(model_path(local_settings.sqlite_path.parent / "models", "toxicity"))
    out = ToxicityStage(local_settings).process([AnalysisItem(id=1, text="thằng kia đồ ăn hại")]).outputs[1]
    assert isinstance(out, ToxicityOut)
    assert out.method == "supervised"
    assert out.label == "offensive" and out.moderation is True
    assert out.terms == ["đồ ăn hại"]
