"""The official's desk over real HTTP on SQLite and PostgreSQL: search with or without diacritics
(highlighted, escaped), sorts (received time, urgency, due date), combinable filters kept in the
URL, saved views per user, formula-safe CSV/XLSX export, and officers limited to their agencies."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from civicpulse.domain import Channel, Role, SubmissionIn
from civicpulse.intake.service import accept
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.labels import record_corrections
from civicpulse.store.tables import SubmissionRow
from civicpulse.store.users import create_user
from tests.conftest import LiveServer, make_settings
from tests.web.conftest import form_token, html_client, http_sign_in

AGENCY = "so-xd"
PASSWORD = "password-123"
NOW = datetime.now(UTC)

# (hours ago, locality, text): ids follow this order, received times do not.
SAMPLES: list[tuple[float, str, str]] = [
    (30, "Phường Hoàn Kiếm, Hà Nội", "Đèn đường phố Hàng Bài tắt ba hôm nay, buổi tối rất tối."),
    (
        2,
        "Xã Tân Dương, Đồng Tháp",
        "Nước ngập sâu tới mái nhà, cả gia đình mắc kẹt trên gác, cần cứu hộ gấp, có người già và trẻ nhỏ.",
    ),
    (50, "Phường Hải Châu, Đà Nẵng", "Rác thải ở góc đường Lê Duẩn không được thu gom hai ngày."),
    (1, "Phường Sài Gòn, TP. Hồ Chí Minh", "Duong Nguyen Hue ngap sau sau con mua chieu nay."),
    (70, "Hà Nội", '=HYPERLINK("http://evil.example","ngập") phố Huế ngập nước <script>x</script>'),
    (10, "Phường Hoàn Kiếm, Hà Nội", "Hỏi thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ tại Hà Nội."),
]
FLOOD_IDS = {2, 4, 5}


def seed(db: Database, settings: Settings) -> list[int]:
    """Store the samples through the intake service and analyse them with the default stages."""
    items = [
        SubmissionIn(
            text=text, channel=Channel.web_form, locality=locality, received_at=NOW - timedelta(hours=hours)
        )
        for hours, locality, text in SAMPLES
    ]
    ids = [r.id for r in accept(db, ContactCipher(settings.fernet_key), items, actor="test", client=None)]
    Worker(db, build_pipeline(settings, db), settings).drain()
    with db.write() as session:  # stands in for routing: two items for the officer's agency
        session.execute(update(SubmissionRow).where(SubmissionRow.id.in_(ids[:2])).values(agency=AGENCY))
    return ids


STAGES = ["language", "normalize", "pii", "places", "urgency"]


@pytest.fixture
def settings(db_url: str) -> Settings:
    """The stages the desk shows (topics come from analysts' corrections here)."""
    return make_settings(db_url, stages=STAGES)


@pytest.fixture
def desk(live_server: LiveServer) -> LiveServer:
    seed(live_server.db, live_server.settings)
    with live_server.db.write() as session:
        for email, role, agencies in (
            ("analyst@example.org", Role.analyst, ()),
            ("officer@example.org", Role.agency_officer, (AGENCY,)),
            ("other@example.org", Role.analyst, ()),
        ):
            create_user(session, email, PASSWORD, role, agencies)
    return live_server


@contextmanager
def signed_in(server: LiveServer, email: str, password: str = PASSWORD) -> Iterator[httpx.Client]:
    """A browser-like client signed in as ``email``."""
    with html_client(server) as client:
        assert http_sign_in(client, email, password).status_code == 200
        yield client


def admin(server: LiveServer) -> AbstractContextManager[httpx.Client]:
    return signed_in(server, "admin@example.org", "admin-password")


def row_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'<tr data-id="(\d+)"', html)]


def test_search_ignores_marks_and_case_and_marks_the_hits(desk: LiveServer) -> None:
    with signed_in(desk, "analyst@example.org") as client:
        page = client.get("/", params={"q": "ngap"})
        assert page.status_code == 200
        assert set(row_ids(page.text)) == FLOOD_IDS
        assert "<mark>ngập</mark>" in page.text and "<mark>ngap</mark>" in page.text
        assert "<script>x" not in page.text and "&lt;script&gt;" in page.text
        assert set(row_ids(client.get("/", params={"q": "HA NOI"}).text)) == {6}
        assert set(row_ids(client.get("/", params={"q": "đuong nguyen"}).text)) == {4}
        assert set(row_ids(client.get("/", params={"q": "Lê  duẩn"}).text)) == {3}
    with admin(desk) as client:  # admins search the raw text, folded the same way
        assert set(row_ids(client.get("/", params={"q": "NGẬP"}).text)) == FLOOD_IDS


def test_sorts_by_received_time_urgency_and_due_date(desk: LiveServer) -> None:
    with admin(desk) as client:
        newest = row_ids(client.get("/").text)
        by_time = sorted(SAMPLES, key=lambda sample: sample[0])
        assert newest == [SAMPLES.index(sample) + 1 for sample in by_time]
        urgent = client.get("/", params={"sort": "urgency"}).text
        assert row_ids(urgent)[0] == 2
        first_row = urgent[urgent.index('<tr data-id="2"') :].split("</tr>")[0]
        assert 'class="urgent' in first_row and "title=" in first_row
        due = row_ids(client.get("/", params={"sort": "due"}).text)
        assert sorted(due) == list(range(1, 7))


def test_filters_combine_and_stay_in_the_links(desk: LiveServer) -> None:
    with desk.db.write() as session:
        record_corrections(
            session, 6, {"topic": "welfare"}, actor="admin@example.org", topic_codes=["welfare"]
        )
    with admin(desk) as client:
        high = client.get("/", params={"urgency": "high"}).text
        scores = [float(score) for score in re.findall(r'data-urgency="([^"]*)"', high)]
        assert 2 in row_ids(high) and 1 not in row_ids(high) and all(score >= 0.8 for score in scores)
        assert set(row_ids(client.get("/", params={"agency": AGENCY}).text)) == {1, 2}
        assert set(row_ids(client.get("/", params={"agency": AGENCY, "q": "ngap"}).text)) == {2}
        assert set(row_ids(client.get("/", params={"topic": "welfare"}).text)) == {6}
        hanoi = client.get("/", params={"place": "01"}).text
        assert 6 in row_ids(hanoi) and 3 not in row_ids(hanoi)
        page = client.get("/", params={"q": "ngap", "sort": "urgency", "agency": AGENCY}).text
        export = re.search(r'id="export-csv" href="([^"]+)"', page)
        assert export is not None
        query = parse_qs(urlsplit(export.group(1).replace("&amp;", "&")).query)
        assert query == {"q": ["ngap"], "sort": ["urgency"], "agency": [AGENCY], "format": ["csv"]}
        for bad in ({"sort": "oldest"}, {"urgency": "extreme"}, {"due": "later"}, {"cursor": "zz"}):
            response = client.get("/", params=bad)
            assert response.status_code == 400, bad


def test_pages_follow_the_sort_without_gaps(desk: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("civicpulse.web.inbox_pages.PAGE_SIZE", 2)
    with admin(desk) as client:
        for sort in ("received", "urgency", "due"):
            seen: list[int] = []
            url: str | None = f"/?sort={sort}"
            while url:
                page = client.get(url).text
                seen += row_ids(page)
                found = re.search(r'rel="next" href="([^"]+)"', page)
                url = found.group(1).replace("&amp;", "&") if found else None
            assert sorted(seen) == list(range(1, 7)), sort
            if sort == "received":
                assert seen == [SAMPLES.index(sample) + 1 for sample in sorted(SAMPLES, key=lambda s: s[0])]
            if sort == "urgency":
                assert seen[0] == 2


def test_export_is_filtered_and_formula_safe(desk: LiveServer) -> None:
    with admin(desk) as client:
        response = client.get("/inbox/export", params={"q": "ngap", "format": "csv"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
        assert {int(row["id"]) for row in rows} == FLOOD_IDS
        texts = {int(row["id"]): row["text"] for row in rows}
        assert texts[5].startswith("'=HYPERLINK")
        sheet = client.get("/inbox/export", params={"q": "ngap", "format": "xlsx"})
        assert sheet.status_code == 200
        book = load_workbook(io.BytesIO(sheet.content))
        values = list(book.active.iter_rows(values_only=True))
        assert values[0][0] == "id" and {row[0] for row in values[1:]} == FLOOD_IDS
        assert all(not str(cell).startswith("=") for row in values for cell in row if cell is not None)
        assert client.get("/inbox/export", params={"format": "ods"}).status_code == 400


def test_saved_views_belong_to_their_user(desk: LiveServer) -> None:
    with signed_in(desk, "analyst@example.org") as client:
        token = form_token(client, "/")
        saved = client.post(
            "/inbox/views",
            data={"name": "Lũ khẩn", "query": "q=ngap&sort=urgency&bogus=1", "csrf_token": token},
        )
        assert saved.status_code == 200 and str(saved.url).endswith("/?q=ngap&sort=urgency")
        assert "Lũ khẩn" in saved.text
        view_id = int(re.search(r'data-view="(\d+)"', saved.text).group(1))
        blank = client.post("/inbox/views", data={"name": " ", "query": "", "csrf_token": token})
        assert blank.status_code == 422
        wrong = client.post("/inbox/views", data={"name": "x", "query": "sort=oldest", "csrf_token": token})
        assert wrong.status_code == 400
    with signed_in(desk, "other@example.org") as other:
        assert "Lũ khẩn" not in other.get("/").text
        token = form_token(other, "/")
        assert other.post(f"/inbox/views/{view_id}/delete", data={"csrf_token": token}).status_code == 404
    with signed_in(desk, "analyst@example.org") as client:
        token = form_token(client, "/")
        assert client.post(f"/inbox/views/{view_id}/delete", data={"csrf_token": token}).status_code == 200
        assert "Lũ khẩn" not in client.get("/").text


def test_officers_see_and_export_only_their_agencies(desk: LiveServer) -> None:
    with signed_in(desk, "officer@example.org") as client:
        assert set(row_ids(client.get("/").text)) == {1, 2}
        assert set(row_ids(client.get("/", params={"q": "ngap"}).text)) == {2}
        exported = client.get("/inbox/export", params={"format": "csv"}).content.decode("utf-8-sig")
        assert {int(row["id"]) for row in csv.DictReader(io.StringIO(exported))} == {1, 2}
        assert client.get("/submissions/3").status_code == 403


def test_case_page_reads_like_a_case(desk: LiveServer) -> None:
    with admin(desk) as client:
        page = client.get("/submissions/4").text
        summary = page[page.index('id="summary"') : page.index("</section>", page.index('id="summary"'))]
        assert 'id="restored-text"' in summary and "ngập" in summary  # diacritics restored, shown as such
        assert "Hồ Chí Minh" in summary and 'id="due"' in summary and 'id="urgency"' in summary
        flood = client.get("/submissions/2").text
        assert 'class="here"' in flood  # its province drawn on the small map
        folded = page[page.index('<details class="card stage-details"') :]
        for jargon in ("deadline_basis", "redacted_text"):
            assert jargon not in page[: page.index('<details class="card stage-details"')]
            assert jargon in folded
