"""Normalisation, word segmentation and language identification of Vietnamese-first text."""

from __future__ import annotations

import unicodedata

import pytest

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.language import LanguageStage
from civicpulse.analysis.text import NormalizeStage
from civicpulse.annotations import LanguageOut, NormalizeOut
from civicpulse.textkit.offsets import OffsetMap
from civicpulse.textkit.segment import segment
from civicpulse.textkit.vietnamese import (
    expand_abbreviations,
    normalize_text,
    place_tone,
    squeeze_repeats,
)
from tests.conftest import make_settings


@pytest.fixture(scope="module")
def settings():
    return make_settings("sqlite:///:memory:")


def test_decomposed_input_becomes_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Thành phố Hồ Chí Minh")
    assert decomposed != "Thành phố Hồ Chí Minh"
    assert normalize_text(decomposed) == "Thành phố Hồ Chí Minh"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("hoà", "hòa"),
        ("HOÀ", "HÒA"),
        ("Hoà", "Hòa"),
        ("thuỷ", "thủy"),
        ("THUỶ", "THỦY"),
        ("khoẻ", "khỏe"),
        ("qúa", "quá"),
        ("QÚA", "QUÁ"),
        ("gìa", "già"),
        ("hòa", "hòa"),
        ("thủy", "thủy"),
        ("hoàng", "hoàng"),
        ("toán", "toán"),
        ("khuỷu", "khuỷu"),
        ("người", "người"),
    ],
)
def test_tone_marks_follow_the_traditional_placement(typed: str, expected: str) -> None:
    assert place_tone(typed) == expected


def test_tone_placement_both_ways_in_running_text() -> None:
    new_style = "Cộng hoà, thuỷ lợi và sức khoẻ"
    assert normalize_text(new_style) == "Cộng hòa, thủy lợi và sức khỏe"
    assert normalize_text("Cộng hòa, thủy lợi và sức khỏe") == "Cộng hòa, thủy lợi và sức khỏe"


def test_tone_placement_leaves_other_languages_alone() -> None:
    assert normalize_text("On se voit où ?", "fr") == "On se voit où ?"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("quááá", "quá"), ("điiiii", "đi"), ("ĐIIII", "ĐI"), ("quaáá", "quá"), ("khôngggg", "không")],
)
def test_repeated_letters_are_squeezed(typed: str, expected: str) -> None:
    assert squeeze_repeats(typed) == expected


def test_legitimate_doubles_and_digits_stay() -> None:
    assert squeeze_repeats("xoong") == "xoong"
    assert squeeze_repeats("huu") == "huu"  # hưu typed without marks
    assert normalize_text("Nồi xoong giá 2000000 đồng") == "Nồi xoong giá 2000000 đồng"
    assert normalize_text("sooo good", "en") == "soo good"


def test_whitespace_is_folded() -> None:
    assert normalize_text("  Đường \t bị\u00a0ngập\u200b\r\n\r\n\r\nnặng  ") == "Đường bị ngập\nnặng"


def test_abbreviations_expand_whole_tokens_with_their_case() -> None:
    assert expand_abbreviations("ko dc j het") == "không được gì het"
    assert expand_abbreviations("Ko biết, KO đc") == "Không biết, KHÔNG được"
    assert expand_abbreviations("mk cx ko bít ntn") == "mình cũng không biết như thế nào"


def test_abbreviations_leave_words_units_and_capitals_alone() -> None:
    assert expand_abbreviations("kinh tế 50k, vitamin K, 5 kg") == "kinh tế 50k, vitamin K, 5 kg"
    assert normalize_text("Barcelona vs Madrid", "en") == "Barcelona vs Madrid"


def test_ambiguous_abbreviation_needs_context() -> None:
    assert expand_abbreviations("mất bn tiền") == "mất bao nhiêu tiền"
    assert expand_abbreviations("bn ơi giúp mình") == "bạn ơi giúp mình"
    assert expand_abbreviations("bn") == "bn"


def test_segmentation_joins_multi_syllable_words() -> None:
    tokens = segment("Đường ở thành phố Hồ Chí Minh bị ngập")
    assert "thành_phố" in tokens
    assert "Hồ_Chí_Minh" in tokens
    assert segment("   ") == []


def test_stage_output_and_raw_text_unchanged(settings) -> None:
    raw = "Đường  trước nhà tôi bị ngập quááá, ko ai xử lý"
    items = [
        AnalysisItem(id=1, text=raw, annotations={"language": LanguageOut(language="vi", confidence=1.0)})
    ]
    result = NormalizeStage(settings.model_copy(update={"segment_words": True})).process(items)
    output = result.outputs[1]
    assert isinstance(output, NormalizeOut)
    assert set(output.public()) == {"text", "restored", "tokens"}
    assert set(output.stored()) == {"restored"}
    assert output.text == "Đường trước nhà tôi bị ngập quá, không ai xử lý"
    assert _from_raw(output, raw, "quá") == "quááá" and _from_raw(output, raw, "không") == "ko"
    assert output.restored is False
    assert "xử_lý" in output.tokens
    assert items[0].text == raw
    assert result.failures == {}
    plain = NormalizeStage(settings).process(items).outputs[1]  # segmentation is off by default
    assert isinstance(plain, NormalizeOut)
    assert "xử" in plain.tokens and "xử_lý" not in plain.tokens


def test_stage_on_english_keeps_words(settings) -> None:
    items = [
        AnalysisItem(
            id=7,
            text="The  road is flooded",
            annotations={"language": LanguageOut(language="en", confidence=1.0)},
        )
    ]
    output = NormalizeStage(settings).process(items).outputs[7]
    assert isinstance(output, NormalizeOut)
    assert output.source is not None
    assert "source" not in output.public()  # an offset map, for the pii stage only
    assert output.public() == {
        "text": "The road is flooded",
        "restored": False,
        "tokens": ["The", "road", "is", "flooded"],
    }
    assert [_from_raw(output, "The  road is flooded", word) for word in output.tokens] == output.tokens


def _from_raw(output: NormalizeOut, raw: str, word: str) -> str:
    """The raw text behind ``word`` of the normalised text, through the stage's offset map."""
    assert output.text is not None and output.source is not None
    start = output.text.index(word)
    mapping = OffsetMap(tuple(output.source), len(output.text), len(raw))
    return raw[slice(*mapping.to_source(start, start + len(word)))]


def test_restored_marks_map_back_to_the_text_as_typed(settings) -> None:
    raw = "duong  truoc nha toi bi ngap qua,   ko ai xu ly"
    items = [
        AnalysisItem(id=1, text=raw, annotations={"language": LanguageOut(language="vi", confidence=1.0)})
    ]
    output = NormalizeStage(settings).process(items).outputs[1]
    assert isinstance(output, NormalizeOut) and output.restored and output.text is not None
    typed_words = raw.replace(",", " ").split()
    for word in output.text.replace(",", " ").split():
        assert _from_raw(output, raw, word) in typed_words, word
    assert _from_raw(output, raw, "không") == "ko"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("toi muon phan anh ve viec duong bi ngap", "vi"),
        ("nha toi o cuoi hem, nuoc ngap ca tuan nay ma chua ai den xu ly", "vi"),
        ("ko dc j het", "vi"),
        ("Tôi muốn phản ánh về việc đường bị ngập", "vi"),
        ("The road in front of my house has been flooded for three days.", "en"),
        ("to be or not to be", "en"),
        ("La route devant ma maison est inondée depuis trois jours.", "fr"),
    ],
)
def test_language_stage_detects_vietnamese_without_marks(settings, text: str, language: str) -> None:
    output = LanguageStage(settings).process([AnalysisItem(id=1, text=text)]).outputs[1]
    assert isinstance(output, LanguageOut)
    assert output.language == language
