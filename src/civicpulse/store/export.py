"""Export submissions with their annotations to CSV, JSONL or Parquet, streaming in id order.

One row per submission: its stored fields, the redacted text, ``has_contact``, its attachments and one
column per analysis stage (``annotation_<stage>``, the stage's output as JSON).

An export holds personal data only when asked for (``include_contact``): then it has the contact
details, the raw text and the typed fields as received. This is the one audited reader of contact
details besides ``contacts.read_contact``: reading them through that function would write one audit
event per row, so such an export writes ONE ``export.contact`` event (actor, file, row and contact
counts) and ONE ``text.read`` event (target the file, ``through_id`` the last submission exported),
committed before anything is read, and decrypts with ``ContactCipher`` itself. Any other export writes
one ``export`` event and shows what an analyst sees (``identity.redacted_view``): no raw text, the
redacted place, source id and file names (empty, and named in ``redaction_pending``, until redaction
ran), no attachment URLs.

Spreadsheet formats (CSV) neutralise formulas: a text cell starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return gets a leading ``'`` (``spreadsheet_safe``, OWASP's CSV-injection rule), so a
citizen's text never runs as a formula when an analyst opens the file. JSONL and Parquet are data
formats and keep every value exactly.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from sqlalchemy import func, select

from civicpulse.annotations import (
    PiiOut,
    attachment_field,
    redact_side_fields,
    side_fields,
    stored_redacted_text,
    stored_side_fields,
)
from civicpulse.atomic import atomic_output
from civicpulse.errors import BadRequest
from civicpulse.settings import Settings
from civicpulse.store.audit import TEXT_READ, record_audit
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.tables import AnnotationRow, ContactRow, SubmissionRow

PAGE_SIZE = 1_000
PARQUET_ROW_GROUP = 20_000
SUBMISSION_COLUMNS = (
    "id",
    "tracking_code",
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
)
EXPORT_COLUMNS = (
    *SUBMISSION_COLUMNS[:5],
    "redacted_text",
    *SUBMISSION_COLUMNS[5:],
    "redaction_pending",
)
CONTACT_COLUMNS = ("contact_name", "contact_phone", "contact_email", "contact_address")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class RowWriter(Protocol):
    """Writes pages of export rows to one file."""

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Append rows."""
        ...

    def close(self) -> None:
        """Finish the file."""
        ...


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would read it as a formula (OWASP's rule).

    Used for every text cell of a spreadsheet format; data formats (JSONL, Parquet) keep text as is.
    """
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


class CsvWriter:
    """UTF-8 CSV; times in ISO 8601, attachments and annotations as JSON, empty cells for nothing.

    Text cells that a spreadsheet would run as a formula are neutralised (``spreadsheet_safe``).
    """

    def __init__(self, path: Path, columns: list[str]) -> None:
        self._handle: TextIO = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._handle, fieldnames=columns)
        self._writer.writeheader()

    def write(self, rows: list[dict[str, Any]]) -> None:
        self._writer.writerows({key: _cell(value) for key, value in row.items()} for row in rows)

    def close(self) -> None:
        self._handle.close()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return _json(value)  # starts with { or [, never a formula
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return value


class JsonlWriter:
    """One JSON object per line; attachments and annotations stay nested objects."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self._handle: TextIO = path.open("w", encoding="utf-8", newline="\n")

    def write(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._handle.write(json.dumps(row, ensure_ascii=False, default=_iso) + "\n")

    def close(self) -> None:
        self._handle.close()


def _iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


class ParquetWriter:
    """Parquet with a fixed schema: UTC timestamps, JSON text for attachments and annotations."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        types = {
            "id": pa.int64(),
            "lat": pa.float64(),
            "long": pa.float64(),
            "has_contact": pa.bool_(),
            **{name: pa.timestamp("us", tz="UTC") for name in ("received_at", "created_at", "updated_at")},
        }
        self._pa = pa
        self._schema = pa.schema([(name, types.get(name, pa.string())) for name in columns])
        self._writer = pq.ParquetWriter(str(path), self._schema)
        self._buffer: list[dict[str, Any]] = []

    def write(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._buffer.append(
                {key: _json(value) if isinstance(value, dict | list) else value for key, value in row.items()}
            )
        if len(self._buffer) >= PARQUET_ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            self._writer.write_table(self._pa.Table.from_pylist(self._buffer, schema=self._schema))
            self._buffer = []

    def close(self) -> None:
        self._flush()
        self._writer.close()


WRITERS: dict[str, type[CsvWriter] | type[JsonlWriter] | type[ParquetWriter]] = {
    ".csv": CsvWriter,
    ".jsonl": JsonlWriter,
    ".parquet": ParquetWriter,
}


def writer_for(output: Path) -> type[CsvWriter] | type[JsonlWriter] | type[ParquetWriter]:
    """The writer for the file's suffix, or ``BadRequest`` listing the known ones."""
    writer = WRITERS.get(output.suffix.lower())
    if writer is None:
        known = ", ".join(WRITERS)
        raise BadRequest(f"cannot export to {output.name!r}: the file name must end in {known}")
    return writer


def export_submissions(
    db: Database,
    settings: Settings,
    output: Path,
    *,
    include_contact: bool = False,
    actor: str = "cli",
    page_size: int = PAGE_SIZE,
) -> int:
    """Write every submission stored so far to ``output``; return how many rows were written.

    The file appears whole or not at all (written aside, then renamed).
    """
    writer_class = writer_for(output)
    with db.read() as session:
        last_id = session.scalar(select(func.max(SubmissionRow.id))) or 0
        count = session.scalar(select(func.count(SubmissionRow.id)).where(SubmissionRow.id <= last_id)) or 0
        stages = sorted(
            session.scalars(
                select(AnnotationRow.stage).where(AnnotationRow.submission_id <= last_id).distinct()
            )
        )
        with_contact = (
            session.scalar(
                select(func.count(ContactRow.submission_id)).where(ContactRow.submission_id <= last_id)
            )
            or 0
        )
    with db.write() as session:
        record_audit(
            session,
            actor=actor,
            action="export.contact" if include_contact else "export",
            target=f"file:{output.name}"[:300],
            client="cli",
            status=200,
            detail={"file": output.name, "rows": count, "contacts": with_contact if include_contact else 0},
        )
        if include_contact:
            record_audit(
                session,
                actor=actor,
                action=TEXT_READ,
                target=f"file:{output.name}"[:300],
                client="cli",
                status=200,
                detail={"via": "export", "file": output.name, "rows": count, "through_id": last_id},
            )
    columns = [*EXPORT_COLUMNS, *(f"annotation_{stage}" for stage in stages)]
    if include_contact:
        columns += CONTACT_COLUMNS
    cipher = ContactCipher(settings.fernet_key) if include_contact else None
    written = 0
    with atomic_output(output) as partial:
        writer = writer_class(partial, columns)
        try:
            for page in _pages(db, last_id, page_size, stages, cipher):
                writer.write(page)
                written += len(page)
        finally:
            writer.close()
    return written


def _pages(
    db: Database, last_id: int, page_size: int, stages: list[str], cipher: ContactCipher | None
) -> Iterator[list[dict[str, Any]]]:
    """Export rows ``page_size`` at a time, in id order, up to ``last_id``."""
    table = SubmissionRow.__table__
    wanted = [table.c[name] for name in SUBMISSION_COLUMNS]
    after = 0
    while True:
        with db.read() as session:
            query = (
                select(*wanted)
                .where(table.c.id > after, table.c.id <= last_id)
                .order_by(table.c.id)
                .limit(page_size)
            )
            rows = [dict(row) for row in session.execute(query).mappings()]
            if not rows:
                return
            ids = [row["id"] for row in rows]
            annotations: dict[tuple[int, str], Any] = {
                (sid, stage): data
                for sid, stage, data in session.execute(
                    select(AnnotationRow.submission_id, AnnotationRow.stage, AnnotationRow.data).where(
                        AnnotationRow.submission_id.in_(ids)
                    )
                )
            }
            secrets = {}
            if cipher is not None:
                secrets = dict(
                    session.execute(
                        select(ContactRow.submission_id, ContactRow.ciphertext).where(
                            ContactRow.submission_id.in_(ids)
                        )
                    ).all()
                )
        for row in rows:
            row["attachments"] = row["attachments"] or []
            pii = annotations.get((row["id"], PiiOut.stage))
            row["redacted_text"] = stored_redacted_text(pii)
            row["redaction_pending"] = [] if cipher is not None else _redact(row, pii)
            for stage in stages:
                row[f"annotation_{stage}"] = annotations.get((row["id"], stage))
            if cipher is not None:
                contact = cipher.decrypt(secrets[row["id"]]) if row["id"] in secrets else None
                for name in CONTACT_COLUMNS:
                    row[name] = getattr(contact, name.removeprefix("contact_")) if contact else None
        after = ids[-1]
        yield rows


def _redact(row: dict[str, Any], pii: dict[str, Any] | None) -> list[str]:
    """Turn ``row`` into what an analyst sees (``identity.redacted_view``); the fields withheld."""
    attachments: list[dict[str, Any]] = row["attachments"]
    raw = side_fields(row["locality"], row["source_id"], [a.get("filename") for a in attachments])
    shown, pending = redact_side_fields(raw, stored_side_fields(pii))
    row.update(text=None, locality=shown["locality"], source_id=shown["source_id"])
    row["attachments"] = [
        {
            **{key: value for key, value in attachment.items() if key != "url"},
            "filename": shown[attachment_field(i)],
        }
        for i, attachment in enumerate(attachments)
    ]
    return pending
