"""The pages over plain HTTP on SQLite and PostgreSQL: CSRF, validation, tracking, scopes, limits."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from civicpulse.domain import Role, SubmissionIn
from civicpulse.intake.service import accept
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher, read_contact
from civicpulse.store.db import Database
from civicpulse.store.tables import AuditRow, SubmissionRow
from tests.conftest import LiveServer, make_settings, run_server
from tests.web.conftest import form_token, html_client, http_sign_in


def _count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count(SubmissionRow.id))) or 0


def test_posts_without_a_valid_csrf_token_are_refused(live_server: LiveServer) -> None:
    with html_client(live_server) as client:
        no_session = client.post("/submit", data={"text": "Đường ngập"})
        assert no_session.status_code == 403
        assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in no_session.text
        token = form_token(client, "/submit")
        wrong = client.post("/submit", data={"text": "Đường ngập", "csrf_token": token[:-2] + "xx"})
        missing = client.post("/submit", data={"text": "Đường ngập"})
        login = client.post("/login", data={"email": "admin@example.org", "password": "admin-password"})
        assert (wrong.status_code, missing.status_code, login.status_code) == (403, 403, 403)
        assert client.get("/", follow_redirects=False).status_code == 303  # still signed out
        ok = client.post("/submit", data={"text": "Đường ngập", "csrf_token": token})
        assert ok.status_code == 200
    assert _count(live_server.db) == 1


def test_invalid_feedback_is_shown_again_with_the_reason(live_server: LiveServer) -> None:
    with html_client(live_server) as client:
        token = form_token(client, "/submit")
        control = client.post("/submit", data={"text": "Cống tắc\x07 <b>x</b>", "csrf_token": token})
        assert control.status_code == 422
        assert "Nội dung phản ánh: có ký tự điều khiển không hợp lệ." in control.text
        assert "Cống tắc\x07 &lt;b&gt;x&lt;/b&gt;</textarea>" in control.text
        long = client.post("/submit", data={"text": "a" * 20_001, "phone": "1" * 60, "csrf_token": token})
        assert long.status_code == 422
        assert "tối đa 20000 ký tự" in long.text
        english = client.post("/submit?lang=en", data={"text": "ok", "phone": "1" * 60, "csrf_token": token})
        assert english.status_code == 422
        assert "Phone: too long (at most 50 characters)." in english.text
    assert _count(live_server.db) == 0


def test_tracking_shows_status_only_and_unknown_codes_get_a_friendly_404(live_server: LiveServer) -> None:
    with html_client(live_server) as client:
        token = form_token(client, "/submit")
        thanks = client.post(
            "/submit",
            data={"text": "Mất điện cả khu phố", "name": "Trần Thị Bình", "csrf_token": token},
        )
        code = re.search(r'id="tracking-code">([^<]+)<', thanks.text).group(1)
        again = client.post("/submit", data={"text": "Mất điện cả khu phố", "csrf_token": token})
        assert code in again.text and "đã được tiếp nhận trước đó" in again.text
        page = client.get(f"/track/{code.lower()}")
        assert page.status_code == 200
        assert 'data-status="open"' in page.text
        assert "Mất điện" not in page.text and "Trần Thị Bình" not in page.text
        redirect = client.get("/track", params={"code": f" {code} "}, follow_redirects=False)
        assert redirect.status_code == 303 and redirect.headers["location"] == f"/track/{code}"
        for unknown in ("CP-ZZZZ-ZZZZ", "CP%00X", "x" * 40):
            missing = client.get(f"/track/{unknown}")
            assert missing.status_code == 404
            assert "Không tìm thấy phản ánh nào có mã tra cứu này" in missing.text
    with live_server.client() as api:
        assert api.get("/api/v1/submissions").json()["items"][0]["has_contact"] is True


def test_two_citizens_sending_the_same_words_get_their_own_codes(
    live_server: LiveServer, settings: Settings
) -> None:
    text = "Nước sinh hoạt có mùi lạ"
    senders = [{"name": "An", "phone": "0912 345 678"}, {"name": "Bình", "email": "binh@example.vn"}]
    with html_client(live_server) as client:
        token = form_token(client, "/submit")

        def send(**fields: str) -> str:
            page = client.post("/submit", data={"text": text, "csrf_token": token, **fields})
            assert page.status_code == 200, page.text
            return page.text

        first, second = (send(**sender) for sender in senders)
        again = send(**senders[0])
        anonymous, anonymous_again = send(), send()
    code = re.compile(r'id="tracking-code">([^<]+)<')
    codes = [code.search(page).group(1) for page in (first, second, again, anonymous, anonymous_again)]
    assert codes[0] != codes[1] and codes[2] == codes[0] and codes[4] == codes[3]
    assert len(set(codes)) == 3
    assert "đã được tiếp nhận trước đó" in again and "đã được tiếp nhận trước đó" in anonymous_again
    assert "đã được tiếp nhận trước đó" not in second
    cipher = ContactCipher(settings.fernet_key)
    with live_server.db.write() as session:
        rows = list(session.scalars(select(SubmissionRow).order_by(SubmissionRow.id)))
        assert [row.tracking_code for row in rows] == codes[:2] + codes[3:4]
        contacts = [read_contact(session, cipher, row.id, actor="t", client=None) for row in rows[:2]]
    assert (contacts[0].phone, contacts[1].email) == ("0912 345 678", "binh@example.vn")
    assert rows[2].has_contact is False


def test_anonymous_visitors_are_sent_to_sign_in(live_server: LiveServer) -> None:
    with html_client(live_server) as client:
        inbox = client.get("/?channel=email", follow_redirects=False)
        assert inbox.status_code == 303
        assert inbox.headers["location"] == "/login?next=/%3Fchannel%3Demail"
        partial = client.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
        assert partial.headers["HX-Redirect"].startswith("/login")
        assert client.get("/submissions/1", follow_redirects=False).status_code == 303
        signed_in = http_sign_in(client, "admin@example.org", "admin-password")
        assert signed_in.status_code == 200 and signed_in.url.path == "/overview"  # leaders' home


def test_login_failure_never_tells_which_part_was_wrong(live_server: LiveServer) -> None:
    with html_client(live_server, lang="en") as client:
        unknown = http_sign_in(client, "nobody@example.org", "admin-password")
        wrong = http_sign_in(client, "admin@example.org", "not-the-password")
        odd = http_sign_in(client, "a\x00b@example.org", "x" * 5000)
    assert unknown.status_code == wrong.status_code == odd.status_code == 401
    assert "The email or password is incorrect." in unknown.text and "incorrect" in wrong.text
    with live_server.db.read() as session:
        failed = session.scalars(select(AuditRow.actor).where(AuditRow.action == "login.failed")).all()
    assert sorted(failed) == ["ab@example.org", "admin@example.org", "nobody@example.org"]


def test_agency_officers_see_only_their_agencies(live_server: LiveServer) -> None:
    items = [
        SubmissionIn(text="Ổ gà trên quốc lộ", service_code="roads"),
        SubmissionIn(text="Nước máy đục", service_code="water"),
    ]
    cipher = ContactCipher(live_server.settings.fernet_key)
    roads, water = accept(
        live_server.db,
        cipher,
        items,
        actor="test",
        client=None,
        agency_by_service={"roads": "so-gtvt", "water": "cap-nuoc"},
    )
    live_server.user_token("officer@example.org", Role.agency_officer, ("so-gtvt",))
    with html_client(live_server) as client:
        assert http_sign_in(client, "officer@example.org", "password-123").status_code == 200
        inbox = client.get("/")
        assert "Ổ gà trên quốc lộ" in inbox.text and "Nước máy đục" not in inbox.text
        assert client.get(f"/submissions/{roads.id}").status_code == 200
        other = client.get(f"/submissions/{water.id}")
        assert other.status_code == 403 and "Phản ánh này thuộc cơ quan khác." in other.text
        assert client.get("/submissions/999999").status_code == 404
        assert client.get("/?from=2026-13-40").status_code == 400
        assert client.get("/?channel=pigeon").status_code == 400
        assert client.get("/?cursor=!!").status_code == 400
        assert client.get("/?q=a%00b").status_code == 400


def test_language_follows_accept_language_then_the_session(live_server: LiveServer) -> None:
    with html_client(live_server, lang="en-GB,en;q=0.9,vi;q=0.5") as client:
        assert "<h1>Send feedback</h1>" in client.get("/submit").text
        assert "<h1>Gửi phản ánh, kiến nghị</h1>" in client.get("/submit?lang=vi").text
        assert "<h1>Tra cứu phản ánh</h1>" in client.get("/track").text
    with html_client(live_server, lang="fr") as client:
        assert 'lang="vi"' in client.get("/track").text


@pytest.fixture
def strict_server(db_url: str) -> Iterator[str]:
    """A server whose public limit is two requests a minute."""
    settings: Settings = make_settings(db_url, public_rate_limit="2/minute")
    database = Database.from_settings(settings)
    database.upgrade()
    yield from run_server(settings)
    database.dispose()


def test_rate_limited_public_pages_answer_a_429_page(strict_server: str) -> None:
    import httpx

    with httpx.Client(base_url=strict_server, headers={"Accept": "text/html"}) as client:
        statuses = [client.get("/track/CP-AAAA-AAAA").status_code for _ in range(3)]
        limited = client.get("/track/CP-AAAA-AAAA")
    assert statuses == [404, 404, 429]
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert "<h1>Quá nhiều yêu cầu</h1>" in limited.text
