"""Language identification with lingua."""

from __future__ import annotations

from typing import Any, ClassVar

from civicpulse.analysis.base import AnalysisItem, StageResult
from civicpulse.settings import Settings


class LanguageStage:
    """Detects the language of each item (ISO 639-1) with a confidence.

    A caller's language hint is kept beside the detection, never in its place.
    """

    name: ClassVar[str] = "language"

    def __init__(self, settings: Settings) -> None:
        self.languages = list(settings.languages)
        self.detector_: Any = None

    def _detector(self) -> Any:
        if self.detector_ is None:
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

            known = [
                Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in self.languages
            ]
            self.detector_ = (
                LanguageDetectorBuilder.from_languages(*known).with_preloaded_language_models().build()
            )
        return self.detector_

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Detect the language of every item in the batch."""
        detector = self._detector()
        result = StageResult()
        texts = [item.text for item in items]
        confidences = detector.compute_language_confidence_values_in_parallel(texts)
        for item, values in zip(items, confidences, strict=True):
            if not values or values[0].value <= 0:
                result.outputs[item.id] = {"language": "und", "confidence": 0.0}
                continue
            best = values[0]
            result.outputs[item.id] = {
                "language": best.language.iso_code_639_1.name.lower(),
                "confidence": round(float(best.value), 4),
            }
        return result
