"""Fast inserts of new submissions, their analysis jobs and contacts: one path per database.

Both paths run plain SQL on the caller's SQLAlchemy connection (``exec_driver_sql``: no per-row
statement compilation), so they are part of the caller's transaction: its commit makes everything
durable at once, its rollback undoes it, and errors arrive as SQLAlchemy's. Values go through the
columns' own bind processors, so rows read back exactly as if SQLAlchemy had written them.

- SQLite: ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING``. Writers are serialised (the
  write lock is held from the first insert to the commit), so the rows this call created are
  exactly those with an id above the largest id seen before it.
- PostgreSQL (psycopg): ``COPY`` into a temporary table, then one statement inserts the new
  submissions (``ON CONFLICT DO NOTHING ... RETURNING``, which names exactly the rows it created,
  even when another transaction stores the same submission at the same moment) and their jobs.

A submission whose dedup key is taken is a duplicate. One whose random tracking code is taken
(by another submission) is tried again with a fresh code, so a collision never fails a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from civicpulse.store.tables import AnnotationRow, ContactRow, JobRow, SubmissionRow

# The order of the values in a row handed to ``insert_submissions``.
COLUMNS = (
    "tracking_code",
    "dedup_key",
    "content_hash",
    "channel",
    "source_id",
    "text",
    "received_at",
    "created_at",
    "updated_at",
    "language_hint",
    "locality",
    "lat",
    "long",
    "service_code",
    "status",
    "analysis_state",
    "agency",
    "has_contact",
    "attachments",
    "sender_key",
)
CODE, KEY = COLUMNS.index("tracking_code"), COLUMNS.index("dedup_key")
JOB_COLUMNS = ("submission_id", "kind", "state", "attempts", "run_after", "created_at")
CONTACT_COLUMNS = ("submission_id", "ciphertext", "created_at")
MAX_ATTEMPTS = 5  # draws of fresh tracking codes for rows whose code was taken, before giving up
_SQLITE_CHUNK = 500  # bound parameters per ``IN (...)`` lookup

Row = tuple[Any, ...]
NewCodes = Callable[[int], list[str]]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one dedup key: the stored id and code, and whether this call created it."""

    id: int
    tracking_code: str
    created: bool


def insert_submissions(
    session: Session, rows: Sequence[Row], new_codes: NewCodes, now: datetime
) -> dict[str, Outcome]:
    """Store rows (``COLUMNS`` order, one per dedup key) not stored yet, each with a queued job.

    Returns the outcome of every row's dedup key.
    """
    if not rows:
        return {}
    session.flush()  # raw SQL below: pending ORM changes must be in the database first
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        return _SqliteWriter(connection, now).insert(rows, new_codes)
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        return _PostgresWriter(connection, now).insert(rows, new_codes)
    raise NotImplementedError(f"no bulk insert for {connection.dialect.name}+{connection.dialect.driver}")


def insert_contacts(session: Session, contacts: Sequence[tuple[int, bytes]], now: datetime) -> None:
    """Store encrypted contact details: ``(submission_id, ciphertext)`` pairs."""
    if not contacts:
        return
    connection = session.connection()
    stamp = _processor(connection, ContactRow.__table__.c.created_at)(now)
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO contacts ({', '.join(CONTACT_COLUMNS)}) VALUES ({', '.join([marker] * 3)})"
    connection.exec_driver_sql(sql, [(sid, ciphertext, stamp) for sid, ciphertext in contacts])


# --- shared helpers --------------------------------------------------------------------------


def _processor(connection: Connection, column: Any) -> Callable[[Any], Any]:
    """The column's bind processor on this dialect (identity when it has none)."""
    dialect = connection.dialect
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process or (lambda value: value)


def _job_defaults() -> tuple[Any, Any, Any]:
    """Kind, state and attempts of a new job, as the job table's defaults say."""
    columns = JobRow.__table__.c
    return columns.kind.default.arg, columns.state.default.arg, columns.attempts.default.arg


_EMPTY = ("empty list",)  # the cache key of ``[]``, which cannot be a key itself


class _Converter:
    """Applies the submissions columns' bind processors to rows; repeated values convert once."""

    def __init__(self, connection: Connection) -> None:
        table = SubmissionRow.__table__
        self._steps: list[tuple[int, Callable[[Any], Any], dict[Any, Any]]] = []
        for index, name in enumerate(COLUMNS):
            process = table.c[name].type.dialect_impl(connection.dialect).bind_processor(connection.dialect)
            if process is not None:
                self._steps.append((index, process, {}))

    def __call__(self, row: Row) -> Row:
        values = list(row)
        for index, process, cache in self._steps:
            value = values[index]
            if value is None:
                continue
            key = value if value.__class__ is not list else (_EMPTY if not value else None)
            if key is None:  # a list of attachments: converted each time
                values[index] = process(value)
            elif (done := cache.get(key)) is not None:
                values[index] = done
            else:
                values[index] = cache[key] = process(value)
        return tuple(values)


def _redraw(rows: list[Row], new_codes: NewCodes) -> list[Row]:
    """The same rows with fresh tracking codes."""
    codes = new_codes(len(rows))
    return [(code, *row[CODE + 1 :]) for code, row in zip(codes, rows, strict=True)]


# --- SQLite ----------------------------------------------------------------------------------


class _SqliteWriter:
    def __init__(self, connection: Connection, now: datetime) -> None:
        self.connection = connection
        self.convert = _Converter(connection)
        self.stamp = _processor(connection, JobRow.__table__.c.created_at)(now)

    def insert(self, rows: Sequence[Row], new_codes: NewCodes) -> dict[str, Outcome]:
        run = self.connection.exec_driver_sql
        before = run("SELECT coalesce(max(id), 0) FROM submissions").scalar_one()
        sql = f"INSERT INTO submissions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        sql += " ON CONFLICT DO NOTHING"
        pending = list(rows)
        found: dict[str, tuple[int, str]] = {}
        for _ in range(MAX_ATTEMPTS):
            run(sql, [self.convert(row) for row in pending])
            if not found:  # every row created, in one range scan; the rest looked up by key
                query = "SELECT dedup_key, id, tracking_code FROM submissions WHERE id > ?"
                found.update((key, (sid, code)) for key, sid, code in run(query, (before,)))
            found.update(self._lookup([row[KEY] for row in pending if row[KEY] not in found]))
            pending = [row for row in pending if row[KEY] not in found]
            if not pending:
                break
            pending = _redraw(pending, new_codes)
        else:
            raise RuntimeError("could not draw unused tracking codes")
        run(
            f"INSERT INTO jobs ({', '.join(JOB_COLUMNS)}) SELECT id, ?, ?, ?, ?, ? FROM submissions"
            " WHERE id > ? ORDER BY id",
            (*_job_defaults(), self.stamp, self.stamp, before),
        )
        return {key: Outcome(sid, code, sid > before) for key, (sid, code) in found.items()}

    def _lookup(self, keys: list[str]) -> Iterable[tuple[str, tuple[int, str]]]:
        for start in range(0, len(keys), _SQLITE_CHUNK):
            chunk = keys[start : start + _SQLITE_CHUNK]
            query = (
                "SELECT dedup_key, id, tracking_code FROM submissions"
                f" WHERE dedup_key IN ({', '.join('?' * len(chunk))})"
            )
            for key, sid, code in self.connection.exec_driver_sql(query, tuple(chunk)):
                yield key, (sid, code)


# --- PostgreSQL ------------------------------------------------------------------------------

_STAGE = "civicpulse_incoming"


class _PostgresWriter:
    def __init__(self, connection: Connection, now: datetime) -> None:
        self.connection = connection
        self.convert = _Converter(connection)
        self.stamp = _processor(connection, JobRow.__table__.c.created_at)(now)

    def insert(self, rows: Sequence[Row], new_codes: NewCodes) -> dict[str, Outcome]:
        run = self.connection.exec_driver_sql
        names = ", ".join(COLUMNS)
        outcomes: dict[str, Outcome] = {}
        pending = list(rows)
        run(
            f"CREATE TEMPORARY TABLE {_STAGE} ON COMMIT DROP AS"
            f" SELECT 0 AS ord, {names} FROM submissions WITH NO DATA"
        )
        for _ in range(MAX_ATTEMPTS):
            self._copy(f"COPY {_STAGE} (ord, {names}) FROM STDIN", pending)
            created = run(
                f"WITH new AS (INSERT INTO submissions ({names}) SELECT {names} FROM {_STAGE}"
                " ORDER BY ord ON CONFLICT DO NOTHING RETURNING dedup_key, id, tracking_code),"
                f" queued AS (INSERT INTO jobs ({', '.join(JOB_COLUMNS)})"
                " SELECT id, %s, %s, %s, %s, %s FROM new ORDER BY id)"
                " SELECT dedup_key, id, tracking_code FROM new",
                (*_job_defaults(), self.stamp, self.stamp),
            )
            outcomes.update((key, Outcome(sid, code, True)) for key, sid, code in created)
            rest = [row[KEY] for row in pending if row[KEY] not in outcomes]
            if rest:  # stored before, or by a transaction that committed meanwhile
                found = run(
                    "SELECT dedup_key, id, tracking_code FROM submissions WHERE dedup_key = ANY(%s)", (rest,)
                )
                outcomes.update((key, Outcome(sid, code, False)) for key, sid, code in found)
            pending = [row for row in pending if row[KEY] not in outcomes]
            if not pending:
                break
            run(f"TRUNCATE {_STAGE}")
            pending = _redraw(pending, new_codes)
        else:
            raise RuntimeError("could not draw unused tracking codes")
        run(f"DROP TABLE {_STAGE}")
        return outcomes

    def _copy(self, statement: str, rows: Sequence[Row]) -> None:
        """``COPY ... FROM STDIN`` on the driver's cursor; its errors raised as SQLAlchemy's."""
        dialect = self.connection.dialect
        base = dialect.loaded_dbapi.Error
        raw = self.connection.connection.driver_connection
        try:
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for index, row in enumerate(rows):
                    copy.write_row((index, *self.convert(row)))
        except base as exc:
            raise DBAPIError.instance(statement, None, exc, base, dialect=dialect) from exc


# --- annotations of a bulk analysis ----------------------------------------------------------

_ANNOTATIONS = "civicpulse_annotations_in"


def upsert_annotations(
    session: Session, rows: Sequence[tuple[int, str, dict[str, Any]]], version: datetime
) -> None:
    """Store ``(submission_id, stage, data)`` rows as one analysis run of ``version`` (its start).

    Keyed by submission and stage: a row of the same or an older version is replaced, one of a newer
    version is kept, so replaying a batch (a crashed run, a retried task) never duplicates nor
    regresses anything. PostgreSQL: ``COPY`` into a temporary table, then one upsert.
    """
    if not rows:
        return
    session.flush()
    connection = session.connection()
    table = AnnotationRow.__table__
    data, stamp = _processor(connection, table.c.data), _processor(connection, table.c.created_at)(version)
    values = [(sid, stage, data(payload), stamp) for sid, stage, payload in rows]
    upsert = (
        " ON CONFLICT (submission_id, stage) DO UPDATE SET data = excluded.data,"
        " created_at = excluded.created_at WHERE annotations.created_at <= excluded.created_at"
    )
    names = "submission_id, stage, data, created_at"
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"INSERT INTO annotations ({names}) VALUES (?, ?, ?, ?){upsert}", values)
        return
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {_ANNOTATIONS} ON COMMIT DROP AS"
        f" SELECT {names} FROM annotations WITH NO DATA"
    )
    statement = f"COPY {_ANNOTATIONS} ({names}) FROM STDIN"
    dialect = connection.dialect
    base = dialect.loaded_dbapi.Error
    try:
        with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
            for row in values:
                copy.write_row(row)
    except base as exc:
        raise DBAPIError.instance(statement, None, exc, base, dialect=dialect) from exc
    connection.exec_driver_sql(
        f"INSERT INTO annotations ({names}) SELECT DISTINCT ON (submission_id, stage) {names}"
        f" FROM {_ANNOTATIONS} ORDER BY submission_id, stage{upsert}"
    )
    connection.exec_driver_sql(f"DROP TABLE {_ANNOTATIONS}")
