"""The public view of one item's analysis: the fields the API and ``civicpulse analyze`` return."""

from __future__ import annotations

from collections.abc import Mapping

from civicpulse.annotations import (
    DedupOut,
    LanguageOut,
    NormalizeOut,
    PiiOut,
    PlacesOut,
    SentimentOut,
    StageOutput,
    TopicOut,
    ToxicityOut,
    UrgencyOut,
    output_of,
)
from civicpulse.domain import AnalysisOut


def summarize(outputs: Mapping[str, StageOutput], text: str) -> AnalysisOut:
    """The API's view of the stages' outputs (fields absent when their stage is not configured)."""
    language = output_of(outputs, LanguageOut)
    normalize = output_of(outputs, NormalizeOut)
    pii = output_of(outputs, PiiOut)
    dedup = output_of(outputs, DedupOut)
    return AnalysisOut(
        language=language.language if language else None,
        text_restored=normalize.text if normalize and normalize.text is not None else text,
        redacted_text=pii.redacted_text if pii else None,
        pii=[span.model_dump() for span in pii.spans] if pii else [],
        topic=_public(output_of(outputs, TopicOut)),
        sentiment=_public(output_of(outputs, SentimentOut)),
        urgency=_public(output_of(outputs, UrgencyOut)),
        places=_places(output_of(outputs, PlacesOut)),
        toxicity=_public(output_of(outputs, ToxicityOut)),
        duplicate_of=dedup.duplicate_of if dedup else None,
        stages={name: out.public() for name, out in outputs.items()},
    )


def _public(output: StageOutput | None) -> dict | None:
    return None if output is None else output.public()


def _places(output: PlacesOut | None) -> list[dict[str, str | None]]:
    """Units mentioned, plus the province they resolve to when it was not named itself."""
    if output is None:
        return []
    found: list[dict[str, str | None]] = [
        {"name": place.name, "level": place.level, "code": place.code} for place in output.places
    ]
    province = output.province
    if province and not any(p["level"] == "province" and p["code"] == province.code for p in found):
        found.append({"name": province.name, "level": "province", "code": province.code})
    return found
