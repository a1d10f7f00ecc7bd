"""File intake: read CSV/TSV/XLSX/JSONL/e-mail files, map their columns, and store them in batches.

Each batch of valid rows goes through ``intake.service.accept`` in its own transaction, so a crash
loses nothing already accepted and a re-run stores nothing twice (source ids or content hashes).
Rows that cannot be read or validated are reported with their file, line and reason.
"""

from __future__ import annotations

import csv
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from civicpulse.atomic import atomic_output
from civicpulse.domain import Channel, SubmissionIn
from civicpulse.intake.mail import is_mbox, read_eml, read_mbox
from civicpulse.intake.mapping import ColumnMapping, MappingError, RowMapper
from civicpulse.intake.service import accept
from civicpulse.intake.tabular import (
    Record,
    RowError,
    UnreadableFile,
    XlsxLimits,
    read_delimited,
    read_jsonl,
    read_xlsx,
)
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database

__all__ = ["ColumnMapping", "ImportReport", "import_files", "shift_to_now"]

BATCH_SIZE = 5_000  # rows per transaction: fewer commits write fewer index pages twice
SHOWN_REJECTIONS = 20
GC_ALLOCATIONS = 100_000

# --- which file is read how ------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    """A reader, and whether all its records share one header (a mapping error is then fatal)."""

    read: Callable[[Path], Iterator[Record]]
    headed: bool


READERS: dict[str, FileKind] = {
    ".csv": FileKind(read_delimited, True),
    ".txt": FileKind(read_delimited, True),
    ".tsv": FileKind(partial(read_delimited, delimiter="\t"), True),
    ".xlsx": FileKind(read_xlsx, True),
    ".jsonl": FileKind(read_jsonl, False),
    ".ndjson": FileKind(read_jsonl, False),
    ".eml": FileKind(read_eml, False),
    ".mbox": FileKind(read_mbox, False),
}


def file_kind(path: Path) -> FileKind:
    """How to read ``path``, by its suffix (an mbox may have none); else ``UnreadableFile``."""
    if not path.is_file():
        raise UnreadableFile(f"{path}: no such file")
    kind = READERS.get(path.suffix.lower())
    if kind is not None:
        return kind
    if is_mbox(path):
        return READERS[".mbox"]
    known = ", ".join(READERS)
    raise UnreadableFile(f"{path.name}: unknown file type {path.suffix or '(no suffix)'!r}; known: {known}")


# --- reading and mapping --------------------------------------------------------------------

Entry = SubmissionIn | RowError  # a valid record, or a refused one with its line and reason


def mapped_records(path: Path, mapper: RowMapper, xlsx: XlsxLimits = XlsxLimits()) -> Iterator[Entry]:
    """Every record of the file in order, validated or refused; ``UnreadableFile`` if it cannot be read."""
    kind = file_kind(path)
    for record in read_xlsx(path, xlsx) if kind.read is read_xlsx else kind.read(path):
        if isinstance(record, RowError):
            yield record
            continue
        try:
            item = mapper.build(record)
        except MappingError as exc:
            if kind.headed:
                raise UnreadableFile(f"{path.name}: {exc}") from exc
            item = str(exc)
        yield RowError(record.line, item) if isinstance(item, str) else item


# --- reports ---------------------------------------------------------------------------------


@dataclass
class FileReport:
    """What became of one file's records."""

    path: Path
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    error: str | None = None


@dataclass(frozen=True)
class Rejection:
    """A refused record: its file, its line, and why."""

    file: str
    line: int
    reason: str


@dataclass
class ImportReport:
    """Every file's counts and the first rejections (all of them go to the rejects file)."""

    files: list[FileReport] = field(default_factory=list)
    first_rejections: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def read(self) -> int:
        """Records read, good or bad."""
        return sum(f.read for f in self.files)

    @property
    def stored(self) -> int:
        """Records stored as new submissions."""
        return sum(f.stored for f in self.files)

    @property
    def rejected(self) -> int:
        """Records refused."""
        return sum(f.rejected for f in self.files)

    @property
    def failed_files(self) -> list[FileReport]:
        """Files that could not be read at all."""
        return [f for f in self.files if f.error]

    @property
    def exit_code(self) -> int:
        """1 when a file was unreadable, or when rows were read and none was good; else 0."""
        accepted = sum(f.stored + f.duplicates for f in self.files)
        return 1 if self.failed_files or (self.read and not accepted) else 0


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "- rows/s")


class _Rejects:
    """Writes every rejection to a CSV file (when given) and keeps the first few."""

    def __init__(self, handle: TextIO | None, report: ImportReport) -> None:
        self._writer = csv.writer(handle) if handle else None
        self._report = report
        if self._writer:
            self._writer.writerow(["file", "line", "reason"])

    def add(self, file_report: FileReport, line: int, reason: str) -> None:
        file_report.rejected += 1
        if self._writer:
            self._writer.writerow([str(file_report.path), line, reason])
        if len(self._report.first_rejections) < SHOWN_REJECTIONS:
            self._report.first_rejections.append(Rejection(str(file_report.path), line, reason))


@contextmanager
def _open_rejects(path: Path | None) -> Iterator[TextIO | None]:
    if path is None:
        yield None
        return
    with atomic_output(path) as partial, partial.open("w", encoding="utf-8", newline="") as handle:
        yield handle


# --- import ----------------------------------------------------------------------------------


def import_files(
    db: Database,
    settings: Settings,
    files: Sequence[Path],
    *,
    mapping: ColumnMapping | None = None,
    default_channel: Channel = Channel.file_import,
    rejects_path: Path | None = None,
    console: Console | None = None,
    actor: str = "cli:import",
    batch_size: int = BATCH_SIZE,
    shift: timedelta | None = None,
) -> ImportReport:
    """Import every file; good rows are stored in batches, bad rows reported with their line. With
    ``shift``, every row's time is moved by it (see ``shift_to_now``)."""
    report = ImportReport()
    mapper = RowMapper(mapping or ColumnMapping(), default_channel, settings.max_text_chars)
    cipher = ContactCipher(settings.fernet_key)
    started = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed:,.0f} rows"),
        _RateColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=console is None,
    )
    with _open_rejects(rejects_path) as handle, progress, _rare_collections():
        rejects = _Rejects(handle, report)
        for path in files:
            file_report = FileReport(Path(path))
            report.files.append(file_report)
            task = progress.add_task(Path(path).name, total=None)

            def store(batch: list[SubmissionIn], file_report: FileReport = file_report) -> None:
                if shift:
                    batch = [_shifted(item, shift) for item in batch]
                results = accept(db, cipher, batch, actor=actor, client="cli", action="import.file")
                new = sum(not r.duplicate for r in results)
                file_report.stored += new
                file_report.duplicates += len(results) - new

            try:
                records = mapped_records(file_report.path, mapper, XlsxLimits.from_settings(settings))
                _import_file(file_report, records, rejects, store, batch_size, progress, task)
            except UnreadableFile as exc:
                file_report.error = exc.message
            progress.update(task, completed=file_report.read)
            progress.stop_task(task)
    report.seconds = time.perf_counter() - started
    if console is not None:
        print_report(console, report, rejects_path)
    return report


def shift_to_now(
    settings: Settings,
    files: Sequence[Path],
    *,
    mapping: ColumnMapping | None = None,
    now: datetime | None = None,
) -> timedelta:
    """Whole days that move the latest time of ``files`` into the last 24 hours before ``now``: one
    offset for all rows, so their order, weekdays and hours are kept (demo data that ends this week)."""
    mapper = RowMapper(mapping or ColumnMapping(), Channel.file_import, settings.max_text_chars)
    latest = None
    for path in files:
        try:
            for entry in mapped_records(Path(path), mapper, XlsxLimits.from_settings(settings)):
                if isinstance(entry, SubmissionIn) and entry.received_at is not None:
                    moment = entry.received_at.astimezone(UTC)
                    latest = moment if latest is None or moment > latest else latest
        except UnreadableFile:
            continue
    if latest is None:
        return timedelta()
    return timedelta(days=((now or datetime.now(UTC)) - latest) // timedelta(days=1))


def _shifted(item: SubmissionIn, shift: timedelta) -> SubmissionIn:
    if item.received_at is None:
        return item
    return item.model_copy(update={"received_at": item.received_at + shift})


@contextmanager
def _rare_collections() -> Iterator[None]:
    """Run the cycle collector every ``GC_ALLOCATIONS`` allocations instead of every 700.

    An import allocates millions of short-lived containers; with the default threshold the
    collector traced the survivors of each batch over and over and took a third of the time
    (measured: 1.7 of 4.8 s CPU for 100,000 rows). Reference counting frees them anyway.
    """
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], GC_ALLOCATIONS), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _import_file(
    file_report: FileReport,
    records: Iterator[Entry],
    rejects: _Rejects,
    store: Callable[[list[SubmissionIn]], None],
    batch_size: int,
    progress: Progress,
    task: Any,
) -> None:
    batch: list[SubmissionIn] = []
    for entry in records:
        file_report.read += 1
        if isinstance(entry, RowError):
            rejects.add(file_report, entry.line, entry.reason)
            continue
        batch.append(entry)
        if len(batch) >= batch_size:
            store(batch)
            batch = []
            progress.update(task, completed=file_report.read)
    if batch:
        store(batch)


def print_report(console: Console, report: ImportReport, rejects_path: Path | None) -> None:
    """The per-file summary table, then the first rejections or where they all went."""
    table = Table("file", "read", "stored", "duplicates", "rejected", title="Import")
    for item in report.files:
        counts = (item.read, item.stored, item.duplicates, item.rejected)
        table.add_row(item.path.name, *(f"{n:,}" for n in counts))
    console.print(table)
    for item in report.failed_files:
        console.print(f"[red]unreadable:[/red] {item.error}")
    rate = report.read / report.seconds if report.seconds else 0.0
    console.print(f"{report.read:,} rows in {report.seconds:.1f} s ({rate:,.0f} rows/s)")
    if not report.rejected:
        return
    if rejects_path is not None:
        console.print(f"{report.rejected:,} rejected rows written to {rejects_path}")
        return
    console.print(f"first {len(report.first_rejections)} of {report.rejected:,} rejected rows:")
    for rejection in report.first_rejections:
        console.print(
            f"  {rejection.file}:{rejection.line}: {rejection.reason}", markup=False, highlight=False
        )
