"""The stages of one ``StageSet`` share one embedder: topic and sentiment embed each text once, and
give what stages with embedders of their own give."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.embeddings.bundled import BundledEmbedder
from civicpulse.runtime.stages import Ports, StageSet, build_stage
from tests.conftest import make_settings

TEXTS = [
    "Đường Nguyễn Trãi ngập sâu sau mỗi cơn mưa, xe máy chết máy giữa đường, đề nghị nạo vét cống.",
    "The street lights on Elm Road have been out for a month and the corner is unsafe at night.",
    "Rác thải ở chợ phường 3 không được thu gom ba ngày nay, mùi hôi rất khó chịu.",
]
STAGES = ["topic", "sentiment"]


def _items() -> list[AnalysisItem]:
    return [AnalysisItem(id=number, text=text) for number, text in enumerate(TEXTS, start=1)]


def _annotations(pipeline: Pipeline) -> dict[int, dict]:
    items = _items()
    result = pipeline.run(items)
    assert not result.failures
    return {item.id: {name: out.model_dump() for name, out in item.annotations.items()} for item in items}


def test_topic_and_sentiment_embed_each_text_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    embedded: list[str] = []
    original = BundledEmbedder.embed_passages

    def counting(self: BundledEmbedder, texts: list[str]) -> object:
        embedded.extend(texts)
        return original(self, texts)

    monkeypatch.setattr(BundledEmbedder, "embed_passages", counting)
    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}", stages=STAGES)
    shared = _annotations(StageSet(settings, Ports()).pipeline())
    assert {text: embedded.count(text) for text in TEXTS} == dict.fromkeys(TEXTS, 1)

    embedded.clear()
    own = _annotations(Pipeline([build_stage(name, settings, Ports()) for name in STAGES]))
    assert {text: embedded.count(text) for text in TEXTS} == dict.fromkeys(TEXTS, len(STAGES))
    assert shared == own


def test_words_only_stages_get_no_embedder(tmp_path: Path) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'unused.db'}", stages=STAGES, classify_with_embeddings=False
    )
    pipeline = StageSet(settings, Ports()).pipeline()
    _annotations(pipeline)
    assert [stage.embedder_ for stage in pipeline.stages] == [None, None]  # type: ignore[attr-defined]
