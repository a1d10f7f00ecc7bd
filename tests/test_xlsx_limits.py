"""XLSX workbooks that would cost too much (zip bombs, padded sheets) are refused whole, in bounded
time, by the importer and by ``civicpulse analyze``; nothing is taken from them."""

from __future__ import annotations

import time
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select

from civicpulse.intake.files import import_files
from civicpulse.intake.tabular import UnreadableFile, XlsxLimits, read_xlsx
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.tables import SubmissionRow
from tests.conftest import make_settings
from tests.test_cli import Cli, cli  # noqa: F401  (the CLI fixture)

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_BOOK_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
PARTS = {
    "[Content_Types].xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_TYPES}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_BOOK_TYPE}"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SHEET_TYPE}"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_DOC}">'
        '<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}


def _cell(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def workbook(path: Path, rows: int, padding: str = "") -> Path:
    """A one-sheet workbook: a ``text`` header, ``rows`` texts, then ``padding`` (raw sheet XML)."""
    body = f'<row r="1">{_cell("A1", "text")}</row>'
    body += "".join(f'<row r="{n}">{_cell(f"A{n}", f"phản ánh số {n}")}</row>' for n in range(2, rows + 2))
    sheet = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{_MAIN}"><sheetData>{body}'
    sheet += f"{padding}</sheetData></worksheet>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, content in PARTS.items():
            archive.writestr(name, content)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def padded_row(number: int, cells: int) -> str:
    """One row of ``cells`` empty cells: slow to parse, tiny once compressed."""
    return f'<row r="{number}">' + f'<c r="A{number}"/>' * cells + "</row>"


def _stored(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count(SubmissionRow.id))) or 0


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    bomb = workbook(tmp_path / "bomb.xlsx", 3, padding=" " * 30_000_000)
    assert bomb.stat().st_size < 100_000  # 30 MB inside
    started = time.monotonic()
    refused = r"bomb\.xlsx: xl/worksheets/sheet1\.xml is compressed [\d,]+ to 1, more than the limit of 200"
    with pytest.raises(UnreadableFile, match=refused):
        list(read_xlsx(bomb))
    assert time.monotonic() - started < 1


def test_a_workbook_larger_than_the_limit_once_unpacked_is_refused(tmp_path: Path) -> None:
    book = workbook(tmp_path / "big.xlsx", 2_000)
    unpacked = sum(part.file_size for part in zipfile.ZipFile(book).infolist())
    limits = XlsxLimits(max_uncompressed_bytes=unpacked - 1)
    with pytest.raises(UnreadableFile, match=f"unpacks to {unpacked:,} bytes, more than the limit of"):
        list(read_xlsx(book, limits))
    assert len(list(read_xlsx(book, XlsxLimits(max_uncompressed_bytes=unpacked)))) == 2_000


def test_a_padded_sheet_is_refused_at_the_deadline(tmp_path: Path) -> None:
    book = workbook(tmp_path / "padded.xlsx", 3_000, padding=padded_row(3_002, 600_000))
    limits = XlsxLimits(max_ratio=1e9, max_seconds=0.05)  # far less than reading it takes anywhere
    started = time.monotonic()
    with pytest.raises(UnreadableFile, match=r"padded\.xlsx: reading the workbook took more than 0\.05 s"):
        list(read_xlsx(book, limits))
    # one compressed chunk past the deadline at most: about 2 s here, more on a loaded machine; the
    # whole sheet would take minutes
    assert time.monotonic() - started < 30


def test_a_damaged_sheet_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    book = workbook(tmp_path / "damaged.xlsx", 2, padding="<row>")
    with pytest.raises(UnreadableFile, match=r"damaged\.xlsx: not a readable XLSX workbook"):
        list(read_xlsx(book))


def test_a_workbook_whose_sheet_is_missing_is_unreadable_not_a_crash(tmp_path: Path) -> None:
    book = tmp_path / "sheetless.xlsx"
    with zipfile.ZipFile(book, "w") as archive:  # the workbook names a sheet the archive lacks
        for name, content in PARTS.items():
            archive.writestr(name, content)
    with pytest.raises(UnreadableFile, match=r"sheetless\.xlsx: the workbook has no worksheet"):
        list(read_xlsx(book))


def test_the_importer_stores_nothing_from_a_refused_workbook(db_url: str, tmp_path: Path) -> None:
    settings: Settings = make_settings(db_url, xlsx_max_seconds=0.05, max_xlsx_ratio=1e9)
    database = Database.from_settings(settings)
    database.upgrade()
    padded = workbook(tmp_path / "padded.xlsx", 3_000, padding=padded_row(3_002, 600_000))
    good = tmp_path / "good.csv"
    good.write_text("text\nđèn đường hỏng\n", encoding="utf-8")
    try:
        report = import_files(database, settings, [padded, good], batch_size=100)
        assert _stored(database) == 1
    finally:
        database.dispose()
    [refused] = report.failed_files
    assert refused.path == padded and refused.stored == 0
    assert refused.error is not None and "took more than 0.05 s" in refused.error
    assert report.exit_code == 1


def test_the_cli_names_the_refused_workbook(cli: Cli, tmp_path: Path) -> None:  # noqa: F811
    bomb = workbook(tmp_path / "bomb.xlsx", 3, padding=" " * 30_000_000)
    good = tmp_path / "good.csv"
    good.write_text("text\nđèn đường hỏng\n", encoding="utf-8")
    ingest = cli("ingest", str(bomb), str(good))
    out = tmp_path / "out.jsonl"
    analyze = cli("analyze", str(bomb), "--output", str(out))
    assert ingest.returncode == 1
    said = " ".join((ingest.stdout + ingest.stderr).split())
    assert "unreadable: bomb.xlsx: xl/worksheets/sheet1.xml is compressed" in said
    database = Database.from_settings(make_settings(f"sqlite:///{tmp_path / 'cli.db'}"))
    with database.read() as session:
        assert list(session.scalars(select(SubmissionRow.text))) == ["đèn đường hỏng"]
    database.dispose()
    assert analyze.returncode == 1
    assert "error: bomb.xlsx: xl/worksheets/sheet1.xml is compressed" in " ".join(analyze.stderr.split())
    assert not out.exists()
