"""Diacritic restoration for Vietnamese typed without marks."""

from __future__ import annotations

import re
import zipfile

import pytest

from civicpulse.analysis import diacritics
from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.text import NormalizeStage
from civicpulse.annotations import LanguageOut, NormalizeOut
from civicpulse.textkit.vietnamese import strip_marks
from tests.conftest import make_settings

# Written for this test; none of these sentences is in the model's training text.
SENTENCES = [
    "Tôi muốn phản ánh về việc đường bị ngập.",
    "Khu phố tôi bị mất điện từ tối hôm qua đến giờ vẫn chưa có lại.",
    "Đề nghị ủy ban phường cho người xuống kiểm tra đoạn đường này.",
    "Rác thải để lâu ngày bốc mùi hôi thối ảnh hưởng đến sức khỏe người dân.",
    "Xin hỏi thủ tục đăng ký kết hôn cần những giấy tờ gì?",
    "Trường học thu tiền học thêm quá nhiều, phụ huynh rất bức xúc.",
    "Cảm ơn cán bộ xã đã giải quyết hồ sơ của gia đình tôi rất nhanh.",
    "Nhà máy xả nước thải ra sông làm cá chết hàng loạt.",
]


def words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.lower())


def test_restores_sentences_typed_without_marks() -> None:
    right = total = 0
    for sentence in SENTENCES:
        restored = diacritics.restore(strip_marks(sentence))
        expected, got = words(sentence), words(restored)
        assert len(got) == len(expected)
        right += sum(a == b for a, b in zip(expected, got, strict=True))
        total += len(expected)
    assert right / total >= 0.9


def test_keeps_case_punctuation_numbers_and_marked_words() -> None:
    restored = diacritics.restore("Toi o Ha Noi, nha so 12 bị ngập!")
    assert restored.startswith("Tôi ở Hà Nội, nhà số 12 ")
    assert restored.endswith("bị ngập!")
    assert diacritics.restore("Email: ABC@example.com") == "Email: ABC@example.com"
    assert diacritics.restore("") == ""


def test_decides_when_to_restore() -> None:
    assert diacritics.needs_restoration("toi muon phan anh ve viec duong bi ngap")
    assert not diacritics.needs_restoration("Tôi muốn phản ánh về việc đường bị ngập")
    assert not diacritics.needs_restoration("12345 !!!")


def test_stage_restores_only_unmarked_vietnamese() -> None:
    stage = NormalizeStage(make_settings("sqlite:///:memory:", segment_words=True))
    items = [
        AnalysisItem(id=1, text="nuoc ngap ca tuan nay ma ko ai den xu ly"),
        AnalysisItem(id=2, text="Nước ngập cả tuần nay mà không ai đến xử lý"),
        AnalysisItem(
            id=3,
            text="the road is flooded",
            annotations={"language": LanguageOut(language="en", confidence=1.0)},
        ),
    ]
    outputs = stage.process(items).outputs
    first, second = outputs[1], outputs[2]
    assert isinstance(first, NormalizeOut) and isinstance(second, NormalizeOut)
    assert first.restored is True
    assert first.text == "nước ngập cả tuần nay mà không ai đến xử lý"
    assert "xử_lý" in first.tokens
    assert second.restored is False
    assert outputs[3].model_copy(update={"source": None}) == NormalizeOut(  # source: an offset map
        text="the road is flooded",
        restored=False,
        tokens=["the", "road", "is", "flooded"],
    )
    assert items[0].text == "nuoc ngap ca tuan nay ma ko ai den xu ly"


def test_shipped_model_is_compact_and_pickle_free() -> None:
    path = diacritics.model_path()
    assert path.stat().st_size < 15_000_000
    with zipfile.ZipFile(path) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    model = diacritics.TrigramModel.load(path)
    assert "đường" in model.index
    assert {model.vocab[i] for i in model.candidates["duong"]} >= {"đường", "dương"}


def test_train_save_load_round_trip(tmp_path) -> None:
    corpus = ["Người dân phản ánh đường bị ngập.", "Người dân đề nghị sửa đường.", "Đường bị hỏng."] * 3
    path = tmp_path / "tiny.npz"
    diacritics.save(diacritics.train(corpus, min_trigram=1, min_form=1), path)
    model = diacritics.TrigramModel.load(path)
    assert model.restore("nguoi dan phan anh duong bi ngap") == "người dân phản ánh đường bị ngập"
    assert model.restore("Duong bi hong.") == "Đường bị hỏng."


@pytest.mark.parametrize(
    ("text", "expected"),
    [("toi muon phan anh ve viec duong bi ngap", True), ("The road is flooded again today", False)],
)
def test_looks_vietnamese(text: str, expected: bool) -> None:
    assert diacritics.looks_vietnamese(text) is expected
