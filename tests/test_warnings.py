"""Spike warnings: the detector on synthetic series, and warnings that explain themselves over
real analysed submissions, through the API and the CLI, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from civicpulse.analysis.pii import PiiStage
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.analysis.places import PlacesStage
from civicpulse.domain import Contact, Role, SubmissionIn
from civicpulse.insight.campaigns import CampaignRules
from civicpulse.insight.counts import update_counts
from civicpulse.insight.spikes import SpikeDetector, alert_runs, holiday_mask
from civicpulse.insight.warnings import SpikeWarning, find_warnings, refresh_warnings, stored_warnings
from civicpulse.intake.service import accept
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.counts import LOCAL_TZ
from civicpulse.store.db import Database
from civicpulse.store.detections import due_keys, stored_series
from civicpulse.store.tables import AnnotationRow
from tests.conftest import LiveServer
from tests.test_cli import CLI, Cli

SPIKE = date(2026, 6, 15)
FIRST = SPIKE - timedelta(days=63)
PHONE = "0912345678"
NAME = "Nguyễn Văn Minh"
PLACES = {"01": "Phường Hoàn Kiếm, Hà Nội", "79": "Phường Sài Gòn, TP. Hồ Chí Minh"}
ROUTINE = "Đề nghị kiểm tra việc {what} ở khu phố, người dân phản ánh nhiều lần. Ý kiến ngày {day} số {n}."
COMPLAINT = (
    "Tôi là {name}, số điện thoại {phone}. Bãi rác tự phát ở kênh Nhiêu Lộc bốc mùi hôi thối suốt tuần "
    "nay, nước rỉ rác chảy xuống kênh ({n})."
)


def _poisson(rng: np.random.Generator, mean: np.ndarray) -> np.ndarray:
    return rng.poisson(mean).astype(float)


def test_weekly_seasonality_raises_no_warning_and_a_real_spike_does() -> None:
    rng = np.random.default_rng(7)
    weekday = np.array([1.3, 1.2, 1.1, 1.1, 1.0, 0.35, 0.25])
    days = 364
    y = _poisson(rng, 20 * weekday[np.arange(days) % 7])
    assert not alert_runs(SpikeDetector().run(y))
    y[300] += 25
    assert alert_runs(SpikeDetector().run(y)) == [(300, 300)]


def test_sparse_series_and_the_start_of_a_series() -> None:
    rng = np.random.default_rng(11)
    sparse = _poisson(rng, np.full(365, 0.15))
    assert not alert_runs(SpikeDetector().run(sparse))
    young = np.zeros(60)
    young[5] = 12  # too early: no history yet
    young[50] = 12
    assert alert_runs(SpikeDetector().run(young)) == [(50, 50)]


def test_tet_dip_and_rebound_are_expected() -> None:
    rng = np.random.default_rng(3)
    first = date(2025, 11, 1)
    days = 150
    hol = holiday_mask(first, days)
    tet = [i for i in range(days) if hol[i] and (first + timedelta(days=i)).month == 2]
    assert len(tet) >= 5  # Lunar New Year 2026, 16-20 February
    mean = np.full(days, 30.0)
    mean[tet] = 3.0
    after = tet[-1] + 1
    mean[after : after + 4] = [75.0, 60.0, 45.0, 38.0]  # the backlog comes back
    y = _poisson(rng, mean)
    assert not alert_runs(SpikeDetector().run(y, hol))
    assert alert_runs(SpikeDetector().run(y))  # without the calendar, the rebound would warn


def _noon(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ)


def _analyse(settings: Settings, db: Database, items: list[SubmissionIn], topics: list[str]) -> list[int]:
    """Store and analyse these submissions (redaction, places; the given topics)."""
    accepted = accept(db, ContactCipher(settings.fernet_key), items, actor="test", client=None)
    pipeline = Pipeline([PiiStage(settings, use_ner=False), PlacesStage(settings)])
    Worker(db, pipeline, settings.model_copy(update={"worker_batch": 256}), hooks=[]).drain()
    with db.write() as session:
        for done, topic in zip(accepted, topics, strict=True):
            session.add(AnnotationRow(submission_id=done.id, stage="topic", data={"code": topic}))
    return [done.id for done in accepted]


def seed(settings: Settings, db: Database) -> None:
    """Nine weeks of routine submissions, then a spike of waste complaints in province 79."""
    items, topics = [], []
    for offset in range((SPIKE - FIRST).days + 1):
        day = FIRST + timedelta(days=offset)
        for n, (topic, province) in enumerate((("traffic", "01"), ("land", "79"), ("traffic", "79"))):
            items.append(
                SubmissionIn(
                    text=ROUTINE.format(what="đường" if topic == "traffic" else "đất", day=day, n=n),
                    received_at=_noon(day, 8 + n),
                    contact=Contact(email=f"dan{(offset * 3 + n) % 40}@example.org"),
                    locality=PLACES[province],
                )
            )
            topics.append(topic)
    for n in range(14):
        items.append(
            SubmissionIn(
                text=COMPLAINT.format(name=NAME, phone=PHONE, n=n),
                received_at=_noon(SPIKE, 14),
                contact=Contact(email=f"cu-dan-{n}@example.org"),
                locality=PLACES["79"],
            )
        )
        topics.append("environment")
    _analyse(settings, db, items, topics)


def cli_on(settings: Settings, tmp_path: Path) -> Cli:
    assert CLI.exists(), f"the civicpulse entry point is not installed at {CLI}"
    cli = Cli(tmp_path)
    cli.env["CIVICPULSE_DATABASE_URL"] = settings.database_url
    return cli


@pytest.fixture
def seeded(settings: Settings, db: Database, tmp_path: Path) -> Iterator[Cli]:
    """The seeded submissions, counted by ``civicpulse trends rebuild``."""
    seed(settings, db)
    cli = cli_on(settings, tmp_path)
    done = cli("trends", "rebuild")
    assert done.returncode == 0, done.stderr
    assert f"counted {3 * ((SPIKE - FIRST).days + 1) + 14}" in done.stdout
    yield cli


def test_a_spike_warns_with_its_cause_and_redacted_quotes(seeded: Cli, db: Database) -> None:
    with db.read() as session:
        found = find_warnings(session, SPIKE - timedelta(days=20), SPIKE, k_anonymity=5)
        strict = find_warnings(session, SPIKE - timedelta(days=20), SPIKE, k_anonymity=20)
    by_series = {(w.topic, w.province): w for w in found}
    place = by_series[(None, "79")]
    assert place.start == SPIKE and place.observed == 16 and place.expected < 4
    assert (place.contributors[0].kind, place.contributors[0].code) == ("topic", "environment")
    assert place.contributors[0].share > 0.9 and not place.campaign_driven
    topic = by_series[("environment", None)]
    assert (topic.contributors[0].kind, topic.contributors[0].code) == ("place", "79")
    assert len(place.quotes) == 3
    for quote in place.quotes:
        assert "Bãi rác" in quote and PHONE not in quote and NAME not in quote
    assert {(w.topic, w.province) for w in found} <= set(by_series)
    assert all(w.start == SPIKE for w in found)  # nine weeks of routine raise nothing
    assert strict == []  # 14 + 2 senders: under k = 20 no series warns


def test_api_warnings_and_trends(seeded: Cli, live_server: LiveServer) -> None:
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    officer = live_server.user_token("officer@example.org", Role.agency_officer, ("so-nnmt",))
    with live_server.client(viewer) as client:
        answer = client.get("/api/v1/warnings", params={"from": SPIKE.isoformat(), "to": SPIKE.isoformat()})
        assert answer.status_code == 200, answer.text
        assert PHONE not in answer.text and NAME not in answer.text
        items = answer.json()["items"]
        place = next(w for w in items if w["province"] == "79" and w["topic"] is None)
        assert place["start"] == SPIKE.isoformat() and place["observed"] == 16
        top = place["explanation"]["contributors"][0]
        assert (top["kind"], top["code"]) == ("topic", "environment") and 0 < top["share"] <= 1
        assert len(place["quotes"]) == 3
        trend = client.get(
            "/api/v1/trends",
            params={
                "province": "79",
                "from": (SPIKE - timedelta(days=1)).isoformat(),
                "to": SPIKE.isoformat(),
            },
        ).json()
        assert [(p["period"], p["submissions"], p["suppressed"]) for p in trend["items"]] == [
            ((SPIKE - timedelta(days=1)).isoformat(), None, True),  # 2 senders: under k
            (SPIKE.isoformat(), 16, False),
        ]
        assert trend["items"][1]["senders"] == 16
        bad = client.get("/api/v1/trends", params={"topic": "no-such-topic"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_error"
        assert client.get("/api/v1/trends", params={"province": "99"}).status_code == 422
        assert (
            client.get("/api/v1/warnings", params={"from": "2026-06-20", "to": "2026-06-01"}).status_code
            == 422
        )
        assert (
            client.get("/api/v1/warnings", params={"from": "2025-01-01", "to": "2026-06-01"}).status_code
            == 422
        )
    with live_server.client(officer) as client:
        assert client.get("/api/v1/warnings").status_code == 403


def test_cli_warnings_and_trends(seeded: Cli) -> None:
    done = seeded("warnings", "--from", SPIKE.isoformat(), "--to", SPIKE.isoformat(), "--format", "json")
    assert done.returncode == 0, done.stderr
    items = json.loads(done.stdout)
    assert any(
        w["province"] == "79" and w["explanation"]["contributors"][0]["code"] == "environment" for w in items
    )
    assert PHONE not in done.stdout and NAME not in done.stdout
    table = seeded("warnings", "--from", SPIKE.isoformat(), "--to", SPIKE.isoformat())
    assert table.returncode == 0 and "topic environment" in table.stdout
    days = seeded(
        "trends",
        "--province",
        "79",
        "--from",
        SPIKE.isoformat(),
        "--to",
        SPIKE.isoformat(),
        "--format",
        "json",
    )
    assert days.returncode == 0, days.stderr
    assert json.loads(days.stdout) == [
        {"period": SPIKE.isoformat(), "submissions": 16, "received": 16, "senders": 16, "suppressed": False}
    ]
    refused = seeded("trends", "--topic", "no-such-topic")
    assert refused.returncode == 2 and "topic" in refused.stderr


def counted_complaints(settings: Settings, db: Database, day: date, numbers: range) -> None:
    """More waste complaints in province 79 on ``day``, counted in by the counts hook."""
    items = [
        SubmissionIn(
            text=COMPLAINT.format(name=NAME, phone=PHONE, n=n),
            received_at=_noon(day, 16),
            contact=Contact(email=f"muon-{n}@example.org"),
            locality=PLACES["79"],
        )
        for n in numbers
    ]
    ids = _analyse(settings, db, items, ["environment"] * len(items))
    with db.write() as session:
        update_counts(session, ids, CampaignRules())


def _shown(found: list[SpikeWarning] | None) -> list[dict]:
    assert found is not None
    return [w.as_dict() for w in found]


def test_stored_warnings_are_detected_again_only_where_the_counts_changed(
    seeded: Cli, settings: Settings, db: Database
) -> None:
    since, until = SPIKE - timedelta(days=13), SPIKE
    with db.read() as session:
        assert stored_warnings(session, since, until, k_anonymity=5) is None  # nothing stored yet
        live = find_warnings(session, since, until, k_anonymity=5)
    with db.write() as session:
        assert _shown(refresh_warnings(session, since, until, k_anonymity=5)) == _shown(live)
    with db.read() as session:
        assert _shown(stored_warnings(session, since, until, k_anonymity=5)) == _shown(live)
        assert stored_warnings(session, since, until, k_anonymity=20) is None  # another k, another detection

    counted_complaints(settings, db, SPIKE + timedelta(days=2), range(100, 104))  # after the window
    with db.read() as session:
        assert _shown(stored_warnings(session, since, until, k_anonymity=5)) == _shown(live)

    counted_complaints(settings, db, SPIKE, range(200, 203))  # late arrivals on the spike's day
    with db.read() as session:
        assert stored_warnings(session, since, until, k_anonymity=5) is None
        assert due_keys(stored_series(session, until.isoformat())) == [
            ("", "79"),
            ("environment", ""),
            ("environment", "79"),
        ]
        live = find_warnings(session, since, until, k_anonymity=5)
    with db.write() as session:
        refreshed = refresh_warnings(session, since, until, k_anonymity=5)
    assert _shown(refreshed) == _shown(live)
    place = next(w for w in refreshed if (w.topic, w.province) == (None, "79"))
    assert place.observed == 16 + 3 and len(place.quotes) == 3

    with db.write() as session:  # quotes are read when shown: a text the store lost is not shown
        session.query(AnnotationRow).filter(
            AnnotationRow.submission_id == place.quote_ids[0], AnnotationRow.stage == "pii"
        ).delete()
    with db.read() as session:
        again = stored_warnings(session, since, until, k_anonymity=5)
    assert again is not None
    assert next(w for w in again if (w.topic, w.province) == (None, "79")).quotes == place.quotes[1:]

    assert seeded("trends", "rebuild").returncode == 0  # a rebuild forgets every stored detection
    with db.read() as session:
        assert stored_warnings(session, since, until, k_anonymity=5) is None
