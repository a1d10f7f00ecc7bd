"""Language identification with lingua, plus a check for Vietnamese typed without marks."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult
from civicpulse.annotations import LanguageOut
from civicpulse.settings import Settings

logger = logging.getLogger(__name__)

UNMARKED_VI_SHARE = 0.9
"""Share of words that must be Vietnamese syllables for unmarked text to count as Vietnamese."""
UNMARKED_VI_SHARE_UNSURE = 0.8
"""The same share when lingua is unsure (top confidence below ``UNSURE``) and the text is not short
(``SHORT`` words or more). English text scores about 0.5, Vietnamese typed without marks 0.95-1."""
UNSURE = 0.5
SHORT = 8


class LanguageStage(ShipsConfigOnly):
    """Detects the language of each item (ISO 639-1) with a confidence.

    lingua decides; Vietnamese typed without marks (which lingua takes for Tagalog or another
    language with a low confidence) is recognised by the share of its words that are Vietnamese
    syllables, and then reported as ``vi`` with ``"unmarked": true``. A caller's language hint is
    kept beside the detection, never in its place.
    """

    name: ClassVar[str] = "language"
    output: ClassVar[type[LanguageOut]] = LanguageOut

    def __init__(self, settings: Settings) -> None:
        self.languages = list(settings.languages)
        self.detector_: Any = None

    def _detector(self) -> Any:
        if self.detector_ is None:
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

            known = []
            for code in self.languages:
                iso = getattr(IsoCode639_1, code.upper(), None)
                if iso is None:
                    logger.warning("language %r is not known to lingua; it is left out", code)
                    continue
                known.append(Language.from_iso_code_639_1(iso))
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
            best = values[0] if values and values[0].value > 0 else None
            code = best.language.iso_code_639_1.name.lower() if best else "und"
            confidence = float(best.value) if best else 0.0
            unmarked = code != "vi" and "vi" in self.languages and _unmarked_vietnamese(item.text, confidence)
            result.outputs[item.id] = LanguageOut(
                language="vi" if unmarked else code, confidence=round(confidence, 4), unmarked=unmarked
            )
        return result


def _unmarked_vietnamese(text: str, confidence: float) -> bool:
    """Whether ``text`` reads as Vietnamese written without marks."""
    from civicpulse.analysis.diacritics import marked_share, syllable_share

    if marked_share(text) > 0.1:
        return False  # marked text that lingua did not take for Vietnamese is not Vietnamese
    share, count = syllable_share(text)
    if count < 3:
        return False
    unsure = confidence < UNSURE and count >= SHORT
    needed = UNMARKED_VI_SHARE_UNSURE if unsure else UNMARKED_VI_SHARE
    return share >= needed
