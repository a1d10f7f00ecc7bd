"""The inbox's filtered list as a CSV or XLSX file: every text cell formula-safe
(``store.export.spreadsheet_safe``), the text as the user may see it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook

from civicpulse.store.export import spreadsheet_safe
from civicpulse.web.desk_rows import DeskRow
from civicpulse.web.render import local_time

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
COLUMNS = (
    "id",
    "received",
    "status",
    "urgency",
    "urgency_reason",
    "topic",
    "place",
    "agency",
    "due",
    "text",
)


def _values(row: DeskRow) -> list[Any]:
    item = row.item
    text = item.text if item.text is not None else item.redacted_text
    return [
        item.id,
        local_time(item.received_at, "%Y-%m-%d %H:%M"),
        row.status,
        row.urgency,
        row.reason,
        row.topic,
        row.place,
        row.agency,
        local_time(row.due_at, "%Y-%m-%d %H:%M") if row.due_at else None,
        text,
    ]


def _safe(value: Any) -> Any:
    return spreadsheet_safe(value) if isinstance(value, str) else value


def export_bytes(rows: Sequence[DeskRow], fmt: str) -> bytes:
    """The rows as one file in ``fmt`` (``csv`` or ``xlsx``)."""
    table = [[_safe(value) for value in _values(row)] for row in rows]
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        writer.writerows(["" if value is None else value for value in line] for line in table)
        return buffer.getvalue().encode("utf-8-sig")
    book = Workbook(write_only=True)
    sheet = book.create_sheet("inbox")
    sheet.append(list(COLUMNS))
    for line in table:
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
