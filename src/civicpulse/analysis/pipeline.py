"""The per-item pipeline: the configured stages, run in order over a batch."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from civicpulse.analysis.base import AnalysisItem, Stage, stages
from civicpulse.settings import Settings


@dataclass
class PipelineResult:
    """Per item: each stage's output; items that failed a stage carry the reason instead."""

    outputs: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)


class Pipeline:
    """Runs stages in order; an item that fails a stage skips the stages after it."""

    def __init__(self, stage_list: list[Stage]) -> None:
        self.stages = stage_list
        self._transient = {
            stage.name: frozenset(getattr(stage, "transient", frozenset())) for stage in stage_list
        }

    @classmethod
    def from_settings(cls, settings: Settings) -> Pipeline:
        """The stages named in ``settings.stages``, built from the stage registry."""
        return cls([stages.get(name)(settings) for name in settings.stages])

    @property
    def stage_names(self) -> list[str]:
        """Names of the stages, in order."""
        return [stage.name for stage in self.stages]

    def storable(self, stage_name: str, output: dict[str, Any]) -> dict[str, Any]:
        """The part of a stage's output that may be stored (its transient keys removed)."""
        transient = self._transient.get(stage_name, frozenset())
        return {key: value for key, value in output.items() if key not in transient}

    def run(self, items: list[AnalysisItem]) -> PipelineResult:
        """Analyse a batch; failures are data (item id -> reason), never exceptions."""
        result = PipelineResult()
        live = list(items)
        for stage in self.stages:
            if not live:
                break
            try:
                stage_result = stage.process(live)
            except Exception as exc:  # a whole-batch failure: retry item by item
                stage_result = _one_by_one(stage, live, exc)
            survivors = []
            for item in live:
                if item.id in stage_result.failures:
                    result.failures[item.id] = f"{stage.name}: {stage_result.failures[item.id]}"
                    continue
                output = stage_result.outputs.get(item.id)
                if output is None:
                    result.failures[item.id] = f"{stage.name}: no output"
                    continue
                item.annotations[stage.name] = output
                survivors.append(item)
            live = survivors
        for item in live:
            result.outputs[item.id] = dict(item.annotations)
        return result


class LazyPipeline:
    """Builds the analysis pipeline once, on first use (models load lazily)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._pipeline: Pipeline | None = None
        self._lock = threading.Lock()

    def get(self) -> Pipeline:
        """The pipeline of ``settings.analyze_stages``."""
        with self._lock:
            if self._pipeline is None:
                stages = self.settings.analyze_stages or self.settings.stages
                self._pipeline = Pipeline.from_settings(self.settings.model_copy(update={"stages": stages}))
            return self._pipeline


def _one_by_one(stage: Stage, items: list[AnalysisItem], batch_error: Exception) -> Any:
    from civicpulse.analysis.base import StageResult

    merged = StageResult()
    for item in items:
        try:
            single = stage.process([item])
        except Exception as exc:
            merged.failures[item.id] = f"{type(exc).__name__}: {exc}"
            continue
        merged.outputs.update(single.outputs)
        merged.failures.update(single.failures)
    if not merged.outputs and not merged.failures:
        merged.failures = {item.id: repr(batch_error) for item in items}
    return merged
