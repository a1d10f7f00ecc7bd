"""Fixtures: real SQLite and PostgreSQL stores, a real HTTP server, users and tokens."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from civicpulse.domain import Role
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.users import create_token, create_user
from tests.pg import PostgresServer
from tests.server import serving

TEST_SECRET = "test-secret-key-0123456789abcdef"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run; never skipped in CI."""
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database URL on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'civicpulse.db'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")


def make_settings(db_url: str, **overrides: object) -> Settings:
    """Settings for a test, independent of the caller's environment."""
    values: dict[str, object] = {
        "database_url": db_url,
        "secret_key": TEST_SECRET,
        "worker_threads": 0,
        "public_rate_limit": "1000/minute",
        "open311_rate_limit": "1000/minute",
        "login_rate_limit_account": "1000/minute",
        "login_rate_limit_address": "1000/minute",
        "alert_run_interval_seconds": 0,
        "overview_refresh_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Test settings on a fresh database."""
    return make_settings(db_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    """A migrated, empty store."""
    database = Database.from_settings(settings)
    database.upgrade()
    yield database
    database.dispose()


@dataclass
class LiveServer:
    """A running HTTP server and helpers to call it."""

    url: str
    settings: Settings
    db: Database
    admin_token: str

    def client(self, token: str | None = None, **kwargs: object) -> httpx.Client:
        """An HTTP client, authenticated with ``token`` (the admin's by default)."""
        headers = {"Authorization": f"Bearer {token or self.admin_token}"} if token != "" else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def user_token(self, email: str, role: Role, agencies: tuple[str, ...] = ()) -> str:
        """Create a user and return a token of theirs."""
        with self.db.write() as session:
            user = create_user(session, email, "password-123", role, agencies)
            return create_token(session, user)


def run_server(settings: Settings) -> Iterator[str]:
    """Serve ``create_app(settings)`` for as long as the generator lives; yield its URL."""
    with serving(settings) as url:
        yield url


@pytest.fixture
def live_server(settings: Settings, db: Database) -> Iterator[LiveServer]:
    """A real HTTP server on a fresh database, with an admin and their token."""
    with db.write() as session:
        admin = create_user(session, "admin@example.org", "admin-password", Role.admin)
        token = create_token(session, admin)
    for url in run_server(settings):
        yield LiveServer(url=url, settings=settings, db=db, admin_token=token)


def pytest_configure(config: pytest.Config) -> None:
    """Keep tests independent of a developer's own CIVICPULSE_* environment."""
    for key in list(os.environ):
        if key.startswith("CIVICPULSE_"):
            del os.environ[key]


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Whether ``condition`` became true within ``timeout`` seconds (polled every 10 ms)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True
