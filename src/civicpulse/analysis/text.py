"""The ``normalize`` stage: normalised text for analysis, marks restored, words segmented.

The raw text is never changed; the character-level rules live in ``civicpulse.textkit.vietnamese``.
"""

from __future__ import annotations

import re
from typing import ClassVar

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult
from civicpulse.analysis.diacritics import looks_vietnamese, needs_restoration, restore
from civicpulse.annotations import LanguageOut, NormalizeOut
from civicpulse.settings import Settings
from civicpulse.textkit.segment import segment
from civicpulse.textkit.vietnamese import fold_whitespace, normalize_mapped

_TOKEN = re.compile(r"[^\W_]+")


class NormalizeStage(ShipsConfigOnly):
    """Normalised text for analysis, with diacritics restored and word segments for Vietnamese.

    Reads the ``language`` stage's output when present (else the caller's hint, else a
    syllable check). Output: ``{"text", "restored", "tokens", "source"}``; ``text`` and ``tokens``
    still hold personal data (redaction runs after this stage), so they serve the stages of the same
    run and are never stored; ``source`` maps the text back onto the raw text, which is what people
    read (redaction replaces personal data there).
    """

    name: ClassVar[str] = "normalize"
    output: ClassVar[type[NormalizeOut]] = NormalizeOut

    def __init__(self, settings: Settings) -> None:
        self.restore = settings.restore_diacritics
        self.segment = settings.segment_words

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Normalise every item of the batch."""
        result = StageResult()
        for item in items:
            language = _language_of(item)
            # Decide on the text as typed: expanded abbreviations ("ko" -> "không") bring marks in.
            unmarked = language == "vi" and needs_restoration(fold_whitespace(item.text))
            mapped = normalize_mapped(item.text, language)
            restored = False
            if unmarked and self.restore:
                mapped, restored = mapped.rewrite(restore(mapped.text)), True
            text, source = mapped.text, mapped.offset_map()
            if language == "vi" and self.segment:
                tokens = segment(text)
            else:
                tokens = [m.group() for m in _TOKEN.finditer(text)]
            result.outputs[item.id] = NormalizeOut(
                text=text, restored=restored, tokens=tokens, source=list(source.blocks)
            )
        return result


def _language_of(item: AnalysisItem) -> str | None:
    detected = item.output(LanguageOut)
    if detected is not None and detected.language != "und":
        return detected.language
    if item.language_hint:
        return item.language_hint.lower()
    return "vi" if looks_vietnamese(item.text) else None
