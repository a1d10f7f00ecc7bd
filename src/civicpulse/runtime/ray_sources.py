"""Where a Ray run reads its items: the store (one read per batch) or files (one task per file).

Each source yields blocks of at most one batch, in order, with the columns ``ray_stages`` expects;
file rows also carry ``file``, ``record``, ``line`` and ``rejected`` (why a record was refused)
for the JSON lines.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
    from ray.data import Dataset

_ITEM_SCHEMA = {"key": pa.int64(), "chunk": pa.int64(), "item": pa.binary(), "failure": pa.string()}


def _waiting(which: Which) -> Any:
    """The filter on submissions of ``which``."""
    if which == "all":
        return True
    return exists().where(JobRow.submission_id == SubmissionRow.id, JobRow.state == "queued")


class IdRangeSource(Datasource):
    """Rows read in id ranges of one batch each, so that every step downstream (stage actors,
    writers) takes one batch per block: Ray Data would otherwise merge a read task's blocks up to
    its block size (128 MiB), whole ranges of thousands of items. The driver cuts the ids at every
    ``batch_size``-th row; ``parallel`` ranges are read at once on PostgreSQL, one at a time on
    SQLite. A subclass gives the query of the ids to read and the reader of one range."""

    row_bytes = 1024  # for Ray's estimate of the data's size

    def __init__(self, settings: Settings, batch_size: int, parallel: int) -> None:
        super().__init__()
        self.settings, self.batch_size = settings, batch_size
        db = Database.from_settings(settings)
        try:
            with db.read() as session:
                cuts = session.execute(batch_starts(self.ids(), batch_size)).all()
            sqlite = db.dialect == "sqlite"
        finally:
            db.dispose()
        self.starts = [start for start, _, _ in cuts]
        self.count, self.high = (cuts[0][1], cuts[0][2]) if cuts else (0, 0)
        self.sqlite = sqlite
        self.parallel = 1 if sqlite else max(1, min(parallel, len(cuts)))

    def ids(self) -> Select[Any]:
        """The ids of the rows to read (one column)."""
        raise NotImplementedError

    def reader(self, start: int, end: int) -> Callable[[], Iterator[pa.Table]]:
        """What reads the rows with ``start <= id < end``, as blocks of one batch."""
        raise NotImplementedError

    def estimate_inmemory_data_size(self) -> int | None:
        return self.count * self.row_bytes

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: int | None = None, **_: Any
    ) -> list[ReadTask]:
        """One task per batch, in id order."""
        if not self.starts:
            return []
        ends = [*self.starts[1:], self.high + 1]
        tasks = []
        for number, (start, end) in enumerate(zip(self.starts, ends, strict=True)):
            rows = min(self.batch_size, self.count - number * self.batch_size)
            meta = BlockMetadata(
                num_rows=rows, size_bytes=rows * self.row_bytes, input_files=None, exec_stats=None
            )
            tasks.append(ReadTask(self.reader(start, end), meta))
        return tasks

    def dataset(self, num_cpus: float, *, in_next_step: bool = False) -> Dataset:
        """The rows as a Ray dataset of one block per batch, ``parallel`` reads at once.
        ``in_next_step``: no limit of their own, so that Ray Data runs each read in an actor of the
        step that takes the rows, before its work on the batch (``num_cpus`` must be that step's)."""
        import ray.data

        return ray.data.read_datasource(
            self,
            override_num_blocks=len(self.starts),
            concurrency=None if in_next_step else self.parallel,
            num_cpus=num_cpus,
        )


def batch_starts(ids: Select[Any], batch_size: int) -> Select[Any]:
    """``(first id, row count, last id)`` of each batch of ``batch_size`` rows of ``ids``, in order."""
    inner = ids.subquery()
    key = inner.c[0]
    numbered = select(
        key.label("id"),
        func.row_number().over(order_by=key).label("row"),
        func.count().over().label("count"),
        func.max(key).over().label("high"),
    ).subquery()
    return (
        select(numbered.c.id, numbered.c.count, numbered.c.high)
        .where((numbered.c.row - 1) % batch_size == 0)
        .order_by(numbered.c.id)
    )


class SubmissionSource(IdRangeSource):
    """Stored submissions in id order, a batch per read."""

    row_bytes = 2048

    def __init__(self, settings: Settings, which: Which, batch_size: int, parallel: int) -> None:
        self.which = which
        super().__init__(settings, batch_size, parallel)

    def ids(self) -> Select[Any]:
        return select(SubmissionRow.id).where(_waiting(self.which))

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
