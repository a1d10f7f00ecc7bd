"""Routing to agencies: rules (first match wins, in plain words), the ``route`` stage and its port on
SQLite and PostgreSQL, assignments as facts that ``civicpulse train --task agency`` learns from,
automatic assignment and the triage queue, the rules API, and the ``civicpulse route`` command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import select

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.gazetteer import gazetteer
from civicpulse.analysis.route import RouteStage
from civicpulse.analysis.routing import Facts, check_rule, describe, first_match
from civicpulse.annotations import PlacesOut, Ranked, RouteOut, TopicOut, UnitBrief
from civicpulse.domain import Channel, Role, SubmissionIn
from civicpulse.errors import NotFound, Unprocessable
from civicpulse.insight.routing import AutoAssign
from civicpulse.intake.service import accept
from civicpulse.runtime.stages import Ports, build_pipeline, build_stage
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.routing import (
    Rule,
    RuleIn,
    StoredRules,
    add_rule,
    assignment_texts,
    list_rules,
    record_assignment,
    triage_queue,
    update_rule,
)
from civicpulse.store.tables import AuditRow, EventRow, RoutingFactRow, SubmissionRow
from civicpulse.taxonomy import load_taxonomy
from tests.conftest import TEST_SECRET, LiveServer, make_settings

CLI = Path(sys.executable).parent / "civicpulse"
TAXONOMY = load_taxonomy()
HANOI = "01"
HOAN_KIEM = "00070"
DA_NANG = "48"


def _rule(rid: int, agency: str, **conditions: str) -> Rule:
    fields = {"topic": None, "province": None, "commune": None, "channel": None} | conditions
    return Rule(id=rid, position=rid, agency=agency, active=True, **fields)


def _item(
    item_id: int, topic: str | None = None, confidence: float = 0.9, province: str | None = None
) -> AnalysisItem:
    item = AnalysisItem(id=item_id, text="Cống thoát nước bị tắc, nước tràn ra đường")
    if topic is not None:
        other = "traffic" if topic != "traffic" else "land"
        item.annotations["topic"] = TopicOut(
            code=topic,
            confidence=confidence,
            alternatives=[
                Ranked(code=topic, confidence=confidence),
                Ranked(code=other, confidence=1 - confidence),
            ],
            method="zero-shot",
        )
    if province is not None:
        unit = gazetteer().provinces[province]
        item.annotations["places"] = PlacesOut(province=UnitBrief(name=unit.name, code=unit.code))
    return item


class MemoryRules:
    """A rule source held in memory (the store's stands in for it in the database tests)."""

    def __init__(self, rules: list[Rule], channels: dict[int, str]) -> None:
        self.rules, self.known = rules, channels

    def active_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.active]

    def channels(self, submission_ids: Iterable[int]) -> dict[int, str]:
        return {i: self.known[i] for i in submission_ids if i in self.known}


def test_first_matching_rule_wins_in_order() -> None:
    rules = [
        _rule(1, "so-yt", topic="health", province=HANOI),
        _rule(2, "so-xd", province=HANOI),
        _rule(3, "so-nnmt", channel="hotline"),
        _rule(4, "vp-ubnd"),
    ]
    assert first_match(rules, Facts(topic="health", province=HANOI)).id == 1
    assert first_match(rules, Facts(topic="traffic", province=HANOI, channel="hotline")).id == 2
    assert first_match(rules, Facts(topic="health", province=DA_NANG, channel="hotline")).id == 3
    assert first_match(rules, Facts(topic="health")).id == 4
    assert first_match(rules[:3], Facts(topic="health")) is None
    assert first_match(list(reversed(rules)), Facts(topic="health", province=HANOI)).id == 4


def test_a_rule_reads_in_plain_words_in_both_languages() -> None:
    health = next(t for t in TAXONOMY.topics if t.code == "health")
    agency = TAXONOMY.get_agency("so-yt")
    rule = _rule(1, "so-yt", topic="health", commune=HOAN_KIEM, channel="hotline")
    vi, en = describe(rule, TAXONOMY, "vi"), describe(rule, TAXONOMY, "en")
    commune = gazetteer().communes[HOAN_KIEM].name
    for text, topic_name, agency_name in (
        (vi, health.name_vi, agency.name_vi),
        (en, health.name_en, agency.name_en),
    ):
        assert topic_name in text and agency_name in text and commune in text and "Hà Nội" in text
        assert "00070" not in text and "so-yt" not in text
    assert "đường dây nóng" in vi and "hotline" in en
    everything = describe(_rule(2, "vp-ubnd"), TAXONOMY, "en")
    assert everything.startswith("Every submission") and TAXONOMY.get_agency("vp-ubnd").name_en in everything
    with pytest.raises(Unprocessable):
        describe(rule, TAXONOMY, "fr")


@pytest.mark.parametrize(
    ("conditions", "problem"),
    [
        ({"agency": "so-khong-co"}, "unknown agency"),
        ({"agency": "so-yt", "topic": "weather"}, "unknown topic"),
        ({"agency": "so-yt", "province": "99"}, "unknown province"),
        ({"agency": "so-yt", "commune": "99999"}, "unknown commune"),
        ({"agency": "so-yt", "province": DA_NANG, "commune": HOAN_KIEM}, "is not in province"),
        ({"agency": "so-yt", "channel": "pigeon"}, "unknown channel"),
    ],
)
def test_a_rule_with_unknown_codes_is_refused(conditions: dict[str, str], problem: str) -> None:
    with pytest.raises(Unprocessable, match=problem):
        check_rule(RuleIn(**conditions), TAXONOMY)


def test_stage_gives_top_three_with_reasons(tmp_path: Path) -> None:
    settings = Settings(model_dir=tmp_path, routing_auto_assign_confidence=0.8)
    rules = MemoryRules(
        [_rule(7, "thanh-tra", topic="utilities", province=HANOI), _rule(8, "cong-an", channel="hotline")],
        {1: "web_form", 2: "web_form", 3: "hotline"},
    )
    stage = RouteStage(settings, routing_rules=rules, embedder=None)
    items = [
        _item(1, "utilities", 0.7, province=HANOI),  # rule 7, as sure as its topic
        _item(2, "health", 0.95, province=HANOI),  # no rule: the taxonomy's agency of the topics
        _item(3, "health", 0.6),  # rule 8 (channel only): sure
        _item(4),  # nothing to go on: an empty ranking, not a failure
    ]
    out = stage.process(items)
    assert out.failures == {}
    first, second, third, empty = (out.outputs[i] for i in (1, 2, 3, 4))
    assert isinstance(first, RouteOut)
    assert [c.reason for c in first.alternatives] == ["rule", "taxonomy", "taxonomy"]
    assert first.agency == "thanh-tra" and first.confidence == 0.7 and not first.auto_assign
    assert first.alternatives[0].rule_id == 7 and set(first.alternatives[0].description) == {"vi", "en"}
    assert TAXONOMY.get_agency("thanh-tra").name_vi in first.alternatives[0].description["vi"]
    assert [c.agency for c in first.alternatives[1:]] == ["so-ct", "so-xd"]  # utilities, then traffic
    assert second.agency == "so-yt" and second.confidence == 0.95 and second.auto_assign
    assert {c.reason for c in second.alternatives} == {"taxonomy"}
    assert third.agency == "cong-an" and third.confidence == 1.0 and third.auto_assign
    assert [c.agency for c in third.alternatives[1:]] == ["so-yt", "so-xd"]
    assert all(
        len({c.agency for c in o.alternatives}) == len(o.alternatives) <= 3 for o in out.outputs.values()
    )
    assert empty.agency is None and empty.alternatives == [] and not empty.auto_assign
    without_port = RouteStage(settings, embedder=None).process([_item(1, "utilities", 0.7, province=HANOI)])
    assert (
        without_port.outputs[1].agency == "so-ct"
        and without_port.outputs[1].alternatives[0].reason == "taxonomy"
    )


def _submission(db: Database, settings: Settings, text: str, channel: str = "web_form") -> int:
    """A submission stored through the intake's one door (with its analysis job)."""
    item = SubmissionIn(text=text, channel=Channel(channel))
    return accept(db, ContactCipher(settings.fernet_key), [item], actor="test", client="test")[0].id


def test_port_reads_stored_rules_in_order_and_channels(db: Database, settings: Settings) -> None:
    with db.write() as session:
        hotline = add_rule(session, RuleIn(agency="cong-an", channel="hotline"), actor="admin@example.org")
        late = add_rule(session, RuleIn(agency="vp-ubnd"), actor="a")
        off = add_rule(session, RuleIn(agency="so-yt", active=False, position=0), actor="a")
    assert late.position > hotline.position == off.position
    by_phone = _submission(db, settings, "Có người đánh nhau trước cổng chợ", channel="hotline")
    by_form = _submission(db, settings, "Có người đánh nhau trước cổng chợ số hai")
    source = StoredRules(db)
    assert [r.id for r in source.active_rules()] == [hotline.id, late.id]
    assert source.channels([by_phone, by_form, 10**9]) == {by_phone: "hotline", by_form: "web_form"}
    stage = build_stage("route", settings, Ports.of_store(db))
    assert isinstance(stage, RouteStage) and isinstance(stage.routing_rules, StoredRules)
    out = stage.process([_item(by_phone, "public_order"), _item(by_form, "public_order")]).outputs
    assert out[by_phone].alternatives[0].rule_id == hotline.id
    assert out[by_form].alternatives[0].rule_id == late.id
    with db.write() as session:
        update_rule(session, off.id, RuleIn(agency="so-yt", active=True, position=0), actor="a")
    assert stage.process([_item(by_form, "public_order")]).outputs[by_form].agency == "so-yt"
    with db.write() as session, pytest.raises(NotFound):
        update_rule(session, 10**9, RuleIn(agency="so-yt"), actor="a")


def test_a_broken_store_leaves_routing_to_the_topic(settings: Settings) -> None:
    broken = Database.from_settings(settings)  # never migrated: no routing tables
    try:
        stage = RouteStage(settings, routing_rules=StoredRules(broken), embedder=None)
        out = stage.process([_item(5, "health")]).outputs[5]
    finally:
        broken.dispose()
    assert out.agency == "so-yt" and out.alternatives[0].reason == "taxonomy"


WATER = "Nước sinh hoạt ở khu phố {i} bị đục, có mùi lạ, mất nước nhiều ngày liền, số nhà {i}."
SCHOOL = "Trường tiểu học số {i} thu thêm nhiều khoản phí ngoài quy định, phụ huynh bức xúc lần {i}."


def _analyse(db: Database, settings: Settings) -> None:
    quick = settings.model_copy(update={"stages": ["language", "normalize", "pii"]})
    Worker(db, build_pipeline(quick, db), quick, hooks=[]).drain()


def test_moves_are_facts_and_train_learns_the_corrected_agency(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    ids = {
        kind: [_submission(db, settings, text.format(i=i)) for i in range(12)]
        for kind, text in (("water", WATER), ("school", SCHOOL))
    }
    _analyse(db, settings)
    agencies = [a.code for a in TAXONOMY.agencies]
    with db.write() as session:
        for submission_id in ids["water"]:
            record_assignment(session, submission_id, "so-xd", actor="officer@example.org", agencies=agencies)
        for submission_id in ids["school"]:
            record_assignment(
                session, submission_id, "so-gddt", actor="officer@example.org", agencies=agencies
            )
        for submission_id in ids["water"]:  # the officers of so-xd send every water complaint on
            record_assignment(
                session,
                submission_id,
                "so-ct",
                actor="officer@example.org",
                kind="reassigned",
                reason="not ours",
            )
        record_assignment(session, ids["school"][0], "vp-ubnd", actor="router", automatic=True)
        with pytest.raises(Unprocessable):
            record_assignment(session, ids["school"][1], "so-nowhere", actor="a", agencies=agencies)
        with pytest.raises(NotFound):
            record_assignment(session, 10**9, "so-yt", actor="a")
    with db.read() as session:
        pairs = assignment_texts(session)
        facts = session.scalars(
            select(RoutingFactRow).where(RoutingFactRow.submission_id == ids["water"][0])
        ).all()
        moved = session.get(SubmissionRow, ids["water"][0])
        events = session.scalars(select(EventRow.kind).where(EventRow.submission_id == ids["water"][0])).all()
        audits = session.scalars(select(AuditRow.action)).all()
    assert [(f.kind, f.agency, f.previous) for f in facts] == [
        ("assigned", "so-xd", None),
        ("reassigned", "so-ct", "so-xd"),
    ]
    assert moved.agency == "so-ct" and "reassigned" in events
    assert audits.count("routing.assigned") == 24 and audits.count("routing.reassigned") == 12
    assert (
        sorted(agency for _, agency in pairs) == ["so-ct"] * 12 + ["so-gddt"] * 12
    )  # the router's move is not taught
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
    env.update(
        CIVICPULSE_DATABASE_URL=settings.database_url,
        CIVICPULSE_SECRET_KEY=TEST_SECRET,
        CIVICPULSE_MODEL_DIR=str(tmp_path / "models"),
        CIVICPULSE_CLASSIFY_WITH_EMBEDDINGS="false",
    )
    done = subprocess.run(
        [str(CLI), "train", "--task", "agency"], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "agency: trained on 24" in done.stderr
    stage = RouteStage(make_settings(settings.database_url, model_dir=tmp_path / "models"), embedder=None)
    new = AnalysisItem(id=0, text="Nước máy nhà tôi bị đục và có mùi lạ mấy hôm nay, mong được kiểm tra.")
    out = stage.process([new]).outputs[0]
    assert out.agency == "so-ct" and out.alternatives[0].reason == "model"
    assert [c.agency for c in out.alternatives][:2] == ["so-ct", "so-gddt"]


def test_sure_routes_are_assigned_and_the_rest_wait_in_triage(db: Database, settings: Settings) -> None:
    with db.write() as session:
        add_rule(session, RuleIn(agency="so-xd", province=DA_NANG), actor="admin@example.org")
    sure = _submission(db, settings, "Công trình xây dựng trái phép trên đường Bạch Đằng, thành phố Đà Nẵng.")
    unsure = _submission(db, settings, "Mong cơ quan chức năng xem xét giúp việc này.")
    taken = _submission(db, settings, "Công trình ở Đà Nẵng xây lấn vỉa hè.")
    with db.write() as session:
        session.get(SubmissionRow, taken).agency = "so-nv"  # assigned already: never moved by the router
    run = settings.model_copy(update={"stages": ["language", "normalize", "pii", "places", "route"]})
    Worker(db, build_pipeline(run, db), run, hooks=[AutoAssign(run)]).drain()
    with db.read() as session:
        agencies = {i: session.get(SubmissionRow, i).agency for i in (sure, unsure, taken)}
        facts = session.scalars(select(RoutingFactRow)).all()
        waiting = triage_queue(session)
    assert agencies == {sure: "so-xd", unsure: None, taken: "so-nv"}
    assert [(f.submission_id, f.automatic, f.actor) for f in facts] == [(sure, True, "router")]
    assert [w.submission_id for w in waiting] == [unsure]


def test_rules_api_admins_write_analysts_read(live_server: LiveServer) -> None:
    analyst = live_server.user_token("analyst@example.org", Role.analyst)
    officer = live_server.user_token("officer@example.org", Role.agency_officer, ("so-yt",))
    with live_server.client() as admin:
        created = admin.post(
            "/api/v1/routing/rules", json={"agency": "so-yt", "topic": "health", "province": HANOI}
        )
        assert created.status_code == 201, created.text
        rule = created.json()
        assert rule["position"] == 0 and "Thành phố Hà Nội" in rule["description"]["vi"]
        assert "Department of Health" in rule["description"]["en"]
        second = admin.post("/api/v1/routing/rules", json={"agency": "cong-an", "channel": "hotline"}).json()
        assert second["position"] > rule["position"]
        for bad in (
            {"agency": "so-yt", "topic": "weather"},
            {"agency": "nobody"},
            {"agency": "so-yt", "extra": 1},
        ):
            refused = admin.post("/api/v1/routing/rules", json=bad)
            assert refused.status_code == 422 and refused.json()["error"]["message"], bad
        changed = admin.put(f"/api/v1/routing/rules/{rule['id']}", json={"agency": "so-yt", "active": False})
        assert (
            changed.status_code == 200
            and changed.json()["active"] is False
            and changed.json()["topic"] is None
        )
        assert admin.put("/api/v1/routing/rules/999999", json={"agency": "so-yt"}).status_code == 404
    with live_server.client(analyst) as client:
        listed = client.get("/api/v1/routing/rules")
        assert listed.status_code == 200 and [r["id"] for r in listed.json()] == [rule["id"], second["id"]]
        assert client.post("/api/v1/routing/rules", json={"agency": "so-yt"}).status_code == 403
        assert client.delete(f"/api/v1/routing/rules/{rule['id']}").status_code == 403
        submission = client.post("/api/v1/submissions", json={"text": "Bệnh viện quá tải"})
    with live_server.client(officer) as client:
        assert client.get("/api/v1/routing/rules").status_code == 403
    with live_server.client() as admin:
        assert admin.delete(f"/api/v1/routing/rules/{rule['id']}").status_code == 204
        assert admin.delete(f"/api/v1/routing/rules/{rule['id']}").status_code == 404
        assert [r["id"] for r in admin.get("/api/v1/routing/rules").json()] == [second["id"]]
        sid = admin.post("/api/v1/submissions", json={"text": "Bệnh viện tuyến huyện quá tải"}).json()["id"]
        moved = admin.post(
            "/api/v1/routing/assignments", json={"submission_id": sid, "agency": "so-yt", "kind": "corrected"}
        )
        assert moved.status_code == 201 and moved.json()["kind"] == "corrected"
        assert (
            admin.post(
                "/api/v1/routing/assignments", json={"submission_id": sid, "agency": "x-y"}
            ).status_code
            == 422
        )
        assert (
            admin.post(
                "/api/v1/routing/assignments", json={"submission_id": 10**9, "agency": "so-yt"}
            ).status_code
            == 404
        )
        assert admin.get("/api/v1/routing/triage").status_code == 200
    assert submission.status_code == 201
    with live_server.db.read() as session:
        assert session.get(SubmissionRow, sid).agency == "so-yt"
        assert [r.id for r in list_rules(session)] == [second["id"]]


class Cli:
    """The installed command with a fresh SQLite store and words-only models (fast)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
        self.env.update(
            CIVICPULSE_DATABASE_URL=f"sqlite:///{folder / 'cli.db'}",
            CIVICPULSE_SECRET_KEY=TEST_SECRET,
            CIVICPULSE_CLASSIFY_WITH_EMBEDDINGS="false",
            COLUMNS="200",
        )

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args], env=self.env, cwd=self.folder, capture_output=True, text=True, timeout=300
        )


HISTORY = {
    "water": "Water from the tap is brown and smells bad in street {i}, please check the pipes",
    "roads": "The road in district {i} has deep potholes and cars get damaged every day",
    "schools": "School {i} charges parents extra fees that are not allowed by the rules",
    "health": "The clinic in ward {i} has no doctor on duty at night and patients wait",
}


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_route_command_end_to_end_with_bad_lines(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    history = [
        json.dumps({"text": t.format(i=i), "agency": a}) for a, t in HISTORY.items() for i in range(10)
    ]
    history.insert(3, '{"text": "no agency here"}')
    train = _write_lines(tmp_path / "history.jsonl", history)
    new = [
        {"id": "a", "text": "Tap water smells bad and is brown in our street"},
        {"id": "b", "text": "Potholes on the road damaged my car"},
        "this is not json",
        {"id": "c", "text": "   "},
        {"id": "d", "text": "Extra fees at the school for parents", "note": {"kept": True}},
    ]
    source = _write_lines(tmp_path / "new.jsonl", [x if isinstance(x, str) else json.dumps(x) for x in new])
    output = tmp_path / "routed.jsonl"
    done = cli("route", "--train", str(train), "--input", str(source), "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert "history.jsonl line 4: no agency" in done.stderr
    assert "new.jsonl line 3: not JSON" in done.stderr and "new.jsonl line 4: no text" in done.stderr
    assert "routed 3, rejected 2" in done.stderr
    routed = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in routed] == ["a", "b", "d"] and routed[2]["note"] == {"kept": True}
    assert [r["agency"] for r in routed] == ["water", "roads", "schools"]
    for r in routed:
        assert len(r["alternatives"]) == 3 and r["alternatives"][0] == {
            "agency": r["agency"],
            "confidence": r["confidence"],
        }
        assert [a["confidence"] for a in r["alternatives"]] == sorted(
            (a["confidence"] for a in r["alternatives"]), reverse=True
        )
    one_agency = _write_lines(
        tmp_path / "one.jsonl", [json.dumps({"text": f"x {i}", "agency": "a"}) for i in range(5)]
    )
    failed = cli("route", "--train", str(one_agency), "--input", str(source), "--output", str(output))
    assert failed.returncode == 1 and "at least two labels" in failed.stderr
    assert len(output.read_text(encoding="utf-8").splitlines()) == 3  # the old output is untouched
    missing = cli(
        "route", "--train", str(tmp_path / "nope.jsonl"), "--input", str(source), "--output", str(output)
    )
    assert missing.returncode == 1 and "not a readable file" in missing.stderr


def test_rules_import_is_all_or_nothing_and_list_reads_in_plain_words(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    good = [
        {"agency": "so-yt", "topic": "health"},
        {"agency": "cong-an", "channel": "hotline", "province": HANOI},
    ]
    bad = _write_lines(
        tmp_path / "bad.jsonl", [json.dumps(good[0]), "{oops", json.dumps({"agency": "nobody"})]
    )
    refused = cli("routing", "rules", "import", str(bad))
    assert refused.returncode == 1
    assert (
        "bad.jsonl line 2: not JSON" in refused.stderr
        and "bad.jsonl line 3: unknown agency" in refused.stderr
    )
    rules = _write_lines(tmp_path / "rules.jsonl", [json.dumps(r) for r in good])
    imported = cli("routing", "rules", "import", str(rules))
    assert imported.returncode == 0 and "imported 2 rules" in imported.stderr, imported.stderr
    again = cli("routing", "rules", "import", str(rules), "--append")
    assert again.returncode == 0
    listed = cli("routing", "rules", "list", "--lang", "en", "--json")
    assert listed.returncode == 0, listed.stderr
    stored = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["agency"] for r in stored] == ["so-yt", "cong-an", "so-yt", "cong-an"]
    assert "Department of Health" in stored[0]["description"] and "the hotline" in stored[1]["description"]
    replaced = cli("routing", "rules", "import", str(rules))
    assert replaced.returncode == 0
    table = cli("routing", "rules", "list")
    assert table.returncode == 0 and table.stdout.count("Sở Y tế") == 1 and "đường dây nóng" in table.stdout
