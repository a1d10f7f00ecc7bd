"""Situation reports: SQL figures with k-anonymity on SQLite and PostgreSQL, the stored-themes path,
the PDF (Vietnamese text, fonts, a first page that is not blank), e-mail delivery to a real SMTP
server on loopback, the CLI end to end, and the dashboard and API routes with their refusals."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from email.policy import default
from html import escape, unescape
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from markupsafe import escape as markup_escape
from PIL import Image
from sqlalchemy import delete, select

from civicpulse.domain import Role
from civicpulse.errors import MailNotSent, Unprocessable
from civicpulse.insight.themes.service import ThemeSlice
from civicpulse.mailer import Attachment, send_mail
from civicpulse.reports.build import ReportOptions, SituationReport, build_report
from civicpulse.reports.period import Period, make_period
from civicpulse.reports.render import render_html, render_pdf
from civicpulse.reports.themes import excerpt
from civicpulse.store.db import Database
from civicpulse.store.tables import (
    AnnotationRow,
    CaseAnswerRow,
    CaseFeedbackRow,
    CaseMemberRow,
    CaseRow,
    LabelRow,
    SubmissionRow,
)
from civicpulse.store.themes import ThemeMemberRow, ThemeRow, ThemeRunRow
from civicpulse.taxonomy import load_taxonomy
from tests.conftest import TEST_SECRET, make_settings
from tests.pg import free_port
from tests.theme_seed import seed_themes

PERIOD = Period(date(2026, 3, 2), date(2026, 3, 8))
NOW = datetime(2026, 3, 20, tzinfo=UTC)
DAY = datetime(2026, 3, 3, 3, tzinfo=UTC)  # 10:00 in Vietnam, inside PERIOD
BEFORE = datetime(2026, 2, 24, 3, tzinfo=UTC)  # inside the previous period
PROVINCES = {"79": "Thành phố Hồ Chí Minh", "01": "Thành phố Hà Nội", "48": "Thành phố Đà Nẵng"}
PHONE = "0912345678"
FLOOD = "Đường Nguyễn Trãi ngập sâu sau mỗi trận mưa, gọi [PHONE] để biết thêm. Xe máy chết máy."


@dataclass
class Seeder:
    """Writes submissions with their annotations, labels and cases, as the pipeline would."""

    session: object
    n: int = 0
    ids: dict[str, list[int]] = field(default_factory=dict)

    def add(
        self,
        group: str,
        *,
        at: datetime,
        topic: str,
        province: str,
        sender: str | None,
        channel: str = "web_form",
        label: str | None = None,
        redacted: str | None = None,
    ) -> int:
        self.n += 1
        raw = (redacted or f"Phản ánh số {self.n}").replace("[PHONE]", PHONE)
        row = SubmissionRow(
            tracking_code=f"T{self.n:06d}",
            dedup_key=f"k{self.n}",
            content_hash=f"h{self.n}",
            channel=channel,
            text=raw,
            received_at=at,
            sender_key=sender,
            analysis_state="done",
        )
        self.session.add(row)
        self.session.flush()
        self.session.add_all(
            [
                AnnotationRow(submission_id=row.id, stage="topic", data={"code": topic, "confidence": 0.9}),
                AnnotationRow(
                    submission_id=row.id,
                    stage="places",
                    data={"places": [], "province": {"name": PROVINCES[province], "code": province}},
                ),
                AnnotationRow(
                    submission_id=row.id,
                    stage="pii",
                    data={"redacted_text": redacted or f"Phản ánh số {self.n}"},
                ),
            ]
        )
        if label is not None:
            self.session.add(LabelRow(submission_id=row.id, task="topic", value=label, actor="analyst@x"))
        self.ids.setdefault(group, []).append(row.id)
        return row.id

    def case(
        self,
        submission_id: int,
        agency: str,
        *,
        state: str,
        days: float | None,
        late: bool = False,
        due_in: int = 2,
    ) -> None:
        start = DAY
        answered = start + timedelta(days=days) if days is not None else None
        due = start + timedelta(days=(days or 0) + (-1 if late else 5))
        case = CaseRow(
            state=state,
            case_type="petition",
            complex=False,
            agency=agency,
            clock_start=start,
            due_at=due if days is not None else start + timedelta(days=due_in),
            answer_due_at=due if days is not None else None,
            answered_at=answered,
        )
        self.session.add(case)
        self.session.flush()
        self.session.add(CaseMemberRow(submission_id=submission_id, case_id=case.id))


def seed(db: Database) -> dict[str, list[int]]:
    """Traffic (land in the model, once corrected) from 6 senders now and 5 before; health from 3
    senders (held back at k=5); 2 anonymous education submissions (2 senders: held back); cases of
    so-xd (6 senders) and so-yt (3 senders: held back)."""
    with db.write() as session:
        s = Seeder(session)
        for n in range(12):
            model_topic, label = ("land", "traffic") if n == 0 else ("traffic", None)
            s.add(
                "traffic",
                at=DAY + timedelta(hours=n),
                topic=model_topic,
                label=label,
                province="79",
                sender=f"s{n % 6}",
                redacted=FLOOD if n < 3 else None,
            )
        for n in range(8):
            s.add(
                "before", at=BEFORE + timedelta(hours=n), topic="traffic", province="79", sender=f"p{n % 5}"
            )
        for n in range(3):
            s.add(
                "health",
                at=DAY + timedelta(days=1, hours=n),
                topic="health",
                province="01",
                sender=f"h{n}",
                channel="email",
            )
        for n in range(2):
            s.add(
                "education",
                at=DAY + timedelta(days=2, hours=n),
                topic="education",
                province="48",
                sender=None,
            )
        traffic = s.ids["traffic"]
        for i, days in enumerate([1, 2, 3, 4]):
            s.case(traffic[i], "so-xd", state="answered", days=days, late=i == 3)
        s.case(traffic[4], "so-xd", state="in_progress", days=None)  # due two days after receipt
        s.case(traffic[5], "so-xd", state="accepted", days=None, due_in=30)
        for n, sid in enumerate(s.ids["health"]):
            s.case(sid, "so-yt", state="answered", days=n + 1)
        return s.ids


def report_of(db: Database, **options: object) -> SituationReport:
    values: dict[str, object] = {"period": PERIOD, "lang": "en", "k_anonymity": 5}
    values.update(options)
    with db.read() as session:
        return build_report(
            session, ReportOptions(**values), taxonomy=load_taxonomy(), province_names=PROVINCES, now=NOW
        )


def table_row(page: str, label: str) -> list[str]:
    """The cells after ``label`` in its table row."""
    found = re.search(r"<tr[^>]*><td>" + re.escape(escape(label)) + r"</td>(.*?)</tr>", page, re.S)
    assert found, f"no row {label!r}"
    cells = re.findall(r"<td[^>]*>(.*?)</td>", found.group(1))
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]


def test_figures_change_and_k_suppression(db: Database) -> None:
    seed(db)
    report = report_of(db)
    html = render_html(report)
    assert (report.total.current, report.total.previous, report.total.change) == ("17", "8", "+112.5 %")
    assert (report.senders.current, report.senders.previous) == ("11", "5")
    assert table_row(html, traffic_name("en")) == ["12", "8", "+50.0 %"]
    assert table_row(html, health_name("en")) == ["< 5", "0", "—"]
    assert table_row(html, education_name("en")) == ["< 5", "0", "—"]
    assert table_row(html, "Thành phố Hồ Chí Minh") == ["12", "8", "+50.0 %"]
    assert table_row(html, "Thành phố Hà Nội")[0] == "< 5"
    assert table_row(html, "Web form") == ["14", "8", "+75.0 %"]
    assert table_row(html, "Email")[0] == "< 5"
    assert "land" not in [row.label for row in report.breakdowns[0].rows], "the analyst's label wins"
    svg = report.breakdowns[0].chart
    assert svg.startswith("<svg") and "< 5" not in svg and "&lt; 5" in svg
    assert "<script" not in html


def traffic_name(lang: str) -> str:
    return _topic_name("traffic", lang)


def health_name(lang: str) -> str:
    return _topic_name("health", lang)


def education_name(lang: str) -> str:
    return _topic_name("education", lang)


def _topic_name(code: str, lang: str) -> str:
    topic = load_taxonomy().get(code)
    return topic.name_en if lang == "en" else topic.name_vi


def test_agency_record(db: Database) -> None:
    seed(db)
    html = render_html(report_of(db))
    # 6 cases received; 3 of 4 answers on time; 1 open past its deadline at the end of the period
    # (the other is not due yet); answers after 1, 2, 3 and 4 days: median 2.5
    assert table_row(html, "Department of Construction") == ["6", "3 / 4 (75 %)", "1", "2.5", "no data"]
    health = table_row(html, "Department of Health")
    assert health == ["< 5"] * 5, "three senders only: the whole record is held back"


def give_feedback(db: Database, agency: str, answers: list[bool]) -> None:
    """One published answer per case of ``agency`` and the citizens' word on it, one per case."""
    with db.write() as session:
        cases = session.scalars(select(CaseRow).where(CaseRow.agency == agency).order_by(CaseRow.id)).all()
        for case_row, solved in zip(cases, answers, strict=False):
            answer = CaseAnswerRow(
                case_id=case_row.id, state="published", text="Đã xử lý.", author="o@x", agency=agency
            )
            session.add(answer)
            session.flush()
            member = session.scalar(
                select(CaseMemberRow.submission_id).where(CaseMemberRow.case_id == case_row.id)
            )
            session.add(
                CaseFeedbackRow(
                    case_id=case_row.id,
                    answer_id=answer.id,
                    submission_id=member,
                    agency=agency,
                    solved=solved,
                    created_at=DAY,
                )
            )


def test_agency_satisfaction_from_citizens_feedback_shown_from_k_answers(db: Database) -> None:
    seed(db)
    give_feedback(db, "so-xd", [True, True, False, True])
    assert table_row(render_html(report_of(db)), "Department of Construction")[-1] == "no data"  # 4 < k
    with db.write() as session:
        session.execute(delete(CaseFeedbackRow))
    give_feedback(db, "so-xd", [True, True, False, True, True, False])
    assert table_row(render_html(report_of(db)), "Department of Construction")[-1] == "67 %"  # 4 of 6


def test_province_filter_and_vietnamese(db: Database) -> None:
    seed(db)
    report = report_of(db, province="79", lang="vi")
    html = render_html(report)
    assert (report.total.current, report.total.previous) == ("12", "8")
    assert report.province_name == "Thành phố Hồ Chí Minh"
    assert "Báo cáo tình hình ý kiến người dân" in html
    assert table_row(html, traffic_name("vi")) == ["12", "8", "+50,0 %"]
    assert "Sở Xây dựng" in html and "Sở Y tế" not in html  # so-yt's cases are in Hà Nội
    assert "Chưa có: tính năng này chưa được triển khai." in html  # warnings and rumours


def test_stored_themes_quote_redacted_text_and_hold_back_small_themes(db: Database) -> None:
    ids = seed(db)
    with db.write() as session:
        run = ThemeRunRow(
            slice_key=ThemeSlice().key(),
            created_at=DAY,
            items=15,
            unassigned=0,
            unassigned_share=0.0,
            model="m",
        )
        session.add(run)
        session.flush()
        session.add_all(
            [
                ThemeRow(
                    run_id=run.id,
                    theme_id=1,
                    label="ngập nước",
                    senders=6,
                    weight=12.0,
                    detail={"keywords": ["ngập_nước", "mưa"]},
                ),
                ThemeRow(run_id=run.id, theme_id=2, label="bệnh viện", senders=3, weight=3.0, detail={}),
            ]
        )
        session.add_all(ThemeMemberRow(run_id=run.id, submission_id=i, theme_id=1) for i in ids["traffic"])
        session.add_all(ThemeMemberRow(run_id=run.id, submission_id=i, theme_id=2) for i in ids["health"])
    report = report_of(db, live_theme_limit=0)
    assert report.themes.source == "stored"
    assert [t.label for t in report.themes.top] == ["ngập nước"]
    assert report.themes.suppressed == 1
    theme = report.themes.top[0]
    assert (theme.senders, theme.items, theme.is_new, theme.keywords) == (6, 12, True, ["ngập nước", "mưa"])
    assert theme.quotes and all(quote in FLOOD for quote in theme.quotes)
    html = render_html(report)
    assert excerpt(FLOOD) in html and PHONE not in html and "bệnh viện" not in html


def test_live_themes_quote_members(tmp_path: Path) -> None:
    """Themes computed now by the real stages (one engine: the figures tests cover both)."""
    settings = make_settings(f"sqlite:///{tmp_path / 'c.db'}")
    db = Database.from_settings(settings)
    db.upgrade()
    seed_themes(settings, db)
    period = Period(date(2026, 3, 2), date(2026, 3, 4))
    report = report_of(db, period=period, lang="vi")
    assert report.themes.source == "live"
    assert report.themes.top, "floods (8 senders) and waste (6) are shown"
    assert all(t.senders >= 5 for t in report.themes.top)
    assert report.themes.suppressed >= 1  # noise: 2 senders
    html = render_html(report)
    for theme in report.themes.top:
        for quote in theme.quotes:
            assert str(markup_escape(quote)) in html
    assert "<script>alert(1)</script>" not in html


def test_empty_store_and_periods() -> None:
    assert make_period(None, None, "week", now=date(2026, 3, 8)) == PERIOD
    assert make_period("2026-03-02", "2026-03-08") == PERIOD
    assert PERIOD.previous() == Period(date(2026, 2, 23), date(2026, 3, 1))
    for bad in [
        ("2026-13-01", "2026-03-08", None),
        ("2026-03-09", "2026-03-08", None),
        ("2026-03-01", None, None),
        (None, None, "year"),
        ("2026-03-01", "2026-03-02", "week"),
    ]:
        with pytest.raises(Unprocessable):
            make_period(*bad)


def test_pdf_has_vietnamese_text_fonts_and_a_drawn_first_page(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    db.upgrade()
    seed(db)
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(render_html(report_of(db, lang="vi"))))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    normal = " ".join(text.split())
    for phrase in (
        "Báo cáo tình hình ý kiến người dân",
        "Kết quả xử lý của từng cơ quan",
        "Sở Xây dựng",
        "Thành phố Hồ Chí Minh",
        "Chưa có dữ liệu",
    ):
        assert phrase in normal, phrase
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Noto" in fonts and all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    (png,) = tmp_path.glob("page*.png")
    image = Image.open(png).convert("L")
    dark = sum(image.histogram()[:200])
    assert dark > image.width * image.height * 0.01, "the first page is blank"


class Inbox:
    """Messages a real SMTP server on loopback received."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default)))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_mailer_sends_attachments(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = make_settings(
        "sqlite://",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        mail_from="reports@civicpulse.example",
    )
    send_mail(
        settings,
        ["leader@example.org"],
        "Báo cáo tuần",
        "Xem tệp đính kèm.",
        [Attachment("r.pdf", b"%PDF-1.7 test", "application/pdf")],
    )
    ((recipients, message),) = inbox.messages
    assert recipients == ["leader@example.org"] and message["Subject"] == "Báo cáo tuần"
    parts = [part for part in message.walk() if part.get_filename()]
    assert parts[0].get_filename() == "r.pdf" and parts[0].get_payload(decode=True) == b"%PDF-1.7 test"
    with pytest.raises(Unprocessable):
        send_mail(settings, ["a@b.org\r\nBcc: x@y.org"], "s", "b")
    with pytest.raises(MailNotSent):
        send_mail(settings.model_copy(update={"smtp_port": free_port()}), ["a@b.org"], "s", "b")
    with pytest.raises(MailNotSent):
        send_mail(settings.model_copy(update={"smtp_host": None}), ["a@b.org"], "s", "b")


def cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
    environment.update(
        {
            "CIVICPULSE_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
            "CIVICPULSE_SECRET_KEY": TEST_SECRET,
            **env,
        }
    )
    command = [str(Path(sys.executable).parent / "civicpulse"), "report", *args]
    return subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300, cwd=tmp_path)


def test_cli_end_to_end_with_mail(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    db.upgrade()
    seed(db)
    db.dispose()
    out = tmp_path / "report.html"
    done = cli(
        tmp_path,
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-08",
        "--province",
        "79",
        "--format",
        "html",
        "--output",
        str(out),
        "--lang",
        "en",
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert table_row(html, traffic_name("en")) == ["12", "8", "+50.0 %"] and "Thành phố Hồ Chí Minh" in html
    done = cli(
        tmp_path,
        "--from",
        "2026-03-02",
        "--to",
        "2026-03-08",
        "--format",
        "pdf",
        "--mail-to",
        "leader@example.org",
        CIVICPULSE_SMTP_HOST="127.0.0.1",
        CIVICPULSE_SMTP_PORT=str(port),
        CIVICPULSE_SMTP_STARTTLS="false",
        CIVICPULSE_MAIL_FROM="reports@civicpulse.example",
    )
    assert done.returncode == 0, done.stderr
    ((_, message),) = inbox.messages
    attachment = next(part for part in message.walk() if part.get_filename())
    assert attachment.get_filename() == "civicpulse-report-2026-03-02_2026-03-08.pdf"
    assert attachment.get_payload(decode=True).startswith(b"%PDF")
    bad = cli(tmp_path, "--from", "2026-02-30", "--to", "2026-03-08", "--output", str(out))
    assert bad.returncode == 2 and "2026-02-30" in bad.stderr and "not a date" in bad.stderr
    bad = cli(tmp_path, "--period", "week", "--province", "Atlantis", "--output", str(out))
    assert bad.returncode == 2 and "Atlantis" in bad.stderr and "province" in bad.stderr
    assert table_row(out.read_text(encoding="utf-8"), traffic_name("en"))[0] == "12", (
        "a refused run keeps the file"
    )


def test_dashboard_and_api_routes(live_server) -> None:
    seed(live_server.db)
    analyst = live_server.user_token("analyst@example.org", Role.analyst)
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    query = {"from": "2026-03-02", "to": "2026-03-08", "format": "html"}
    with live_server.client(analyst) as client:
        page = client.get("/reports/situation", params=query)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert (
            "Báo cáo tình hình" in page.text and "script-src" not in page.headers["content-security-policy"]
        )
        assert table_row(page.text, traffic_name("vi"))[0] == "12"
        pdf = client.get("/api/v1/reports/situation", params={**query, "format": "pdf", "province": "79"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        assert pdf.headers["content-type"] == "application/pdf"
        bad = client.get("/api/v1/reports/situation", params={"from": "2026-03-09", "to": "2026-03-08"})
        assert bad.status_code == 422 and "must not be after" in bad.json()["error"]["message"]
        bad = client.get("/api/v1/reports/situation", params={"province": "Atlantis"})
        assert bad.status_code == 422
        themes = client.get("/themes")
        assert 'id="situation-report"' in themes.text
    with live_server.client(viewer) as client:
        assert client.get("/reports/situation", params=query).status_code == 403
        assert client.get("/api/v1/reports/situation", params=query).status_code == 403
        assert 'id="situation-report"' not in client.get("/themes").text
    with live_server.client("", follow_redirects=False) as client:
        page = client.get("/reports/situation", params=query)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert client.get("/api/v1/reports/situation").status_code == 401
