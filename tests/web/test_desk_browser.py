"""The official's desk in a real browser (SQLite): sort and filter the inbox, the urgent flood report
first under "most urgent", "ngap" finds the flood reports, the case page shows the restored text,
place and due date, and the phone layout turns rows into cards."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from civicpulse.settings import Settings
from tests.conftest import LiveServer, make_settings
from tests.test_inbox_desk import FLOOD_IDS, STAGES, seed
from tests.web.conftest import SQLITE_ONLY, sign_in

pytestmark = SQLITE_ONLY


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, stages=STAGES)


@pytest.fixture
def desk(live_server: LiveServer) -> LiveServer:
    seed(live_server.db, live_server.settings)
    return live_server


def shown_ids(page: Page) -> list[int]:
    return [
        int(value)
        for value in page.locator("#inbox-rows tr[data-id]").evaluate_all(
            "rows => rows.map(r => r.dataset.id)"
        )
    ]


def test_sorting_filtering_and_search_in_the_inbox(page: Page, desk: LiveServer) -> None:
    sign_in(page, desk)
    page.select_option("#f-sort", "urgency")
    page.wait_for_url("**sort=urgency**")
    first = page.locator("#inbox-rows tr[data-id]").first
    expect(first).to_have_attribute("data-id", "2")
    assert "urgent" in (first.get_attribute("class") or "").split()
    assert first.locator(".urgency").get_attribute("title")  # the reason on hover
    page.fill("#f-q", "ngap")
    page.wait_for_url("**q=ngap**")
    expect(page.locator("#inbox-rows mark").first).to_be_visible()
    assert set(shown_ids(page)) == FLOOD_IDS
    page.select_option("#f-agency", "so-xd")
    page.wait_for_url("**agency=so-xd**")
    assert shown_ids(page) == [2]
    page.reload()  # the filters live in the URL
    assert shown_ids(page) == [2]
    expect(page.locator("#f-q")).to_have_value("ngap")


def test_the_case_page_reads_like_a_case(page: Page, desk: LiveServer) -> None:
    sign_in(page, desk)
    page.goto(f"{desk.url}/submissions/4")
    expect(page.locator("#restored-text")).to_contain_text("ngập")
    expect(page.locator("#place")).to_contain_text("Hồ Chí Minh")
    expect(page.locator("#due")).not_to_be_empty()
    expect(page.locator("#annotations table").first).to_be_hidden()  # folded away
    page.locator("#annotations summary").click()
    expect(page.locator("#annotations table").first).to_be_visible()


def test_phone_layout_shows_cards(page: Page, desk: LiveServer) -> None:
    sign_in(page, desk)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{desk.url}/?sort=urgency")
    expect(page.locator("table.desk thead")).to_be_hidden()
    row = page.locator("#inbox-rows tr[data-id]").first
    assert row.evaluate("r => getComputedStyle(r).display") == "block"
    assert page.locator("table.desk").evaluate("t => t.getBoundingClientRect().right") <= 390
