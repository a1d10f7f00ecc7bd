"""Analysts' corrections: stored as facts through the API and the dashboard, used by `civicpulse train`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import select

from civicpulse.domain import Role
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.store.tables import AuditRow, LabelRow
from tests.conftest import TEST_SECRET, LiveServer
from tests.web.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, html_client, http_sign_in

CLI = Path(sys.executable).parent / "civicpulse"

TEXTS = {
    "positive": "Cảm ơn cán bộ phường đã hỗ trợ rất nhiệt tình và nhanh chóng, số {i}.",
    "negative": "Đường ngập nặng, rác bốc mùi hôi thối suốt nhiều ngày không ai xử lý, lần {i}.",
}


def _analyse(server: LiveServer) -> None:
    settings = server.settings.model_copy(update={"stages": ["language", "normalize", "pii"]})
    Worker(server.db, build_pipeline(settings, server.db), settings).drain()


def test_corrections_through_the_api_win_and_are_audited(live_server: LiveServer) -> None:
    with live_server.client() as client:
        created = client.post("/api/v1/submissions", json={"text": "Đèn đường hỏng, số 0912345678"}).json()
        url = f"/api/v1/submissions/{created['id']}/labels"
        assert client.post(url, json={"task": "topic", "value": "utilities"}).status_code == 201
        corrected = client.post(url, json={"task": "topic", "value": "traffic"}).json()
        assert client.post(url, json={"task": "topic", "value": "weather"}).status_code == 422
        assert client.post(url, json={"task": "mood", "value": "x"}).status_code == 422
    assert corrected["corrections"] == {"topic": "traffic"}
    viewer = live_server.user_token("v@example.org", Role.viewer)
    with live_server.client(viewer) as client:
        refused = client.post(url, json={"task": "sentiment", "value": "negative"})
    assert refused.status_code == 403
    with live_server.db.read() as session:
        labels = [(r.task, r.value, r.actor) for r in session.scalars(select(LabelRow).order_by(LabelRow.id))]
        audited = [a.action for a in session.scalars(select(AuditRow))]
    assert labels == [("topic", "utilities", "admin@example.org"), ("topic", "traffic", "admin@example.org")]
    assert audited.count("label.create") == 2


def test_dashboard_correction_form(live_server: LiveServer) -> None:
    with live_server.client() as api:
        created = api.post("/api/v1/submissions", json={"text": "Xin sửa cống thoát nước"}).json()
    with httpx.Client(base_url=live_server.url, timeout=30, follow_redirects=True) as browser:
        login = browser.get("/login").text
        token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        browser.post(
            "/login", data={"email": "admin@example.org", "password": "admin-password", "csrf_token": token}
        )
        page = browser.get(f"/submissions/{created['id']}").text
        assert 'id="corrections"' in page
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        saved = browser.post(
            f"/submissions/{created['id']}/labels",
            data={"topic": "environment", "sentiment": "negative", "csrf_token": token},
        )
        assert saved.status_code == 200 and 'id="current-corrections"' in saved.text
        forged = browser.post(f"/submissions/{created['id']}/labels", data={"topic": "land"})
        assert forged.status_code == 403
    with live_server.db.read() as session:
        assert {(r.task, r.value) for r in session.scalars(select(LabelRow))} == {
            ("topic", "environment"),
            ("sentiment", "negative"),
        }


def test_train_learns_from_corrections_on_redacted_text(live_server: LiveServer, tmp_path: Path) -> None:
    items = [
        {"text": TEXTS[label].format(i=i), "source_id": f"{label}-{i}"} for label in TEXTS for i in range(12)
    ]
    with live_server.client() as client:
        created = client.post("/api/v1/submissions", json=items).json()
        _analyse(live_server)
        for item, accepted in zip(items, created, strict=True):
            label = item["source_id"].split("-")[0]
            response = client.post(
                f"/api/v1/submissions/{accepted['id']}/labels", json={"task": "sentiment", "value": label}
            )
            assert response.status_code == 201
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
    env.update(
        CIVICPULSE_DATABASE_URL=live_server.settings.database_url,
        CIVICPULSE_SECRET_KEY=TEST_SECRET,
        CIVICPULSE_MODEL_DIR=str(tmp_path / "models"),
    )
    done = subprocess.run(
        [str(CLI), "train", "--task", "sentiment", "--min-examples", "10"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "trained on 24" in done.stderr
    assert (tmp_path / "models" / "sentiment.skops").exists()
    skipped = subprocess.run(
        [str(CLI), "train", "--task", "topic"], env=env, capture_output=True, text=True, timeout=300
    )
    assert skipped.returncode == 0 and "skipped" in skipped.stderr


def test_review_queue_holds_unsure_topics_until_an_analyst_sets_them(live_server: LiveServer) -> None:
    with live_server.client() as client:
        first, second = client.post(
            "/api/v1/submissions", json=[{"text": TEXTS["negative"].format(i=i)} for i in (1, 2)]
        ).json()
    unsure = live_server.settings.model_copy(
        update={"stages": ["language", "normalize", "pii", "topic"], "topic_review_threshold": 1.0}
    )
    Worker(live_server.db, build_pipeline(unsure, live_server.db), unsure).drain()
    with live_server.client() as client:
        queued = client.get("/api/v1/submissions", params={"review": "true"}).json()["items"]
        client.post(
            f"/api/v1/submissions/{first['id']}/labels", json={"task": "topic", "value": "environment"}
        )
        after = client.get("/api/v1/submissions", params={"review": "true"}).json()["items"]
        everything = client.get("/api/v1/submissions").json()["items"]
    with html_client(live_server) as browser:
        http_sign_in(browser, ADMIN_EMAIL, ADMIN_PASSWORD)
        inbox = browser.get("/", params={"review": "1"}).text
    assert {s["id"] for s in queued} == {first["id"], second["id"]}
    assert f'href="/submissions/{second["id"]}"' in inbox
    assert f'href="/submissions/{first["id"]}"' not in inbox
    assert 'id="f-review" name="review" type="checkbox" value="1" checked' in inbox
    assert [s["id"] for s in after] == [second["id"]]  # corrected: out of the queue
    assert len(everything) == 2
