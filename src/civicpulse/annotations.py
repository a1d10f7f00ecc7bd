"""The typed annotation contract: each stage's output model and the text that analysis reads.

Every stage returns one ``StageOutput`` per item. A model names its stage and declares which of its
fields never reach the ``annotations`` table:

- ``transient`` fields serve later stages of the same run only (text that still holds personal
  data) and are dropped;
- ``private`` fields (found personal data, vectors, MinHash signatures) are handed to their own
  stores by ``civicpulse.runtime.savers`` and never stored as annotations.

Readers of stored annotations use ``StageOutput.from_stored`` and the models' attributes, never
string keys. Shared by stages, the store, insight and the outputs; imports no layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Final, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field

PII_TEXT: Final = "redacted_text"
"""The ``pii`` output field with the redacted text (for JSON queries on stored annotations)."""

TOPIC_REVIEW: Final = "review"
"""The ``topic`` output field that flags an unsure prediction (for JSON queries)."""


class StageOutput(BaseModel):
    """One stage's result for one item."""

    model_config = ConfigDict(extra="forbid")

    stage: ClassVar[str]
    transient: ClassVar[frozenset[str]] = frozenset()
    private: ClassVar[frozenset[str]] = frozenset()

    def stored(self) -> dict[str, Any]:
        """What the annotations table holds: every field but the transient and private ones."""
        return self.model_dump(mode="json", exclude=set(self.transient | self.private))

    def public(self) -> dict[str, Any]:
        """What callers of ``analyze`` see: every field but the private ones."""
        return self.model_dump(mode="json", exclude=set(self.private))

    @classmethod
    def from_stored(cls, data: Mapping[str, Any]) -> Self:
        """A stored annotation as its model (fields it no longer has are ignored)."""
        return cls.model_validate({key: value for key, value in data.items() if key in cls.model_fields})


class LanguageOut(StageOutput):
    """``language``: ISO 639-1 code (``und`` when unknown) and the detector's confidence."""

    stage: ClassVar[str] = "language"
    language: str
    confidence: float
    unmarked: bool = False


class NormalizeOut(StageOutput):
    """``normalize``: the normalised text, whether marks were restored, and its tokens."""

    stage: ClassVar[str] = "normalize"
    transient: ClassVar[frozenset[str]] = frozenset({"text", "tokens"})
    text: str | None = None
    restored: bool = False
    tokens: list[str] = Field(default_factory=list)


class PiiSpan(BaseModel):
    """Where one piece of personal data was, and its kind (``PHONE``, ``PERSON`` ...)."""

    model_config = ConfigDict(extra="forbid")
    type: str
    start: int
    end: int


class FoundPii(PiiSpan):
    """A span with the value it held: private, saved encrypted, never an annotation."""

    text: str


class PiiOut(StageOutput):
    """``pii``: the redacted text and its spans; the values themselves in ``found`` (private)."""

    stage: ClassVar[str] = "pii"
    private: ClassVar[frozenset[str]] = frozenset({"found"})
    redacted_text: str
    spans: list[PiiSpan] = Field(default_factory=list)
    found: list[FoundPii] = Field(default_factory=list)
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Other free-text fields the citizen filled, redacted: 'locality', 'source_id', "
        "'attachment:<index>' (a file name).",
    )


class UnitBrief(BaseModel):
    """An administrative unit by name and code."""

    model_config = ConfigDict(extra="forbid")
    name: str
    code: str


class PlaceOut(BaseModel):
    """A mention resolved to one current administrative unit."""

    model_config = ConfigDict(extra="forbid")
    name: str
    level: str
    code: str
    province_code: str | None = None
    mentioned_as: str | None = None
    start: int | None = None
    end: int | None = None
    old_unit: str | None = None


class PlacesOut(StageOutput):
    """``places``: units mentioned, and the province and commune the item is about."""

    stage: ClassVar[str] = "places"
    places: list[PlaceOut] = Field(default_factory=list)
    province: UnitBrief | None = None
    commune: UnitBrief | None = None


class EmbedOut(StageOutput):
    """``embed``: the model and width; the vector itself is private (the ``embeddings`` table)."""

    stage: ClassVar[str] = "embed"
    private: ClassVar[frozenset[str]] = frozenset({"vector"})
    model: str
    dim: int
    content_hash: str
    vector: list[float] | None = None


class Ranked(BaseModel):
    """A label and its probability."""

    model_config = ConfigDict(extra="forbid")
    code: str
    confidence: float


class TopicOut(StageOutput):
    """``topic``: the best topic, its confidence, the runners-up, and whether to review it."""

    stage: ClassVar[str] = "topic"
    code: str
    confidence: float
    alternatives: list[Ranked] = Field(default_factory=list)
    method: str
    review: bool = False


class SentimentOut(StageOutput):
    """``sentiment``: the label (negative / neutral / positive), its score and every score."""

    stage: ClassVar[str] = "sentiment"
    label: str
    score: float
    scores: dict[str, float] = Field(default_factory=dict)
    method: str


class UrgencyReason(BaseModel):
    """One urgency category found, in both languages, with the terms that matched."""

    model_config = ConfigDict(extra="forbid")
    code: str
    vi: str
    en: str
    terms: list[str] = Field(default_factory=list)


class UrgencyOut(StageOutput):
    """``urgency``: a 0-1 score, why, and the suggested answer deadline."""

    stage: ClassVar[str] = "urgency"
    score: float
    reason: list[UrgencyReason] = Field(default_factory=list)
    reason_text: str = ""
    deadline: str
    deadline_basis: str


class ToxicityOut(StageOutput):
    """``toxicity``: label, score, the terms that matched, and whether a moderator should look."""

    stage: ClassVar[str] = "toxicity"
    label: str
    score: float
    terms: list[str] = Field(default_factory=list)
    method: str
    moderation: bool = False


class DedupOut(StageOutput):
    """``dedup``: the earliest near-duplicate, the group joined, and the signature (private)."""

    stage: ClassVar[str] = "dedup"
    private: ClassVar[frozenset[str]] = frozenset({"signature"})
    duplicate_of: int | None = None
    group: int | None = None
    similarity: float | None = None
    linked_groups: list[int] = Field(default_factory=list)
    scheme: str
    signature: list[int] | None = None


OUTPUT_MODELS: Final[dict[str, type[StageOutput]]] = {
    model.stage: model
    for model in (
        LanguageOut,
        NormalizeOut,
        PiiOut,
        PlacesOut,
        EmbedOut,
        TopicOut,
        SentimentOut,
        UrgencyOut,
        ToxicityOut,
        DedupOut,
    )
}
"""The built-in stages' output models by stage name."""

Out = TypeVar("Out", bound=StageOutput)


def output_of(annotations: Mapping[str, StageOutput], model: type[Out]) -> Out | None:
    """The output of ``model``'s stage among ``annotations``, when that stage ran."""
    found = annotations.get(model.stage)
    return found if isinstance(found, model) else None


def analysis_text(annotations: Mapping[str, StageOutput], raw: str) -> str:
    """The text analysis reads: redacted when the PII stage ran, else normalised, else ``raw``."""
    if (pii := output_of(annotations, PiiOut)) is not None:
        return pii.redacted_text
    if (normalized := output_of(annotations, NormalizeOut)) is not None and normalized.text is not None:
        return normalized.text
    return raw


def parse_stored(stage: str, data: Mapping[str, Any] | None) -> StageOutput | None:
    """A stored annotation row as its stage's model; ``None`` for a stage without a known model
    or data that no longer fits it (an add-on's stage, a row from an old version)."""
    model = OUTPUT_MODELS.get(stage)
    if model is None or not data:
        return None
    try:
        return model.from_stored(data)
    except ValueError:
        return None


def stored_redacted_text(data: Mapping[str, Any] | None) -> str | None:
    """The redacted text of a stored ``pii`` annotation row (read per listed row: no model is built)."""
    text = (data or {}).get(PII_TEXT)
    return text if isinstance(text, str) else None
