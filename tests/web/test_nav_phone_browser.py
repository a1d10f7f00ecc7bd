"""The main navigation on a phone: no page scrolls sideways, the links fold behind a "Menu" that
opens without script (mouse and keyboard) and leads to the pages; on a wide screen they stay a row."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.conftest import LiveServer
from tests.web.conftest import SQLITE_ONLY, sign_in

pytestmark = SQLITE_ONLY

PHONE = {"width": 390, "height": 844}
PUBLIC = ["/login", "/submit", "/track"]
SIGNED_IN = ["/", "/themes", "/alerts"]
IF_PRESENT = ["/overview", "/documents", "/ask", "/claims", "/rumours", "/cases"]
WIDTHS = "[document.scrollingElement.scrollWidth, window.innerWidth]"


def _too_wide(page: Page, url: str, paths: list[str]) -> list[str]:
    """The paths (per language) whose document is wider than the window."""
    found = []
    for path in paths:
        for lang in ("vi", "en"):
            answer = page.goto(f"{url}{path}?lang={lang}")
            assert answer is not None and answer.status == 200, f"{path}: {answer and answer.status}"
            expect(page.locator(".navmenu > summary")).to_be_visible()
            expect(page.locator(".navlinks")).to_be_hidden()
            scroll, inner = page.evaluate(WIDTHS)
            if scroll > inner:
                found.append(f"{path}?lang={lang}: {scroll} px in {inner} px")
    return found


def _present(page: Page, url: str) -> list[str]:
    return [path for path in IF_PRESENT if page.request.get(f"{url}{path}").status == 200]


def test_no_page_scrolls_sideways_on_a_phone(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(locale="vi-VN", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    too_wide = _too_wide(page, live_server.url, PUBLIC)
    sign_in(page, live_server)
    extra = _present(page, live_server.url)
    too_wide += _too_wide(page, live_server.url, SIGNED_IN + extra)
    context.close()
    assert {"/overview", "/rumours"} <= set(extra), extra
    assert too_wide == []


def test_the_menu_opens_with_a_tap_or_the_keyboard_and_its_links_work(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(locale="en-GB", viewport=PHONE)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/?lang=en")
    menu, links = page.locator(".navmenu > summary"), page.locator(".navlinks")
    expect(menu).to_have_text("Menu")
    menu.click()
    expect(links).to_be_visible()
    themes = page.locator(".mainnav a[href='/themes']")
    box = themes.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    themes.click()
    page.wait_for_url(f"{live_server.url}/themes")
    expect(page.locator(".mainnav a[href='/themes']")).to_have_attribute("aria-current", "page")
    expect(links).to_be_hidden()  # a new page starts with the menu folded

    menu.focus()
    page.keyboard.press("Enter")
    expect(links).to_be_visible()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    expect(links).to_be_hidden()
    context.close()


def test_a_wide_screen_keeps_the_links_in_a_row(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_server)
    expect(page.locator(".navmenu > summary")).to_be_hidden()
    links = page.locator(".navlinks a")
    count = links.count()
    tops = {round(box["y"]) for i in range(count) if (box := links.nth(i).bounding_box())}
    scroll, inner = page.evaluate(WIDTHS)
    context.close()
    assert count >= 6
    assert len(tops) == 1, f"the links wrap into {len(tops)} rows at 1280 px"
    assert scroll <= inner
