"""The dashboard in a real browser: sign-in, inbox filters and paging, escaping, analysis, language."""

from __future__ import annotations

from playwright.sync_api import Page
from sqlalchemy import select

from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.store.tables import AuditRow
from tests.conftest import LiveServer
from tests.web.conftest import SQLITE_ONLY, sign_in

pytestmark = SQLITE_ONLY

SCRIPT = "<script>alert(1)</script>"


def _seed(server: LiveServer, items: list[dict]) -> list[dict]:
    with server.client() as client:
        response = client.post("/api/v1/submissions", json=items)
    assert response.status_code == 201, response.text
    return response.json()


def test_login_fails_with_a_wrong_password_then_succeeds(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login")
    page.fill("#email", "admin@example.org")
    page.fill("#password", "wrong-password")
    page.click("form.stack button[type=submit]")
    assert page.locator("[role=alert]").inner_text() == "Email hoặc mật khẩu không đúng."
    assert page.input_value("#email") == "admin@example.org"
    sign_in(page, live_server)
    assert page.locator("h1").inner_text() == "Hộp thư phản ánh"
    page.click("text=Đăng xuất")
    page.wait_for_url(f"{live_server.url}/login")
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/login")
    with live_server.db.read() as session:
        actions = [(r.action, r.status) for r in session.scalars(select(AuditRow).order_by(AuditRow.id))]
    assert ("login.failed", 401) in actions
    assert ("login", 303) in actions


def test_inbox_lists_filters_with_htmx_and_pages(page: Page, live_server: LiveServer) -> None:
    items = [
        {
            "text": f"Phản ánh số {i}: đèn đường hỏng" if i % 3 else f"Phản ánh số {i}: ngập nước",
            "channel": "hotline" if i % 3 == 0 else "email",
            "locality": "Phường Sài Gòn",
            "received_at": f"2026-10-{i + 1:02d}T08:00:00+07:00",
        }
        for i in range(30)
    ]
    _seed(live_server, items)
    sign_in(page, live_server)
    rows = page.locator("#inbox-rows tr")
    assert rows.count() == 25
    assert "Phản ánh số 29" in rows.first.inner_text()  # newest first
    assert page.locator("#inbox-count").inner_text() == "30 phản ánh"

    page.click("#pager a[rel=next]")
    page.wait_for_url("**cursor=**")
    assert rows.count() == 5
    assert "Phản ánh số 4" in rows.first.inner_text()

    page.goto(f"{live_server.url}/")
    page.evaluate("window.__same_page = true")
    page.select_option("#f-channel", "hotline")
    page.wait_for_url("**channel=hotline**")
    page.wait_for_function("() => document.querySelectorAll('#inbox-rows tr').length === 10")
    assert page.evaluate("window.__same_page") is True  # htmx swapped the rows, no reload
    assert page.locator("#inbox-count").inner_text() == "10 phản ánh"
    assert all("Đường dây nóng" in text for text in rows.all_inner_texts())

    page.fill("#f-q", "số 27")
    page.wait_for_function("() => document.querySelectorAll('#inbox-rows tr').length === 1")
    assert "Phản ánh số 27: ngập nước" in rows.first.inner_text()
    page.fill("#f-from", "2026-10-29")
    page.wait_for_function("() => document.querySelector('#inbox-rows tr.empty') !== null")
    assert page.locator("#pager a").count() == 0


def test_script_in_text_is_shown_literally(page: Page, live_server: LiveServer) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    [created] = _seed(live_server, [{"text": f"{SCRIPT} Cống bị tắc", "locality": "<b>Quận 1</b>"}])
    sign_in(page, live_server)
    assert SCRIPT in page.locator("#inbox-rows").inner_text()
    assert "<b>Quận 1</b>" in page.locator("#inbox-rows").inner_text()
    page.click(f"#inbox-rows a[href='/submissions/{created['id']}'].id")
    page.wait_for_url(f"**/submissions/{created['id']}")
    assert page.locator("#submission-text").inner_text() == f"{SCRIPT} Cống bị tắc"
    assert page.locator("#submission-text script").count() == 0
    assert dialogs == []


def test_submission_page_shows_annotations_history_and_no_contact(
    page: Page, live_server: LiveServer
) -> None:
    [created] = _seed(
        live_server,
        [
            {
                "text": "Rác thải sinh hoạt không được thu gom suốt một tuần ở khu phố chúng tôi.",
                "contact": {"name": "Nguyễn Văn An", "phone": "0912 345 678"},
                "attachments": [
                    {"filename": "anh-rac.jpg", "content_type": "image/jpeg", "size_bytes": 2048}
                ],
            }
        ],
    )
    settings = live_server.settings.model_copy(update={"languages": ["vi", "en"]})
    assert Worker(live_server.db, build_pipeline(settings, live_server.db), settings).drain() == 1
    sign_in(page, live_server)
    assert page.locator(f"#inbox-rows tr[data-id='{created['id']}'] .lang-tag").inner_text() == "VI"
    page.goto(f"{live_server.url}/submissions/{created['id']}")
    page.locator("#annotations summary").click()  # the stage outputs are folded away
    language = page.locator("table.annotation[data-stage=language]")
    assert language.locator("tr:has(th:text-is('language')) td").inner_text() == "vi"
    assert float(language.locator("tr:has(th:text-is('confidence')) td").inner_text()) > 0.5
    assert page.locator("#history tr[data-kind=received]").count() == 1
    assert page.locator("#history tr[data-kind=analysed]").count() == 1
    assert page.locator("#has-contact").inner_text() == "Có"
    assert "anh-rac.jpg" in page.locator("main").inner_text()
    content = page.content()
    assert "0912 345 678" not in content and "Nguyễn Văn An" not in content


def test_citizen_form_without_javascript_then_tracking(browser, live_server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False, locale="vi-VN")
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}/submit")
        page.fill("#text", "   ")
        page.click("form.stack button[type=submit]")
        assert page.locator("#form-errors").inner_text().count("Nội dung phản ánh không được để trống.") == 1

        text = "Cột điện nghiêng nguy hiểm trước số 12 đường Lý Thường Kiệt.\nĐề nghị xử lý gấp."
        page.fill("#text", text)
        page.fill("#locality", "Phường Hoàn Kiếm, Hà Nội")
        page.fill("#phone", "0987 654 321")
        page.click("form.stack button[type=submit]")
        code = page.locator("#tracking-code").inner_text()
        assert code.startswith("CP-")
        page.click("#track-link")
        assert page.locator("#track-status").get_attribute("data-status") == "open"
        assert page.locator("#track-status").inner_text() == "Đã tiếp nhận"
        assert "Cột điện" not in page.content() and "0987" not in page.content()

        page.goto(f"{live_server.url}/track?lang=en")
        page.fill("#code", code.lower())
        page.click("form.stack button[type=submit]")
        assert page.locator("#track-status").inner_text() == "Open"
    finally:
        context.close()
    with live_server.client() as client:
        [stored] = client.get("/api/v1/submissions").json()["items"]
    assert stored["tracking_code"] == code
    assert stored["channel"] == "web_form" and stored["has_contact"] is True
    assert stored["text"].replace("\r\n", "\n") == text
    with live_server.db.read() as session:
        audit = session.scalar(select(AuditRow).where(AuditRow.action == "web.submit"))
    assert audit is not None and audit.actor == "citizen" and audit.status == 201


def test_language_switch_to_english_changes_the_strings(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.url}/submit")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert page.locator("h1").inner_text() == "Gửi phản ánh, kiến nghị"
    page.click(".langs a[hreflang=en]")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Send feedback"
    assert page.locator("label[for=text]").inner_text() == "Your feedback"
    page.goto(f"{live_server.url}/login")  # remembered in the session
    assert page.locator("h1").inner_text() == "Sign in"
    sign_in(page, live_server)
    assert page.locator("h1").inner_text() == "Inbox"
    assert page.locator("th").nth(1).inner_text().lower() == "received"
