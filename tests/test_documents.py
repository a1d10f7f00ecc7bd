"""Official documents: each format read from real files the project makes, passages along the
structure with exact offsets, metadata checks, supersession, and the REST API on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfWriter

from civicpulse.domain import Role
from civicpulse.errors import Conflict, Unprocessable, UnsupportedMediaType
from civicpulse.knowledge.documents import add_document
from civicpulse.knowledge.parsing import parse
from civicpulse.knowledge.parsing_metadata import read_meta
from civicpulse.knowledge.passages import split_passages
from civicpulse.store import documents as stored
from civicpulse.store.db import Database
from tests.conftest import LiveServer

DECISION = """ỦY BAN NHÂN DÂN TỈNH AN GIANG
QUYẾT ĐỊNH về hỗ trợ tiền điện cho hộ nghèo

Chương I
QUY ĐỊNH CHUNG

Điều 1. Phạm vi điều chỉnh
Quyết định này quy định mức hỗ trợ tiền điện cho hộ nghèo trên địa bàn tỉnh.

Điều 2. Đối tượng áp dụng
1. Hộ nghèo theo chuẩn nghèo đa chiều của tỉnh.
2. Hộ chính sách xã hội có lượng điện sử dụng không quá 50 kWh mỗi tháng, gồm:
a) Hộ có người cao tuổi sống một mình;
b) Hộ có người khuyết tật nặng.

Chương II
MỨC HỖ TRỢ

Điều 3. Mức hỗ trợ
Mức hỗ trợ là 46.000 đồng mỗi hộ mỗi tháng, chi trả theo quý tại Ủy ban nhân dân cấp xã.
"""
ARTICLES = ["Điều 1", "Điều 2", "Điều 3"]


def docx_bytes() -> bytes:
    """A Word document with heading styles and Điều/Khoản lines, made with python-docx."""
    import docx

    document = docx.Document()
    document.core_properties.title = "Quyết định hỗ trợ tiền điện"
    for line in DECISION.splitlines():
        if line.startswith("Chương"):
            document.add_heading(line, level=1)
        elif line.strip():
            document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    """A PDF with a text layer, rendered by WeasyPrint from the same text."""
    from weasyprint import HTML

    body = "".join(f"<p>{line}</p>" for line in DECISION.splitlines() if line.strip())
    html = f"<html><head><meta charset='utf-8'><title>Quyết định</title></head><body>{body}</body></html>"
    return HTML(string=html).write_pdf()


def html_bytes() -> bytes:
    lines = [line for line in DECISION.splitlines() if line.strip()]
    body = "".join(f"<h2>{line}</h2>" if line.startswith("Chương") else f"<p>{line}</p>" for line in lines)
    page = "<!doctype html><html><head><title>Quyết định</title><script>var x = 1;</script></head>"
    return (page + f"<body><nav>Trang chủ</nav><main>{body}</main></body></html>").encode()


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "make", "source_format"),
    [
        ("qd.txt", lambda: DECISION.encode(), "txt"),
        ("qd.docx", docx_bytes, "docx"),
        ("qd.pdf", pdf_bytes, "pdf"),
        ("qd.html", html_bytes, "html"),
    ],
)
def test_each_format_gives_articles_with_exact_offsets(name: str, make, source_format: str) -> None:
    parsed = parse(make(), name)
    assert parsed.source_format == source_format
    assert "46.000 đồng" in parsed.text
    assert "var x" not in parsed.text and "Trang chủ" not in parsed.text
    passages = split_passages(parsed)
    for passage in passages:
        assert parsed.text[passage.start : passage.end] == passage.text
    paths = [passage.path for passage in passages]
    for article in ARTICLES:
        assert any(path.endswith(article) for path in paths), (article, paths)
    article_2 = next(p for p in passages if p.path.endswith("Điều 2"))
    assert "Chương I" in article_2.path
    assert "b) Hộ có người khuyết tật nặng." in article_2.text


def test_long_articles_are_cut_at_clauses_then_sentences() -> None:
    parsed = parse(DECISION.encode(), "qd.txt")
    passages = split_passages(parsed, max_chars=90)
    paths = [passage.path for passage in passages]
    assert "Chương I › Điều 2 › Khoản 1" in paths
    assert "Chương I › Điều 2 › Khoản 2 › Điểm b" in paths
    assert all(len(p.text) <= 90 for p in passages)
    for passage in passages:
        assert parsed.text[passage.start : passage.end] == passage.text


def test_a_pdf_without_text_layer_is_refused_clearly() -> None:
    with pytest.raises(Unprocessable, match="no text layer"):
        parse(blank_pdf(), "scan.pdf")


@pytest.mark.parametrize(
    ("data", "name", "error"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "photo.png", UnsupportedMediaType),
        (b"PK\x03\x04" + b"\x00" * 40, "archive.zip", UnsupportedMediaType),
        (b"not really a pdf", "fake.pdf", Unprocessable),
        (b"\xff\xfe\xfa broken", "latin.txt", Unprocessable),
        (b"", "empty.txt", Unprocessable),
    ],
)
def test_files_that_are_not_documents_are_refused(data: bytes, name: str, error: type) -> None:
    with pytest.raises(error):
        parse(data, name)


def test_metadata_is_checked_field_by_field() -> None:
    meta = read_meta({"doc_type": "quyet dinh", "issued_on": "01/07/2024", "language": "VI"})
    assert (meta.doc_type, meta.issued_on.isoformat(), meta.language) == ("quyet_dinh", "2024-07-01", "vi")
    bad = [
        ({"doc_type": "Sắc lệnh"}, "doc_type"),
        ({"issued_on": "31/02/2024"}, "issued_on"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"issued_on": "2024-07-01", "expires_on": "2024-01-01"}, "expires_on"),
        ({"issued_on": "2024-07-01", "effective_on": "2024-06-01"}, "effective_on"),
        ({"language": "fr"}, "language"),
    ]
    for values, field in bad:
        with pytest.raises(Unprocessable) as caught:
            read_meta(values)
        assert [f["field"] for f in caught.value.details["fields"]] == [field]


def test_duplicates_are_refused_and_supersession_marks_passages(db: Database) -> None:
    with db.write() as session:
        old = add_document(session, DECISION.encode(), read_meta({"number": "12/2024/QĐ-UBND"}), actor="t")
        old_id = old.document.id
        assert old.document.doc_type == "quyet_dinh" and old.document.language == "vi"
    with db.write() as session, pytest.raises(Conflict):
        add_document(session, DECISION.encode() + b"\n\n", read_meta({}), actor="t")
    newer = DECISION.replace("46.000", "50.000")
    with db.write() as session:
        new = add_document(session, newer.encode(), read_meta({"supersedes": str(old_id)}), actor="t")
        new_id = new.document.id
    with db.read() as session:
        old_row, new_row = stored.get_document(session, old_id), stored.get_document(session, new_id)
        assert (old_row.superseded_by, new_row.supersedes) == (new_id, old_id)
        assert all(p.superseded for p in stored.passages_of(session, old_id))
        assert not any(p.superseded for p in stored.passages_of(session, new_id))
        ids = [p.id for p in stored.passages_of(session, new_id)]
        assert sorted(stored.passages_by_ids(session, [*ids, 10**9])) == sorted(ids)
    with db.write() as session, pytest.raises(Conflict, match="superseded already"):
        add_document(
            session,
            b"Dieu 1. Another text long enough to index.",
            read_meta({"supersedes": old_id}),
            actor="t",
        )


def test_api_adds_lists_and_shows_documents(live_server: LiveServer) -> None:
    analyst = live_server.user_token("analyst@example.org", Role.analyst)
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    form = {"type": "Quyết định", "number": "12/2024/QĐ-UBND", "date": "2024-07-01", "issuer": "UBND tỉnh"}
    files = {"file": ("qd.docx", docx_bytes(), "application/octet-stream")}
    with live_server.client(analyst) as client:
        response = client.post("/api/v1/documents", data=form, files=files)
        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "passages"} and body["passages"] >= 3
        again = client.post("/api/v1/documents", data={}, files=files)
        assert again.status_code == 409 and again.json()["error"]["details"]["document_id"] == body["id"]
        wrong = client.post(
            "/api/v1/documents", files={"file": ("x.png", b"\x89PNG\r\n\x1a\n\x00\x00", "image/png")}
        )
        assert wrong.status_code == 415
        scan = client.post("/api/v1/documents", files={"file": ("scan.pdf", blank_pdf(), "application/pdf")})
        assert scan.status_code == 422 and "no text layer" in scan.json()["error"]["message"]
        bad = client.post("/api/v1/documents", data={"date": "2024-13-01"}, files=files)
        assert bad.status_code == 422 and bad.json()["error"]["details"]["fields"][0]["field"] == "issued_on"
    with live_server.client(viewer) as client:
        assert client.post("/api/v1/documents", files=files).status_code == 403
        listed = client.get("/api/v1/documents").json()
        assert [d["id"] for d in listed] == [body["id"]] and listed[0]["type"] == "quyet_dinh"
        shown = client.get(f"/api/v1/documents/{body['id']}").json()
        assert len(shown["passages"]) == body["passages"]
        for passage in shown["passages"]:
            assert shown["text"][passage["start"] : passage["end"]] == passage["text"]
        assert client.get("/api/v1/documents/999999").status_code == 404
    with live_server.client("") as client:
        assert client.get("/api/v1/documents").status_code == 401
