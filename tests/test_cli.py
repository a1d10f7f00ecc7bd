"""The installed ``civicpulse`` command, run in a subprocess against a real SQLite store."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET

CLI = Path(sys.executable).parent / "civicpulse"


class Cli:
    """Runs the entry point with a fresh database in the environment."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
        self.env.update(
            CIVICPULSE_DATABASE_URL=f"sqlite:///{folder / 'cli.db'}",
            CIVICPULSE_SECRET_KEY=TEST_SECRET,
            COLUMNS="200",
        )

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args], env=self.env, cwd=self.folder, capture_output=True, text=True, timeout=120
        )


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The CLI on a database initialised with an admin."""
    assert CLI.exists(), f"the civicpulse entry point is not installed at {CLI}"
    runner = Cli(tmp_path)
    done = runner("init", "--admin-email", "Admin@Example.org", "--admin-password", "admin-password-1")
    assert done.returncode == 0, done.stderr
    return runner


def test_init_twice_then_token_and_users(cli: Cli) -> None:
    again = cli("init", "--admin-email", "admin@example.org", "--admin-password", "admin-password-1")
    assert again.returncode == 0, again.stderr
    token = cli("token", "create", "--user", "admin@example.org")
    assert token.returncode == 0, token.stderr
    lines = token.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("cp_") and len(lines[0]) > 20
    users = cli("users", "list")
    assert users.returncode == 0, users.stderr
    assert "admin@example.org" in users.stdout and "admin" in users.stdout


def test_ingest_then_export(cli: Cli) -> None:
    items = [
        {
            "source_id": "hl-1",
            "channel": "hotline",
            "text": "Đường Nguyễn Huệ bị ngập sâu sau mưa.",
            "received_at": "2025-07-01T08:00:00+07:00",
            "locality": "Quận 1",
            "language_hint": "vi",
            "contact": {"name": "Nguyễn Văn A", "phone": "0912345678"},
            "attachments": [],
        },
        {"source_id": "web-2", "channel": "web_form", "text": "Rác thải tràn lan ở chợ."},
    ]
    source = cli.folder / "items.jsonl"
    lines = [json.dumps(item, ensure_ascii=False) for item in items] + ["{not json"]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejects = cli.folder / "rejects.csv"
    ingest = cli("ingest", str(source), "--rejects", str(rejects))
    assert ingest.returncode == 0, ingest.stderr
    assert "items.jsonl" in ingest.stderr
    with rejects.open(encoding="utf-8", newline="") as handle:
        assert [(row["line"], row["reason"][:14]) for row in csv.DictReader(handle)] == [
            ("3", "not valid JSON")
        ]
    again = cli("ingest", str(source))
    assert again.returncode == 0
    assert "3:" in again.stderr and "not valid JSON" in again.stderr  # rejections printed without --rejects

    plain = cli("export", "out.csv")
    assert plain.returncode == 0, plain.stderr
    with (cli.folder / "out.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["text"] for row in rows] == ["", ""]  # the raw text goes only with --include-contact
    assert "contact_name" not in rows[0]
    with_contact = cli("export", "contacts.jsonl", "--include-contact", "--actor", "dpo@example.org")
    assert with_contact.returncode == 0, with_contact.stderr
    exported = [json.loads(line) for line in (cli.folder / "contacts.jsonl").read_text("utf-8").splitlines()]
    assert exported[0]["contact_name"] == "Nguyễn Văn A"
    assert [row["text"] for row in exported] == [item["text"] for item in items]
    refused = cli("export", "out.docx")
    assert refused.returncode == 1
    assert "must end in .csv, .jsonl, .parquet" in refused.stderr


def test_ingest_of_an_unreadable_file_exits_1(cli: Cli) -> None:
    source = cli.folder / "binary.csv"
    source.write_bytes(bytes(range(256)) * 20)
    done = cli("ingest", str(source))
    assert done.returncode == 1
    assert "binary.csv: cannot tell its text encoding" in done.stderr


def test_analyze_writes_one_line_per_record_and_stores_nothing(cli: Cli) -> None:
    source = cli.folder / "feedback.csv"
    source.write_text(
        "id,noi_dung\n"
        'a1,"Gọi tôi số 0912 345 678, đường ở phường Bến Thành ngập"\n'
        "a2,\n"
        "a3,toi muon hoi ve thu tuc cap lai can cuoc\n",
        encoding="utf-8",
    )
    out = cli.folder / "analysis.jsonl"
    done = cli("analyze", str(source), "--output", str(out))
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line.get("source_id") for line in lines] == ["a1", None, "a3"]
    first, refused, unmarked = lines
    assert "[PHONE]" in first["analysis"]["redacted_text"]
    assert first["analysis"]["places"][0]["name"] == "Phường Bến Thành"
    assert refused["line"] == 3 and "text" in refused["error"]
    assert unmarked["analysis"]["language"] == "vi" and "thủ tục" in unmarked["analysis"]["text_restored"]
    exported = cli.folder / "all.jsonl"
    assert cli("export", str(exported)).returncode == 0
    assert exported.read_text(encoding="utf-8") == ""


def test_a_failed_analyze_or_export_leaves_the_old_output_untouched(cli: Cli) -> None:
    out = cli.folder / "out.jsonl"
    out.write_text('{"previous": "run"}\n', encoding="utf-8")
    done = cli("analyze", "missing.csv", "--output", str(out))
    assert done.returncode == 1
    assert "missing.csv: no such file" in done.stderr
    assert out.read_text(encoding="utf-8") == '{"previous": "run"}\n'
    assert [path.name for path in cli.folder.iterdir() if path.name.endswith(".part")] == []

    taken = cli.folder / "taken.csv"
    taken.mkdir()  # the export cannot replace a folder: it fails and leaves it as it was
    refused = cli("export", str(taken))
    assert refused.returncode == 1
    assert f"cannot write {taken}" in refused.stderr
    assert taken.is_dir() and list(taken.iterdir()) == []
    missing_folder = cli("export", str(cli.folder / "no" / "such" / "out.csv"))
    assert missing_folder.returncode == 1
    assert "cannot write" in missing_folder.stderr and "Traceback" not in missing_folder.stderr
    assert [path.name for path in cli.folder.iterdir() if path.name.endswith(".part")] == []
