"""What a stage is: a name, a config, and ``process(items)`` returning typed outputs and failures."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, runtime_checkable

from civicpulse.annotations import NormalizeOut, Out, StageOutput, output_of
from civicpulse.annotations import analysis_text as _analysis_text
from civicpulse.registry import Registry


@dataclass
class AnalysisItem:
    """One submission as stages see it; earlier stages' outputs accumulate in ``annotations``."""

    id: int
    text: str
    language_hint: str | None = None
    locality: str | None = None
    annotations: dict[str, StageOutput] = field(default_factory=dict)
    source_id: str | None = None
    attachment_names: tuple[str, ...] = ()
    received_at: datetime | None = None

    def output(self, model: type[Out]) -> Out | None:
        """The output of ``model``'s stage, when it ran before."""
        return output_of(self.annotations, model)


def analysis_text(item: AnalysisItem) -> str:
    """The text analysis reads: redacted if the PII stage ran, else normalised, else as received."""
    return _analysis_text(item.annotations, item.text)


def normalized_text(item: AnalysisItem) -> str:
    """The normalised text when the normalize stage ran (personal data still in it), else the raw."""
    normalized = item.output(NormalizeOut)
    return normalized.text if normalized is not None and normalized.text is not None else item.text


@dataclass
class StageResult:
    """Outputs by item id, and failures (item id -> reason) as data, not exceptions."""

    outputs: dict[int, StageOutput] = field(default_factory=dict)
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
    """A per-item analysis step; it does not know where it runs (worker, CLI or Ray).

    Built from plain configuration (``Settings``) plus, where it needs something from outside,
    small ports (Protocols declared beside the stage) passed by keyword; models load lazily.
    """

    name: ClassVar[str]
    output: ClassVar[type[StageOutput]]

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Analyse a batch."""
        ...


_LOCK = "<lock>"


class ShipsConfigOnly:
    """Pickles a stage's configuration and ports only, so it can be shipped to another process
    (a Ray actor): loaded state (attributes ending in ``_``) is rebuilt there on first use, and
    locks are made anew."""

    def __getstate__(self) -> dict[str, Any]:
        lock_types = (type(threading.Lock()), type(threading.RLock()))
        state = {}
        for key, value in self.__dict__.items():
            if key.endswith("_"):
                state[key] = None
            elif isinstance(value, lock_types):
                state[key] = _LOCK
            else:
                state[key] = value
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({k: threading.Lock() if v == _LOCK else v for k, v in state.items()})


stages: Registry[Stage] = Registry("stage", "civicpulse.stages")
