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

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final, Literal, Self, TypeVar

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
    transient: ClassVar[frozenset[str]] = frozenset({"text", "tokens", "source"})
    text: str | None = None
    restored: bool = False
    tokens: list[str] = Field(default_factory=list)
    source: list[tuple[int, int, int, int]] | None = Field(
        default=None,
        exclude=True,
        description="Where ``text`` came from in the raw text: blocks (start, end, raw start, raw end); "
        "a block of equal lengths maps character for character (textkit.offsets.OffsetMap).",
    )


class PiiSpan(BaseModel):
    """Where one piece of personal data was, and its kind (``PHONE``, ``PERSON`` ...)."""

    model_config = ConfigDict(extra="forbid")
    type: str
    start: int
    end: int


class FoundPii(PiiSpan):
    """A span with the value it held: private, saved encrypted, never an annotation."""

    text: str
    field: str | None = Field(default=None, description="The key in ``PiiOut.fields``; None: the text.")


class PiiOut(StageOutput):
    """``pii``: the redacted text and its spans; the values themselves in ``found`` (private)."""

    stage: ClassVar[str] = "pii"
    private: ClassVar[frozenset[str]] = frozenset({"found"})
    redacted_text: str
    model_text: str | None = Field(
        default=None,
        description="The redacted text as models read it (normalised, the same placeholders) where it "
        "differs from ``redacted_text``, which keeps the citizen's own spelling.",
    )
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


class RouteChoice(BaseModel):
    """One agency proposed for a submission, how sure, and why: a stored ``rule`` (its id and plain
    words), the ``model`` learned from past assignments, or the ``taxonomy``'s agency of the topic."""

    model_config = ConfigDict(extra="forbid")
    agency: str
    confidence: float
    reason: Literal["rule", "model", "taxonomy"]
    rule_id: int | None = None
    description: dict[str, str] = Field(default_factory=dict)


class RouteOut(StageOutput):
    """``route``: the best agency, its confidence, the top 3 with their reasons, and whether it is
    sure enough to be assigned without a person (else it waits in the triage queue)."""

    stage: ClassVar[str] = "route"
    agency: str | None = None
    confidence: float = 0.0
    alternatives: list[RouteChoice] = Field(default_factory=list)
    auto_assign: bool = False


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
        RouteOut,
    )
}
"""The built-in stages' output models by stage name."""

Out = TypeVar("Out", bound=StageOutput)


def output_of(annotations: Mapping[str, StageOutput], model: type[Out]) -> Out | None:
    """The output of ``model``'s stage among ``annotations``, when that stage ran."""
    found = annotations.get(model.stage)
    return found if isinstance(found, model) else None


def analysis_text(annotations: Mapping[str, StageOutput], raw: str) -> str:
    """The text analysis reads: redacted when the PII stage ran (normalised where a ``normalize``
    stage ran before it), else normalised, else ``raw``."""
    if (pii := output_of(annotations, PiiOut)) is not None:
        return pii.model_text if pii.model_text is not None else pii.redacted_text
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


def attachment_field(index: int) -> str:
    """The key of attachment ``index``'s file name among the side fields (``PiiOut.fields``)."""
    return f"attachment:{index}"


def side_fields(
    locality: str | None, source_id: str | None, filenames: Sequence[str | None]
) -> dict[str, str | None]:
    """The fields besides the text that a citizen types, by their ``PiiOut.fields`` key."""
    fields = {"locality": locality, "source_id": source_id}
    fields.update({attachment_field(index): name for index, name in enumerate(filenames)})
    return fields


def stored_side_fields(pii: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The redacted side fields of a stored ``pii`` annotation; ``None`` when the stage has not run."""
    if pii is None:
        return None
    fields = pii.get("fields")
    if not isinstance(fields, dict):
        return {}
    return {key: value for key, value in fields.items() if isinstance(value, str)}


def redact_side_fields(
    raw: Mapping[str, str | None], redacted: Mapping[str, str] | None
) -> tuple[dict[str, str | None], list[str]]:
    """Each side field as someone who does not handle the case sees it: its redaction, else ``None``;
    and the keys of those withheld because no redaction of them is stored yet."""
    shown: dict[str, str | None] = {}
    pending: list[str] = []
    for key, value in raw.items():
        found = None if value is None or redacted is None else redacted.get(key)
        shown[key] = found
        if value is not None and found is None:
            pending.append(key)
    return shown, pending
