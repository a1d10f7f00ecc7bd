"""Alert rules over real analysed submissions, on SQLite and PostgreSQL: an e-mail arrives at a local
SMTP server, a webhook to a local HTTP server carries a signature that verifies, a failing webhook
is retried with backoff and logged, k-anonymity, officers' sight, digests, the dry run, and the
API's acknowledge and mute (audited)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from civicpulse.analysis.pii import PiiStage
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.analysis.places import PlacesStage
from civicpulse.api.routers.alerts import scope_of_owner
from civicpulse.domain import Contact, Role, SubmissionIn
from civicpulse.insight.alert_runs import RunReport, run_alerts
from civicpulse.insight.campaigns import CampaignRules
from civicpulse.insight.counts import rebuild_counts
from civicpulse.insight.webhook_guard import WebhookRefused, check_webhook_url
from civicpulse.intake.service import accept
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.alerts import open_secret, seal_secret
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.counts import LOCAL_TZ
from civicpulse.store.db import Database
from civicpulse.store.tables import AlertDeliveryRow, AlertRow, AlertRuleRow, AnnotationRow, AuditRow, utcnow
from civicpulse.store.users import create_token, create_user
from civicpulse.taxonomy import load_taxonomy
from tests.conftest import LiveServer, make_settings
from tests.pg import free_port
from tests.server import serving
from tests.test_answers_api import Inbox
from tests.test_warnings import NAME, PHONE, PLACES, SPIKE, cli_on, seed

SECRET = "s3cret-for-the-webhook-0123"


def at(hours: float = 0.0) -> datetime:
    """An instant on the evening of the spike day (Vietnam time), ``hours`` later."""
    return datetime(SPIKE.year, SPIKE.month, SPIKE.day, 20, tzinfo=LOCAL_TZ) + timedelta(hours=hours)


class Hook:
    """A webhook receiver on loopback that answers with the given status codes in turn (then 200)."""

    def __init__(self, codes: list[int] | None = None) -> None:
        self.codes = list(codes or [])
        self.calls: list[tuple[dict[str, str], bytes]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.calls.append((dict(self.headers.items()), body))
                self.send_response(hook.codes.pop(0) if hook.codes else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def seeded(settings: Settings, db: Database) -> Database:
    """Nine weeks of routine submissions and a waste spike in province 79 (14 senders), counted."""
    seed(settings, db)
    with db.write() as session:
        rebuild_counts(session, CampaignRules.from_settings(settings))
    return db


def mail_settings(settings: Settings, port: int, **more: Any) -> Settings:
    return make_settings(
        settings.database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        mail_from="alerts@civicpulse.example.org",
        **more,
    )


def sealed(secret: str) -> str | None:
    """A webhook secret as the store keeps it (the tests' key)."""
    return seal_secret(ContactCipher(make_settings("sqlite://").fernet_key), secret)


def add_rule(
    db: Database, owner: str, role: Role = Role.analyst, agencies: tuple[str, ...] = (), **values: Any
) -> int:
    """A user and one rule of theirs, stored directly (a webhook secret sealed); its id."""
    if values.get("webhook_secret"):
        values["webhook_secret"] = sealed(values["webhook_secret"])
    with db.write() as session:
        user = create_user(session, owner, "password-123", role, agencies)
        rule = AlertRuleRow(
            owner_id=user.id,
            name=values.pop("name", "waste in 79"),
            kind=values.pop("kind", "spike"),
            period="daily",
            email=values.pop("email", False),
            digest=values.pop("digest", "none"),
            muted=False,
            created_at=at(-72),
            updated_at=at(-72),
            **values,
        )
        session.add(rule)
        session.flush()
        return rule.id


def run(db: Database, settings: Settings, hours: float = 0.0) -> RunReport:
    return run_alerts(db, settings, scope_of_owner(load_taxonomy(None)), now=at(hours))


def test_a_spike_alert_arrives_by_mail_once_without_naming_anyone(
    seeded: Database, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    configured = mail_settings(settings, port)
    add_rule(seeded, "watcher@example.org", topic="environment", province="79", email=True)
    first = run(seeded, configured)
    assert (first.fired, first.delivery.sent) == (1, 1)
    inbox.wait(1)
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["watcher@example.org"]
    body = message.get_content()
    assert "waste in 79" in message["Subject"] and SPIKE.isoformat() in body
    assert NAME not in body and PHONE not in body and "[" in body  # redacted quotes only
    again = run(seeded, configured, hours=1)
    assert (again.fired, again.delivery.sent) == (0, 0)
    with seeded.read() as session:
        audits = session.scalars(select(AuditRow.action).where(AuditRow.action.like("alert.%"))).all()
    assert sorted(audits) == ["alert.deliver", "alert.fire"]


def test_k_anonymity_keeps_a_small_spike_silent(seeded: Database, settings: Settings) -> None:
    add_rule(seeded, "watcher@example.org", topic="environment", province="79")
    strict = make_settings(settings.database_url, k_anonymity=20)  # the spike has 14 senders
    assert run(seeded, strict).fired == 0
    assert run(seeded, settings).fired == 1


def test_a_webhook_is_signed_and_a_failing_one_is_retried_with_backoff(
    seeded: Database, settings: Settings
) -> None:
    hook = Hook(codes=[500, 503])
    try:
        configured = make_settings(
            settings.database_url,
            alert_retry_base_seconds=600,
            alert_max_attempts=4,
            alert_webhook_allow_private=True,
        )
        rule_id = add_rule(
            seeded,
            "ops@example.org",
            topic="environment",
            province="79",
            webhook_url=hook.url,
            webhook_secret=SECRET,
        )
        assert run(seeded, configured).delivery.retrying == 1
        assert run(seeded, configured, hours=5 / 60).delivery.retrying == 0  # 10 minutes not yet over
        assert run(seeded, configured, hours=11 / 60).delivery.retrying == 1  # second try; then 20 minutes
        assert run(seeded, configured, hours=25 / 60).delivery.sent == 0
        assert run(seeded, configured, hours=32 / 60).delivery.sent == 1
    finally:
        hook.close()
    assert len(hook.calls) == 3
    headers, body = hook.calls[-1]
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-CivicPulse-Signature"], expected)
    assert headers["X-CivicPulse-Timestamp"] == str(int(at(32 / 60).timestamp()))
    document = json.loads(body)
    assert document["event"] == "alert" and document["rule"]["id"] == rule_id
    assert document["alerts"][0]["series"]["topic"] == "environment"
    assert NAME not in body.decode() and PHONE not in body.decode()
    with seeded.read() as session:
        log = session.scalars(select(AlertDeliveryRow).order_by(AlertDeliveryRow.id)).all()
        attempts = [(d.attempt, d.status, d.response_code) for d in log]
        gaps = [round((b.tried_at - a.tried_at).total_seconds() / 60) for a, b in itertools.pairwise(log)]
    assert attempts == [(1, "failed", 500), (2, "failed", 503), (3, "sent", 200)]
    assert gaps == [11, 21]


def test_a_webhook_that_keeps_failing_gives_up_after_the_last_attempt(
    seeded: Database, settings: Settings
) -> None:
    hook = Hook(codes=[500] * 10)
    try:
        configured = make_settings(
            settings.database_url,
            alert_retry_base_seconds=60,
            alert_max_attempts=2,
            alert_webhook_allow_private=True,
        )
        add_rule(
            seeded,
            "ops@example.org",
            topic="environment",
            province="79",
            webhook_url=hook.url,
            webhook_secret=SECRET,
        )
        run(seeded, configured)
        assert run(seeded, configured, hours=1).delivery.failed == 1
        assert run(seeded, configured, hours=5).delivery == run(seeded, configured, hours=6).delivery
    finally:
        hook.close()
    assert len(hook.calls) == 2


def test_an_officer_rule_never_sees_another_agencys_series(seeded: Database, settings: Settings) -> None:
    outside = add_rule(seeded, "roads@example.org", Role.agency_officer, ("so-xd",), topic="environment")
    inside = add_rule(seeded, "green@example.org", Role.agency_officer, ("so-nnmt",), topic="environment")
    report = run(seeded, settings)
    assert (report.fired, report.out_of_sight) == (1, 1)
    with seeded.read() as session:
        assert [a.rule_id for a in session.scalars(select(AlertRow))] == [inside]
        assert outside != inside


def test_a_daily_digest_groups_the_alerts_in_one_mail(
    seeded: Database, settings: Settings, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    configured = mail_settings(settings, port, k_anonymity=2)
    add_rule(seeded, "chief@example.org", kind="threshold", level=3.0, email=True, digest="daily", name="all")
    report = run(seeded, configured)
    assert (report.fired, report.digests, report.delivery.sent) == (2, 1, 1)
    inbox.wait(1)
    assert len(inbox.messages) == 1
    message = inbox.messages[0][1]
    assert "(2)" in message["Subject"]
    body = message.get_content()
    assert (SPIKE - timedelta(days=1)).isoformat() in body and SPIKE.isoformat() in body
    later = run(seeded, configured, hours=2)
    assert (later.fired, later.digests) == (0, 0)


def test_alerts_test_lists_what_a_rule_would_have_fired(
    seeded: Database, settings: Settings, tmp_path: Path
) -> None:
    rule = tmp_path / "rule.toml"
    rule.write_text('kind = "spike"\ntopic = "environment"\nprovince = "79"\n', encoding="utf-8")
    cli = cli_on(settings, tmp_path)
    since, until = (SPIKE - timedelta(days=30)).isoformat(), SPIKE.isoformat()
    done = cli("alerts", "test", str(rule), "--from", since, "--to", until, "--format", "json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert [f["key"] for f in found] == [f"spike:{SPIKE.isoformat()}"]
    assert found[0]["figures"]["observed"] >= 14
    assert NAME not in done.stdout and PHONE not in done.stdout
    roads = tmp_path / "roads.json"
    roads.write_text(json.dumps({"kind": "spike", "topic": "environment"}), encoding="utf-8")
    with seeded.write() as session:
        create_user(session, "roads@example.org", "password-123", Role.agency_officer, ("so-xd",))
    refused = cli(
        "alerts", "test", str(roads), "--owner", "roads@example.org", "--from", since, "--to", until
    )
    assert refused.returncode == 1 and "agencies" in refused.stderr
    with seeded.read() as session:
        assert session.scalars(select(AlertRow)).all() == []


@pytest.fixture
def officer(live_server: LiveServer) -> str:
    with live_server.db.write() as session:
        user = create_user(session, "green@example.org", "password-123", Role.agency_officer, ("so-nnmt",))
        return create_token(session, user)


def test_rules_crud_ack_and_mute_through_the_api_are_audited(
    live_server: LiveServer, officer: str, settings: Settings
) -> None:
    seed(settings, live_server.db)
    with live_server.db.write() as session:
        rebuild_counts(session, CampaignRules.from_settings(settings))
    body = {"name": "Rác ở 79", "kind": "spike", "topic": "environment", "province": "79", "email": False}
    with live_server.client(officer) as client:
        created = client.post("/api/v1/alerts/rules", json=body)
        assert created.status_code == 201, created.text
        rule = created.json()
        assert client.post("/api/v1/alerts/rules", json={**body, "topic": "traffic"}).status_code == 403
        assert client.get("/api/v1/alerts/rules").json() == [rule]
    assert run(live_server.db, settings).fired == 1
    with live_server.client(officer) as client:
        (alert,) = client.get("/api/v1/alerts").json()
        assert alert["series"]["topic"] == "environment" and alert["acked_at"] is None
        assert len(alert["explanation"]["quotes"]) >= 1
        acked = client.post(f"/api/v1/alerts/{alert['id']}/ack")
        assert acked.status_code == 200 and acked.json()["acked_by"] == "green@example.org"
        assert client.get("/api/v1/alerts", params={"unacked": True}).json() == []
        muted = client.patch(f"/api/v1/alerts/rules/{rule['id']}", json={"muted": True})
        assert muted.status_code == 200 and muted.json()["muted"] is True
    with live_server.client() as admin:  # another user's rule and alert do not exist for them
        assert admin.get(f"/api/v1/alerts/rules/{rule['id']}").status_code == 404
        assert admin.post(f"/api/v1/alerts/{alert['id']}/ack").status_code == 404
    with live_server.db.write() as session:
        session.execute(AlertRow.__table__.delete())
    assert run(live_server.db, settings).fired == 0  # muted: not evaluated
    with live_server.db.read() as session:
        actions = session.execute(
            select(AuditRow.action, AuditRow.status)
            .where(AuditRow.actor == "green@example.org", AuditRow.action.not_like("GET %"))
            .order_by(AuditRow.id)
        ).all()
    assert [tuple(a) for a in actions] == [
        ("alert_rule.create", 201),
        ("POST /api/v1/alerts/rules", 403),
        ("alert.ack", 200),
        ("alert_rule.mute", 200),
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "threshold"},
        {"kind": "spike", "period": "hourly"},
        {"kind": "forecast", "level": 5, "query": "rác thải"},
        {"topic": "no-such-topic"},
        {"province": "Atlantis"},
        {"webhook_url": "ftp://example.org/x", "webhook_secret": SECRET},
        {"webhook_url": "https://example.org/x"},
        {"webhook_secret": "short", "webhook_url": "https://example.org/x"},
        {"name": "two\nlines"},
        {"theme": 999},
        {"level": -1, "kind": "threshold"},
        {"surprise": 3},
        {"kind": "rumour", "level": 5},
        {"kind": "rumour", "topic": None},
    ],
)
def test_bad_rules_are_refused_with_422(live_server: LiveServer, change: dict[str, Any]) -> None:
    body = {"name": "rule", "kind": "spike", "topic": "environment", **change}
    with live_server.client() as client:
        answer = client.post("/api/v1/alerts/rules", json=body)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] in ("validation_error", "invalid_input")
        assert client.get("/api/v1/alerts/rules").json() == []


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Host names this test's DNS answers: name -> its next answers (the last one stays); other
    names resolve as usual."""
    names: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def lookup(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        answers = names.get(host)
        if not answers:
            return real(host, port, *args, **kwargs)
        return real(answers.pop(0) if len(answers) > 1 else answers[0], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return names


NETWORK_URLS = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as one number
    "http://10.0.0.7/hook",
    "http://192.168.1.20/hook",
    "http://100.64.0.9/hook",
    "http://169.254.169.254/latest/meta-data",
    "http://0.0.0.0/hook",
    "http://224.0.0.251/hook",
    "http://240.0.0.1/hook",
    "http://[::1]/hook",
    "http://[::ffff:10.0.0.7]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::5]/hook",
    "http://[ff02::1]/hook",
    "http://inside.example.test/hook",  # resolves to a private address
]


def test_webhooks_into_the_offices_network_are_refused_and_a_public_one_is_kept_sealed(
    live_server: LiveServer, dns: dict[str, list[str]]
) -> None:
    assert live_server.settings.alert_webhook_allow_private is False
    dns["inside.example.test"] = ["10.1.2.3"]
    body = {"name": "hook", "kind": "spike", "topic": "environment", "email": False, "webhook_secret": SECRET}
    with live_server.client() as client:
        for url in NETWORK_URLS:
            answer = client.post("/api/v1/alerts/rules", json={**body, "webhook_url": url})
            assert answer.status_code == 422, (url, answer.text)
            error = answer.json()["error"]
            assert error["code"] == "webhook_refused", url
            assert error["details"]["fields"][0]["field"] == "body.webhook_url"
            assert "network" in error["message"], url
        assert client.get("/api/v1/alerts/rules").json() == []
        created = client.post("/api/v1/alerts/rules", json={**body, "webhook_url": "https://93.184.216.34/h"})
        assert created.status_code == 201, created.text
        rule = created.json()
        assert rule["webhook_secret_set"] is True and SECRET not in created.text
        muted = client.patch(f"/api/v1/alerts/rules/{rule['id']}", json={"muted": True})
        assert muted.status_code == 200, muted.text  # the stored secret is kept, not asked again
    with live_server.db.read() as session:
        stored = session.get(AlertRuleRow, rule["id"]).webhook_secret
    assert stored != SECRET and SECRET not in stored
    assert open_secret(ContactCipher(live_server.settings.fernet_key), stored) == SECRET


def test_production_webhooks_must_use_https() -> None:
    production = make_settings("sqlite://", env="production")
    with pytest.raises(WebhookRefused, match="https"):
        check_webhook_url("http://93.184.216.34/hook", production)
    check_webhook_url("https://93.184.216.34/hook", production)
    with pytest.raises(WebhookRefused, match="http:// or https://"):
        check_webhook_url("file:///etc/passwd", make_settings("sqlite://"))


def test_a_host_that_resolves_inside_at_delivery_time_is_not_called(
    seeded: Database, live_server: LiveServer, dns: dict[str, list[str]]
) -> None:
    hook = Hook()
    try:
        dns["hooks.example.test"] = ["93.184.216.34"]
        url = hook.url.replace("127.0.0.1", "hooks.example.test")
        body = {"name": "ops", "kind": "spike", "topic": "environment", "province": "79", "email": False}
        with live_server.client() as client:
            created = client.post(
                "/api/v1/alerts/rules", json={**body, "webhook_url": url, "webhook_secret": SECRET}
            )
            assert created.status_code == 201, created.text
        dns["hooks.example.test"] = ["127.0.0.1"]  # the name now points into the office
        report = run(seeded, live_server.settings)
    finally:
        hook.close()
    assert (report.fired, report.delivery.sent, report.delivery.retrying) == (1, 0, 1)
    assert hook.calls == []
    with seeded.read() as session:
        (attempt, retry) = session.scalars(select(AlertDeliveryRow).order_by(AlertDeliveryRow.id)).all()
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "alert.deliver")).one()
    assert attempt.status == "failed" and attempt.response_code is None
    assert "not sent" in attempt.error and "127.0.0.1, a loopback address" in attempt.error
    assert retry.status == "pending" and audit.status == 502


def test_a_webhook_secret_is_stored_sealed_and_the_call_goes_to_the_checked_address(
    seeded: Database, settings: Settings, dns: dict[str, list[str]]
) -> None:
    allowed = make_settings(settings.database_url, alert_webhook_allow_private=True)
    with seeded.write() as session:
        token = create_token(session, create_user(session, "ops@example.org", "password-123", Role.analyst))
    hook = Hook()
    try:
        dns["hooks.example.test"] = ["127.0.0.1"]
        url = hook.url.replace("127.0.0.1", "hooks.example.test")
        body = {"name": "ops", "kind": "spike", "topic": "environment", "province": "79", "email": False}
        with (
            serving(allowed) as base,
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client,
        ):
            created = client.post(
                "/api/v1/alerts/rules", json={**body, "webhook_url": url, "webhook_secret": SECRET}
            )
            assert created.status_code == 201, created.text
        # one check before the call, then an address that would fail: the call uses the checked one
        dns["hooks.example.test"] = ["127.0.0.1", "192.0.2.1"]
        assert run(seeded, allowed).delivery.sent == 1
    finally:
        hook.close()
    with seeded.read() as session:
        stored = session.get(AlertRuleRow, created.json()["id"]).webhook_secret
    assert stored and SECRET not in stored
    ((headers, sent),) = hook.calls
    expected = "sha256=" + hmac.new(SECRET.encode(), sent, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-CivicPulse-Signature"], expected)
    assert headers["Host"] == url.split("/")[2]


def seed_today(settings: Settings, db: Database, senders: int) -> None:
    """``senders`` waste complaints received a few minutes ago, analysed and counted."""
    received = utcnow() - timedelta(minutes=5)
    items = [
        SubmissionIn(
            text=f"Bãi rác ở kênh bốc mùi, nước rỉ rác chảy xuống kênh, lần thứ {n}.",
            received_at=received,
            contact=Contact(email=f"ke-{n}@example.org"),
            locality=PLACES["79"],
        )
        for n in range(senders)
    ]
    accepted = accept(db, ContactCipher(settings.fernet_key), items, actor="test", client=None)
    pipeline = Pipeline([PiiStage(settings, use_ner=False), PlacesStage(settings)])
    Worker(db, pipeline, settings, hooks=[]).drain()
    with db.write() as session:
        for done in accepted:
            session.add(AnnotationRow(submission_id=done.id, stage="topic", data={"code": "environment"}))
    with db.write() as session:
        rebuild_counts(session, CampaignRules.from_settings(settings))


def test_the_server_runs_the_alerts_on_its_own_and_mails_them(
    settings: Settings, db: Database, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    seed_today(settings, db, senders=6)
    add_rule(
        db, "watcher@example.org", kind="threshold", level=5.0, topic="environment", email=True, name="today"
    )
    running = mail_settings(settings, port, alert_run_interval_seconds=0.2)
    with serving(running):
        inbox.wait(1, timeout=30)
        assert len(inbox.messages) == 1, "the server's alert thread sent nothing"
        deadline = datetime.now() + timedelta(seconds=1)
        while datetime.now() < deadline:  # a few more rounds: the alert fires once
            inbox.wait(2, timeout=0.2)
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["watcher@example.org"] and "today" in message["Subject"]
    with db.read() as session:
        assert len(session.scalars(select(AlertRow)).all()) == 1


def test_a_claim_repeated_by_enough_people_raises_a_rumour_alert_by_mail(
    settings: Settings, db: Database, smtp: tuple[Inbox, int]
) -> None:
    from tests.test_rumours import MOTORBIKES, analysed, load_claims, rumour_hook, run_hook

    inbox, port = smtp
    configured = mail_settings(settings, port)
    load_claims(db)
    hook = rumour_hook(configured)
    repeat = "Nghe nói từ 1/7 xe máy đăng ký hơn 10 năm sẽ bị cấm chạy trong nội thành, lần {}."
    run_hook(db, hook, analysed(db, configured, [repeat.format(n) for n in range(4)], province="87"))
    add_rule(db, "watcher@example.org", kind="rumour", level=4.0, query="xe may", email=True, name="xe")
    add_rule(db, "other@example.org", kind="rumour", level=4.0, query="thạch tín", name="arsenic")
    now = utcnow()
    quiet = run_alerts(db, configured, scope_of_owner(load_taxonomy(None)), now=now)
    assert quiet.fired == 0  # four people: under k_anonymity (5) though the rule asks for 4

    run_hook(db, hook, analysed(db, configured, [repeat.format(4)], province="87"))
    report = run_alerts(db, configured, scope_of_owner(load_taxonomy(None)), now=now + timedelta(minutes=1))
    assert (report.fired, report.delivery.sent) == (1, 1)
    inbox.wait(1)
    (recipients, message), *_ = inbox.messages
    body = message.get_content()
    assert recipients == ["watcher@example.org"] and "xe" in message["Subject"]
    assert MOTORBIKES in body and "people 5" in body
    assert "lần" not in body  # the claim, never a citizen's words
    again = run_alerts(db, configured, scope_of_owner(load_taxonomy(None)), now=now + timedelta(minutes=2))
    assert again.fired == 0
    later = run_alerts(db, configured, scope_of_owner(load_taxonomy(None)), now=now + timedelta(days=3))
    assert later.fired == 0  # the window has passed
