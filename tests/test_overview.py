"""The leaders' overview page over real analysed submissions, through real HTTP, on SQLite and
PostgreSQL: figures under k shown as "< k", the province filter, both languages, the forecast fan's
data, and who may see it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from civicpulse.analysis.gazetteer import gazetteer
from civicpulse.domain import Role
from civicpulse.insight.overview import build_overview, stored_overview
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.detections import stored_window
from civicpulse.store.tables import OverviewSnapshotRow
from tests.conftest import LiveServer, make_settings
from tests.test_warnings import NAME, PHONE, SPIKE, cli_on, counted_complaints, seed
from tests.web.conftest import html_client, http_sign_in

K = 10  # province 01 has 7 distinct senders a week: under k; province 79 has 14 and 28
GEO = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "civicpulse"
    / "web"
    / "static"
    / "geo"
    / "vn-provinces-34.json"
)
WARNING_79 = re.compile(r'<article class="warning" data-topic="" data-province="79">(.*?)</article>', re.S)
DATA = re.compile(r'<script type="application/json" id="overview-data">(.*?)</script>', re.S)


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, k_anonymity=K)


@pytest.fixture
def seeded(settings: Settings, db: Database, tmp_path: Path) -> Iterator[None]:
    seed(settings, db)
    done = cli_on(settings, tmp_path)("trends", "rebuild")
    assert done.returncode == 0, done.stderr
    yield


@contextmanager
def _signed_in(server: LiveServer, role: Role, lang: str | None = None) -> Iterator[httpx.Client]:
    email = f"{role.value}@example.org"
    server.user_token(email, role, ("so-nnmt",) if role == Role.agency_officer else ())
    with html_client(server, lang) as client:
        assert http_sign_in(client, email, "password-123").status_code == 200
        yield client


def _map(page: str) -> dict:
    match = DATA.search(page)
    assert match, "the page has no data block"
    return json.loads(match.group(1))


def test_figures_under_k_show_as_below_k_and_the_filter(seeded: None, live_server: LiveServer) -> None:
    with _signed_in(live_server, Role.viewer, "en") as client:
        page = client.get("/overview", params={"to": SPIKE.isoformat()})
        assert page.status_code == 200, page.text
        assert "Week overview" in page.text and f"&lt; {K}" in page.text
        assert PHONE not in page.text and NAME not in page.text
        provinces = {p["code"]: p for p in _map(page.text)["provinces"]}
        assert len(provinces) == 34
        assert provinces["79"]["volume"] == 2 * 7 + 14 and provinces["79"]["last_week"] == 2 * 7
        assert provinces["79"]["change"] == 100.0
        assert provinces["01"]["volume"] is None and provinces["01"]["last_week"] is None  # 7 senders < k
        assert provinces["48"]["volume"] == 0  # nothing there: not a group of people
        assert 'id="kpi-this-week">' + str(3 * 7 + 14) + "<" in page.text
        assert 'hx-get="/overview/warnings?province=&amp;to=2026-06-15"' in page.text
        explained = client.get("/overview/warnings", params={"to": SPIKE.isoformat()})
        assert explained.status_code == 200 and PHONE not in explained.text and NAME not in explained.text
        warning = WARNING_79.search(explained.text)
        assert warning, "the spike in province 79 is among the open warnings"
        assert "Bãi rác" in warning.group(1) and "Topic" in warning.group(1)
        with live_server.db.read() as session:  # the detection is stored: the next load reads it
            assert stored_window(session, SPIKE.isoformat()) is not None
        again = client.get("/overview/warnings", params={"to": SPIKE.isoformat()})
        assert WARNING_79.findall(again.text) == WARNING_79.findall(explained.text)

        hcm = client.get("/overview", params={"to": SPIKE.isoformat(), "province": "79"})
        assert hcm.status_code == 200
        assert 'id="overview-place">Thành phố Hồ Chí Minh<' in hcm.text
        assert 'id="kpi-this-week">28<' in hcm.text
        assert _map(hcm.text)["selected"] == "79"
        assert '<option value="79" selected>' in hcm.text
        assert 'data-src="/overview/forecast.json?province=79"' in hcm.text

        hanoi = client.get("/overview", params={"to": SPIKE.isoformat(), "province": "Thành phố Hà Nội"})
        assert hanoi.status_code == 200 and 'id="kpi-this-week">&lt; 10<' in hanoi.text
        hanoi_warnings = client.get("/overview/warnings", params={"to": SPIKE.isoformat(), "province": "01"})
        assert 'id="no-warnings"' in hanoi_warnings.text  # the spike was in 79, not in Hà Nội
        assert client.get("/overview/warnings", params={"province": "99"}).status_code == 400

        assert client.get("/overview", params={"province": "99"}).status_code == 400
        assert client.get("/overview", params={"to": "2026-02-30"}).status_code == 400
        assert client.get("/overview", params={"map": "pie"}).status_code == 422


def test_vietnamese_page_and_the_forecast_fan(seeded: None, live_server: LiveServer) -> None:
    with _signed_in(live_server, Role.analyst, "vi") as client:
        page = client.get("/overview", params={"to": SPIKE.isoformat()})
        assert page.status_code == 200
        assert "Tổng quan tuần" in page.text and "Bản đồ 34 tỉnh, thành phố" in page.text
        assert "CC BY-SA 4.0" in page.text
        fan = client.get("/overview/forecast.json", headers={"Accept": "application/json"})
        assert fan.status_code == 200, fan.text
        body = fan.json()
        assert len(body["points"]) == 14 and body["model"] and body["backtest_mase"] >= 0
        for p in body["points"]:
            assert 0 <= p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"]
        assert len(body["history"]) == 56
        empty = client.get("/overview/forecast.json", params={"province": "48"})
        assert empty.status_code == 422 and f"dưới {K} người gửi" in empty.json()["message"]


def test_who_may_see_the_overview(seeded: None, live_server: LiveServer) -> None:
    with html_client(live_server) as anonymous:
        first = anonymous.get("/overview", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"].startswith("/login?next=/overview")
    with _signed_in(live_server, Role.agency_officer) as officer:
        assert officer.get("/overview").status_code == 403
        assert officer.get("/overview/forecast.json").status_code == 403
    with html_client(live_server, "en") as admin:
        assert http_sign_in(admin, "admin@example.org", "admin-password").status_code == 200
        assert admin.get("/overview", params={"to": SPIKE.isoformat()}).status_code == 200


@pytest.mark.parametrize(
    ("role", "lands_on", "sees_link"),
    [(Role.viewer, "/overview", True), (Role.analyst, "/overview", True), (Role.agency_officer, "/", False)],
)
def test_leaders_land_on_the_overview_and_only_they_see_its_link(
    live_server: LiveServer, role: Role, lands_on: str, sees_link: bool
) -> None:
    email = f"{role.value}-landing@example.org"
    live_server.user_token(email, role, ("so-nnmt",) if role == Role.agency_officer else ())
    with html_client(live_server, "en") as client:
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = client.post(
            "/login",
            data={"email": email, "password": "password-123", "csrf_token": token},
            follow_redirects=False,
        )
        assert signed.status_code == 303 and signed.headers["location"] == lands_on
        home = client.get(lands_on)
        assert home.status_code == 200
        assert ('href="/overview"' in home.text) is sees_link
        again = client.get("/login", params={"next": "/themes"}, follow_redirects=False)
        assert again.headers["location"] == "/themes"  # an explicit next still wins


def test_the_shipped_map_carries_the_province_codes_and_its_licence() -> None:
    geo = json.loads(GEO.read_text(encoding="utf-8"))
    assert {f["properties"]["code"] for f in geo["features"]} == set(gazetteer().provinces)
    assert geo["license"] == "CC-BY-SA-4.0" and "Open Development" in geo["attribution"]
    assert GEO.stat().st_size < 400_000


def test_the_stored_overview_follows_the_counts(
    seeded: None, settings: Settings, live_server: LiveServer
) -> None:
    db = live_server.db
    key = (SPIKE.isoformat(), "79")
    with _signed_in(live_server, Role.viewer, "en") as client:
        first = client.get("/overview", params={"to": SPIKE.isoformat(), "province": "79"})
        assert 'id="kpi-this-week">28<' in first.text
        with db.read() as session:
            stored = session.get(OverviewSnapshotRow, key)
            assert stored is not None and stored.seen == stored.changes

        counted_complaints(settings, db, SPIKE + timedelta(days=2), range(300, 302))  # after the week
        with db.read() as session:
            stored = session.get(OverviewSnapshotRow, key)
            assert stored is not None and stored.seen == stored.changes  # still current

        counted_complaints(settings, db, SPIKE, range(400, 403))  # late arrivals in the week
        again = client.get("/overview", params={"to": SPIKE.isoformat(), "province": "79"})
        assert 'id="kpi-this-week">31<' in again.text
    now = datetime.now(UTC)
    for province in (None, "79"):
        with db.read() as session:
            built = build_overview(session, SPIKE, province=province, k_anonymity=K, now=now)
        assert stored_overview(db, SPIKE, province=province, k_anonymity=K, now=now) == built
        assert stored_overview(db, SPIKE, province=province, k_anonymity=K, now=now) == built  # stored
