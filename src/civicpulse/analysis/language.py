"""Language identification with lingua, plus a check for Vietnamese typed without marks."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult
from civicpulse.annotations import LanguageOut
from civicpulse.settings import DEFAULT_LANGUAGES, Settings

logger = logging.getLogger(__name__)

UNMARKED_VI_SHARE = 0.9
"""Share of words that must be Vietnamese syllables for unmarked text to count as Vietnamese."""
UNMARKED_VI_SHARE_UNSURE = 0.8
"""The same share when lingua is unsure (top confidence below ``UNSURE``) and the text is not short
(``SHORT`` words or more). English text scores about 0.5, Vietnamese typed without marks 0.95-1."""
UNSURE = 0.5
SHORT = 8
UNDETERMINED = "und"
CONTRAST = ("pl", "cs", "uk", "ro", "hu", "sv", "tr", "ar", "hi")
"""Languages the detector also weighs, so that a text in none of the configured languages is labelled
``und`` instead of being forced into the nearest configured one (Polish read as Spanish)."""


class LanguageStage(ShipsConfigOnly):
    """Detects the language of each item (ISO 639-1) with a confidence.

    lingua decides; Vietnamese typed without marks (which lingua takes for Tagalog or another
    language with a low confidence) is recognised by the share of its words that are Vietnamese
    syllables, and then reported as ``vi`` with ``"unmarked": true``. A text whose language is not
    among ``settings.languages`` is labelled ``und`` (with lingua's confidence in that other
    language), or with its own code when ``settings.language_detect_all`` asks for every language
    lingua knows. A caller's language hint is kept beside the detection, never in its place.
    """

    name: ClassVar[str] = "language"
    output: ClassVar[type[LanguageOut]] = LanguageOut

    def __init__(self, settings: Settings) -> None:
        self.languages = list(settings.languages)
        self.detect_all = settings.language_detect_all
        self.detector_: Any = None
        self.contrast_: Any = None

    def _detector(self) -> Any:
        if self.detector_ is None:
            from lingua import LanguageDetectorBuilder

            if self.detect_all:
                self.detector_ = LanguageDetectorBuilder.from_all_languages().build()
            else:
                known = _lingua_languages(self.languages, warn=True)
                self.detector_ = (
                    LanguageDetectorBuilder.from_languages(*known).with_preloaded_language_models().build()
                )
        return self.detector_

    def _contrast(self) -> Any:
        """The configured languages and ``CONTRAST``'s, models loaded when a text needs them."""
        if self.contrast_ is None:
            from lingua import LanguageDetectorBuilder

            codes = [
                *self.languages,
                *(c for c in dict.fromkeys((*DEFAULT_LANGUAGES, *CONTRAST)) if c not in self.languages),
            ]
            self.contrast_ = LanguageDetectorBuilder.from_languages(*_lingua_languages(codes)).build()
        return self.contrast_

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Detect the language of every item in the batch; a text not taken for Vietnamese is checked
        against other languages too, and labelled ``und`` when one of those fits it best."""
        result = StageResult()
        texts = [item.text for item in items]
        found = [
            _best(values) for values in self._detector().compute_language_confidence_values_in_parallel(texts)
        ]
        recheck = (
            []
            if self.detect_all
            else [i for i, (code, _) in enumerate(found) if not _surely_vi(code, texts[i])]
        )
        if recheck:
            values = self._contrast().compute_language_confidence_values_in_parallel(
                [texts[i] for i in recheck]
            )
            for i, (code, confidence) in zip(recheck, map(_best, values), strict=True):
                if code not in self.languages:
                    found[i] = (UNDETERMINED, confidence)
        for item, (code, confidence) in zip(items, found, strict=True):
            unmarked = code != "vi" and "vi" in self.languages and _unmarked_vietnamese(item.text, confidence)
            result.outputs[item.id] = LanguageOut(
                language="vi" if unmarked else code, confidence=round(confidence, 4), unmarked=unmarked
            )
        return result


def _surely_vi(code: str, text: str) -> bool:
    """Vietnamese written with its marks: lingua is right about it and no other language is weighed."""
    from civicpulse.analysis.diacritics import marked_share

    return code == "vi" and marked_share(text) > 0.1


def _best(values: Any) -> tuple[str, float]:
    """The most likely language's code and confidence (``und`` when lingua finds none)."""
    best = values[0] if values and values[0].value > 0 else None
    if best is None:
        return UNDETERMINED, 0.0
    return best.language.iso_code_639_1.name.lower(), float(best.value)


def _lingua_languages(codes: list[str], *, warn: bool = False) -> list[Any]:
    from lingua import IsoCode639_1, Language

    known = []
    for code in codes:
        iso = getattr(IsoCode639_1, code.upper(), None)
        if iso is None:
            if warn:
                logger.warning("language %r is not known to lingua; it is left out", code)
            continue
        known.append(Language.from_iso_code_639_1(iso))
    return known


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
