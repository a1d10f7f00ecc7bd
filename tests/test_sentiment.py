"""Sentiment: zero-shot on clear cases (lexicon alone and with the real e5 model), negation, training."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.sentiment import SentimentStage, lexicon_polarity
from civicpulse.analysis.training import Example, model_path, train_sentiment_model
from civicpulse.annotations import SentimentOut
from civicpulse.settings import Settings
from tests.test_classify import real_embedder

CLEAR = [
    ("negative", "Đường làng hư hỏng nặng, xin hỏi bao giờ mới sửa, dân rất bức xúc"),
    ("negative", "Tôi rất thất vọng vì hồ sơ trễ hẹn ba lần"),
    ("negative", "Cong an xa lam viec rat thieu trach nhiem, that vong"),
    ("negative", "The road has been flooded for weeks, this is unacceptable"),
    ("positive", "Cảm ơn cán bộ phường đã hỗ trợ rất nhiệt tình"),
    ("positive", "Thủ tục nhanh chóng, tôi rất hài lòng"),
    ("positive", "Cam on chinh quyen da sua duong, rat hai long"),
    ("positive", "Thank you, the staff were very helpful"),
    ("neutral", "Xin hỏi thủ tục đăng ký kết hôn cần giấy tờ gì?"),
    ("neutral", "Cho tôi hỏi lịch tiếp công dân của xã"),
]


@pytest.fixture(scope="module")
def embedder():
    return real_embedder(Settings())


@pytest.fixture
def local_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path}/cp.db")


@pytest.mark.parametrize("with_embeddings", [False, True])
def test_clear_cases(local_settings, embedder, with_embeddings):
    stage = SentimentStage(local_settings, embedder=embedder if with_embeddings else None)
    result = stage.process([AnalysisItem(id=i, text=text) for i, (_, text) in enumerate(CLEAR)])
    for i, (label, text) in enumerate(CLEAR):
        output = result.outputs[i]
        assert isinstance(output, SentimentOut)
        assert output.label == label, (text, output)
        assert set(output.public()) == {"label", "score", "scores", "method"}
        assert output.score == output.scores[label] == max(output.scores.values())
        assert sum(output.scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert output.method == "zero-shot"


def test_a_negator_flips_the_term_after_it():
    assert lexicon_polarity("Cán bộ làm việc tốt") == (1.0, 0.0)
    assert lexicon_polarity("Cán bộ làm việc không tốt") == (0.0, 1.0)
    assert lexicon_polarity("Tôi chưa hài lòng") == (0.0, 1.0)


def test_empty_text_fails_as_data(local_settings):
    result = SentimentStage(local_settings, embedder=None).process(
        [AnalysisItem(id=1, text=""), AnalysisItem(id=2, text="Rất tốt, cảm ơn")]
    )
    assert result.failures == {1: "no text to score"}
    assert isinstance(result.outputs[2], SentimentOut)
    assert result.outputs[2].label == "positive"


def test_a_trained_model_takes_over(local_settings):
    # Analysts of a school board call "kín lịch" (fully booked) complaints negative.
    examples = [Example(f"Phòng họp kín lịch {i} tuần liền", "negative") for i in range(4)]
    examples += [Example(f"Lịch họp tuần {i} đã được công bố", "neutral") for i in range(4)]
    examples += [Example(f"Buổi họp lần {i} rất tốt, cảm ơn", "positive") for i in range(4)]
    train_sentiment_model(examples).save(
        model_path(local_settings.sqlite_path.parent / "models", "sentiment")
    )
    output = (
        SentimentStage(local_settings, embedder=None)
        .process([AnalysisItem(id=1, text="Phòng họp lại kín lịch")])
        .outputs[1]
    )
    assert isinstance(output, SentimentOut)
    assert output.method == "supervised"
    assert output.label == "negative"
