"""Server-side sessions and revocation over real HTTP, with the CLI run as a subprocess."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select, update

from civicpulse.domain import Role
from civicpulse.store.tables import AuditRow, UserRow, UserSessionRow, utcnow
from civicpulse.store.users import create_token, find_user
from tests.conftest import TEST_SECRET, LiveServer
from tests.web.conftest import form_token, html_client, http_sign_in

CLI = Path(sys.executable).parent / "civicpulse"
COOKIE = "civicpulse_session"
ANALYST = "analyst@example.org"
ANALYST_PASSWORD = "password-123"
LISTING = "/api/v1/submissions"


def civicpulse(server: LiveServer, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The installed command against the server's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
    env.update(
        CIVICPULSE_DATABASE_URL=server.settings.database_url, CIVICPULSE_SECRET_KEY=TEST_SECRET, COLUMNS="200"
    )
    return subprocess.run(
        [str(CLI), *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def signed_in_cookie(server: LiveServer, email: str, password: str) -> str:
    """Sign in through the form; the session cookie's value."""
    with html_client(server) as browser:
        answer = http_sign_in(browser, email, password)
        assert answer.status_code == 200 and answer.url.path in ("/", "/overview"), answer.text
        return browser.cookies[COOKIE]


def with_cookie(server: LiveServer, cookie: str) -> httpx.Client:
    """A client that sends only this session cookie."""
    return httpx.Client(base_url=server.url, cookies={COOKIE: cookie}, timeout=30)


def refused_within(check: Callable[[], int], seconds: float) -> float:
    """Poll ``check`` (a status code) until it is 401; how long that took. Fails after ``seconds``."""
    started = time.monotonic()
    while (status := check()) != 401:
        assert status == 200, status
        assert time.monotonic() - started < seconds, f"still accepted after {seconds} s"
        time.sleep(0.1)
    return time.monotonic() - started


def audit_actions(server: LiveServer) -> list[str]:
    with server.db.read() as session:
        return list(session.scalars(select(AuditRow.action).order_by(AuditRow.id)))


def cache_delay(server: LiveServer) -> float:
    """How long a revocation may take to reach the server: its cache, plus a second of slack."""
    return server.settings.token_cache_seconds + 1


def test_a_cookie_stops_working_at_logout(live_server: LiveServer) -> None:
    with html_client(live_server) as browser:
        assert http_sign_in(browser, "admin@example.org", "admin-password").status_code == 200
        cookie = browser.cookies[COOKIE]
        with with_cookie(live_server, cookie) as copy:
            assert copy.get(LISTING).status_code == 200
        token = form_token(browser, "/submit")
        out = browser.post("/logout", data={"csrf_token": token}, follow_redirects=False)
        assert out.status_code == 303
    with with_cookie(live_server, cookie) as stolen:
        assert stolen.get(LISTING).status_code == 401
        assert stolen.get("/", follow_redirects=False).status_code == 303
    session_id = json.loads(base64.b64decode(TimestampSigner(TEST_SECRET).unsign(cookie)))["sid"]
    with live_server.db.read() as session:
        [row] = session.scalars(select(UserSessionRow))
    assert row.revoked_at is not None
    assert row.session_hash == hashlib.sha256(session_id.encode()).hexdigest() != session_id
    assert "logout" in audit_actions(live_server)


def test_a_password_change_ends_every_session_of_the_user(live_server: LiveServer) -> None:
    first = signed_in_cookie(live_server, "admin@example.org", "admin-password")
    second = signed_in_cookie(live_server, "admin@example.org", "admin-password")
    live_server.user_token(ANALYST, Role.analyst)
    bystander = signed_in_cookie(live_server, ANALYST, ANALYST_PASSWORD)
    changed = civicpulse(
        live_server,
        "users",
        "set-password",
        "Admin@Example.org",
        "--password-stdin",
        stdin="new-password-9\n",
    )
    assert changed.returncode == 0, changed.stderr
    assert "2 session(s) signed out" in changed.stderr
    for cookie in (first, second):
        with with_cookie(live_server, cookie) as client:
            refused_within(lambda client=client: client.get(LISTING).status_code, cache_delay(live_server))
    with with_cookie(live_server, bystander) as client:
        assert client.get(LISTING).status_code == 200
    with html_client(live_server) as browser:
        assert http_sign_in(browser, "admin@example.org", "admin-password").status_code == 401
    signed_in_cookie(live_server, "admin@example.org", "new-password-9")
    assert "user.password" in audit_actions(live_server)
    short = civicpulse(live_server, "users", "set-password", ANALYST, "--password-stdin", stdin="short\n")
    unknown = civicpulse(
        live_server, "users", "set-password", "nobody@example.org", "--password-stdin", stdin="x" * 9
    )
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    assert unknown.returncode == 1 and "no user" in unknown.stderr


def test_a_disabled_user_loses_sessions_and_tokens(live_server: LiveServer) -> None:
    token = live_server.user_token(ANALYST, Role.analyst)
    cookie = signed_in_cookie(live_server, ANALYST, ANALYST_PASSWORD)
    with live_server.client(token) as api, with_cookie(live_server, cookie) as browser:
        assert api.get(LISTING).status_code == browser.get(LISTING).status_code == 200
        disabled = civicpulse(live_server, "users", "disable", ANALYST)
        assert disabled.returncode == 0, disabled.stderr
        assert "1 session(s) signed out, 1 token(s) revoked" in disabled.stderr
        refused_within(lambda: api.get(LISTING).status_code, cache_delay(live_server))
        refused_within(lambda: browser.get(LISTING).status_code, cache_delay(live_server))
        assert api.post(LISTING, json={"text": "Đường ngập."}).status_code == 401
    with html_client(live_server) as again:
        assert http_sign_in(again, ANALYST, ANALYST_PASSWORD).status_code == 401
    with live_server.db.read() as session:
        assert session.scalar(select(UserRow.active).where(UserRow.email == ANALYST)) is False
    enabled = civicpulse(live_server, "users", "enable", ANALYST)
    assert enabled.returncode == 0, enabled.stderr
    signed_in_cookie(live_server, ANALYST, ANALYST_PASSWORD)
    with live_server.client(token) as api:
        assert api.get(LISTING).status_code == 401
    assert {"user.disable", "user.enable"} <= set(audit_actions(live_server))


def test_token_revoke_reads_the_token_from_stdin_or_revokes_by_name(live_server: LiveServer) -> None:
    live_server.user_token(ANALYST, Role.analyst)
    with live_server.db.write() as session:
        analyst = find_user(session, ANALYST)
        by_value, same_name, other_name = (
            create_token(session, analyst, name) for name in ("ci", "ci", "bi")
        )
    clients = {value: live_server.client(value) for value in (by_value, same_name, other_name)}
    assert all(client.get(LISTING).status_code == 200 for client in clients.values())
    revoked = civicpulse(live_server, "token", "revoke", stdin=by_value + "\n")
    assert revoked.returncode == 0, revoked.stderr
    assert by_value not in revoked.stdout + revoked.stderr
    refused_within(lambda: clients[by_value].get(LISTING).status_code, cache_delay(live_server))
    assert clients[same_name].get(LISTING).status_code == 200
    named = civicpulse(live_server, "token", "revoke", "--user", ANALYST, "--name", "ci")
    assert named.returncode == 0 and "revoked 1 token(s)" in named.stderr
    refused_within(lambda: clients[same_name].get(LISTING).status_code, cache_delay(live_server))
    assert clients[other_name].get(LISTING).status_code == 200
    listed = civicpulse(live_server, "token", "list", "--user", ANALYST)
    assert listed.returncode == 0 and all(value not in listed.stdout for value in clients)
    rows = [line.split("│")[1:-1] for line in listed.stdout.splitlines() if ANALYST in line]
    assert sorted((name.strip(), state.strip()) for _, _, name, _, state in rows) == [
        ("", "no"),
        ("bi", "no"),
        ("ci", "yes"),
        ("ci", "yes"),
    ]
    unknown = civicpulse(live_server, "token", "revoke", stdin="cp_not-a-token\n")
    empty = civicpulse(live_server, "token", "revoke", stdin="")
    lonely_name = civicpulse(live_server, "token", "revoke", "--name", "ci")
    assert unknown.returncode == 1 and "no such token" in unknown.stderr
    assert empty.returncode == 2 and lonely_name.returncode == 2
    assert audit_actions(live_server).count("token.revoke") == 2
    for client in clients.values():
        client.close()


def test_expired_unknown_and_old_style_cookies_are_anonymous(live_server: LiveServer) -> None:
    cookie = signed_in_cookie(live_server, "admin@example.org", "admin-password")
    with live_server.db.write() as session:
        session.execute(update(UserSessionRow).values(expires_at=utcnow() - timedelta(seconds=1)))
    with with_cookie(live_server, cookie) as client:
        refused_within(lambda: client.get(LISTING).status_code, cache_delay(live_server))
    signer = TimestampSigner(TEST_SECRET)
    for data in ({"sid": "made-up-session-id"}, {"user_id": 1}, {"sid": ["not", "a", "string"]}):
        forged = signer.sign(base64.b64encode(json.dumps(data).encode())).decode()
        with with_cookie(live_server, forged) as client:
            assert client.get(LISTING).status_code == 401


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sessions_are_stored_with_their_times(live_server: LiveServer) -> None:
    signed_in_cookie(live_server, "admin@example.org", "admin-password")
    with live_server.db.read() as session:
        [row] = session.scalars(select(UserSessionRow))
    lifetime = row.expires_at - row.created_at
    assert lifetime == timedelta(hours=live_server.settings.session_hours)
    assert row.last_seen_at >= row.created_at and row.revoked_at is None
