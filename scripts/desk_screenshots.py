"""Take the desk's screenshots into docs/screenshots/: the inbox (most urgent first), a search
without diacritics, a case page and the phone layout, on a copy of the demo store.

Run from the repository root after ``make demo-data``:
``.venv/bin/python -m scripts.desk_screenshots [var/demo.db]`` (the demo store is copied, and the
copy migrated; the demo admin signs in).
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from tests.server import CHROMIUM, CHROMIUM_ARGS, serving

from civicpulse.settings import Settings
from civicpulse.store.db import Database

ADMIN = ("admin@civicpulse.local", "civicpulse-demo")
OUT = Path("docs/screenshots")


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite store (WAL included)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", ADMIN[0])
    page.fill("#password", ADMIN[1])
    page.click("form.stack button[type=submit]")
    page.wait_for_url(f"{url}/")


def first_restored(page: Page, url: str) -> str:
    """The page of the most urgent submission whose diacritics were restored (else the most urgent)."""
    page.goto(f"{url}/?sort=urgency&q=ngap")
    typed_bare = page.locator('#inbox-rows tr[data-id]:has(mark:text-is("ngap"))')
    rows = typed_bare if typed_bare.count() else page.locator("#inbox-rows tr[data-id]")
    return rows.first.get_attribute("data-id") or "1"


def main(source: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "demo.db"
        copy_store(source, store)
        settings = Settings(database_url=f"sqlite:///{store}", worker_threads=0)
        Database.from_settings(settings).upgrade()
        with serving(settings) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_page(locale="vi-VN", viewport={"width": 1280, "height": 900})
            sign_in(page, url)
            page.goto(f"{url}/?sort=urgency&status=open")
            page.screenshot(path=OUT / "inbox-most-urgent.png", full_page=False)
            page.goto(f"{url}/?q=ngap")
            page.screenshot(path=OUT / "inbox-search-ngap.png", full_page=False)
            page.goto(f"{url}/submissions/{first_restored(page, url)}")
            page.screenshot(path=OUT / "case-page.png", full_page=False)
            page.set_viewport_size({"width": 390, "height": 844})
            page.goto(f"{url}/?sort=urgency")
            page.locator("#inbox-rows tr[data-id]").first.scroll_into_view_if_needed()
            page.screenshot(path=OUT / "inbox-phone.png", full_page=False)
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 392)"
                ".slice(0, 8).map(e => e.tagName + '.' + e.className + '#' + e.id)"
            )
            if wide:
                print("wider than the phone:", wide)
            browser.close()
    print("screenshots in", OUT)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("var/demo.db"))
