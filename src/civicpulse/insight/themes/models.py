"""What the API, the CLI and the dashboard show of themes (pydantic, ``extra="forbid"``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class QuoteOut(_Strict):
    """A verbatim excerpt of a submission's redacted text."""

    submission_id: int
    text: str


class CitedSentence(_Strict):
    """A generated sentence and the submissions it rests on."""

    text: str
    submission_ids: list[int]


class GeneratedText(_Strict):
    """A theme's label and summary written by a chat model, every sentence cited."""

    label: str
    summary: list[CitedSentence]
    model: str


class ThemeOut(_Strict):
    """One theme of a slice."""

    id: int
    label: str
    renamed: bool = False
    split_from: int | None = None
    is_new: bool
    first_seen: datetime
    keywords: list[str]
    quotes: list[QuoteOut]
    summary: list[QuoteOut]
    senders: int
    weight: float
    members: int
    member_ids: list[int]
    sentiment: dict[str, float]
    places: dict[str, float]
    place_counts: dict[str, int]
    with_place: int
    trend: dict[str, float]
    urgency: float
    growth: float
    attention: float
    excerpts: list[QuoteOut]
    stored: bool = False  # a stored run has this theme: the inbox can filter on it
    generated: GeneratedText | None = None


class ThemesOut(_Strict):
    """The themes of a slice, what was held back, and what stayed unassigned."""

    since: datetime | None
    until: datetime | None
    topic: str | None
    place: str | None
    items: int
    without_vector: int
    unassigned: int
    unassigned_share: float
    suppressed: int
    dismissed: int
    k_anonymity: int
    themes: list[ThemeOut]
