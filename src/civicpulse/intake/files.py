"""File intake: read CSV/TSV/XLSX/JSONL/e-mail files, map their columns, and store them in batches.

Each batch of valid rows goes through ``intake.service.accept`` in its own transaction, so a crash
loses nothing already accepted and a re-run stores nothing twice (source ids or content hashes).
Rows that cannot be read or validated are reported with their file, line and reason.
"""

from __future__ import annotations

import csv
import json
import re
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from civicpulse.domain import Channel, SubmissionIn
from civicpulse.intake.mail import is_mbox, read_eml, read_mbox
from civicpulse.intake.service import accept
from civicpulse.intake.tabular import (
    Record,
    Row,
    RowError,
    UnreadableFile,
    read_delimited,
    read_jsonl,
    read_xlsx,
)
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BATCH_SIZE = 2_000
SHOWN_REJECTIONS = 20

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


# --- column mapping --------------------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMapping:
    """Which column holds which field; ``None`` means guess from the header."""

    text: str | None = None
    source_id: str | None = None
    received_at: str | None = None
    locality: str | None = None
    channel: str | None = None
    language_hint: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None


# Header names (lower case, without diacritics, ``_`` for spaces) that stand for a field.
_ALIAS_WORDS = {
    "text": "content body message noi_dung phan_anh y_kien mo_ta description comment",
    "source_id": "id ma ma_so ma_phan_anh reference ref",
    "received_at": "date time datetime timestamp created_at ngay thoi_gian ngay_gui ngay_nhan ngay_tiep_nhan",
    "locality": "address dia_chi tinh tinh_thanh tinh_thanh_pho location dia_ban",
    "channel": "kenh",
    "language_hint": "language lang ngon_ngu",
    "name": "ho_ten ho_va_ten full_name ten nguoi_gui",
    "phone": "sdt so_dien_thoai dien_thoai tel telephone phone_number",
    "email": "e_mail mail thu_dien_tu",
}
ALIASES: dict[str, tuple[str, ...]] = {key: tuple(words.split()) for key, words in _ALIAS_WORDS.items()}
SUBMISSION_FIELDS = tuple(SubmissionIn.model_fields)
CONTACT_FIELDS = ("name", "phone", "email")
_STRING_FIELDS = ("source_id", "channel", "language_hint", "locality", "service_code")


def header_key(name: str) -> str:
    """A header name folded for matching: ``Nội dung`` -> ``noi_dung``."""
    folded = unicodedata.normalize("NFD", name.strip().lower().replace("đ", "d"))
    folded = "".join(c for c in folded if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


class MappingError(ValueError):
    """The columns do not fit: no text column, or a named column is missing."""


def resolve_columns(mapping: ColumnMapping, columns: Sequence[str]) -> dict[str, str]:
    """Field -> column: named columns first, then exact field names, then known header names."""
    resolved: dict[str, str] = {}
    for spec in fields(mapping):
        named = getattr(mapping, spec.name)
        if named is not None:
            if named not in columns:
                raise MappingError(f"column {named!r} is not in the file; columns: {', '.join(columns)}")
            resolved[spec.name] = named
    used = set(resolved.values())
    by_key = {header_key(column): column for column in reversed(columns)}
    for target in (*SUBMISSION_FIELDS, *CONTACT_FIELDS):
        if target in resolved:
            continue
        for key in (target, *ALIASES.get(target, ())):
            column = by_key.get(key)
            if column is not None and column not in used:
                resolved[target] = column
                used.add(column)
                break
    if "text" not in resolved:
        raise MappingError(
            f"no text column among {', '.join(columns) or '(none)'}; name it with --text-column"
        )
    return resolved


# --- values ----------------------------------------------------------------------------------

_VN_TIME = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.ASCII
)
_EPOCH = re.compile(r"-?\d{9,11}(\.\d+)?", re.ASCII)


def parse_time(value: Any) -> datetime:
    """ISO 8601, ``dd/mm/yyyy [HH:MM[:SS]]``, epoch seconds or a spreadsheet date; naive means Vietnam."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = _from_epoch(float(value))
    else:
        raw = str(value).strip()
        if _EPOCH.fullmatch(raw):
            moment = _from_epoch(float(raw))
        elif match := _VN_TIME.fullmatch(raw):
            day, month, year, hour, minute, second = (int(g) if g else 0 for g in match.groups())
            moment = datetime(year, month, day, hour, minute, second)
        else:
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                raise ValueError(
                    f"cannot read {raw[:40]!r} as a time (ISO 8601, dd/mm/yyyy [HH:MM[:SS]] or epoch seconds)"
                ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TZ)


def _from_epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"epoch seconds {seconds} are out of range") from exc


def _as_string(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store 1234 as 1234.0
    return str(value).strip()


def _as_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg})") from None
    return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class RowMapper:
    """Turns a record's fields into a ``SubmissionIn``, or a readable reason why not."""

    def __init__(self, mapping: ColumnMapping, default_channel: Channel, max_text_chars: int) -> None:
        self.mapping = mapping
        self.default_channel = default_channel
        self.max_text_chars = max_text_chars
        self._resolved: dict[tuple[str, ...], dict[str, str]] = {}

    def columns_for(self, keys: tuple[str, ...]) -> dict[str, str]:
        """The resolved mapping for records with these keys (cached per key set)."""
        found = self._resolved.get(keys)
        if found is None:
            found = self._resolved[keys] = resolve_columns(self.mapping, keys)
        return found

    def build(self, row: Row) -> SubmissionIn | str:
        """The validated submission, or the reason the row is refused."""
        columns = self.columns_for(tuple(row.fields))
        data: dict[str, Any] = {"channel": self.default_channel}
        contact: dict[str, Any] = {}
        try:
            for target, column in columns.items():
                value = row.fields.get(column)
                if target == "text":
                    data["text"] = value if isinstance(value, str) or value is None else _as_string(value)
                elif _blank(value):
                    continue
                elif target in CONTACT_FIELDS:
                    contact[target] = _as_string(value)
                elif target in _STRING_FIELDS:
                    data[target] = _as_string(value).lower() if target == "channel" else _as_string(value)
                elif target == "received_at":
                    data[target] = parse_time(value)
                elif target in ("contact", "attachments"):
                    data[target] = _as_json(value)
                else:
                    data[target] = value
        except ValueError as exc:
            return f"{target}: {exc}"
        if contact:
            data["contact"] = {**(data.get("contact") or {}), **contact}
        text = data.get("text")
        if _blank(text):
            return "text: the text is empty"
        if len(text) > self.max_text_chars:
            return f"text: String should have at most {self.max_text_chars} characters"
        try:
            return SubmissionIn.model_validate(data)
        except ValidationError as exc:
            return validation_reason(exc)


def validation_reason(exc: ValidationError) -> str:
    """Pydantic errors as one line: ``text: String should have at most 20000 characters``."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "row"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


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
    with path.open("w", encoding="utf-8", newline="") as handle:
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
) -> ImportReport:
    """Import every file; good rows are stored in batches, bad rows reported with their line."""
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
    with _open_rejects(rejects_path) as handle, progress:
        rejects = _Rejects(handle, report)
        for path in files:
            file_report = FileReport(Path(path))
            report.files.append(file_report)
            task = progress.add_task(Path(path).name, total=None)

            def store(batch: list[SubmissionIn], file_report: FileReport = file_report) -> None:
                results = accept(db, cipher, batch, actor=actor, client="cli", action="import.file")
                new = sum(not r.duplicate for r in results)
                file_report.stored += new
                file_report.duplicates += len(results) - new

            try:
                _import_file(file_report, mapper, rejects, store, batch_size, progress, task)
            except UnreadableFile as exc:
                file_report.error = exc.message
            progress.update(task, completed=file_report.read)
            progress.stop_task(task)
    report.seconds = time.perf_counter() - started
    if console is not None:
        print_report(console, report, rejects_path)
    return report


def _import_file(
    file_report: FileReport,
    mapper: RowMapper,
    rejects: _Rejects,
    store: Callable[[list[SubmissionIn]], None],
    batch_size: int,
    progress: Progress,
    task: Any,
) -> None:
    kind = file_kind(file_report.path)
    batch: list[SubmissionIn] = []
    for record in kind.read(file_report.path):
        file_report.read += 1
        if isinstance(record, RowError):
            rejects.add(file_report, record.line, record.reason)
            continue
        try:
            item = mapper.build(record)
        except MappingError as exc:
            if kind.headed:
                raise UnreadableFile(f"{file_report.path.name}: {exc}") from exc
            item = str(exc)
        if isinstance(item, str):
            rejects.add(file_report, record.line, item)
            continue
        batch.append(item)
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
