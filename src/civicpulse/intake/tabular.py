"""Readers for delimited text (CSV/TSV), XLSX and JSONL files.

Every reader streams ``Row`` (a record's line number and its fields) or ``RowError`` (the line number
and why the record was refused); a file that cannot be read at all raises ``UnreadableFile`` before
the first record.

Encodings: a BOM wins (UTF-8, UTF-16); then strict UTF-8; then charset-normalizer restricted to
``PLAUSIBLE_ENCODINGS``. Text is kept as decoded, with one exception: Windows-1258 writes Vietnamese
tone marks as separate combining characters (``e`` + U+0301), an artefact of the code page rather than
of what the citizen typed, so text decoded from cp1258 is normalised to NFC (``é``). Text in any other
encoding is never normalised.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import lzma
import struct
import time
import unicodedata
import zipfile
import zlib
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from civicpulse.errors import Unprocessable
from civicpulse.settings import Settings

PLAUSIBLE_ENCODINGS = ("utf_8", "cp1258", "cp1252", "utf_16")
DELIMITERS = ",;\t"
SAMPLE_BYTES = 64 * 1024
MAX_RECORD_LINES = 5_000  # a quoted field running longer than this is taken for an unbalanced quote
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


class UnreadableFile(Unprocessable):
    """A whole file cannot be read: unknown encoding or format, no header row."""


@dataclass(frozen=True, slots=True)
class Row:
    """One record: where it starts in the file and its fields by column name."""

    line: int
    fields: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RowError:
    """One refused record: where it starts in the file and why."""

    line: int
    reason: str


Record = Row | RowError


# --- encodings -------------------------------------------------------------------------------


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes with ``encoding`` (read in chunks, nothing kept)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(path: Path) -> str:
    """The encoding of a text file, or ``UnreadableFile`` naming the file."""
    from charset_normalizer import from_bytes

    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            if _decodes(path, encoding):
                return encoding
            raise UnreadableFile(f"{path.name}: starts with a {encoding} byte-order mark but does not decode")
    if _decodes(path, "utf-8"):
        return "utf-8"
    best = from_bytes(head, cp_isolation=list(PLAUSIBLE_ENCODINGS)).best()
    if best is not None and best.encoding != "utf_8" and _decodes(path, best.encoding):
        return best.encoding
    raise UnreadableFile(
        f"{path.name}: cannot tell its text encoding (tried UTF-8, UTF-16, Windows-1258 and "
        "Windows-1252); save it as UTF-8 and import again"
    )


def open_text(path: Path) -> Iterator[str]:
    """The file's physical lines, decoded (see the module docstring for cp1258)."""
    encoding = detect_encoding(path)
    nfc = codecs.lookup(encoding).name == "cp1258"
    with path.open(encoding=encoding, newline="") as handle:
        if not nfc:
            yield from handle
            return
        for line in handle:
            yield unicodedata.normalize("NFC", line)


# --- delimited text --------------------------------------------------------------------------


class _RunawayRecord(Exception):
    """A record spans more lines than any plausible quoted field."""


class _Lines:
    """Physical lines for ``csv.reader``, numbered; a refused record's later lines can be re-read."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._source = iter(lines)
        self._back: deque[tuple[int, str]] = deque()
        self._number = 0
        self.taken: list[tuple[int, str]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self._back:
            item = self._back.popleft()
        else:
            self._number += 1
            item = (self._number, next(self._source))
        self.taken.append(item)
        if len(self.taken) > MAX_RECORD_LINES:
            raise _RunawayRecord(f"a quoted field runs over {MAX_RECORD_LINES} lines")
        return item[1]

    def refuse(self) -> int:
        """Give back every line of the current record but its first; return the first's number."""
        first = self.taken[0][0]
        self._back.extendleft(reversed(self.taken[1:]))
        self.taken = []
        return first


def sniff_delimiter(sample: str) -> str:
    """Comma, semicolon or tab: ``csv.Sniffer`` when the header agrees, else counts in the header."""
    header = sample.split("\n", 1)[0].split("\r", 1)[0]
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        sniffed = ""
    if sniffed and sniffed in header:
        return sniffed
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_records(
    lines: _Lines, delimiter: str, width: int | None
) -> Iterator[tuple[int, list[str]] | RowError]:
    """Records with their first line; a multi-line record that fails is re-read from its 2nd line."""
    reader = csv.reader(lines, delimiter=delimiter)
    while True:
        lines.taken = []
        try:
            fields = next(reader)
        except StopIteration:
            return
        except (csv.Error, _RunawayRecord) as exc:
            if not lines.taken:
                return
            yield RowError(lines.refuse(), f"malformed CSV: {exc} (an unbalanced quote?)")
            reader = csv.reader(lines, delimiter=delimiter)
            continue
        if not fields:  # a blank line
            continue
        if width is None or len(fields) == width:
            yield lines.taken[0][0], fields
            continue
        spans = len(lines.taken) > 1
        reason = f"expected {width} fields, found {len(fields)}"
        if spans:
            reason += " (a quoted field spans lines: an unbalanced quote?)"
            yield RowError(lines.refuse(), reason)
            reader = csv.reader(lines, delimiter=delimiter)
        else:
            yield RowError(lines.taken[0][0], reason)


def _header(names: Iterable[Any], path: Path) -> list[str]:
    header = [str(name).strip() if name is not None else "" for name in names]
    header = [name or f"column_{i + 1}" for i, name in enumerate(header)]
    doubles = sorted({name for name in header if header.count(name) > 1})
    if doubles:
        raise UnreadableFile(f"{path.name}: the header names a column twice: {', '.join(doubles)}")
    return header


def read_delimited(path: Path, *, delimiter: str | None = None) -> Iterator[Record]:
    """CSV or TSV with a header row; the delimiter is sniffed unless given."""
    text = open_text(path)
    sample_lines: list[str] = []
    size = 0
    for line in text:
        sample_lines.append(line)
        size += len(line)
        if size >= SAMPLE_BYTES:
            break
    if not "".join(sample_lines).strip():
        raise UnreadableFile(f"{path.name}: the file is empty; a header row is required")
    delimiter = delimiter or sniff_delimiter("".join(sample_lines))
    lines = _Lines(itertools.chain(sample_lines, text))
    records = _csv_records(lines, delimiter, None)
    first = next(records, None)
    if not isinstance(first, tuple):
        raise UnreadableFile(f"{path.name}: the header row cannot be read")
    header = _header(first[1], path)
    for record in _csv_records(lines, delimiter, len(header)):
        if isinstance(record, RowError):
            yield record
        else:
            yield Row(record[0], dict(zip(header, record[1], strict=True)))


# --- XLSX ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class XlsxLimits:
    """What one workbook may cost before it is refused whole: its size once unpacked, the
    compression ratio of any large part (zip bombs), and the seconds to read it."""

    max_uncompressed_bytes: int = 100_000_000
    max_ratio: float = 200.0
    max_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> XlsxLimits:
        """The limits configured in ``settings``."""
        return cls(settings.max_xlsx_uncompressed_bytes, settings.max_xlsx_ratio, settings.xlsx_max_seconds)


RATIO_FLOOR = 1_000_000  # parts smaller than this unpacked may compress as well as they like
# what a damaged workbook raises while read: SyntaxError for XML that is not well-formed;
# RuntimeError (NotImplementedError among them) for a part marked encrypted or compressed by an
# unknown method; struct.error and LZMAError for damaged headers and LZMA streams
_XLSX_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    struct.error,
    KeyError,
    OSError,
    ValueError,
    EOFError,
    SyntaxError,
    RuntimeError,
)


def check_workbook_size(path: Path, limits: XlsxLimits) -> None:
    """``UnreadableFile`` when the workbook unpacks to more than the limit or a large part of it is
    compressed beyond ``max_ratio`` (sizes from the zip directory, which reading cannot exceed)."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except _XLSX_ERRORS as exc:
        raise UnreadableFile(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
    total = sum(part.file_size for part in parts)
    if total > limits.max_uncompressed_bytes:
        raise UnreadableFile(
            f"{path.name}: the workbook unpacks to {total:,} bytes, more than the limit of "
            f"{limits.max_uncompressed_bytes:,} (max_xlsx_uncompressed_bytes); save it as CSV"
        )
    for part in parts:
        ratio = part.file_size / max(part.compress_size, 1)
        if part.file_size > RATIO_FLOOR and ratio > limits.max_ratio:
            raise UnreadableFile(
                f"{path.name}: {part.filename} is compressed {ratio:,.0f} to 1, more than the limit of "
                f"{limits.max_ratio:,.0f} (max_xlsx_ratio): padding or a zip bomb; save it as CSV"
            )


class _Deadline:
    """Raises ``UnreadableFile`` once a workbook has taken longer than its limit to read."""

    def __init__(self, path: Path, seconds: float) -> None:
        self.path = path
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise UnreadableFile(
                f"{self.path.name}: reading the workbook took more than {self.seconds:g} s "
                "(xlsx_max_seconds); nothing was taken from it; save it as CSV"
            )


class _TimedFile(io.FileIO):
    """The workbook's bytes; every read checks the deadline, so that no part of parsing (shared
    strings, one huge row) can run past it for longer than one compressed chunk takes."""

    def __init__(self, path: Path, deadline: _Deadline) -> None:
        super().__init__(path, "rb")
        self._deadline = deadline

    def read(self, size: int | None = -1) -> bytes:
        self._deadline.check()
        return super().read(size)


def read_xlsx(path: Path, limits: XlsxLimits = XlsxLimits()) -> Iterator[Record]:
    """The first sheet of a workbook, header in its first row; dates come as ``datetime``.

    The whole sheet is read (within ``limits``) before the first record is given, so a workbook
    refused for its size or time gives nothing at all."""
    check_workbook_size(path, limits)
    deadline = _Deadline(path, limits.max_seconds)
    header, rows = _sheet_rows(path, deadline)
    width = len(header)
    for number, values in rows:
        extra = [v for v in values[width:] if v is not None]
        if extra:
            yield RowError(number, f"expected {width} cells, found values beyond the header's columns")
            continue
        cells = list(values[:width]) + [None] * (width - len(values))
        yield Row(number, dict(zip(header, cells, strict=True)))


def _sheet_rows(path: Path, deadline: _Deadline) -> tuple[list[str], list[tuple[int, tuple[Any, ...]]]]:
    """The header and every non-empty row (with its number) of the first sheet."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    errors = (InvalidFileException, *_XLSX_ERRORS)
    with _TimedFile(path, deadline) as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except errors as exc:
            raise UnreadableFile(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
        try:
            if not workbook.worksheets:
                raise UnreadableFile(f"{path.name}: the workbook has no worksheet")
            rows = workbook.worksheets[0].iter_rows(values_only=True)
            first = next(rows, None)
            if first is None or all(value is None for value in first):
                raise UnreadableFile(f"{path.name}: the first sheet has no header row")
            header = _header(first, path)
            kept: list[tuple[int, tuple[Any, ...]]] = []
            for number, values in enumerate(rows, start=2):
                if number % 1024 == 0:
                    deadline.check()
                if any(value is not None and value != "" for value in values):
                    kept.append((number, values))
        except errors as exc:
            raise UnreadableFile(f"{path.name}: not a readable XLSX workbook ({exc})") from exc
        finally:
            workbook.close()
    return header, kept


# --- JSONL -----------------------------------------------------------------------------------


def read_jsonl(path: Path) -> Iterator[Record]:
    """One JSON object per line; blank lines are skipped."""
    for number, line in enumerate(open_text(path), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield RowError(number, f"not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        except RecursionError:
            yield RowError(number, "not valid JSON here: nested too deeply")
            continue
        if not isinstance(value, dict):
            yield RowError(number, f"expected a JSON object, found {type(value).__name__}")
            continue
        yield Row(number, value)
