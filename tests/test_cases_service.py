"""Cases on real SQLite and PostgreSQL: opening from analysis, the clock rules of acceptance,
answer and transfer, escalation to the head agency, and the CLI's directory import and overdue list."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from civicpulse.cases.calendar import LOCAL_TIME, end_of_day
from civicpulse.cases.deadlines import load_policy
from civicpulse.cases.hook import CaseOpener
from civicpulse.cases.models import CaseActionIn
from civicpulse.cases.service import CaseRules, act, escalate_breaches, load_directory
from civicpulse.cli import app
from civicpulse.domain import Role, SubmissionIn
from civicpulse.identity import Principal
from civicpulse.insight.base import AnalysedBatch
from civicpulse.settings import Settings
from civicpulse.store.agencies import upsert_agencies
from civicpulse.store.cases import case_of
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.submissions import accept_submissions
from civicpulse.store.tables import AnnotationRow, AuditRow
from civicpulse.taxonomy import load_taxonomy

ROOT = Path(__file__).resolve().parent.parent
TAXONOMY = load_taxonomy()
ADMIN = Principal(id=1, email="admin@example.org", role=Role.admin, agencies=())


def local(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=LOCAL_TIME)


def submit(db: Database, settings: Settings, received: dt.datetime, service_code: str = "health") -> int:
    item = SubmissionIn(
        text=f"Phản ánh {service_code} lúc {received.isoformat()}",
        received_at=received,
        service_code=service_code,
    )
    with db.write() as session:
        [accepted] = accept_submissions(
            session, [item], ContactCipher(settings.fernet_key), default_agency=TAXONOMY.agency_by_service()
        )
    return accepted.id


def rules(session) -> CaseRules:
    return CaseRules(load_policy(), load_directory(session, TAXONOMY))


def step(db: Database, submission_id: int, now: dt.datetime, **body: object):
    with db.write() as session:
        case = act(session, rules(session), submission_id, CaseActionIn(**body), ADMIN, now=now)
        return {c: getattr(case, c) for c in ("id", "state", "agency", "due_at", "warn_at", "accepted_at")}


def test_a_transfer_restarts_the_acceptance_clock_at_the_new_agency(db: Database, settings: Settings) -> None:
    # Received Tue 10 Feb 2026 (Tết 16-20 Feb): 10 working days end on Tue 3 Mar.
    submission_id = submit(db, settings, local(2026, 2, 10, 9))
    opened = step(db, submission_id, local(2026, 2, 12, 10), action="accept")
    assert opened["state"] == "accepted"
    with db.read() as session:
        assert case_of(session, submission_id).accept_due_at == end_of_day(dt.date(2026, 3, 3))
        # a petition is answered in 20 working days from acceptance (Thu 12 Feb): Thu 19 Mar
        assert case_of(session, submission_id).answer_due_at == end_of_day(dt.date(2026, 3, 19))
    with db.write() as session:  # the Department of Construction is closed on Wed 4 Mar
        upsert_agencies(
            session,
            [
                {
                    "code": "so-xd",
                    "name_vi": "Sở Xây dựng",
                    "name_en": "Department of Construction",
                    "kind": "department",
                    "provinces": [],
                    "communes": [],
                    "topics": [],
                    "days_off": ["2026-03-04"],
                    "needs_approval": False,
                }
            ],
        )
    moved = step(
        db,
        submission_id,
        local(2026, 3, 2, 10),
        action="transfer",
        agency="so-xd",
        reason="Thuộc thẩm quyền Sở Xây dựng",
    )
    assert (moved["state"], moved["agency"], moved["accepted_at"]) == ("received", "so-xd", None)
    # 10 working days after Mon 2 Mar, less Wed 4 Mar: Tue 17 Mar (not Mon 16 Mar)
    assert moved["due_at"] == end_of_day(dt.date(2026, 3, 17))


def test_a_case_opens_from_analysis_with_its_type_and_urgency(db: Database, settings: Settings) -> None:
    received = local(2026, 6, 1, 8)  # Monday
    calm, urgent = submit(db, settings, received, "conduct"), submit(db, settings, received, "health")
    with db.write() as session:
        session.add_all(
            [
                AnnotationRow(submission_id=calm, stage="topic", data={"code": "conduct", "confidence": 0.9}),
                AnnotationRow(
                    submission_id=calm, stage="urgency", data={"score": 0.1, "deadline": "2026-06-02"}
                ),
                AnnotationRow(
                    submission_id=urgent, stage="urgency", data={"score": 0.9, "deadline": "2026-06-02"}
                ),
            ]
        )
    with db.write() as session:
        CaseOpener(settings).on_analysed(session, AnalysedBatch((calm, urgent), frozenset({"urgency"})))
        CaseOpener(settings).on_analysed(session, AnalysedBatch((calm,), frozenset()))  # opens once
    with db.read() as session:
        denunciation, pressing = case_of(session, calm), case_of(session, urgent)
        # a denunciation is accepted within 7 working days: Wed 10 Jun; the low urgency score changes nothing
        assert (denunciation.case_type, denunciation.due_at) == (
            "denunciation",
            end_of_day(dt.date(2026, 6, 10)),
        )
        assert (pressing.case_type, pressing.due_at) == ("petition", end_of_day(dt.date(2026, 6, 2)))
        assert pressing.warn_at < pressing.due_at


def test_breached_cases_escalate_once_to_the_head_agency(db: Database, settings: Settings) -> None:
    late = submit(db, settings, local(2026, 1, 5, 9))
    fresh = submit(db, settings, local(2026, 1, 20, 9))
    with db.write() as session:
        upsert_agencies(
            session,
            [
                {
                    "code": "ubnd-hn",
                    "name_vi": "UBND thành phố Hà Nội",
                    "name_en": "Hanoi People's Committee",
                    "kind": "provincial_committee",
                    "provinces": ["01"],
                    "communes": [],
                    "topics": [],
                    "days_off": [],
                    "needs_approval": False,
                },
                {
                    "code": "so-yt",
                    "name_vi": "Sở Y tế",
                    "name_en": "Department of Health",
                    "kind": "department",
                    "parent": "ubnd-hn",
                    "provinces": ["01"],
                    "communes": [],
                    "topics": ["health"],
                    "days_off": [],
                    "needs_approval": False,
                },
            ],
        )
        r = rules(session)
        from civicpulse.cases.service import open_cases

        open_cases(session, r, [late, fresh])
    now = local(2026, 1, 21, 9)  # the first case was due at the end of Mon 19 Jan
    with db.write() as session:
        escalated = [(c.id, c.escalated_to) for c in escalate_breaches(session, rules(session), now)]
        again = escalate_breaches(session, rules(session), now)
    with db.read() as session:
        late_case, fresh_case = case_of(session, late), case_of(session, fresh)
        audits = session.scalars(select(AuditRow).where(AuditRow.action == "case.escalate")).all()
    assert escalated == [(late_case.id, "ubnd-hn")] and again == []
    assert fresh_case.escalated_at is None
    assert [(a.actor, a.target) for a in audits] == [("system", f"case:{late_case.id}")]


def test_the_cli_imports_the_demo_directory_and_lists_overdue_cases(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CIVICPULSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CIVICPULSE_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[agencies]]\ncode = "ubnd-x"\nname_vi = "X"\nname_en = "X"\nkind = "commune_committee"\n'
        'provinces = ["01"]\ncommunes = ["20242"]\nparent = "nowhere"\n',
        encoding="utf-8",
    )
    refused = runner.invoke(app, ["agencies", "import", str(bad)])
    assert refused.exit_code == 1
    assert "nowhere" in refused.output and "20242" in refused.output
    imported = runner.invoke(app, ["agencies", "import", str(ROOT / "examples" / "agencies.toml")])
    assert imported.exit_code == 0, imported.output
    exported = tmp_path / "directory.csv"
    assert runner.invoke(app, ["agencies", "export", "--output", str(exported)]).exit_code == 0
    with db.read() as session:
        directory = load_directory(session, TAXONOMY)
    assert directory.get("ubnd-hoan-kiem").communes == ["00070"]
    assert directory.head_of("so-yt-dn") == "ubnd-dn"
    assert "ubnd-x" not in directory.agencies
    assert runner.invoke(app, ["agencies", "import", str(exported)]).exit_code == 0

    overdue = submit(db, settings, local(2025, 3, 3, 9), "health")
    submit(db, settings, dt.datetime.now(LOCAL_TIME), "traffic")
    with db.write() as session:
        from civicpulse.cases.service import open_cases

        open_cases(session, rules(session), [overdue, overdue + 1])
    listed = runner.invoke(app, ["cases", "overdue"])
    assert listed.exit_code == 0, listed.output
    assert "so-yt" in listed.output and "1 overdue case(s)" in listed.output
    assert "0 overdue case(s)" in runner.invoke(app, ["cases", "overdue", "--agency", "so-xd"]).output
    escalated = runner.invoke(app, ["cases", "escalate"])
    assert "-> ubnd-hn" in escalated.output
