"""The bulk insert paths under ``accept_submissions`` on real SQLite and PostgreSQL.

Rows must read back exactly as SQLAlchemy writes them, duplicates must be flagged exactly (also
when two transactions store the same submissions at the same moment), and a taken tracking code
must never fail a batch.
"""

from __future__ import annotations

import hashlib
import threading
import time
from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import func, select, text

from civicpulse.domain import Accepted, Attachment, Channel, Contact, SubmissionIn
from civicpulse.settings import Settings
from civicpulse.store import bulk
from civicpulse.store.contacts import ContactCipher, read_contact
from civicpulse.store.db import Database
from civicpulse.store.submissions import accept_submissions, dedup_key
from civicpulse.store.tables import ContactRow, JobRow, SubmissionRow, utcnow
from civicpulse.textkit.fingerprint import content_hash

HANOI = timezone(timedelta(hours=7))


def accept(db: Database, settings: Settings, items: list[SubmissionIn], **options: object) -> list[Accepted]:
    """``accept_submissions`` in its own write transaction."""
    with db.write() as session:
        return accept_submissions(session, items, ContactCipher(settings.fernet_key), **options)  # type: ignore[arg-type]


def count(db: Database, table: type) -> int:
    """Rows in a table."""
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_every_field_reads_back_as_sqlalchemy_wrote_it(db: Database, settings: Settings) -> None:
    full = SubmissionIn(
        text="  Cống thoát nước tắc ở phường Bến Nghé 😟\r\nxin xử lý  ",
        channel=Channel.hotline,
        source_id="hl-42",
        received_at=datetime(2025, 7, 1, 8, 30, 15, 123456, tzinfo=HANOI),
        language_hint="vi",
        locality="Quận 1, TP.HCM",
        lat=10.7769,
        long=106.7009,
        service_code="drain",
        attachments=[Attachment(filename="ảnh.jpg", content_type="image/jpeg", size_bytes=10)],
        contact=Contact(name="Nguyễn Văn A", phone="0912345678"),
    )
    bare = SubmissionIn(text="Đèn đường hỏng")
    before = utcnow()
    first, second = accept(db, settings, [full, bare], default_agency={"drain": "so-xay-dung"})
    with db.read() as session:
        row = session.get(SubmissionRow, first.id)
        other = session.get(SubmissionRow, second.id)
        jobs = {job.submission_id: job for job in session.scalars(select(JobRow))}
        ciphertext = session.scalar(select(ContactRow.ciphertext).where(ContactRow.submission_id == first.id))
    assert row is not None and other is not None
    assert (row.tracking_code, row.text, row.channel, row.source_id) == (
        first.tracking_code,
        full.text,
        "hotline",
        "hl-42",
    )
    assert row.received_at == datetime(2025, 7, 1, 1, 30, 15, 123456, tzinfo=UTC)
    assert row.received_at.tzinfo is not None
    assert before <= row.created_at == row.updated_at <= utcnow()
    assert (row.language_hint, row.locality, row.lat, row.long) == ("vi", "Quận 1, TP.HCM", 10.7769, 106.7009)
    assert (row.service_code, row.agency, row.status, row.analysis_state) == (
        "drain",
        "so-xay-dung",
        "open",
        "pending",
    )
    assert row.has_contact is True and other.has_contact is False
    assert row.attachments == [{"filename": "ảnh.jpg", "content_type": "image/jpeg", "size_bytes": 10}]
    assert other.attachments == [] and other.received_at == other.created_at
    assert (other.source_id, other.agency, other.lat) == (None, None, None)
    assert set(jobs) == {first.id, second.id}
    job = jobs[first.id]
    assert (job.kind, job.state, job.attempts, job.run_after) == ("analyze", "queued", 0, row.created_at)
    contact = ContactCipher(settings.fernet_key).decrypt(ciphertext)
    assert (contact.name, contact.phone) == ("Nguyễn Văn A", "0912345678")
    assert count(db, ContactRow) == 1


def test_results_in_input_order_with_exact_duplicate_flags(db: Database, settings: Settings) -> None:
    stored = accept(db, settings, [SubmissionIn(text="cũ", source_id="old")])[0]
    items = [
        SubmissionIn(text="một", source_id="a"),
        SubmissionIn(text="khác hẳn", source_id="old"),  # stored before: same source id
        SubmissionIn(text="Rác  thải\ttràn lan", channel=Channel.email),
        SubmissionIn(text="hai", source_id="a"),  # same source id as the first item of this call
        SubmissionIn(text="Rác thải tràn lan", channel=Channel.email),  # same words, same channel
        SubmissionIn(text="Rác thải tràn lan", channel=Channel.hotline),  # another channel: new
    ]
    results = accept(db, settings, items)
    assert [r.duplicate for r in results] == [False, True, False, True, True, False]
    assert (results[1].id, results[1].tracking_code) == (stored.id, stored.tracking_code)
    assert (results[3].id, results[3].tracking_code) == (results[0].id, results[0].tracking_code)
    assert (results[4].id, results[4].tracking_code) == (results[2].id, results[2].tracking_code)
    new_ids = [results[i].id for i in (0, 2, 5)]
    assert new_ids == sorted(new_ids) and new_ids[0] > stored.id  # ids follow the input order
    assert count(db, SubmissionRow) == count(db, JobRow) == 4
    again = accept(db, settings, items)
    assert all(r.duplicate for r in again)
    assert [(r.id, r.tracking_code) for r in again] == [(r.id, r.tracking_code) for r in results]
    assert count(db, SubmissionRow) == count(db, JobRow) == 4


def test_a_taken_tracking_code_is_drawn_again(db: Database, settings: Settings) -> None:
    taken = accept(db, settings, [SubmissionIn(text="đã có")])[0].tracking_code
    now = utcnow()
    row = (taken, "k" * 64, "h" * 64, "api", None, "mới", now, now, now, None, None, None, None, None)
    row += ("open", "pending", None, False, [], None)
    fresh = iter(["CP-2222-2222", "CP-3333-3333"])
    with db.write() as session:
        outcomes = bulk.insert_submissions(session, [row], lambda n: [next(fresh) for _ in range(n)], now)
    outcome = outcomes["k" * 64]
    assert (outcome.tracking_code, outcome.created) == ("CP-2222-2222", True)
    with db.read() as session:
        stored = session.get(SubmissionRow, outcome.id)
        assert stored is not None and stored.text == "mới"
    assert count(db, SubmissionRow) == count(db, JobRow) == 2


def test_tracking_codes_are_well_formed_and_distinct(db: Database, settings: Settings) -> None:
    results = accept(db, settings, [SubmissionIn(text=f"phản ánh {i}") for i in range(3000)])
    codes = [r.tracking_code for r in results]
    assert len(set(codes)) == 3000
    alphabet = set("ABCDEFGHJKMNPQRSTUVWXYZ23456789")
    for code in codes:
        assert len(code) == 12 and code[:3] == "CP-" and code[7] == "-"
        assert set(code[3:7] + code[8:]) <= alphabet


def _wait_until_blocked(db: Database, seconds: float = 10.0) -> None:
    """Until another transaction waits for a lock (PostgreSQL); SQLite's writer simply waits."""
    if db.dialect != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + seconds
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    while time.monotonic() < deadline:
        with db.read() as session:
            if session.scalar(query):
                return
        time.sleep(0.02)
    raise AssertionError("the second transaction never waited for the first")


def test_concurrent_transactions_store_each_submission_once(db: Database, settings: Settings) -> None:
    first_items = [SubmissionIn(text=f"chung {i}", source_id=f"s-{i}") for i in range(300)]
    second_items = [SubmissionIn(text=f"chung {i}", source_id=f"s-{i}") for i in range(150, 450)]
    cipher = ContactCipher(settings.fernet_key)
    inserted, release = threading.Event(), threading.Event()
    results: dict[str, list[Accepted]] = {}
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with db.write() as session:
                results["first"] = accept_submissions(session, first_items, cipher)
                inserted.set()
                assert release.wait(30)
        except BaseException as exc:
            errors.append(exc)
            inserted.set()

    def second() -> None:
        try:
            with db.write() as session:  # waits for the first transaction's rows (or lock)
                results["second"] = accept_submissions(session, second_items, cipher)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert inserted.wait(30)
    threads[1].start()
    _wait_until_blocked(db)
    release.set()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    a, b = results["first"], results["second"]
    assert not any(r.duplicate for r in a)
    assert [r.duplicate for r in b] == [True] * 150 + [False] * 150
    assert [(r.id, r.tracking_code) for r in b[:150]] == [(r.id, r.tracking_code) for r in a[150:]]
    assert count(db, SubmissionRow) == count(db, JobRow) == 450
    with db.read() as session:
        jobs_per_submission = session.execute(
            select(func.count()).select_from(JobRow).group_by(JobRow.submission_id).having(func.count() > 1)
        ).all()
    assert jobs_per_submission == []


def test_sender_key_is_stored_for_contacts_with_email_or_phone(db: Database, settings: Settings) -> None:
    from civicpulse.intake.service import accept

    cipher = ContactCipher(settings.fernet_key)
    items = [
        SubmissionIn(text="một", contact=Contact(phone="0912 345 678")),
        SubmissionIn(text="hai", contact=Contact(phone="+84 912.345.678")),
        SubmissionIn(text="ba", contact=Contact(name="Chỉ có tên")),
        SubmissionIn(text="bốn"),
    ]
    accepted = accept(db, cipher, items, actor="t", client=None)
    with db.read() as session:
        keys = [session.get(SubmissionRow, a.id).sender_key for a in accepted]
    assert keys[0] is not None and keys[0] == keys[1]
    assert keys[2] is None and keys[3] is None
    assert "912" not in keys[0]


def test_the_same_words_from_two_senders_are_two_submissions(db: Database, settings: Settings) -> None:
    cipher = ContactCipher(settings.fernet_key)
    text = "Cống thoát nước bị tắc"
    items = [
        SubmissionIn(text=text, contact=Contact(phone="0912 345 678")),
        SubmissionIn(text=text, contact=Contact(email="B@Example.vn")),
        SubmissionIn(text=text, contact=Contact(phone="+84 912.345.678")),  # the first sender again
        SubmissionIn(text=text),
        SubmissionIn(text=text),  # an anonymous retry
    ]
    results = accept(db, settings, items)
    assert [r.duplicate for r in results] == [False, False, True, False, True]
    assert len({r.tracking_code for r in results}) == 3
    assert (results[2].id, results[4].id) == (results[0].id, results[3].id)
    with db.write() as session:
        contacts = [read_contact(session, cipher, results[i].id, actor="t", client=None) for i in (0, 1)]
    assert (contacts[0].phone, contacts[1].email) == ("0912 345 678", "B@Example.vn")
    assert count(db, SubmissionRow) == count(db, JobRow) == 3 and count(db, ContactRow) == 2
    again = accept(db, settings, [SubmissionIn(text=text, contact=Contact(email=" b@example.VN "))])[0]
    assert (again.id, again.duplicate) == (results[1].id, True)


def test_anonymous_dedup_keys_are_those_stored_before_senders_counted(settings: Settings) -> None:
    item = SubmissionIn(text="Rác thải tràn lan", channel=Channel.email)
    text_hash = content_hash(item.text)
    before = hashlib.sha256(f"text\0{item.channel}\0{text_hash}".encode()).hexdigest()
    assert dedup_key(item, text_hash, None) == before
    assert dedup_key(item, text_hash, "k1") not in (before, dedup_key(item, text_hash, "k2"))
