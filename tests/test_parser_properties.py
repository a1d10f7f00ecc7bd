"""Property tests of every parser: any input gives records or documented refusals (never another
exception), text that intake accepts comes back byte for byte, and each example takes bounded time.

What the formats themselves cannot carry is left out of the round trips, each for its reason:
XML (XLSX, Open311) reads a carriage return as a line feed; e-mail ends lines with CRLF, and the
reader strips the body and folds the subject's spaces; an mbox quotes body lines that start with
``From ``.
"""

from __future__ import annotations

import csv
import json
import mailbox
import xml.etree.ElementTree as ET
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from functools import cache
from pathlib import Path
from tempfile import TemporaryDirectory

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from pydantic import ValidationError

from civicpulse.domain import Channel, SubmissionIn, check_clean_text
from civicpulse.errors import BadRequest, Unprocessable, UnsupportedMediaType
from civicpulse.intake.files import Entry, mapped_records
from civicpulse.intake.mail import read_eml, read_mbox
from civicpulse.intake.mapping import ColumnMapping, RowMapper
from civicpulse.intake.open311 import POST_FIELDS, render, submission
from civicpulse.intake.tabular import Row, RowError, UnreadableFile, read_delimited, read_jsonl, read_xlsx
from civicpulse.knowledge.parsing import parse
from civicpulse.taxonomy import load_taxonomy
from tests.test_documents import docx_bytes, pdf_bytes

FAST = settings(max_examples=60, deadline=timedelta(seconds=2), suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=20, deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
MAPPER = RowMapper(ColumnMapping(), Channel.file_import, 20_000)
TAXONOMY = load_taxonomy()


def _accepted(text: str) -> bool:
    """Whether intake takes ``text`` as a submission's text."""
    try:
        SubmissionIn(text=text)
    except ValidationError:
        return False
    return True


# Text a citizen may send: any character but controls (tab and line ends allowed) and surrogates.
CHARACTERS = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\t\n\r")
TEXTS = st.text(CHARACTERS, min_size=1, max_size=200).filter(_accepted)
LINE_TEXTS = TEXTS.map(lambda t: t.replace("\r", "")).filter(_accepted)  # XML and e-mail line ends
JUNK = st.binary(max_size=2_000)


def _texts(entries: list[Entry]) -> list[str]:
    assert all(isinstance(e, SubmissionIn) for e in entries), entries
    return [e.text for e in entries if isinstance(e, SubmissionIn)]


def _no_crash(path: Path) -> None:
    """Every record of ``path`` is a submission or a refused row, or the whole file is refused."""
    try:
        entries = list(mapped_records(path, MAPPER))
    except UnreadableFile:
        return
    assert all(isinstance(e, SubmissionIn | RowError) for e in entries)


# --- CSV / TSV ----------------------------------------------------------------------------------


@FAST
@given(texts=st.lists(TEXTS, min_size=1, max_size=5), delimiter=st.sampled_from([",", ";", "\t"]))
def test_delimited_text_round_trips(texts: list[str], delimiter: str) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / ("in.tsv" if delimiter == "\t" else "in.csv")
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(["id", "text"])
            writer.writerows([str(n), text] for n, text in enumerate(texts))
        records = list(read_delimited(path, delimiter=delimiter))
        assert [r.fields["text"] for r in records if isinstance(r, Row)] == texts
        assert _texts(list(mapped_records(path, MAPPER))) == texts


@FAST
@given(content=JUNK, suffix=st.sampled_from([".csv", ".tsv", ".txt"]))
def test_any_bytes_as_delimited_text_never_crash(content: bytes, suffix: str) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / f"junk{suffix}"
        path.write_bytes(b"text,locality,received_at\n" + content)
        _no_crash(path)


# --- XLSX ---------------------------------------------------------------------------------------


def _workbook(path: Path, texts: list[str]) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["text"])
    for number, text in enumerate(texts, start=2):
        cell = sheet.cell(number, 1, text)
        cell.data_type = "s"  # never a formula, whatever it starts with
    book.save(path)


@SLOW
@given(texts=st.lists(LINE_TEXTS, min_size=1, max_size=5))
def test_xlsx_text_round_trips(texts: list[str]) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "in.xlsx"
        _workbook(path, texts)
        assert [r.fields["text"] for r in read_xlsx(path) if isinstance(r, Row)] == texts
        assert _texts(list(mapped_records(path, MAPPER))) == texts


@cache
def _sound_workbook() -> bytes:
    """One workbook's bytes, made once: a workbook saved anew differs in its timestamps, and the
    same damage must give the same outcome every time hypothesis replays it."""
    with TemporaryDirectory() as folder:
        path = Path(folder) / "in.xlsx"
        _workbook(path, ["ống nước vỡ", "đèn đường hỏng"])
        return path.read_bytes()


@SLOW
@given(content=JUNK, flips=st.lists(st.integers(min_value=0), max_size=8))
def test_damaged_xlsx_never_crashes(content: bytes, flips: list[int]) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "in.xlsx"
        data = bytearray(_sound_workbook())
        for flip in flips:
            data[flip % len(data)] ^= 0xFF
        path.write_bytes(bytes(data) + content)
        _no_crash(path)


def _with_every_header_field(data: bytes, offsets: tuple[int, int], value: int) -> bytes:
    """``data`` with a two-byte field of every local (``offsets[0]``) and central directory
    (``offsets[1]``) header set to ``value``."""
    damaged = bytearray(data)
    for signature, offset in zip((b"PK\x03\x04", b"PK\x01\x02"), offsets, strict=True):
        start = damaged.find(signature)
        while start != -1:
            damaged[start + offset : start + offset + 2] = value.to_bytes(2, "little")
            start = damaged.find(signature, start + 4)
    return bytes(damaged)


@pytest.mark.parametrize(
    ("offsets", "value"),
    [((8, 10), 247), ((6, 8), 1)],
    ids=["compressed by a method zip does not know", "marked encrypted"],
)
def test_a_workbook_whose_parts_cannot_be_unpacked_is_refused_by_name(
    tmp_path: Path, offsets: tuple[int, int], value: int
) -> None:
    """Found by the fuzz test above in CI: zipfile raises NotImplementedError or RuntimeError."""
    path = tmp_path / "in.xlsx"
    path.write_bytes(_with_every_header_field(_sound_workbook(), offsets, value))
    with pytest.raises(UnreadableFile, match="not a readable XLSX workbook"):
        list(mapped_records(path, MAPPER))


# --- JSONL --------------------------------------------------------------------------------------


@FAST
@given(texts=st.lists(TEXTS, min_size=1, max_size=5), ascii_only=st.booleans())
def test_jsonl_text_round_trips(texts: list[str], ascii_only: bool) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "in.jsonl"
        lines = [json.dumps({"text": text}, ensure_ascii=ascii_only) for text in texts]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        assert [r.fields["text"] for r in read_jsonl(path) if isinstance(r, Row)] == texts
        assert _texts(list(mapped_records(path, MAPPER))) == texts


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
FIELDS = st.sampled_from(["text", "received_at", "contact", "attachments", "lat", "channel", "source_id"])


@FAST
@given(records=st.lists(st.dictionaries(FIELDS, JSON_VALUES, max_size=5), max_size=4), junk=JUNK)
def test_any_jsonl_never_crashes(records: list[dict[str, object]], junk: bytes) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "in.jsonl"
        lines = [json.dumps(record).encode() for record in records]
        path.write_bytes(b"\n".join([*lines, b"[" * 100_000, junk]))
        _no_crash(path)


# --- e-mail -------------------------------------------------------------------------------------

SUBJECTS = st.text(CHARACTERS, max_size=60).map(lambda s: " ".join(s.split()))
BODIES = LINE_TEXTS.map(str.strip).filter(_accepted)
MBOX_BODIES = BODIES.filter(lambda body: not body.startswith("From ") and "\nFrom " not in body)


def _message(subject: str, body: str, number: int = 0) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["Subject"] = subject
    message["From"] = "Người dân <dan@example.vn>"
    message["Message-ID"] = f"<m{number}@example.vn>"
    message.set_content(body)
    return message


def _expected(subject: str, body: str) -> str:
    return f"{subject}\n{body}" if subject else body


@FAST
@given(subject=SUBJECTS, body=BODIES)
def test_eml_text_round_trips(subject: str, body: str) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "in.eml"
        path.write_bytes(_message(subject, body).as_bytes())
        assert _texts(list(mapped_records(path, MAPPER))) == [_expected(subject, body)]


@FAST
@given(mails=st.lists(st.tuples(SUBJECTS, MBOX_BODIES), min_size=1, max_size=4))
def test_mbox_text_round_trips(mails: list[tuple[str, str]]) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "in.mbox"
        box = mailbox.mbox(str(path))
        for number, (subject, body) in enumerate(mails):
            box.add(_message(subject, body, number))
        box.close()
        assert [r.fields["text"] for r in read_mbox(path) if isinstance(r, Row)] == [
            _expected(s, b) for s, b in mails
        ]


@FAST
@given(content=JUNK, mbox=st.booleans())
def test_any_bytes_as_mail_never_crash(content: bytes, mbox: bool) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / ("in.mbox" if mbox else "in.eml")
        path.write_bytes((b"From x@example.vn Sat Jan  3 01:05:34 1996\n" if mbox else b"") + content)
        _no_crash(path)
        records = list(read_mbox(path) if mbox else read_eml(path))
        assert all(isinstance(r, Row | RowError) for r in records)


# --- Open311 ------------------------------------------------------------------------------------

FORM_VALUES = st.text(st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    ["land", "21.0285", "105.8542", "nan", "inf", "-91", "http://x.vn/a.jpg", "ftp://x", ""]
)


@FAST
@given(fields=st.dictionaries(st.sampled_from(sorted(POST_FIELDS)), FORM_VALUES, max_size=10))
def test_open311_form_gives_a_submission_or_a_400(fields: dict[str, str]) -> None:
    try:
        item = submission(fields, TAXONOMY, 20_000)
    except BadRequest:
        return
    assert item.text == fields["description"]
    assert item.service_code == fields["service_code"].strip()


@FAST
@given(description=TEXTS, address=TEXTS)
def test_open311_form_keeps_the_description_byte_for_byte(description: str, address: str) -> None:
    fields = {"service_code": "land", "description": description, "address_string": address}
    try:
        item = submission(fields, TAXONOMY, 20_000)
    except BadRequest:
        assert not address.strip() or len(address.strip()) > 500
        return
    assert item.text.encode() == description.encode()


@FAST
@given(description=TEXTS, address=TEXTS)
def test_open311_xml_is_well_formed_for_accepted_text(description: str, address: str) -> None:
    check_clean_text(address)
    request = {"service_request_id": "VN-1", "description": description, "address": address}
    content, _ = render("xml", [request], "service_requests", "request")
    root = ET.fromstring(content)  # raises when not well-formed
    shown = root.findtext("request/description")
    assert shown == description.replace("\r\n", "\n").replace("\r", "\n")
    assert root.findtext("request/address") == address.replace("\r\n", "\n").replace("\r", "\n")


# --- official documents (PDF, DOCX) ---------------------------------------------------------------


@cache
def _sound_document(kind: str) -> bytes:
    """One document of ``kind``, made once (see ``_sound_workbook``)."""
    return {"pdf": pdf_bytes, "docx": docx_bytes}[kind]()


@SLOW
@given(
    kind=st.sampled_from(["pdf", "docx"]),
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), min_size=1, max_size=8),
)
def test_a_damaged_document_is_read_or_refused_never_crashes(kind: str, flips: list[tuple[int, int]]) -> None:
    """pypdf and python-docx raise nearly any exception type on damaged bytes; a 500 found so."""
    data = bytearray(_sound_document(kind))
    for position, mask in flips:
        data[position % len(data)] ^= mask
    try:
        parsed = parse(bytes(data), f"in.{kind}")
    except (Unprocessable, UnsupportedMediaType):
        return
    assert parsed.source_format == kind


def test_a_document_compressed_by_an_unknown_method_is_refused_by_name() -> None:
    damaged = _with_every_header_field(_sound_document("docx"), (8, 10), 247)
    with pytest.raises(Unprocessable, match="damaged"):
        parse(damaged, "in.docx")
