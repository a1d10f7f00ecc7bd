"""Analyse files without storing them: the same stages as the worker, in batches, to JSONL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.summary import summarize
from civicpulse.domain import Channel, SubmissionIn
from civicpulse.intake.files import mapped_records
from civicpulse.intake.mapping import ColumnMapping, RowMapper
from civicpulse.intake.tabular import RowError, XlsxLimits
from civicpulse.runtime.stages import build_pipeline
from civicpulse.settings import Settings


@dataclass
class AnalyzeReport:
    """How many records were analysed, refused or failed."""

    analysed: int = 0
    rejected: int = 0
    failed: int = 0


def _batches(entries: Iterator[SubmissionIn | RowError], size: int) -> Iterator[list]:
    batch: list = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def analyze_files(
    settings: Settings,
    paths: list[Path],
    output: TextIO,
    *,
    mapping: ColumnMapping,
    batch_size: int = 256,
    console: Console | None = None,
) -> AnalyzeReport:
    """Run ``settings.stages`` over every record of ``paths``; one JSON line per record.

    Each line holds the file, the line number, the source id and either ``analysis`` (the public
    view, as ``POST /api/v1/analyze`` returns it) or ``error``. Nothing is stored.
    """
    pipeline = build_pipeline(settings)
    mapper = RowMapper(mapping, Channel.file_import, settings.max_text_chars)
    report = AnalyzeReport()
    xlsx = XlsxLimits.from_settings(settings)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console or Console(stderr=True), transient=False) as progress:
        for path in paths:
            task = progress.add_task(path.name, total=None)
            for number, batch in enumerate(_batches(mapped_records(path, mapper, xlsx), batch_size)):
                items = [
                    AnalysisItem(
                        id=i,
                        text=e.text,
                        language_hint=e.language_hint,
                        locality=e.locality,
                        source_id=e.source_id,
                        attachment_names=tuple(a.filename for a in e.attachments),
                        received_at=e.received_at,
                    )
                    for i, e in enumerate(batch)
                    if isinstance(e, SubmissionIn)
                ]
                result = pipeline.run(items)
                for index, entry in enumerate(batch):
                    line = {"file": path.name, "record": number * batch_size + index + 1}
                    if isinstance(entry, RowError):
                        line |= {"line": entry.line, "error": entry.reason}
                        report.rejected += 1
                    elif index in result.failures:
                        line |= {"source_id": entry.source_id, "error": result.failures[index]}
                        report.failed += 1
                    else:
                        public = summarize(result.outputs[index], entry.text)
                        line |= {"source_id": entry.source_id, "analysis": public.model_dump(mode="json")}
                        report.analysed += 1
                    output.write(json.dumps(line, ensure_ascii=False) + "\n")
                progress.advance(task, len(batch))
    return report
