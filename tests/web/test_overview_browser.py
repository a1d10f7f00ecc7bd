"""The overview page in a real browser: the ECharts map of the 34 provinces draws, a click on a
province filters the page, the forecast fan draws, a phone can read it, and nothing breaks the
Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response

from civicpulse.settings import Settings
from civicpulse.store.db import Database
from tests.conftest import LiveServer
from tests.test_warnings import SPIKE, cli_on, seed
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
