"""Where a Ray run reads its items: the store (id ranges in parallel) or files (one task per file).

Each source yields blocks of at most one batch, in order, with the columns ``ray_stages`` expects;
file rows also carry ``file``, ``record``, ``line`` and ``rejected`` (why a record was refused)
for the JSON lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, ReadTask
from sqlalchemy import Select, exists, func, select

from civicpulse.analysis.base import AnalysisItem
from civicpulse.domain import Channel, SubmissionIn
from civicpulse.intake.files import mapped_records
from civicpulse.intake.mapping import ColumnMapping, MappingError, RowMapper
from civicpulse.intake.tabular import Row, RowError, UnreadableFile, XlsxLimits
from civicpulse.runtime.ray_stages import pack
from civicpulse.runtime.store_runs import Which
from civicpulse.runtime.worker import ITEM_COLUMNS, stored_item
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.tables import JobRow, SubmissionRow

_ITEM_SCHEMA = {"key": pa.int64(), "chunk": pa.int64(), "item": pa.binary(), "failure": pa.string()}


def _waiting(which: Which) -> Any:
    """The filter on submissions of ``which``."""
    if which == "all":
        return True
    return exists().where(JobRow.submission_id == SubmissionRow.id, JobRow.state == "queued")


class IdRangeSource(Datasource):
    """Rows read in submission id ranges: several read in parallel on PostgreSQL, one on SQLite. A
    subclass gives the query of its ``(min id, max id, count)`` and the reader of one range."""

    row_bytes = 1024  # for Ray's estimate of the data's size

    def __init__(self, settings: Settings, batch_size: int, ranges: int) -> None:
        super().__init__()
        self.settings, self.batch_size = settings, batch_size
        db = Database.from_settings(settings)
        try:
            with db.read() as session:
                low, high, count = session.execute(self.bounds()).one()
            parallel = db.dialect != "sqlite"
        finally:
            db.dispose()
        self.low, self.high, self.count = low or 0, high or 0, count
        self.ranges = max(1, min(ranges, count)) if parallel else 1

    def bounds(self) -> Select[Any]:
        """``(min id, max id, count)`` of the rows to read."""
        raise NotImplementedError

    def reader(self, start: int, end: int) -> Callable[[], Iterator[pa.Table]]:
        """What reads the rows with ``start <= id < end``, as blocks of one batch."""
        raise NotImplementedError

    def estimate_inmemory_data_size(self) -> int | None:
        return self.count * self.row_bytes

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, **_: Any
    ) -> list[ReadTask]:
        """One task per id range (one in all on SQLite)."""
        if self.count == 0:
            return []
        step = -(-(self.high - self.low + 1) // self.ranges)
        rows = self.count // self.ranges
        size = rows * self.row_bytes
        meta = BlockMetadata(num_rows=rows, size_bytes=size, input_files=None, exec_stats=None)
        return [
            ReadTask(self.reader(start, min(start + step, self.high + 1)), meta)
            for start in range(self.low, self.high + 1, step)
        ]


class SubmissionSource(IdRangeSource):
    """Stored submissions in id order; on PostgreSQL cut into id ranges read in parallel."""

    row_bytes = 2048

    def __init__(self, settings: Settings, which: Which, batch_size: int, ranges: int) -> None:
        self.which = which
        super().__init__(settings, batch_size, ranges)

    def bounds(self) -> Select[Any]:
        return select(func.min(SubmissionRow.id), func.max(SubmissionRow.id), func.count()).where(
            _waiting(self.which)
        )

    def reader(self, start: int, end: int) -> Callable[[], Iterator[pa.Table]]:
        return _IdRange(self.settings, self.which, start, end, self.batch_size)


class _IdRange:
    """Reads submissions with ``start <= id < end`` as blocks of one batch."""

    def __init__(self, settings: Settings, which: Which, start: int, end: int, batch_size: int) -> None:
        self.settings, self.which, self.start, self.end, self.batch_size = (
            settings,
            which,
            start,
            end,
            batch_size,
        )

    def __call__(self) -> Iterator[pa.Table]:
        db = Database.from_settings(self.settings)
        try:
            after = self.start - 1
            while True:
                with db.read() as session:
                    rows = session.execute(
                        select(*ITEM_COLUMNS)
                        .where(SubmissionRow.id > after, SubmissionRow.id < self.end, _waiting(self.which))
                        .order_by(SubmissionRow.id)
                        .limit(self.batch_size)
                    ).all()
                if not rows:
                    return
                after = rows[-1].id
                items = [stored_item(r) for r in rows]
                yield pa.table(
                    {
                        "key": [item.id for item in items],
                        "chunk": [rows[0].id] * len(items),
                        "item": [pack(item) for item in items],
                        "failure": [""] * len(items),
                    },
                    schema=pa.schema(_ITEM_SCHEMA),
                )
        finally:
            db.dispose()


_FILE_SCHEMA = pa.schema(
    {
        **_ITEM_SCHEMA,
        "file": pa.string(),
        "record": pa.int64(),
        "line": pa.int64(),
        "rejected": pa.string(),
    }
)


class FileSource(Datasource):
    """Records of files (those ``civicpulse analyze`` reads, and Parquet), one read task per file.

    Item ids and chunks are those of the local engine (position in a batch of ``batch_size`` of its
    file), so both engines give the stages the same batches.
    """

    def __init__(
        self, settings: Settings, paths: list[Path], mapping: ColumnMapping, batch_size: int
    ) -> None:
        super().__init__()
        self.settings, self.paths, self.mapping, self.batch_size = settings, paths, mapping, batch_size

    def estimate_inmemory_data_size(self) -> int | None:
        """About the files' size."""
        return sum(path.stat().st_size for path in self.paths)

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, **_: Any
    ) -> list[ReadTask]:
        """One task per file, in the order given."""
        return [
            ReadTask(
                _FileRecords(self.settings, path, number, self.mapping, self.batch_size),
                BlockMetadata(
                    num_rows=None, size_bytes=path.stat().st_size, input_files=[str(path)], exec_stats=None
                ),
            )
            for number, path in enumerate(self.paths)
        ]


def parquet_records(path: Path) -> Iterator[Row]:
    """The rows of a Parquet file as records (numbered from 1)."""
    import pyarrow.parquet as pq

    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
        for values in batch.to_pylist():
            number += 1
            yield Row(number, {key: value for key, value in values.items() if value is not None})


class _FileRecords:
    """Reads one file's records as blocks of one batch."""

    def __init__(
        self, settings: Settings, path: Path, number: int, mapping: ColumnMapping, batch_size: int
    ) -> None:
        self.settings, self.path, self.number = settings, path, number
        self.mapping, self.batch_size = mapping, batch_size

    def _entries(self) -> Iterator[SubmissionIn | RowError]:
        mapper = RowMapper(self.mapping, Channel.file_import, self.settings.max_text_chars)
        if self.path.suffix.lower() != ".parquet":
            yield from mapped_records(self.path, mapper, XlsxLimits.from_settings(self.settings))
            return
        for record in parquet_records(self.path):
            try:
                built = mapper.build(record)
            except MappingError as exc:
                raise UnreadableFile(f"{self.path.name}: {exc}") from exc
            yield RowError(record.line, built) if isinstance(built, str) else built

    def __call__(self) -> Iterator[pa.Table]:
        rows: list[dict[str, Any]] = []
        for record, entry in enumerate(self._entries(), start=1):
            index = (record - 1) % self.batch_size
            row: dict[str, Any] = {
                "key": index,
                "chunk": self.number * 2**40 + (record - 1) // self.batch_size,
                "item": b"",
                "failure": "",
                "file": self.path.name,
                "record": record,
                "line": 0,
                "rejected": "",
            }
            if isinstance(entry, RowError):
                row |= {"line": entry.line, "rejected": entry.reason}
            else:
                item = AnalysisItem(
                    id=index,
                    text=entry.text,
                    language_hint=entry.language_hint,
                    locality=entry.locality,
                    source_id=entry.source_id,
                    attachment_names=tuple(a.filename for a in entry.attachments),
                    received_at=entry.received_at,
                )
                row["item"] = pack(item)
            rows.append(row)
            if len(rows) == self.batch_size:
                yield pa.Table.from_pylist(rows, schema=_FILE_SCHEMA)
                rows = []
        if rows:
            yield pa.Table.from_pylist(rows, schema=_FILE_SCHEMA)
