"""Export to CSV, JSONL and Parquet on real SQLite and PostgreSQL, read back, with the audit trail."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from civicpulse.domain import Attachment, Channel, Contact, SubmissionIn
from civicpulse.errors import BadRequest
from civicpulse.intake.service import accept
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store import export as export_module
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.export import export_submissions
from civicpulse.store.tables import AuditRow

ITEMS = [
    SubmissionIn(
        text="Đường Nguyễn Huệ bị ngập sâu sau mưa, xin chính quyền xử lý.",
        channel=Channel.hotline,
        source_id="hl-1",
        locality="Quận 1",
        contact=Contact(name="Nguyễn Văn A", phone="0912345678"),
        attachments=[Attachment(filename="ngập.jpg", content_type="image/jpeg", size_bytes=10)],
    ),
    SubmissionIn(text="'); DROP TABLE submissions;--\n<script>x()</script>", channel=Channel.api),
    SubmissionIn(text="The street light on Le Loi has been broken for a week.", channel=Channel.email),
]


def read_back(path: Path) -> list[dict[str, Any]]:
    """The exported rows as dicts, with JSON columns decoded, whatever the format."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            rows: list[dict[str, Any]] = list(csv.DictReader(handle))
        for row in rows:
            row["id"] = int(row["id"])
            row["has_contact"] = row["has_contact"] == "True"
    elif path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    else:
        rows = pq.read_table(path).to_pylist()
    for row in rows:
        for key in ("attachments", "annotation_language", "annotation_pii"):
            if isinstance(row.get(key), str) and row[key]:
                row[key] = json.loads(row[key])
    return rows


@pytest.fixture
def filled(db: Database, settings: Settings) -> Database:
    """A store with three submissions, one with contact details, all analysed by the real worker."""
    accept(db, ContactCipher(settings.fernet_key), ITEMS, actor="test", client="test")
    analysis = settings.model_copy(update={"languages": ["vi", "en"]})
    assert Worker(db, build_pipeline(analysis, db), analysis).drain() == len(ITEMS)
    return db


def audits(db: Database, action: str) -> list[AuditRow]:
    """Audit events of one action."""
    with db.read() as session:
        return list(session.scalars(select(AuditRow).where(AuditRow.action == action)))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_export_without_contact(filled: Database, settings: Settings, tmp_path: Path, suffix: str) -> None:
    output = tmp_path / f"out{suffix}"
    assert export_submissions(filled, settings, output, actor="analyst@example.org") == 3
    rows = read_back(output)
    assert all(row["text"] in (None, "") for row in rows)  # the raw text goes only with --include-contact
    assert [row["redacted_text"] for row in rows] == [row["annotation_pii"]["redacted_text"] for row in rows]
    assert [row["id"] for row in rows] == sorted(row["id"] for row in rows)
    first = rows[0]
    redacted = first["annotation_pii"]["fields"]  # what analysts see of the typed fields
    assert (first["channel"], first["has_contact"]) == ("hotline", True)
    assert (first["source_id"] or None, first["locality"] or None) == (
        redacted.get("source_id"),
        redacted.get("locality"),
    )
    assert first["attachments"] == [
        {"filename": redacted.get("attachment:0"), "content_type": "image/jpeg", "size_bytes": 10}
    ]
    assert first["annotation_language"]["language"] == "vi"
    assert rows[2]["annotation_language"]["language"] == "en"
    assert not any(key.startswith("contact_") for key in first)
    (event,) = audits(filled, "export")
    assert (event.actor, event.detail["file"], event.detail["rows"]) == (
        "analyst@example.org",
        output.name,
        3,
    )
    assert audits(filled, "export.contact") == []
    assert not list(tmp_path.glob(".*.part"))


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_export_with_contact_is_audited_once(
    filled: Database, settings: Settings, tmp_path: Path, suffix: str
) -> None:
    output = tmp_path / f"contacts{suffix}"
    assert export_submissions(filled, settings, output, include_contact=True, actor="admin@example.org") == 3
    rows = read_back(output)
    assert (rows[0]["contact_name"], rows[0]["contact_phone"]) == ("Nguyễn Văn A", "0912345678")
    assert [row["text"] for row in rows] == [item.text for item in ITEMS]
    assert (rows[0]["source_id"], rows[0]["locality"], rows[0]["attachments"][0]["filename"]) == (
        "hl-1",
        "Quận 1",
        "ngập.jpg",
    )
    assert rows[1]["contact_name"] in (None, "")
    (event,) = audits(filled, "export.contact")
    assert event.actor == "admin@example.org"
    assert event.detail == {"file": output.name, "rows": 3, "contacts": 1}
    assert audits(filled, "contact.read") == []


def test_export_pages_through_many_rows(db: Database, settings: Settings, tmp_path: Path) -> None:
    items = [SubmissionIn(text=f"Phản ánh {i}", channel=Channel.survey) for i in range(25)]
    accept(db, ContactCipher(settings.fernet_key), items, actor="test", client="test")
    output = tmp_path / "paged.jsonl"
    assert export_submissions(db, settings, output, include_contact=True, page_size=4) == 25
    assert [row["text"] for row in read_back(output)] == [item.text for item in items]


def test_unknown_suffix_is_a_clear_error_and_writes_nothing(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    output = tmp_path / "out.xlsx"
    with pytest.raises(BadRequest, match=r"must end in \.csv, \.jsonl, \.parquet"):
        export_submissions(db, settings, output)
    assert not output.exists()
    assert audits(db, "export") == []


FORMULA_STARTS = ["=", "+", "-", "@", "\t", "\r"]


def test_csv_neutralises_formulas_while_jsonl_keeps_the_text(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    dangerous = [
        SubmissionIn(
            text=f"{start}cmd|' /C calc'!A0",
            channel=Channel.api,
            source_id=f'{start}HYPERLINK("http://x")-{i}',
            locality=f"{start}SUM(A1:A9)",
        )
        for i, start in enumerate(FORMULA_STARTS)
    ]
    harmless = SubmissionIn(
        text="Đèn đường hỏng - xin sửa =)", channel=Channel.api, source_id="ok-1", locality="Quận 1", lat=-8.5
    )
    items = [*dangerous, harmless]
    accept(db, ContactCipher(settings.fernet_key), items, actor="test", client="test")

    spreadsheet, data = tmp_path / "out.csv", tmp_path / "out.jsonl"
    assert export_submissions(db, settings, spreadsheet, include_contact=True) == len(items)
    assert export_submissions(db, settings, data, include_contact=True) == len(items)
    with spreadsheet.open(encoding="utf-8", newline="") as handle:
        cells = list(csv.DictReader(handle))
    for row, item in zip(cells[:-1], dangerous, strict=True):
        assert (row["text"], row["source_id"], row["locality"]) == (
            f"'{item.text}",
            f"'{item.source_id}",
            f"'{item.locality}",
        )
    last = cells[-1]
    assert (last["text"], last["source_id"], last["locality"], last["lat"]) == (
        harmless.text,
        "ok-1",
        "Quận 1",
        "-8.5",  # numbers are not text: a negative latitude stays a number
    )
    rows = read_back(data)
    assert [(row["text"], row["source_id"], row["locality"]) for row in rows] == [
        (item.text, item.source_id, item.locality) for item in items
    ]


def test_a_failed_export_leaves_the_old_file_untouched(
    filled: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "out.csv"
    output.write_text("the previous export\n", encoding="utf-8")

    def broken(*args: Any, **kwargs: Any) -> Any:
        yield [{"id": 1}]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module, "_pages", broken)
    with pytest.raises(OSError, match="No space left"):
        export_submissions(filled, settings, output)
    assert output.read_text(encoding="utf-8") == "the previous export\n"
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith(".")) == []
