"""Backup and restore of the whole store.

SQLite goes through the online backup API: one consistent snapshot while others keep writing, written
as one self-contained file (rollback journal, no WAL). PostgreSQL goes through ``pg_dump
--format=custom`` under an exported snapshot (so the row counts shown match the dump) and
``pg_restore``. Backups are written through ``atomic_output``: a failed one leaves nothing under its
name. A restore first proves that the configured contact key opens the encrypted values stored IN
THE BACKUP and that the target is empty or a CivicPulse database; it replaces nothing otherwise.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from civicpulse.atomic import atomic_output
from civicpulse.errors import CivicPulseError, ContactKeyMismatch, NotFound, Unprocessable
from civicpulse.store.contacts import KEY_CHECK_SAMPLE, ContactCipher, check_ciphertexts, sample_ciphertexts
from civicpulse.store.db import Database, alembic_config

MAIN_TABLES = (
    "submissions",
    "contacts",
    "annotations",
    "jobs",
    "submission_events",
    "labels",
    "users",
    "audit_events",
)
REQUIRED_TABLES = frozenset({"alembic_version", "submissions", "contacts"})
ENCRYPTED_TABLES = ("contacts", "text_pii")


@dataclass(frozen=True)
class BackupSummary:
    """What a backup holds: rows of the main tables and the file's size in bytes."""

    path: Path
    dialect: str
    rows: dict[str, int]
    size: int


@dataclass(frozen=True)
class BackupCheck:
    """A backup found fit to restore: its schema revision, the rows known before restoring, and how
    many encrypted values the configured key opened."""

    path: Path
    dialect: str
    revision: str | None
    keys_checked: int
    rows: dict[str, int] = field(default_factory=dict)


def backup_database(db: Database, target: Path) -> BackupSummary:
    """Write a consistent backup of ``db`` to ``target``, whole or not at all."""
    target = Path(target)
    with atomic_output(target) as partial:
        try:
            rows = _sqlite_backup(db, partial) if db.is_sqlite else _pg_backup(db, partial)
        except DBAPIError as exc:
            raise CivicPulseError(f"cannot read the database: {exc.orig}") from exc
        except sqlite3.Error as exc:
            raise CivicPulseError(f"the backup failed: {exc}") from exc
        finally:
            for suffix in ("-journal", "-wal", "-shm"):
                Path(f"{partial}{suffix}").unlink(missing_ok=True)
        size = partial.stat().st_size
    return BackupSummary(path=target, dialect=db.dialect, rows=rows, size=size)


def check_backup(db: Database, source: Path, cipher: ContactCipher) -> BackupCheck:
    """Prove that ``source`` can be restored into ``db`` with ``cipher``; change nothing.

    Raises ``Unprocessable`` when ``source`` is not a CivicPulse backup of ``db``'s kind, or the
    target is neither empty nor a CivicPulse database; ``ContactKeyMismatch`` when the configured key
    does not open the backup's contacts."""
    source = Path(source)
    if not source.is_file():
        raise NotFound(f"no backup file at {source}")
    try:
        check = _sqlite_check(source, cipher) if db.is_sqlite else _pg_check(source, cipher)
    except ContactKeyMismatch as exc:
        raise ContactKeyMismatch(
            f"the configured contact key cannot decrypt the contact details stored in {source} "
            f"({exc.details['failed']} of {exc.details['checked']} sampled values do not open); set "
            "CIVICPULSE_CONTACT_KEY (or CIVICPULSE_SECRET_KEY) to the key of the backed-up service. "
            "Nothing was changed.",
            details=exc.details,
        ) from exc
    _check_revision(db, check.revision)
    _check_target(db)
    return check


def restore_database(db: Database, source: Path, cipher: ContactCipher) -> BackupCheck:
    """Replace ``db``'s content with the backup ``source`` (after ``check_backup``), then upgrade it."""
    check = check_backup(db, source, cipher)
    db.dispose()
    if db.is_sqlite:
        _sqlite_restore(db, Path(source))
    else:
        conninfo, env = _libpq(db.url)
        _run(
            [
                pg_tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--single-transaction",
                "--no-owner",
                f"--dbname={conninfo}",
                str(source),
            ],
            env,
        )
    db.dispose()
    db.upgrade()
    return check


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows of each main table that exists."""
    present = set(inspect(conn).get_table_names())
    return {
        name: conn.execute(select(func.count()).select_from(table(name))).scalar_one()
        for name in MAIN_TABLES
        if name in present
    }


def pg_tool(name: str) -> str:
    """The newest installed PostgreSQL client program ``name``, else the one on PATH."""
    installed = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if installed:
        return max(installed, key=lambda path: [int(p) for p in re.findall(r"\d+", Path(path).parts[-3])])
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise CivicPulseError(
        f"{name} not found: install the PostgreSQL client programs (e.g. `apt install postgresql-client`) "
        "of the server's major version or newer"
    )


def _sqlite_file(db: Database) -> Path:
    path = make_url(db.url).database
    if not path or path == ":memory:":
        raise Unprocessable("only a SQLite database in a file can be backed up or restored")
    return Path(path)


def _read_only(path: Path) -> Engine:
    """An engine on a SQLite file that cannot change it (no WAL switch, no new file)."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    return create_engine(
        "sqlite://",
        creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        poolclass=NullPool,
    )


def _sqlite_backup(db: Database, partial: Path) -> dict[str, int]:
    source = _sqlite_file(db)
    if not source.is_file():
        raise NotFound(f"no database at {source}")
    raw = db.engine.raw_connection()
    try:
        copy = sqlite3.connect(partial)
        try:
            raw.driver_connection.backup(copy)
            copy.execute("PRAGMA journal_mode=DELETE")
            verdict = copy.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            copy.close()
    finally:
        raw.close()
    if verdict != "ok":
        raise CivicPulseError(f"the backup failed SQLite's integrity check: {verdict}")
    with os.fdopen(os.open(partial, os.O_RDONLY)) as handle:
        os.fsync(handle.fileno())
    engine = _read_only(partial)
    try:
        with engine.connect() as conn:
            return row_counts(conn)
    finally:
        engine.dispose()


def _sqlite_check(source: Path, cipher: ContactCipher) -> BackupCheck:
    engine = _read_only(source)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            _require_tables(source, tables)
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            rows = row_counts(conn)
            with Session(conn) as session:
                checked = check_ciphertexts(cipher, sample_ciphertexts(session))
    except DBAPIError as exc:
        raise Unprocessable(f"{source} is not a readable SQLite database: {exc.orig}") from exc
    finally:
        engine.dispose()
    return BackupCheck(source, "sqlite", revision, checked, rows)


def _sqlite_restore(db: Database, source: Path) -> None:
    backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    raw = db.engine.raw_connection()
    try:
        backup.backup(raw.driver_connection)
    except sqlite3.Error as exc:
        raise CivicPulseError(f"restore failed, the database is unchanged: {exc}") from exc
    finally:
        raw.close()
        backup.close()


def _check_target(db: Database) -> None:
    """Refuse a target that holds tables but is not a CivicPulse database."""
    if db.is_sqlite:
        path = _sqlite_file(db)
        if not path.exists() or path.stat().st_size == 0:
            return
        engine = _read_only(path)
    else:
        engine = db.engine
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
    except DBAPIError as exc:
        raise Unprocessable(
            f"the configured database is not readable, refusing to replace it: {exc.orig}"
        ) from exc
    finally:
        if engine is not db.engine:
            engine.dispose()
    if tables and REQUIRED_TABLES - tables:
        raise Unprocessable(
            "the configured database holds tables but is not a CivicPulse database; refusing to replace it"
        )


def _check_revision(db: Database, revision: str | None) -> None:
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    if revision is None:
        return
    try:
        ScriptDirectory.from_config(alembic_config(db)).get_revision(revision)
    except CommandError as exc:
        raise Unprocessable(
            f"the backup's schema revision {revision} is unknown to this version of CivicPulse "
            "(a backup of a newer version?)"
        ) from exc


def _require_tables(source: Path, tables: set[str]) -> None:
    missing = REQUIRED_TABLES - tables
    if missing:
        raise Unprocessable(f"{source} is not a CivicPulse backup: no {', '.join(sorted(missing))} table")


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection URL without the password, and the environment that carries it."""
    parsed = make_url(url)
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    conninfo = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return conninfo, env


def _run(args: list[str], env: dict[str, str] | None = None) -> str:
    """Run a PostgreSQL client program; its stdout, or its message as an error."""
    done = subprocess.run(args, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if done.returncode != 0:
        name = Path(args[0]).name
        raise CivicPulseError(f"{name} failed: {done.stderr.strip() or f'exit status {done.returncode}'}")
    return done.stdout


def _pg_backup(db: Database, partial: Path) -> dict[str, int]:
    pg_dump = pg_tool("pg_dump")
    conninfo, env = _libpq(db.url)
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            rows = row_counts(conn)
            command = [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={partial}"]
            _run([*command, f"--dbname={conninfo}"], env)
    return rows


_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ")


def _pg_check(source: Path, cipher: ContactCipher) -> BackupCheck:
    pg_restore = pg_tool("pg_restore")
    try:
        listing = _run([pg_restore, "--list", str(source)])
    except CivicPulseError as exc:
        raise Unprocessable(f"{source} is not a PostgreSQL custom-format dump ({exc.message})") from exc
    tables = {m.group(2) for line in listing.splitlines() if (m := _TOC_TABLE.match(line))}
    _require_tables(source, tables)
    versions = [row["version_num"] for row in _dump_rows(pg_restore, source, "alembic_version")]
    rows: dict[str, int] = {}
    sample: list[bytes] = []
    half = KEY_CHECK_SAMPLE // 2
    for name in ENCRYPTED_TABLES:
        if name not in tables:
            continue
        first: list[bytes] = []
        last: deque[bytes] = deque(maxlen=half)
        count = 0
        for row in _dump_rows(pg_restore, source, name):
            count += 1
            (first if len(first) < half else last).append(_bytea(row["ciphertext"] or ""))
        rows[name] = count
        sample += first + list(last)
    checked = check_ciphertexts(cipher, sample)
    return BackupCheck(source, "postgresql", versions[0] if versions else None, checked, rows)


def _dump_rows(pg_restore: str, source: Path, name: str) -> Iterator[dict[str, str | None]]:
    """The rows of one table in a custom-format dump, read from its COPY data."""
    command = [pg_restore, "--data-only", f"--table={name}", "--file=-", str(source)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    ) as process:
        assert process.stdout is not None
        columns: list[str] | None = None
        for line in process.stdout:
            line = line.rstrip("\n")
            if columns is None:
                if line.startswith("COPY ") and line.endswith("FROM stdin;"):
                    columns = [
                        c.strip().strip('"') for c in line[line.index("(") + 1 : line.rindex(")")].split(",")
                    ]
                continue
            if line == "\\.":
                break
            yield dict(zip(columns, (_copy_field(value) for value in line.split("\t")), strict=True))
        process.stdout.read()
        error = process.stderr.read() if process.stderr else ""
    if process.returncode != 0:
        raise Unprocessable(f"cannot read table {name} of {source}: {error.strip()}")


_COPY_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)")
_COPY_CHARS = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _copy_field(value: str) -> str | None:
    """One field of COPY's text format, unescaped; ``None`` for NULL."""
    if value == "\\N":
        return None

    def unescape(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] == "x" and len(code) > 1:
            return chr(int(code[1:], 16))
        if code[0] in "01234567":
            return chr(int(code, 8))
        return _COPY_CHARS.get(code, code)

    return _COPY_ESCAPE.sub(unescape, value)


def _bytea(value: str) -> bytes:
    """A bytea value in its text form (hex ``\\x...``; the escape form of ASCII is the ASCII itself)."""
    return bytes.fromhex(value[2:]) if value.startswith("\\x") else value.encode("latin-1")
