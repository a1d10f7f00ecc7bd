"""The overview page in a real browser: the ECharts map of the 34 provinces draws, a click on a
province filters the page, the forecast fan draws, a phone can read it, and nothing breaks the
Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response

from civicpulse.domain import Contact, SubmissionIn
from civicpulse.settings import Settings
from civicpulse.store.counts import LOCAL_TZ
from civicpulse.store.db import Database
from civicpulse.store.tables import utcnow
from tests.conftest import LiveServer
from tests.test_warnings import PLACES, ROUTINE, SPIKE, _analyse, cli_on, seed
from tests.web.conftest import SQLITE_ONLY, sign_in

pytestmark = SQLITE_ONLY

HO_CHI_MINH = (106.7, 11.0)  # inside province 79 (the former Bình Dương part)


@pytest.fixture
def seeded(settings: Settings, db: Database, tmp_path: Path) -> None:
    seed(settings, db)
    done = cli_on(settings, tmp_path)("trends", "rebuild")
    assert done.returncode == 0, done.stderr


def _problems(page: Page) -> list[str]:
    seen: list[str] = []

    def record(message: ConsoleMessage) -> None:
        resource = message.text.startswith("Failed to load resource")  # answered below, with its URL
        if (message.type == "error" and not resource) or "Content Security Policy" in message.text:
            seen.append(message.text)

    def answered(response: Response) -> None:
        expected = response.status == 422 and "/overview/forecast.json" in response.url
        if response.status >= 400 and not expected and not response.url.endswith("/favicon.ico"):
            seen.append(f"{response.status} {response.url}")

    page.on("console", record)
    page.on("response", answered)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


@pytest.fixture
def problems(page: Page) -> Iterator[list[str]]:
    yield _problems(page)


def _province_pixel(page: Page, lon: float, lat: float) -> tuple[float, float]:
    page.locator("#overview-map").scroll_into_view_if_needed()
    box = page.locator("#overview-map").bounding_box()
    assert box is not None
    x, y = page.evaluate(
        "([lon, lat]) => echarts.getInstanceByDom(document.getElementById('overview-map'))"
        ".convertToPixel({seriesIndex: 0}, [lon, lat])",
        [lon, lat],
    )
    return box["x"] + x, box["y"] + y


def test_the_map_draws_and_a_click_filters_the_page(
    seeded: None, page: Page, live_server: LiveServer, problems: list[str]
) -> None:
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/overview?to={SPIKE.isoformat()}")
    page.wait_for_selector("#overview-map[data-ready=true] canvas")
    page.wait_for_selector("#overview-fan[data-ready=true] canvas", timeout=30_000)
    page.wait_for_selector("#overview-warnings article.warning")  # loaded by htmx after the page
    assert page.locator("#map-attribution").inner_text().count("CC BY-SA 4.0") == 1
    assert page.locator("#overview-place").count() == 0
    x, y = _province_pixel(page, *HO_CHI_MINH)
    with page.expect_navigation():
        page.mouse.click(x, y)
    assert "province=79" in page.url and f"to={SPIKE.isoformat()}" in page.url
    assert page.locator("#overview-place").inner_text() == "Thành phố Hồ Chí Minh"
    assert page.locator("#kpi-this-week").inner_text() == "28"
    page.wait_for_selector("#overview-map[data-ready=true] canvas")
    page.click("button[data-colour=change]")
    assert "map=change" in page.url
    assert page.locator("button[data-colour=change]").get_attribute("aria-pressed") == "true"
    page.click("#overview-clear")
    assert "province=" not in page.url.replace("province=&", "")
    assert problems == []


def test_a_phone_can_read_the_overview(seeded: None, browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844}, is_mobile=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems = _problems(page)
    try:
        sign_in(page, live_server)
        page.goto(f"{live_server.url}/overview?to={SPIKE.isoformat()}")
        page.wait_for_selector("#overview-map[data-ready=true] canvas")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        kpis = page.locator(".overview-kpis").bounding_box()
        map_box = page.locator("#overview-map").bounding_box()
        assert kpis is not None and map_box is not None
        assert map_box["y"] > kpis["y"] + kpis["height"]  # stacked: the map under the week's figures
        assert 300 <= map_box["width"] <= 390 and map_box["height"] >= 400
        page.locator("#overview-fan").scroll_into_view_if_needed()
        page.wait_for_selector("#overview-fan[data-ready=true] canvas", timeout=30_000)
        page.wait_for_selector("#overview-warnings article.warning")
        assert "Spike warnings" in page.content()
        assert problems == []
    finally:
        context.close()


@pytest.fixture
def recent(settings: Settings, db: Database, tmp_path: Path) -> None:
    """Eight weeks up to yesterday (the fan's window): 3 senders a day, 6 on Mondays."""
    today = utcnow().astimezone(LOCAL_TZ).date()
    items, topics = [], []
    for offset in range(1, 57):
        day = today - timedelta(days=offset)
        for n in range(6 if day.weekday() == 0 else 3):
            items.append(
                SubmissionIn(
                    text=ROUTINE.format(what="đường", day=day, n=n),
                    received_at=datetime(day.year, day.month, day.day, 8 + n, tzinfo=LOCAL_TZ),
                    contact=Contact(email=f"dan{offset}-{n}@example.org"),
                    locality=PLACES["79"],
                )
            )
            topics.append("traffic")
    _analyse(settings, db, items, topics)
    done = cli_on(settings, tmp_path)("trends", "rebuild")
    assert done.returncode == 0, done.stderr


def test_the_fan_shows_days_under_k_as_grey_bars_never_as_counts(
    recent: None, page: Page, live_server: LiveServer, problems: list[str]
) -> None:
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/overview")
    page.wait_for_selector("#overview-fan[data-ready=true] canvas", timeout=30_000)
    fan = page.request.get(f"{live_server.url}/overview/forecast.json").json()
    hidden = [i for i, day in enumerate(fan["history"]) if day["value"] is None]
    shown = [day["value"] for day in fan["history"] if day["value"] is not None]
    assert len(hidden) == 48 and shown == [6] * 8
    series = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById('overview-fan')).getOption().series"
        ".map(s => ({name: s.name, type: s.type, data: s.data}))"
    )
    bars = next(s for s in series if s["name"] == "Dưới 5 người gửi")
    assert bars["type"] == "bar"
    assert [i for i, value in enumerate(bars["data"]) if value is not None] == hidden
    assert {bars["data"][i] for i in hidden} == {5}
    received = next(s for s in series if s["name"] == "Đã nhận")
    assert all(received["data"][i] is None for i in hidden)
    assert "dưới 5 người gửi" in page.locator("#fan-note").inner_text()
    assert problems == []
