"""The ``/ask`` page and the ``/documents`` library over real HTTP on SQLite and PostgreSQL: cited
answers quoted from the demo documents, honest abstention with the offer to send the question as
feedback, the prefilled feedback form, refused questions, uploads by role with CSRF, and detail pages
with an anchor per passage."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from civicpulse.analysis.embed import embedder_from_settings
from civicpulse.domain import Role
from civicpulse.knowledge.ask import Source, compose
from civicpulse.knowledge.ask import ask as ask_library
from civicpulse.knowledge.documents import add_document
from civicpulse.knowledge.library import Library, TermStats
from civicpulse.knowledge.parsing_metadata import read_meta
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from tests.conftest import LiveServer, make_settings, run_server
from tests.web.conftest import form_token, html_client, http_sign_in

OFFICIAL = Path(__file__).resolve().parents[1] / "examples" / "official"
FAQ = OFFICIAL / "hoi-dap-the-can-cuoc.txt"
PROCEDURE = OFFICIAL / "quy-trinh-den-chieu-sang.txt"
FAQ_URL = "https://demo.civicpulse.example/hoi-dap/the-can-cuoc"
QUESTION = "Làm thẻ căn cước cần giấy tờ gì?"
OFF_TOPIC = "Thủ tục đăng ký kết hôn với người nước ngoài cần những giấy tờ gì?"
PASSWORD = "password-123"
SHORT_TEXT = 60


def add_demo_documents(server: LiveServer) -> dict[str, dict]:
    """The FAQ (with a URL) and the procedure (Chương / Điều / Khoản), added through the API."""
    added = {}
    with server.client() as admin:
        for path, meta in (
            (FAQ, {"type": "FAQ", "issuer": "Công an tỉnh (demo)", "url": FAQ_URL}),
            (PROCEDURE, {"type": "Quyết định", "number": "125/QĐ-UBND", "date": "2026-03-02"}),
        ):
            files = {"file": (path.name, path.read_bytes(), "text/plain")}
            response = admin.post("/api/v1/documents", data=meta, files=files)
            assert response.status_code == 201, response.text
            added[path.name] = admin.get(f"/api/v1/documents/{response.json()['id']}").json()
    return added


def ask(client: httpx.Client, question: str, token: str | None = None) -> httpx.Response:
    token = token if token is not None else form_token(client, "/ask")
    return client.post("/ask", data={"question": question, "csrf_token": token})


def asked_questions(server: LiveServer) -> list[str]:
    with server.client() as admin:
        found = admin.get("/api/v1/submissions", params={"channel": "ask"}).json()
    return sorted(item["text"] for item in found["items"])


@contextmanager
def staff_client(server: LiveServer, role: Role) -> Iterator[httpx.Client]:
    """A browser-like client signed in as a new user of ``role``."""
    email = f"{role.value}@example.org"
    server.user_token(email, role, ("so-nnmt",) if role == Role.agency_officer else ())
    with html_client(server) as client:
        assert http_sign_in(client, email, PASSWORD).status_code == 200
        yield client


def test_a_citizen_gets_the_quoted_sentences_with_their_sources(live_server: LiveServer) -> None:
    documents = add_demo_documents(live_server)
    faq = documents[FAQ.name]
    with html_client(live_server) as citizen:
        response = ask(citizen, QUESTION)
    assert response.status_code == 200, response.text
    page = HTMLParser(response.text)
    assert page.css_first("#ask-result").attributes["data-abstained"] == "false"
    assert page.css_first("#asked").text() == QUESTION
    citations = page.css("#citations li.citation")
    assert citations
    passages = {p["id"]: p for p in faq["passages"]}
    for item in citations:
        assert int(item.attributes["data-document"]) == faq["id"]
        passage = passages[int(item.attributes["data-passage"])]
        quote = item.css_first("blockquote").text()
        assert quote in passage["text"] and not quote.endswith("?")  # an answer, not the FAQ's question
        assert item.css_first("cite").text() == faq["title"]
        assert item.css_first(".citation-path").text() == passage["path"]
        assert item.css_first(".badge").text() == "Hỏi đáp"
        links = [a.attributes["href"] for a in item.css("a")]
        assert links == [FAQ_URL]  # no link into the staff library for a citizen
    assert "giấy khai sinh" in page.css_first("#citations").text()
    assert asked_questions(live_server) == [QUESTION]


def test_staff_see_a_link_to_the_passage_in_the_library(live_server: LiveServer) -> None:
    documents = add_demo_documents(live_server)
    procedure = documents[PROCEDURE.name]
    with staff_client(live_server, Role.agency_officer) as officer:
        page = HTMLParser(ask(officer, "Bao lâu thì sửa xong đèn đường bị hỏng?").text)
        [item, *_] = page.css("#citations li.citation")
        assert item.css_first(".citation-number").text() == "Số 125/QĐ-UBND"
        assert item.css_first(".citation-path").text() == "Chương II › Điều 5"
        staff_link = item.css("a")[-1].attributes["href"]
        assert staff_link == f"/documents/{procedure['id']}#passage-{item.attributes['data-passage']}"
        detail = HTMLParser(officer.get(staff_link.partition("#")[0]).text)
    anchor = detail.css_first(f"#passage-{item.attributes['data-passage']}")
    assert anchor is not None and "3 ngày làm việc" in anchor.css_first(".passage-text").text()


def test_an_unanswered_question_is_offered_as_feedback(live_server: LiveServer) -> None:
    add_demo_documents(live_server)
    with html_client(live_server) as citizen:
        response = ask(citizen, OFF_TOPIC)
        assert response.status_code == 200
        page = HTMLParser(response.text)
        assert page.css_first("#ask-result").attributes["data-abstained"] == "true"
        assert page.css("#citations") == []
        assert "Chưa có văn bản chính thức nào trả lời câu hỏi này." in page.css_first("#ask-none").text()
        link = page.css_first("#ask-file-it").attributes["href"]
        assert urlsplit(link).path == "/submit"
        assert parse_qs(urlsplit(link).query) == {"text": [OFF_TOPIC]}
        form = HTMLParser(citizen.get(link).text)
    assert form.css_first("textarea#text").text() == OFF_TOPIC
    assert asked_questions(live_server) == [OFF_TOPIC]


@pytest.fixture
def short_text_server(db_url: str) -> Iterator[str]:
    """A server whose feedback form takes at most ``SHORT_TEXT`` characters."""
    settings = make_settings(db_url, max_text_chars=SHORT_TEXT)
    database = Database.from_settings(settings)
    database.upgrade()
    yield from run_server(settings)
    database.dispose()


def test_the_feedback_form_prefill_is_escaped_and_capped(short_text_server: str) -> None:
    hostile = '</textarea><script>alert("x")</script>'
    with httpx.Client(base_url=short_text_server, headers={"Accept": "text/html"}) as citizen:
        shown = citizen.get("/submit", params={"text": hostile})
        long = citizen.get("/submit", params={"text": "đ" * (SHORT_TEXT + 50)})
        empty = citizen.get("/submit")
    assert shown.status_code == 200
    assert "<script>alert" not in shown.text
    assert HTMLParser(shown.text).css_first("textarea#text").text() == hostile
    assert HTMLParser(long.text).css_first("textarea#text").text() == "đ" * SHORT_TEXT
    assert HTMLParser(empty.text).css_first("textarea#text").text() == ""


def test_refused_questions_are_shown_again_and_not_stored(live_server: LiveServer) -> None:
    with html_client(live_server) as citizen:
        token = form_token(citizen, "/ask")
        for question, message in (
            ("  ", "Vui lòng nhập câu hỏi"),
            ("x" * 1001, "Câu hỏi dài quá 1000 ký tự."),
            ("Đèn\x07 <b>hỏng</b>", "Câu hỏi có ký tự điều khiển không hợp lệ."),
        ):
            refused = ask(citizen, question, token)
            assert refused.status_code == 422
            page = HTMLParser(refused.text)
            assert message in page.css_first("#ask-error").text()
            assert page.css_first("textarea#question").text() == question
            assert page.css_first("#ask-result") is None
        english = citizen.post("/ask?lang=en", data={"question": "", "csrf_token": token})
        assert "Please write a question (at least 3 characters)." in english.text
        no_token = citizen.post("/ask", data={"question": QUESTION})
        wrong_token = citizen.post("/ask", data={"question": QUESTION, "csrf_token": token + "x"})
    assert (no_token.status_code, wrong_token.status_code) == (403, 403)
    assert asked_questions(live_server) == []


def test_the_library_lists_documents_for_staff_and_sends_visitors_to_sign_in(live_server: LiveServer) -> None:
    documents = add_demo_documents(live_server)
    with html_client(live_server) as visitor:
        for path in ("/documents", f"/documents/{documents[FAQ.name]['id']}"):
            response = visitor.get(path, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=")
    with staff_client(live_server, Role.viewer) as viewer:
        page = HTMLParser(viewer.get("/documents").text)
        rows = page.css("#documents tbody tr[data-document]")
        assert [int(row.attributes["data-document"]) for row in rows] == sorted(
            (d["id"] for d in documents.values()), reverse=True
        )
        procedure = documents[PROCEDURE.name]
        row = page.css_first(f"#document-{procedure['id']}")
        cells = [cell.text(strip=True) for cell in row.css("td")]
        assert cells[2:5] == ["Quyết định", "125/QĐ-UBND", "—"]
        assert cells[5] == "02/03/2026" and cells[6] == str(len(procedure["passages"]))
        assert page.css_first("#new-document") is None and page.css_first("#documents-read-only")
        missing = viewer.get("/documents/999999")
        assert missing.status_code == 404 and "Không có văn bản #999999." in missing.text
        detail = HTMLParser(viewer.get(f"/documents/{procedure['id']}").text)
    shown = detail.css("#passages li.passage")
    assert [int(li.attributes["data-passage"]) for li in shown] == [p["id"] for p in procedure["passages"]]
    paths = [li.css_first(".passage-path a").text() for li in shown]
    assert "Chương II › Điều 3" in paths and paths[0] == "Phần mở đầu"  # the letterhead has no path


def test_analysts_upload_documents_and_refusals_keep_the_form(live_server: LiveServer) -> None:
    with staff_client(live_server, Role.analyst) as analyst:
        token = form_token(analyst, "/documents")
        form = {"csrf_token": token, "type": "faq", "issuer": "Công an tỉnh (demo)", "url": FAQ_URL}
        files = {"file": (FAQ.name, FAQ.read_bytes(), "text/plain")}
        added = analyst.post("/documents", data=form, files=files, follow_redirects=False)
        assert added.status_code == 303, added.text
        detail = analyst.get(added.headers["location"])
        assert "Câu hỏi 4" in detail.text and FAQ_URL in detail.text

        again = analyst.post("/documents", data=form, files=files)
        assert again.status_code == 409
        kept = HTMLParser(again.text)
        assert "Chưa thêm được văn bản" in kept.css_first("#documents-error").text()
        assert kept.css_first("#doc-issuer").attributes["value"] == "Công an tỉnh (demo)"
        assert kept.css_first("#doc-url").attributes["value"] == FAQ_URL

        bad_dates = {**form, "date": "2026-05-01", "expires": "2026-01-01"}
        other = {"file": ("khac.txt", PROCEDURE.read_bytes(), "text/plain")}
        dated = analyst.post("/documents", data=bad_dates, files=other)
        assert dated.status_code == 422 and "expires_on" in dated.text
        assert HTMLParser(dated.text).css_first("#doc-expires").attributes.get("aria-invalid") == "true"
        no_file = analyst.post("/documents", data=form, files={"file": ("", b"", "application/octet-stream")})
        assert no_file.status_code == 422 and "Hãy chọn tệp văn bản." in no_file.text
        no_token = analyst.post("/documents", data={"type": "faq"}, files=other)
        assert no_token.status_code == 403

        first_id = int(added.headers["location"].rsplit("/", 1)[1])
        revised = FAQ.read_text(encoding="utf-8") + "\nCâu hỏi 7: Có cần chụp ảnh trước không?\nKhông cần.\n"
        newer = analyst.post(
            "/documents",
            data={**form, "supersedes": str(first_id)},
            files={"file": ("hoi-dap-2.txt", revised.encode(), "text/plain")},
            follow_redirects=False,
        )
        assert newer.status_code == 303, newer.text
        newer_id = int(newer.headers["location"].rsplit("/", 1)[1])
        listed = HTMLParser(analyst.get("/documents").text)
        assert listed.css_first(f"#document-{first_id} .flag").text() == f"Đã bị thay thế bởi #{newer_id}"
        assert listed.css_first(f"#document-{newer_id} .flag") is None
        old = HTMLParser(analyst.get(f"/documents/{first_id}").text)
        assert old.css_first("#document-superseded a").attributes["href"] == f"/documents/{newer_id}"
        flags = [li.css_first(".flag") for li in old.css("#passages li.passage")]
        assert flags and all(flag is not None for flag in flags)
    with staff_client(live_server, Role.agency_officer) as officer:
        token = form_token(officer, "/documents")
        refused = officer.post("/documents", data={"csrf_token": token}, files=other)
        assert refused.status_code == 403
    with live_server.client() as admin:
        stored = admin.get("/api/v1/documents").json()
    assert [d["filename"] for d in stored] == ["hoi-dap-2.txt", FAQ.name]


def test_a_question_is_never_quoted_as_its_own_answer() -> None:
    text = FAQ.read_text(encoding="utf-8")
    start = text.index("Câu hỏi 4:")
    entry = text[start : text.index("Câu hỏi 5:")].strip()
    stats = TermStats()
    stats.add("1", entry)
    answer = compose("Lệ phí làm thẻ căn cước là bao nhiêu?", [Source(1, 1, entry, start, 0.9)], stats)
    assert not answer.abstained
    assert [c.quote for c in answer.citations] == [entry.splitlines()[1]]
    assert all(text[c.start : c.end] == c.quote for c in answer.citations)


DEMO = {  # file: metadata, as the Makefile's demo-data adds them
    "thong-bao-mua-mua-lu-2026.html": {"doc_type": "Thông báo", "number": "58/TB-UBND"},
    FAQ.name: {"doc_type": "Hỏi đáp"},
    PROCEDURE.name: {"doc_type": "Quyết định", "number": "125/QĐ-UBND"},
}
DEMO_ANSWERS = {  # question: (the demo file that answers it, words its quoted answer holds)
    QUESTION: (FAQ.name, "giấy khai sinh"),
    "Lệ phí cấp lại thẻ căn cước bị mất là bao nhiêu?": (FAQ.name, "70.000 đồng"),
    "Đèn đường hỏng thì báo ở đâu?": (PROCEDURE.name, "1022"),
    "Bao lâu thì sửa xong đèn đường bị hỏng?": (PROCEDURE.name, "3 ngày làm việc"),
    "Mùa mưa lũ năm nay kéo dài đến khi nào?": ("thong-bao-mua-mua-lu-2026.html", "30 tháng 11"),
    "Số điện thoại đường dây nóng phòng chống thiên tai là gì?": (
        "thong-bao-mua-mua-lu-2026.html",
        "0277 3851 234",
    ),
}
DEMO_UNANSWERED = [
    OFF_TOPIC,
    "Xin giấy phép xây dựng nhà ở cần gì?",
    "Lương hưu tháng này khi nào được nhận?",
    "Giá vé xe buýt ra sân bay là bao nhiêu?",
]


def test_the_demo_documents_answer_typical_questions_and_not_others(settings: Settings, db: Database) -> None:
    ids = {}
    with db.write() as session:
        for name, meta in DEMO.items():
            data = (OFFICIAL / name).read_bytes()
            ids[name] = add_document(session, data, read_meta(meta), actor="test", filename=name).document.id
    library = Library(embedder_from_settings(settings))
    with db.read() as session:
        for question, (name, words) in DEMO_ANSWERS.items():
            answer = ask_library(session, library, question)
            assert not answer.abstained, question
            assert {c.document_id for c in answer.citations} == {ids[name]}, question
            assert words in answer.answer, question
        for question in DEMO_UNANSWERED:
            assert ask_library(session, library, question).abstained, question
