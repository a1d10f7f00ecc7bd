"""``civicpulse themes --format html``: one self-contained, escaped report of a slice's themes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from markupsafe import escape

from civicpulse.insight.themes.service import ThemeSlice, themes_view
from civicpulse.store.db import Database
from tests.conftest import make_settings
from tests.fake_openai import FakeChat, fake_chat
from tests.test_cli import CLI, Cli
from tests.theme_seed import SCRIPT, seed_themes


@pytest.fixture
def analysed(tmp_path: Path) -> Iterator[tuple[Cli, Database, dict[str, list[int]]]]:
    """The CLI on a database of analysed submissions that form two themes (a third held back)."""
    assert CLI.exists(), f"the civicpulse entry point is not installed at {CLI}"
    cli = Cli(tmp_path)
    done = cli("init", "--admin-email", "admin@example.org", "--admin-password", "admin-password-1")
    assert done.returncode == 0, done.stderr
    settings = make_settings(cli.env["CIVICPULSE_DATABASE_URL"])
    db = Database.from_settings(settings)
    ids = seed_themes(settings, db)
    yield cli, db, ids
    db.dispose()


def test_html_report_shows_the_themes_escaped_and_self_contained(
    analysed: tuple[Cli, Database, dict[str, list[int]]], tmp_path: Path
) -> None:
    cli, db, ids = analysed
    done = cli("themes", "--format", "html", "--no-store")
    assert done.returncode == 0, done.stderr
    html = done.stdout
    with db.read() as session:
        view = themes_view(session, ThemeSlice(), k_anonymity=5)
    assert len(view.themes) == 2 and view.suppressed == 1
    assert html.startswith("<!doctype html>") and "<style>" in html
    assert "<title>Chủ đề nổi bật · Toàn bộ thời gian · CivicPulse</title>" in html
    for theme in view.themes:
        assert f'<h2 class="theme-label">{escape(theme.label)}</h2>' in html
        for quote in theme.quotes:
            assert f"<q>{escape(quote.text)}</q>" in html
    flood = next(t for t in view.themes if set(t.member_ids) == set(ids["flood"]))
    assert any(q.text.startswith(SCRIPT) for q in flood.quotes)
    assert str(escape(SCRIPT)) in html and "<script" not in html  # escaped text, and no scripts at all
    assert "<link" not in html and "src=" not in html and "href=" not in html  # nothing outside the file
    assert "chủ đề có ít hơn 5 người gửi không được hiển thị" in html
    assert 'data-stat="suppressed">1<' in html

    report = tmp_path / "themes.html"
    written = cli(
        "themes", "--format", "html", "--lang", "en", "--output", str(report), "--from", "2026-03-03"
    )
    assert written.returncode == 0, written.stderr
    assert written.stdout == "" and f"wrote 1 themes to {report}" in " ".join(written.stderr.split())
    english = report.read_text(encoding="utf-8")
    assert '<html lang="en">' in english and "from 03/03/2026 07:00" in english
    assert "themes of fewer than 5 senders are held back" in english


def test_html_report_refuses_bad_options(analysed: tuple[Cli, Database, dict[str, list[int]]]) -> None:
    cli, _, _ = analysed
    assert cli("themes", "--format", "pdf").returncode == 2
    assert cli("themes", "--output", "x.html").returncode == 2  # a table goes to the terminal
    assert cli("themes", "--format", "html", "--lang", "fr").returncode == 2
    unwritable = cli("themes", "--format", "html", "--output", "/nonexistent-dir/themes.html")
    assert unwritable.returncode == 1 and "cannot write" in unwritable.stderr


def test_stored_run_asks_a_configured_chat_model_and_the_report_shows_its_citations(
    analysed: tuple[Cli, Database, dict[str, list[int]]],
) -> None:
    cli, _, ids = analysed

    def reply(body: dict) -> str:
        first = re.findall(r"^\[(\d+)\] ", body["messages"][1]["content"], re.M)[0]
        summary = [{"text": "Người dân phản ánh <cùng> một vấn đề.", "cites": [int(first)]}]
        return json.dumps({"label": "Nhãn do mô hình viết", "summary": summary})

    with fake_chat(reply) as url:
        cli.env.update({"CIVICPULSE_LLM_ENDPOINT": url, "CIVICPULSE_LLM_MODEL": "local-model"})
        done = cli("themes", "--format", "html", "--store")
    assert done.returncode == 0, done.stderr
    assert len(FakeChat.requests) == 2  # one per stored theme shown (the third has too few senders)
    html = done.stdout
    assert html.count('data-generated-by="local-model"') == 2
    assert html.count("Nhãn do mô hình viết") == 2 and "Người dân phản ánh &lt;cùng&gt; một vấn đề." in html
    cited = {int(sid) for sid in re.findall(r'<span class="cite">\[#(\d+)\]</span>', html)}
    assert cited and cited <= set(ids["flood"]) | set(ids["waste"])
