"""A citizen asks on ``/ask`` in a real browser on a phone-sized screen: the answer shows the quoted
sentences with their document and article; a question no document answers offers the feedback form
with the question written in; the browser reports no Content-Security-Policy violation."""

from __future__ import annotations

from playwright.sync_api import Browser, ConsoleMessage

from tests.conftest import LiveServer
from tests.test_ask_pages import FAQ, OFF_TOPIC, QUESTION, add_demo_documents
from tests.web.conftest import SQLITE_ONLY

pytestmark = SQLITE_ONLY


def test_a_citizen_asks_and_sees_the_cited_passages(browser: Browser, live_server: LiveServer) -> None:
    documents = add_demo_documents(live_server)
    faq = documents[FAQ.name]
    context = browser.new_context(locale="vi-VN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(30_000)
    page = context.new_page()
    violations: list[str] = []

    def record(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            violations.append(message.text)

    page.on("console", record)
    page.goto(f"{live_server.url}/submit")
    menu = page.locator("nav.mainnav .navmenu > summary")
    if menu.count() and menu.is_visible():  # on a phone the links fold behind "Menu"
        menu.click()
    page.click("nav.mainnav a[href='/ask']")
    page.wait_for_url(f"{live_server.url}/ask")
    page.fill("#question", QUESTION)
    page.click("#ask-form button[type=submit]")
    page.wait_for_selector("#ask-result[data-abstained='false']")

    quotes = page.locator("#citations blockquote").all_inner_texts()
    assert quotes and all(quote.strip() in faq["text"] for quote in quotes)
    assert any("giấy khai sinh" in quote for quote in quotes)
    first = page.locator("#citations li.citation").first
    assert first.locator("cite").inner_text() == faq["title"]
    assert first.locator(".citation-path").inner_text().startswith("Câu hỏi")
    assert first.locator("a").get_attribute("href") == faq["url"]
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the answer fits a phone screen without scrolling sideways"

    page.fill("#question", OFF_TOPIC)
    page.click("#ask-form button[type=submit]")
    page.wait_for_selector("#ask-result[data-abstained='true']")
    assert page.locator("#citations").count() == 0
    page.click("#ask-file-it")
    page.wait_for_url(f"{live_server.url}/submit?*")
    assert page.input_value("#text") == OFF_TOPIC
    context.close()
    assert violations == []
