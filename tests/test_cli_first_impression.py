"""A first impression: demo dates shifted to this week, themes stored only when asked, a password
prompt for new users."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from civicpulse.cli import app
from civicpulse.intake.files import shift_to_now
from civicpulse.store.db import Database
from civicpulse.store.tables import SubmissionRow, UserRow
from civicpulse.store.themes import ThemeRunRow
from tests.conftest import make_settings
from tests.test_cli import Cli, cli  # noqa: F401  (the fixture)
from tests.theme_seed import seed_themes


def write_jsonl(path: Path, times: list[str]) -> Path:
    rows = [
        {"source_id": f"s-{i}", "text": f"Phản ánh số {i} về đèn đường", "received_at": t}
        for i, t in enumerate(times)
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_shift_to_now_moves_the_latest_into_the_last_day(tmp_path: Path):
    files = [
        write_jsonl(tmp_path / "vi.jsonl", ["2026-08-20T11:52:11+07:00", "2026-11-18T11:51:12+07:00"]),
        write_jsonl(tmp_path / "us.jsonl", ["2023-01-04T09:00:00-05:00"]),
    ]
    now = dt.datetime(2026, 12, 5, 0, 57, tzinfo=dt.UTC)
    shift = shift_to_now(make_settings("sqlite://"), files, now=now)
    latest = dt.datetime(2026, 11, 18, 4, 51, 12, tzinfo=dt.UTC) + shift
    assert shift.total_seconds() % 86400 == 0
    assert now - dt.timedelta(days=1) < latest <= now


def test_ingest_shift_dates_keeps_the_order_and_ends_today(cli: Cli, tmp_path: Path):  # noqa: F811
    times = ["2024-03-01T08:00:00+07:00", "2024-03-05T21:30:00+07:00", "2024-02-10T10:00:00+07:00"]
    done = cli("ingest", "--shift-dates-to-today", str(write_jsonl(tmp_path / "demo.jsonl", times)))
    assert done.returncode == 0, done.stderr
    db = Database.from_settings(make_settings(cli.env["CIVICPULSE_DATABASE_URL"]))
    with db.read() as session:
        stored = {r.source_id: r.received_at for r in session.scalars(select(SubmissionRow))}
    db.dispose()
    original = {f"s-{i}": dt.datetime.fromisoformat(t) for i, t in enumerate(times)}
    gaps = {stored[k] - original[k] for k in original}
    assert len(gaps) == 1 and next(iter(gaps)).total_seconds() % 86400 == 0  # one whole-day offset
    now = dt.datetime.now(dt.UTC)
    assert now - dt.timedelta(days=1) < max(stored.values()) <= now


def test_themes_store_a_run_only_when_asked(cli: Cli):  # noqa: F811
    settings = make_settings(cli.env["CIVICPULSE_DATABASE_URL"])
    db = Database.from_settings(settings)
    seed_themes(settings, db)

    def runs() -> int:
        with db.read() as session:
            return session.scalar(select(func.count()).select_from(ThemeRunRow)) or 0

    assert cli("themes", "--format", "json").returncode == 0
    assert runs() == 0
    assert cli("themes", "--format", "json", "--store").returncode == 0
    assert runs() == 1
    db.dispose()


def test_users_create_prompts_for_the_password_twice(tmp_path: Path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    monkeypatch.setenv("CIVICPULSE_DATABASE_URL", url)
    monkeypatch.setenv("CIVICPULSE_SECRET_KEY", "test-secret-key-0123456789abcdef")
    runner = CliRunner()
    mismatch = runner.invoke(
        app,
        ["users", "create", "a@example.org", "--role", "viewer"],
        input="first-password-1\nother-password-2\n",
    )
    assert (
        mismatch.exit_code != 0
        and "Password:" in mismatch.output
        and "do not match" in mismatch.output.lower()
    )
    done = runner.invoke(
        app,
        ["users", "create", "a@example.org", "--role", "viewer"],
        input="good-password-12\ngood-password-12\n",
    )
    assert done.exit_code == 0, done.output
    assert "good-password-12" not in done.output  # hidden input
    db = Database.from_settings(make_settings(url))
    with db.read() as session:
        assert (
            session.scalar(select(UserRow.email).where(UserRow.email == "a@example.org")) == "a@example.org"
        )
    db.dispose()
