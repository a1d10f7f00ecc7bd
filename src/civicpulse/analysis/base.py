"""What a stage is: a name, a config, and ``process(items)`` returning results and failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from civicpulse.registry import Registry
from civicpulse.settings import Settings


@dataclass
class AnalysisItem:
    """One submission as stages see it; earlier stages' outputs accumulate in ``annotations``."""

    id: int
    text: str
    language_hint: str | None = None
    locality: str | None = None
    annotations: dict[str, dict[str, Any]] = field(default_factory=dict)


def analysis_text(item: AnalysisItem) -> str:
    """The text analysis reads: redacted if the PII stage ran, else normalised, else as received."""
    pii = item.annotations.get("pii") or {}
    if isinstance(pii.get("redacted_text"), str):
        return str(pii["redacted_text"])
    normalized = item.annotations.get("normalize") or {}
    if isinstance(normalized.get("text"), str):
        return str(normalized["text"])
    return item.text


@dataclass
class StageResult:
    """Outputs by item id, and failures (item id -> reason) as data, not exceptions."""

    outputs: dict[int, dict[str, Any]] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)


def texts_to_analyse(
    items: list[AnalysisItem], result: StageResult, missing: str
) -> tuple[list[str], list[AnalysisItem]]:
    """The analysis texts of the items that have one, and those items; the rest fail with ``missing``."""
    texts, live = [], []
    for item in items:
        text = analysis_text(item).strip()
        if not text:
            result.failures[item.id] = missing
            continue
        texts.append(text)
        live.append(item)
    return texts, live


@runtime_checkable
class Stage(Protocol):
    """A per-item analysis step; it does not know where it runs (worker, CLI or Ray)."""

    name: ClassVar[str]
    # Optional: output keys that later stages of the same run may read but that are never stored
    # (e.g. text that still holds personal data). Keys starting with "_" go to private stores.
    # transient: ClassVar[frozenset[str]]

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Analyse a batch."""
        ...


class StageFactory(Protocol):
    """Builds a stage from settings."""

    def __call__(self, settings: Settings) -> Stage: ...


stages: Registry[Stage] = Registry("stage", "civicpulse.stages")
