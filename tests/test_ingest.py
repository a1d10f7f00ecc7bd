"""File intake on real SQLite and PostgreSQL: CSV/TSV/XLSX/JSONL/.eml/mbox, bad rows, re-imports."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.exc import DBAPIError

from civicpulse.domain import Channel
from civicpulse.intake.files import ColumnMapping, ImportReport, import_files
from civicpulse.intake.mapping import parse_time
from civicpulse.intake.tabular import Row, RowError, read_delimited
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher, read_contact
from civicpulse.store.db import Database
from civicpulse.store.tables import AuditRow, ContactRow, JobRow, SubmissionRow

VIETNAMESE = "Đường Nguyễn Huệ bị ngập sâu sau mưa, xin chính quyền xử lý."
HOSTILE = [
    "<script>alert('x')</script> <b>đèn</b> &amp; &lt;",
    "'); DROP TABLE submissions;--",
    'Robert"); DELETE FROM users WHERE ("1"="1',
    "  leading and trailing spaces  ",
    "dòng một\r\ndòng hai\nba",
]


# What intake accepts: no control characters, surrogates or non-characters (U+FDD0-U+FDEF, U+nFFFE/F).
ACCEPTED_CHARS = st.characters(exclude_categories=("Cc", "Cs")).filter(
    lambda char: not ("\ufdd0" <= char <= "\ufdef" or ord(char) & 0xFFFE == 0xFFFE)
)


def run_import(db: Database, settings: Settings, *paths: Path, **options: object) -> ImportReport:
    """Import files the way the CLI does, without a console."""
    return import_files(db, settings, list(paths), **options)  # type: ignore[arg-type]


def stored(db: Database) -> list[SubmissionRow]:
    """Every stored submission in id order."""
    with db.read() as session:
        return list(session.scalars(select(SubmissionRow).order_by(SubmissionRow.id)))


def write_csv(path: Path, rows: list[list[str]], *, delimiter: str = ",", encoding: str = "utf-8") -> Path:
    """A CSV written with the csv module (quoting as spreadsheets do)."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_with_each_delimiter_maps_vietnamese_headers(
    db: Database, settings: Settings, tmp_path: Path, delimiter: str
) -> None:
    rows = [
        ["Mã", "Nội dung", "Ngày", "Địa chỉ", "Họ tên", "SĐT"],
        ["a-1", VIETNAMESE, "05/03/2025 08:30", "Quận 1, TP.HCM", "Nguyễn Văn A", "0912345678"],
        ["a-2", "Rác thải; tràn lan, bốc mùi", "2025-03-06T10:00:00+00:00", "Hà Nội", "", ""],
    ]
    report = run_import(db, settings, write_csv(tmp_path / "in.csv", rows, delimiter=delimiter))
    assert (report.read, report.stored, report.rejected) == (2, 2, 0)
    first, second = stored(db)
    assert (first.text, second.text) == (VIETNAMESE, "Rác thải; tràn lan, bốc mùi")
    assert (first.source_id, first.locality, first.channel) == ("a-1", "Quận 1, TP.HCM", "file_import")
    assert first.received_at == datetime(2025, 3, 5, 1, 30, tzinfo=UTC)  # 08:30 in Vietnam
    assert second.received_at == datetime(2025, 3, 6, 10, 0, tzinfo=UTC)
    assert (first.has_contact, second.has_contact) == (True, False)
    with db.read() as session:
        ciphertext = session.scalar(select(ContactRow.ciphertext).where(ContactRow.submission_id == first.id))
    contact = ContactCipher(settings.fernet_key).decrypt(ciphertext)
    assert (contact.name, contact.phone) == ("Nguyễn Văn A", "0912345678")


def to_cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258: base letters precomposed, tone marks as combining characters."""
    tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
    out = b""
    for char in text:
        decomposed = unicodedata.normalize("NFD", char)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in tones))
        out += (base + "".join(c for c in decomposed if c in tones)).encode("cp1258")
    return out


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "cp1258"])
def test_encodings_decode_right(db: Database, settings: Settings, tmp_path: Path, encoding: str) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [["id", "text"], ["1", VIETNAMESE], ["2", "Cột điện nghiêng ở phường Bến Nghé"]]
    )
    content = buffer.getvalue()
    raw = to_cp1258(content) if encoding == "cp1258" else content.encode(encoding)
    path = tmp_path / "legacy.csv"
    path.write_bytes(raw)
    report = run_import(db, settings, path)
    assert report.stored == 2, report.first_rejections
    assert [row.text for row in stored(db)] == [VIETNAMESE, "Cột điện nghiêng ở phường Bến Nghé"]


def test_malformed_csv_stores_good_rows_and_reports_each_bad_line(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    long_text = "x" * 30_000
    content = (
        "id,text,locality\n"  # line 1
        "1,good one,Huế\n"  # 2
        "2,short row\n"  # 3
        '3,"multi\nline, kept",Huế\n'  # 4-5
        "4,   ,Huế\n"  # 6
        "5,nul \x00 byte,Huế\n"  # 7
        f"6,{long_text},Huế\n"  # 8
        '7,"unbalanced quote,Huế\n'  # 9
        "8,good two,Đà Nẵng\n"  # 10
        "9,good three,Hà Nội\n"  # 11
    )
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    report = run_import(db, settings, path, rejects_path=rejects)
    assert [row.text for row in stored(db)] == ["good one", "multi\nline, kept", "good two", "good three"]
    with rejects.open(encoding="utf-8", newline="") as handle:
        rejected = {int(row["line"]): row["reason"] for row in csv.DictReader(handle)}
    assert sorted(rejected) == [3, 6, 7, 8, 9]
    assert "expected 3 fields, found 2" in rejected[3]
    assert "text is empty" in rejected[6]
    assert "control character U+0000" in rejected[7]
    assert "at most 20000 characters" in rejected[8]
    assert "unbalanced quote" in rejected[9]
    assert report.rejected == 5
    assert report.exit_code == 0


def test_hostile_strings_are_stored_byte_for_byte(db: Database, settings: Settings, tmp_path: Path) -> None:
    rows = [["source_id", "text"], *([str(i), text] for i, text in enumerate(HOSTILE))]
    report = run_import(db, settings, write_csv(tmp_path / "x.csv", rows))
    assert report.stored == len(HOSTILE)
    assert [row.text for row in stored(db)] == HOSTILE


def test_reimport_stores_nothing_new(db: Database, settings: Settings, tmp_path: Path) -> None:
    rows = [["text"], *([f"Phản ánh số {i}"] for i in range(25))]
    path = write_csv(tmp_path / "again.csv", rows)
    first = run_import(db, settings, path, batch_size=10)
    again = run_import(db, settings, path, batch_size=10)
    assert (first.stored, first.files[0].duplicates) == (25, 0)
    assert (again.stored, again.files[0].duplicates) == (0, 25)
    assert len(stored(db)) == 25
    with db.read() as session:
        audits = session.scalar(select(func.count(AuditRow.id)).where(AuditRow.action == "import.file"))
    assert audits == 6  # one per batch of 10: 3 per import


def test_the_same_words_from_two_senders_are_two_rows_with_their_contacts(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    rows = [
        ["Nội dung", "Họ tên", "SĐT", "Email"],
        ["Cây đổ chắn đường", "An", "0912345678", ""],
        ["Cây đổ chắn đường", "Bình", "", "binh@example.vn"],
        ["Cây đổ chắn đường", "An", "+84912345678", ""],  # the first sender again
        ["Cây đổ chắn đường", "", "", ""],
        ["Cây đổ chắn đường", "", "", ""],
    ]
    path = write_csv(tmp_path / "senders.csv", rows)
    report = run_import(db, settings, path)
    again = run_import(db, settings, path)
    assert (report.stored, report.files[0].duplicates) == (3, 2)
    assert (again.stored, again.files[0].duplicates) == (0, 5)
    first, second, anonymous = stored(db)
    assert first.tracking_code != second.tracking_code and anonymous.has_contact is False
    cipher = ContactCipher(settings.fernet_key)
    with db.write() as session:
        contacts = [read_contact(session, cipher, row.id, actor="t", client=None) for row in (first, second)]
    assert (contacts[0].phone, contacts[1].email) == ("0912345678", "binh@example.vn")


def test_batches_are_stored_in_file_order_with_every_rejection_reported(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    rows = [["source_id", "text"], *([f"s{i}", "   " if i % 7 == 3 else f"phản ánh {i}"] for i in range(95))]
    rejects = tmp_path / "rejects.csv"
    report = run_import(
        db, settings, write_csv(tmp_path / "many.csv", rows), batch_size=10, rejects_path=rejects
    )
    good = [f"s{i}" for i in range(95) if i % 7 != 3]
    assert (report.read, report.stored, report.rejected) == (95, len(good), 95 - len(good))
    assert [row.source_id for row in stored(db)] == good  # ids follow the file order
    with rejects.open(encoding="utf-8", newline="") as handle:
        lines = [int(row["line"]) for row in csv.DictReader(handle)]
    assert lines == [i + 2 for i in range(95) if i % 7 == 3]  # the header is line 1
    with db.read() as session:
        assert session.scalar(select(func.count(JobRow.id))) == len(good)


def _refuse_text(db: Database, text: str) -> None:
    """A trigger that makes the database refuse one text: a real failure in the middle of an import."""
    with db.write() as session:
        if db.dialect == "sqlite":
            session.execute(
                sql(
                    "CREATE TRIGGER refuse BEFORE INSERT ON submissions "
                    f"WHEN NEW.text = '{text}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
            return
        session.execute(
            sql(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.text = '{text}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$"
            )
        )
        session.execute(
            sql("CREATE TRIGGER refuse BEFORE INSERT ON submissions FOR EACH ROW EXECUTE FUNCTION refuse()")
        )


def test_a_failing_batch_stops_the_import_and_a_rerun_completes_it(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    rows = [["source_id", "text"], *([f"s{i}", "boom" if i == 25 else f"phản ánh {i}"] for i in range(50))]
    path = write_csv(tmp_path / "fails.csv", rows)
    _refuse_text(db, "boom")
    with pytest.raises(DBAPIError, match="refused"):
        run_import(db, settings, path, batch_size=10)
    assert [row.source_id for row in stored(db)] == [f"s{i}" for i in range(20)]  # batches 1-2 only
    with db.write() as session:
        session.execute(sql("DROP TRIGGER refuse" + ("" if db.dialect == "sqlite" else " ON submissions")))
    again = run_import(db, settings, path, batch_size=10)
    assert (again.stored, again.files[0].duplicates) == (30, 20)
    assert [row.source_id for row in stored(db)] == [f"s{i}" for i in range(50)]
    with db.read() as session:
        assert session.scalar(select(func.count(JobRow.id))) == 50


def test_xlsx_first_sheet_with_date_cells(db: Database, settings: Settings, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ID", "Nội dung", "Ngày nhận", "Tỉnh"])
    sheet.append([101, VIETNAMESE, datetime(2025, 7, 1, 9, 15), "Huế"])
    sheet.append([102, "", datetime(2025, 7, 1), "Huế"])
    sheet.append([103, "Đèn đường hỏng", "02/07/2025", "Đà Nẵng"])
    workbook.create_sheet("ignored").append(["text"])
    path = tmp_path / "book.xlsx"
    workbook.save(path)
    report = run_import(db, settings, path)
    assert (report.stored, report.rejected) == (2, 1)
    assert report.first_rejections[0].line == 3
    first, second = stored(db)
    assert (first.source_id, first.text, first.locality) == ("101", VIETNAMESE, "Huế")
    assert first.received_at == datetime(2025, 7, 1, 2, 15, tzinfo=UTC)
    assert (second.source_id, second.received_at) == ("103", datetime(2025, 7, 1, 17, 0, tzinfo=UTC))


def test_jsonl_maps_submission_fields_and_reports_broken_lines(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    good = {
        "source_id": "hl-1",
        "channel": "hotline",
        "text": VIETNAMESE,
        "received_at": "2025-05-01T07:00:00+07:00",
        "locality": "Huế",
        "language_hint": "vi",
        "contact": {"name": "Trần Thị B", "phone": "0900000000"},
        "attachments": [{"filename": "anh.jpg", "content_type": "image/jpeg", "size_bytes": 1234}],
    }
    lines = [
        json.dumps(good, ensure_ascii=False),
        '{"text": "broken',
        "[1, 2]",
        "",
        json.dumps({"text": "kênh lạ", "channel": "pigeon"}),
        json.dumps({"noi_dung": "không có kênh", "ma": 7}),
    ]
    path = tmp_path / "items.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = run_import(db, settings, path, default_channel=Channel.survey)
    reasons = {r.line: r.reason for r in report.first_rejections}
    assert sorted(reasons) == [2, 3, 5]
    assert "not valid JSON" in reasons[2]
    assert "expected a JSON object" in reasons[3]
    assert reasons[5].startswith("channel:")
    first, second = stored(db)
    assert (first.channel, first.source_id, first.language_hint, first.has_contact) == (
        "hotline",
        "hl-1",
        "vi",
        True,
    )
    assert first.attachments == [{"filename": "anh.jpg", "content_type": "image/jpeg", "size_bytes": 1234}]
    assert first.received_at == datetime(2025, 5, 1, 0, 0, tzinfo=UTC)
    assert (second.text, second.channel, second.source_id) == ("không có kênh", "survey", "7")


def make_message(
    subject: str, body: str, *, sender: str, message_id: str, attach: bool = False
) -> EmailMessage:
    """An e-mail as a mail client would send it."""
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = sender
    message["To"] = "tiepdan@example.gov.vn"
    message["Date"] = "Tue, 01 Jul 2025 08:00:00 +0700"
    message["Message-ID"] = message_id
    message.set_content(body)
    if attach:
        message.add_attachment(b"\x89PNG fake image", maintype="image", subtype="png", filename="ngập.png")
    return message


def test_eml_with_encoded_subject_and_attachment(db: Database, settings: Settings, tmp_path: Path) -> None:
    message = make_message(
        "Phản ánh: ngập đường",
        VIETNAMESE,
        sender='"Lê Văn C" <lvc@example.vn>',
        message_id="<m1@example.vn>",
        attach=True,
    )
    raw = message.as_bytes()
    assert b"=?utf-8?" in raw  # the subject really is RFC 2047-encoded
    path = tmp_path / "one.eml"
    path.write_bytes(raw)
    assert run_import(db, settings, path).stored == 1
    (row,) = stored(db)
    assert row.text == f"Phản ánh: ngập đường\n{VIETNAMESE}"
    assert (row.channel, row.source_id) == ("email", "<m1@example.vn>")
    assert row.received_at == datetime(2025, 7, 1, 1, 0, tzinfo=UTC)
    assert row.attachments == [{"filename": "ngập.png", "content_type": "image/png", "size_bytes": 15}]
    with db.read() as session:
        ciphertext = session.scalar(select(ContactRow.ciphertext))
    contact = ContactCipher(settings.fernet_key).decrypt(ciphertext)
    assert (contact.name, contact.email) == ("Lê Văn C", "lvc@example.vn")


def test_mbox_with_three_messages_one_html_only(db: Database, settings: Settings, tmp_path: Path) -> None:
    html = make_message("Đèn hỏng", "x", sender="a@example.vn", message_id="<m3@example.vn>")
    html.set_content(
        "<html><body><p>Đèn <b>đường</b> hỏng</p><script>evil()</script></body></html>", subtype="html"
    )
    messages = [
        make_message("Một", "Nội dung một", sender="a@example.vn", message_id="<m1@example.vn>"),
        make_message("Hai", "Nội dung hai", sender="b@example.vn", message_id="<m2@example.vn>"),
        html,
    ]
    path = tmp_path / "inbox"  # an mbox usually has no suffix
    with path.open("wb") as handle:
        for message in messages:
            handle.write(b"From sender@example.vn Tue Jul  1 08:00:00 2025\n" + message.as_bytes() + b"\n")
    report = run_import(db, settings, path)
    assert (report.read, report.stored) == (3, 3)
    assert [row.text for row in stored(db)] == [
        "Một\nNội dung một",
        "Hai\nNội dung hai",
        "Đèn hỏng\nĐèn đường hỏng",
    ]


def test_unreadable_file_is_reported_and_others_go_on(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 40)
    no_text = write_csv(tmp_path / "no_text.csv", [["a", "b"], ["1", "2"]])
    unknown = tmp_path / "notes.docx"
    unknown.write_bytes(b"PK\x03\x04")
    good = write_csv(tmp_path / "good.csv", [["text"], ["một phản ánh"]])
    report = run_import(db, settings, binary, no_text, unknown, good)
    errors = [f.error for f in report.files]
    assert "binary.csv: cannot tell its text encoding" in errors[0]
    assert "no_text.csv: no text column among a, b" in errors[1]
    assert "notes.docx: unknown file type '.docx'" in errors[2]
    assert errors[3] is None
    assert report.stored == 1
    assert report.exit_code == 1


def test_explicit_columns_win_over_guesses(db: Database, settings: Settings, tmp_path: Path) -> None:
    rows = [["text", "ghi_chu", "khi"], ["not this", "this one", "1751331600"]]
    mapping = ColumnMapping(text="ghi_chu", received_at="khi")
    assert run_import(db, settings, write_csv(tmp_path / "m.csv", rows), mapping=mapping).stored == 1
    (row,) = stored(db)
    assert row.text == "this one"
    assert row.received_at == datetime(2025, 7, 1, 1, 0, tzinfo=UTC)


@hypothesis_settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    texts=st.lists(
        st.text(ACCEPTED_CHARS, min_size=1, max_size=200).filter(str.strip),
        min_size=1,
        max_size=15,
    )
)
def test_random_text_round_trips_csv_import(
    db: Database, settings: Settings, tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("rt")
    run = folder.name
    rows = [["source_id", "text"], *([f"{run}-{i}", text] for i, text in enumerate(texts))]
    report = run_import(db, settings, write_csv(folder / "rt.csv", rows))
    assert report.rejected == 0, report.first_rejections
    with db.read() as session:
        back = session.execute(
            select(SubmissionRow.source_id, SubmissionRow.text).where(
                SubmissionRow.source_id.like(f"{run}-%")
            )
        ).all()
    assert dict(back) == {f"{run}-{i}": text for i, text in enumerate(texts)}


# --- parsers alone (no database) ---------------------------------------------------------------


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(
        st.lists(st.text(st.characters(exclude_categories=("Cs",)), max_size=30), min_size=3, max_size=3),
        max_size=12,
    ),
    delimiter=st.sampled_from([",", ";", "\t"]),
)
def test_delimited_reader_returns_what_the_csv_writer_wrote(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]], delimiter: str
) -> None:
    path = tmp_path_factory.mktemp("p") / "p.csv"
    write_csv(path, [["source_id", "text", "locality"], *rows], delimiter=delimiter)
    records = list(read_delimited(path))
    got = [r for r in records if isinstance(r, Row)]
    assert not [r for r in records if isinstance(r, RowError)]
    assert [list(r.fields.values()) for r in got] == rows


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-07-01T08:00:00+07:00", datetime(2025, 7, 1, 1, 0, tzinfo=UTC)),
        ("2025-07-01T01:00:00Z", datetime(2025, 7, 1, 1, 0, tzinfo=UTC)),
        ("2025-07-01 08:00", datetime(2025, 7, 1, 1, 0, tzinfo=UTC)),
        ("01/07/2025", datetime(2025, 6, 30, 17, 0, tzinfo=UTC)),
        ("1/7/2025 8:05:09", datetime(2025, 7, 1, 1, 5, 9, tzinfo=UTC)),
        ("1751331600", datetime(2025, 7, 1, 1, 0, tzinfo=UTC)),
        (1751331600, datetime(2025, 7, 1, 1, 0, tzinfo=UTC)),
    ],
)
def test_parse_time_formats(raw: object, expected: datetime) -> None:
    assert parse_time(raw) == expected


@pytest.mark.parametrize("raw", ["31/02/2025", "hôm qua", "2025-13-01"])
def test_parse_time_refuses_nonsense(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_time(raw)
