"""Rate limits over real HTTP: one budget per purpose, the caller's address only from trusted proxies."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from civicpulse.api.proxies import TrustedProxies
from civicpulse.domain import Role
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.tables import AuditRow
from tests.conftest import LiveServer, make_settings, run_server
from tests.web.conftest import form_token, html_client, http_sign_in

OPEN311 = "/open311/v2/requests.json"
SUBMISSIONS = "/api/v1/submissions"
LIMITS = {
    "public_rate_limit": "5/minute",
    "open311_rate_limit": "5/minute",
    "keyed_rate_limit": "1000/minute",
    "login_rate_limit_account": "3/minute",
    "login_rate_limit_address": "8/minute",
}


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Small budgets, so that a few requests reach them."""
    return make_settings(db_url, **LIMITS)


def _server(db_url: str, **overrides: object) -> Iterator[tuple[str, Database]]:
    settings = make_settings(db_url, **{**LIMITS, **overrides})
    database = Database.from_settings(settings)
    database.upgrade()
    for url in run_server(settings):
        yield url, database
    database.dispose()


def _open311_post(
    client: httpx.Client, api_key: str, number: int, headers: dict[str, str] | None = None
) -> httpx.Response:
    data = {
        "api_key": api_key,
        "service_code": "utilities",
        "description": f"Đèn đường số {number} hỏng.",
        "address_string": "Phường Bến Thành, Thành phố Hồ Chí Minh",
    }
    return client.post(OPEN311, data=data, headers=headers)


def _retry_after(response: httpx.Response, window: int = 60) -> int:
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= window
    return seconds


def _audit_clients(db: Database, action: str) -> list[str | None]:
    """The addresses of the audit events of ``action`` (the middleware writes after answering)."""
    deadline = time.monotonic() + 5
    while True:
        with db.read() as session:
            clients = list(session.scalars(select(AuditRow.client).where(AuditRow.action == action)))
        if clients or time.monotonic() > deadline:
            return clients
        time.sleep(0.05)


def test_keyed_open311_posts_do_not_lock_the_admin_out_of_login(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        posted = [_open311_post(client, live_server.admin_token, n).status_code for n in range(25)]
    assert posted == [201] * 25
    with html_client(live_server) as browser:
        signed_in = http_sign_in(browser, "admin@example.org", "admin-password")
        assert signed_in.status_code == 200 and signed_in.url.path == "/overview"  # an admin's home
        assert browser.get("/track/CP-AAAA-AAAA").status_code == 404


def test_a_login_flood_on_one_account_leaves_other_accounts_alone(live_server: LiveServer) -> None:
    live_server.user_token("analyst@example.org", Role.analyst)
    with html_client(live_server, lang="vi") as browser:
        token = form_token(browser, "/login")
        tries = [
            browser.post("/login", data={"email": email, "password": "wrong-password", "csrf_token": token})
            for email in (
                "admin@example.org",
                " ADMIN@example.org",
                "Admin@Example.org ",
                "admin@example.org",
            )
        ]
        right_password = browser.post(
            "/login", data={"email": "admin@example.org", "password": "admin-password", "csrf_token": token}
        )
        other = browser.post(
            "/login", data={"email": "analyst@example.org", "password": "password-123", "csrf_token": token}
        )
    assert [t.status_code for t in tries] == [401, 401, 401, 429]
    assert right_password.status_code == 429
    assert "Bạn đã thử đăng nhập quá nhiều lần" in right_password.text
    _retry_after(right_password)
    assert other.status_code == 200 and other.url.path in ("/", "/overview")
    assert _audit_clients(live_server.db, "login.limited") == ["127.0.0.1", "127.0.0.1"]


def test_login_attempts_are_limited_per_address_across_accounts(live_server: LiveServer) -> None:
    with html_client(live_server) as browser:
        token = form_token(browser, "/login")
        statuses = [
            browser.post(
                "/login",
                data={"email": f"u{n}@example.org", "password": "wrong-password", "csrf_token": token},
            ).status_code
            for n in range(9)
        ]
    assert statuses == [401] * 8 + [429]


def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(live_server: LiveServer) -> None:
    forged = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(7)]
    with html_client(live_server) as browser:
        tracked = [browser.get("/track/CP-AAAA-AAAA", headers=h).status_code for h in forged[:6]]
        limited = browser.get("/track/CP-AAAA-AAAA", headers=forged[6])
    assert tracked == [404] * 5 + [429]
    assert limited.status_code == 429
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        posted = _open311_post(client, live_server.admin_token, 1, headers=forged[0])
        refused = client.post(SUBMISSIONS, headers=forged[1], json={"text": "x"})
    assert posted.status_code == 201 and refused.status_code == 401
    assert _audit_clients(live_server.db, "open311.create") == ["127.0.0.1"]
    assert _audit_clients(live_server.db, f"POST {SUBMISSIONS}") == ["127.0.0.1"]
    with html_client(live_server) as browser:
        page = browser.get("/submit", headers={"X-Forwarded-Proto": "https"})
    assert f'href="{live_server.url}/static/' in page.text


@pytest.fixture
def behind_proxy(db_url: str) -> Iterator[tuple[str, Database]]:
    """A server that believes X-Forwarded-For from 127.0.0.1 (its reverse proxy)."""
    yield from _server(db_url, trusted_proxies=["127.0.0.1", "10.0.0.0/8"])


def test_a_trusted_proxy_s_forwarded_address_is_used_for_limits_and_audit(
    behind_proxy: tuple[str, Database],
) -> None:
    url, db = behind_proxy
    first = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7, 10.1.2.3"}  # left part: what the caller wrote
    second = {"X-Forwarded-For": "203.0.113.8"}
    with httpx.Client(base_url=url, timeout=30, headers={"Accept": "text/html"}) as client:
        statuses = [client.get("/track/CP-AAAA-AAAA", headers=first).status_code for _ in range(6)]
        other = client.get("/track/CP-AAAA-AAAA", headers=second)
        refused = client.post(SUBMISSIONS, headers=first, json={"text": "x"})
        page = client.get("/submit", headers={**first, "X-Forwarded-Proto": "https"})
    assert statuses == [404] * 5 + [429]
    assert 'href="https://' in page.text and 'href="http://' not in page.text
    assert other.status_code == 404
    assert refused.status_code == 401
    assert _audit_clients(db, f"POST {SUBMISSIONS}") == ["203.0.113.7"]


@pytest.fixture
def keyed_server(db_url: str) -> Iterator[tuple[str, Database]]:
    """A server whose keyed clients may write three times a minute."""
    yield from _server(db_url, keyed_rate_limit="3/minute")


def test_keyed_clients_have_a_budget_per_token(keyed_server: tuple[str, Database]) -> None:
    from civicpulse.store.users import create_token, create_user

    url, db = keyed_server
    with db.write() as session:
        first = create_token(session, create_user(session, "one@example.org", "password-123", Role.analyst))
        second = create_token(session, create_user(session, "two@example.org", "password-123", Role.analyst))
    with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {first}"}) as client:
        written = [
            client.post(SUBMISSIONS, json={"text": f"Ngập nước số {n}."}).status_code for n in range(3)
        ]
        over = client.post(SUBMISSIONS, json={"text": "Ngập nước lần nữa."})
        reads = client.get(SUBMISSIONS)
        open311 = _open311_post(client, first, 1)
        open311_other = _open311_post(client, second, 2)
    with httpx.Client(base_url=url, timeout=30, headers={"Authorization": f"Bearer {second}"}) as client:
        other = client.post(SUBMISSIONS, json={"text": "Đèn đường hỏng."})
    assert written == [201, 201, 201]
    assert over.status_code == 429
    error = over.json()["error"]
    assert error["code"] == "too_many_requests"
    assert error["details"]["retry_after_seconds"] == _retry_after(over)
    assert reads.status_code == 200
    assert open311.status_code == 429 and open311.json()[0]["code"] == 429
    _retry_after(open311)
    assert open311_other.status_code == 201 and other.status_code == 201


def test_anonymous_open311_is_limited_per_address_with_the_georeport_shape(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=30) as client:
        listed = [client.get(OPEN311).status_code for _ in range(4)]
        refused = client.post(OPEN311, data={"api_key": "cp_not-a-token", "service_code": "utilities"})
        limited = client.post(OPEN311, data={"service_code": "utilities", "description": "Cống tắc."})
        keyed = _open311_post(client, live_server.admin_token, 1)
    assert listed == [200] * 4
    assert refused.status_code == 403
    assert limited.status_code == 429
    [error] = limited.json()
    assert error["code"] == 429 and "too many requests" in error["description"]
    _retry_after(limited)
    assert keyed.status_code == 201


def test_the_citizen_form_answers_a_translated_429(live_server: LiveServer) -> None:
    with html_client(live_server, lang="en") as browser:
        token = form_token(browser, "/submit")
        statuses = [
            browser.post("/submit", data={"text": f"Rác ở chợ số {n}.", "csrf_token": token}).status_code
            for n in range(6)
        ]
        limited = browser.post("/submit", data={"text": "Rác ở chợ.", "csrf_token": token})
    assert statuses == [200] * 5 + [429]
    assert "<h1>Too many requests</h1>" in limited.text
    assert f"You may try again in {_retry_after(limited)} seconds." in limited.text


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("192.0.2.1", ["203.0.113.7"], "192.0.2.1"),
        ("10.0.0.5", ["203.0.113.7"], "203.0.113.7"),
        ("10.0.0.5", ["198.51.100.1, 203.0.113.7, 10.0.0.9"], "203.0.113.7"),
        ("10.0.0.5", ["198.51.100.1", "203.0.113.7:4711"], "203.0.113.7"),
        ("10.0.0.5", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("10.0.0.5", ["not-an-address, 10.0.0.9"], "10.0.0.9"),
        ("10.0.0.5", [""], "10.0.0.5"),
        ("::ffff:10.0.0.5", ["203.0.113.7"], "203.0.113.7"),
    ],
)
def test_the_caller_is_the_right_most_untrusted_hop(peer: str, header: list[str], expected: str) -> None:
    assert TrustedProxies(["10.0.0.0/8"]).client(peer, header) == expected


@pytest.mark.parametrize(
    "overrides", [{"login_rate_limit_account": "often"}, {"trusted_proxies": ["10.0.0.0/8", "proxy"]}]
)
def test_bad_limit_or_proxy_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=next(iter(overrides))):
        Settings(**overrides)
