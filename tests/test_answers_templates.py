"""Answer templates: sandboxed rendering (placeholders only), the shipped demo templates, and the
CLI import on real SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from civicpulse.cases.templates import AnswerFacts, parse_templates, render
from civicpulse.errors import Unprocessable
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.tables import AnswerTemplateRow, AuditRow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "answer_templates.toml"
FACTS = AnswerFacts(
    "CP-ABCD-1234",
    7,
    "so-xd",
    "Sở Xây dựng Hà Nội",
    "traffic",
    "Giao thông",
    "02/03/2026",
    "",
    "",
    "05/03/2026",
)


def test_placeholders_and_conditions_render() -> None:
    body = "{{ agency_name|upper }}: {{ tracking_code }}{% if due_date %}, hạn {{ due_date }}{% endif %}."
    assert render(body, FACTS) == "SỞ XÂY DỰNG HÀ NỘI: CP-ABCD-1234."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ citizen_phone }}", "unknown placeholder"),
        ("{% for x in range(9) %}{{ x }}{% endfor %}", "for is not allowed"),
        ("{{ tracking_code.__class__ }}", "getattr is not allowed"),
        ("{{ tracking_code|attr('upper') }}", "No filter named"),
        ("{{ ''.join([]) }}", "not allowed"),
        ("{{ tracking_code", "not valid"),
        ("{% if due_date %}{% endif %}", "at least 1 character"),
        ("{{ agency_name }}\x07", "not valid"),
    ],
)
def test_templates_cannot_do_more_than_fill_placeholders(body: str, message: str) -> None:
    with pytest.raises(Unprocessable, match=message):
        render(body, FACTS)


def test_the_shipped_templates_parse_and_render_in_both_languages() -> None:
    templates = parse_templates(EXAMPLES.read_text(encoding="utf-8"), source=str(EXAMPLES))
    assert {t.language for t in templates} == {"vi", "en"}
    assert len({t.code for t in templates}) == len(templates) >= 6
    for template in templates:
        text = render(template.body, FACTS)
        assert "CP-ABCD-1234" in text and "{{" not in text and "{%" not in text


def test_a_bad_file_names_every_problem() -> None:
    text = (
        '[[templates]]\ncode = "a"\nname = "A"\nbody = "{{ x }}"\n\n[[templates]]\ncode = "b"\nname = "B"\n'
    )
    with pytest.raises(Unprocessable) as caught:
        parse_templates(text)
    problems = caught.value.details["problems"]
    assert len(problems) == 2 and "unknown placeholder" in problems[0] and "body" in problems[1]


def test_the_cli_imports_the_shipped_templates_twice_without_copies(db: Database, settings: Settings) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
    env.update(CIVICPULSE_DATABASE_URL=settings.database_url, CIVICPULSE_SECRET_KEY=settings.secret_key)
    command = [str(Path(sys.executable).parent / "civicpulse"), "answer-templates", "import", str(EXAMPLES)]
    for expected in ("new, 0 replaced", "0 new,"):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert expected in " ".join(done.stderr.split())
    with db.read() as session:
        rows = session.scalars(select(AnswerTemplateRow)).all()
        audits = session.scalars(select(AuditRow).where(AuditRow.action == "answer_template.import")).all()
    assert len(rows) == len(parse_templates(EXAMPLES.read_text(encoding="utf-8"))) and len(audits) == 2
    assert {row.actor for row in rows} == {"cli"}
