"""Backup and restore on real SQLite and PostgreSQL: consistent under write load, whole or not at
all, refused with a key that cannot open the backed-up contacts; the service refuses such a key."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from civicpulse.domain import Contact, SubmissionIn
from civicpulse.errors import CivicPulseError, ContactKeyMismatch, Unprocessable
from civicpulse.intake.service import accept
from civicpulse.settings import Settings
from civicpulse.store.backup import backup_database, check_backup, restore_database
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.tables import ContactRow, JobRow, SubmissionRow
from tests.conftest import TEST_SECRET, LiveServer, make_settings
from tests.pg import PostgresServer, free_port

CLI = Path(sys.executable).parent / "civicpulse"
OTHER_SECRET = "another-secret-key-0123456789abcdef"


@pytest.fixture
def other_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A second, empty database of the same kind as ``db_url`` (the restore target)."""
    if db_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored' / 'civicpulse.db'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"r_{uuid.uuid4().hex[:12]}")


@pytest.fixture
def target(other_url: str) -> Iterator[Database]:
    """The restore target as a store (not migrated: a restore must work on an empty database)."""
    database = Database(other_url)
    yield database
    database.dispose()


def _item(n: int) -> SubmissionIn:
    return SubmissionIn(
        text=f"Đèn đường số {n} ở phường Bến Nghé bị hỏng đã hai tuần.",
        source_id=f"load-{n}",
        contact=Contact(name=f"Người gửi {n}", phone=f"09{n:08d}"),
    )


def _store(db: Database, cipher: ContactCipher, numbers: range) -> list[int]:
    results = accept(db, cipher, [_item(n) for n in numbers], actor="loader", client="test")
    return [result.id for result in results]


def _tables(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def _contents(db: Database) -> list[tuple[int, str]]:
    with db.read() as session:
        return [tuple(row) for row in session.execute(select(SubmissionRow.id, SubmissionRow.text))]


class Writer(threading.Thread):
    """Keeps storing submissions with contacts through the intake service until stopped."""

    def __init__(self, db: Database, cipher: ContactCipher, start_at: int) -> None:
        super().__init__(daemon=True)
        self.db, self.cipher, self.next = db, cipher, start_at
        self.committed: list[tuple[int, str]] = []
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stopped.is_set():
                numbers = range(self.next, self.next + 5)
                ids = _store(self.db, self.cipher, numbers)
                with self.lock:
                    self.committed += [(i, f"09{n:08d}") for i, n in zip(ids, numbers, strict=True)]
                self.next += 5
        except BaseException as exc:
            self.error = exc

    def count(self) -> int:
        with self.lock:
            return len(self.committed)


def test_backup_under_write_load_restores_every_committed_row(
    settings: Settings, db: Database, target: Database, tmp_path: Path
) -> None:
    cipher = ContactCipher(settings.fernet_key)
    seeded = _store(db, cipher, range(0, 2000))
    writer = Writer(db, cipher, start_at=100_000)
    writer.start()
    while writer.count() < 50:
        time.sleep(0.01)
    started = writer.count()
    summary = backup_database(db, tmp_path / "backup.bin")
    ended = writer.count()
    while writer.count() < ended + 20:
        time.sleep(0.01)
    writer.stopped.set()
    writer.join(30)
    assert writer.error is None, writer.error
    committed_before = writer.committed[:started]
    expected_phone = {i: f"09{n:08d}" for n, i in enumerate(seeded)} | dict(writer.committed)
    print(f"\n{db.dialect}: {ended - started} writer commits during the backup, {summary.size} bytes")

    restore_database(target, tmp_path / "backup.bin", cipher)

    with target.read() as session:
        restored = {row.id: row.has_contact for row in session.scalars(select(SubmissionRow))}
        contacts = dict(session.execute(select(ContactRow.submission_id, ContactRow.ciphertext)).all())
        without_job = session.scalar(
            select(func.count())
            .select_from(SubmissionRow)
            .where(~select(JobRow.id).where(JobRow.submission_id == SubmissionRow.id).exists())
        )
    assert set(seeded) | {i for i, _ in committed_before} <= set(restored)
    assert len(restored) == summary.rows["submissions"] and len(contacts) == summary.rows["contacts"]
    assert {i for i, has in restored.items() if has} == set(contacts), "a row without its contact"
    assert without_job == 0
    assert all(cipher.decrypt(contacts[i]).phone == expected_phone[i] for i in restored)


def test_sqlite_backup_is_one_self_contained_file(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'live.db'}")
    db = Database.from_settings(settings)
    db.upgrade()
    cipher = ContactCipher(settings.fernet_key)
    _store(db, cipher, range(0, 20))
    backup = tmp_path / "backup.db"
    backup_database(db, backup)
    moved = tmp_path / "elsewhere" / "copy.db"
    moved.parent.mkdir()
    moved.write_bytes(backup.read_bytes())
    assert backup.read_bytes()[18:20] == b"\x01\x01", "the backup must not need a WAL file"
    assert not Path(f"{backup}-wal").exists() and not list(tmp_path.glob(".*.part*"))
    check = check_backup(Database(f"sqlite:///{tmp_path / 'new.db'}"), moved, cipher)
    assert check.rows["submissions"] == 20 and check.rows["contacts"] == 20 and check.keys_checked > 0
    db.dispose()


def test_restore_with_a_wrong_key_is_refused_and_changes_nothing(
    settings: Settings, db: Database, target: Database, tmp_path: Path
) -> None:
    _store(db, ContactCipher(settings.fernet_key), range(0, 30))
    backup_database(db, tmp_path / "backup.bin")
    target.upgrade()
    other = ContactCipher(make_settings(target.url, secret_key=OTHER_SECRET).fernet_key)
    _store(target, other, range(500, 503))
    before = _contents(target)

    with pytest.raises(ContactKeyMismatch, match="cannot decrypt the contact details stored in"):
        restore_database(target, tmp_path / "backup.bin", other)

    assert _contents(target) == before and len(before) == 3


def test_restore_refuses_a_file_that_is_not_a_backup(
    settings: Settings, target: Database, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(8192))
    kind = "SQLite database" if target.is_sqlite else "PostgreSQL custom-format dump"
    with pytest.raises(Unprocessable, match=f"junk.bin is not a (readable )?{kind}"):
        restore_database(target, junk, ContactCipher(settings.fernet_key))
    assert _tables(target) == set()


def test_restore_refuses_a_sqlite_file_of_another_application(tmp_path: Path) -> None:
    other_app = Database(f"sqlite:///{tmp_path / 'notes.db'}")
    with other_app.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (body TEXT)")
    other_app.dispose()
    settings = make_settings(f"sqlite:///{tmp_path / 'target.db'}")
    target, cipher = Database.from_settings(settings), ContactCipher(settings.fernet_key)
    with pytest.raises(Unprocessable, match=r"notes\.db is not a CivicPulse backup: no alembic_version"):
        restore_database(target, tmp_path / "notes.db", cipher)
    assert not (tmp_path / "target.db").exists()


def test_restore_refuses_to_replace_a_database_that_is_not_civicpulse(
    settings: Settings, db: Database, target: Database, tmp_path: Path
) -> None:
    cipher = ContactCipher(settings.fernet_key)
    _store(db, cipher, range(0, 5))
    backup_database(db, tmp_path / "backup.bin")
    with target.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE notes (body TEXT)")
        conn.exec_driver_sql("INSERT INTO notes VALUES ('keep me')")
    with pytest.raises(Unprocessable, match="not a CivicPulse database; refusing"):
        restore_database(target, tmp_path / "backup.bin", cipher)
    with target.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT body FROM notes").scalars().all() == ["keep me"]


def test_a_failed_backup_leaves_no_file(db_url: str, db: Database, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "a-file"
    not_a_folder.touch()
    with pytest.raises(NotADirectoryError):
        backup_database(db, not_a_folder / "backup.bin")
    assert not_a_folder.read_bytes() == b""

    folder = tmp_path / "backups"
    folder.mkdir()
    previous = folder / "backup.bin"
    previous.write_bytes(b"the previous backup")
    missing_url = (
        f"sqlite:///{tmp_path / 'gone' / 'missing.db'}"
        if db.is_sqlite
        else db_url.rsplit("/", 1)[0] + f"/missing_{uuid.uuid4().hex[:8]}"
    )
    missing = Database(missing_url)
    with pytest.raises(CivicPulseError):
        backup_database(missing, previous)
    missing.dispose()
    assert [p.name for p in folder.iterdir()] == ["backup.bin"]
    assert previous.read_bytes() == b"the previous backup"


def test_contact_read_with_an_undecryptable_value_is_a_clear_503(live_server: LiveServer) -> None:
    mine = ContactCipher(live_server.settings.fernet_key)
    foreign = ContactCipher(
        make_settings(live_server.settings.database_url, secret_key=OTHER_SECRET).fernet_key
    )
    good = _store(live_server.db, mine, range(0, 1))[0]
    bad = _store(live_server.db, foreign, range(1, 2))[0]
    with live_server.client() as client:
        assert client.get(f"/api/v1/submissions/{good}/contact").json()["phone"] == "0900000000"
        answer = client.get(f"/api/v1/submissions/{bad}/contact")
    assert answer.status_code == 503, answer.text
    error = answer.json()["error"]
    assert error["code"] == "contact_key_mismatch"
    assert "contact key does not match the stored contacts" in error["message"]


def _env(db_url: str, secret: str = TEST_SECRET) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
    env.update(CIVICPULSE_DATABASE_URL=db_url, CIVICPULSE_SECRET_KEY=secret, COLUMNS="200")
    return env


def _cli(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


def test_serve_refuses_to_start_with_a_key_that_cannot_open_the_stored_contacts(
    settings: Settings, db: Database
) -> None:
    _store(db, ContactCipher(settings.fernet_key), range(0, 3))
    command = [str(CLI), "serve", "--port", str(free_port()), "--workers", "0"]
    try:
        done = subprocess.run(
            command, env=_env(settings.database_url, OTHER_SECRET), capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the service started with a contact key that cannot open the stored contacts")
    assert done.returncode != 0
    assert "the contact key does not match the stored contacts" in done.stderr


def test_cli_backup_then_restore(db_url: str, other_url: str, tmp_path: Path) -> None:
    source, restored = _env(db_url), _env(other_url)
    for env in (source, restored):
        done = _cli(env, "init", "--admin-email", "admin@example.org", "--admin-password", "admin-password-1")
        assert done.returncode == 0, done.stderr
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join(_item(n).model_dump_json() for n in range(12)) + "\n", encoding="utf-8")
    assert _cli(source, "ingest", str(items)).returncode == 0
    backup = tmp_path / "nightly.backup"

    done = _cli(source, "backup", str(backup))
    assert done.returncode == 0, done.stderr
    assert "submissions" in done.stdout and "12" in done.stdout and str(backup) in done.stderr

    refused = _cli(_env(other_url, OTHER_SECRET), "restore", str(backup), "--yes")
    assert refused.returncode == 1 and "cannot decrypt the contact details" in refused.stderr
    declined = _cli(restored, "restore", str(backup), stdin="n\n")
    assert declined.returncode == 1 and "Aborted" in declined.stderr
    target = Database(other_url)
    assert _contents(target) == []

    done = _cli(restored, "restore", str(backup), "--yes")
    assert done.returncode == 0, done.stderr
    cipher = ContactCipher(make_settings(other_url).fernet_key)
    with target.read() as session:
        phones = sorted(cipher.decrypt(c).phone for c in session.scalars(select(ContactRow.ciphertext)))
    assert phones == [f"09{n:08d}" for n in range(12)]
    target.dispose()

    unwritable = _cli(source, "backup", str(tmp_path / "no-such-folder" / "b.backup"))
    assert unwritable.returncode == 1 and "cannot write" in unwritable.stderr
    assert "Traceback" not in unwritable.stderr
