"""The per-item pipeline: the configured stages, run in order over a batch. It runs wherever it is
given items (the worker, ``civicpulse analyze`` over files, a Ray actor); it stores nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from civicpulse.analysis.base import AnalysisItem, Stage, StageResult
from civicpulse.annotations import StageOutput


@dataclass
class PipelineResult:
    """Per item: each stage's output; items that failed a stage carry the reason instead."""

    outputs: dict[int, dict[str, StageOutput]] = field(default_factory=dict)
    failures: dict[int, str] = field(default_factory=dict)


class Pipeline:
    """Runs stages in order; an item that fails a stage skips the stages after it."""

    def __init__(self, stage_list: list[Stage]) -> None:
        self.stages = stage_list

    @property
    def stage_names(self) -> list[str]:
        """Names of the stages, in order."""
        return [stage.name for stage in self.stages]

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


def _one_by_one(stage: Stage, items: list[AnalysisItem], batch_error: Exception) -> StageResult:
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
