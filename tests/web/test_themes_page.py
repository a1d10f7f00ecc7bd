"""The themes page: bars, quotes, badges and escaping in a real browser; analysts' decisions through
its forms (stored run, rename, refusal, dismissal); viewers read only; the slice filters."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page
from sqlalchemy import select

from civicpulse.domain import Role
from civicpulse.insight.themes.service import ThemeSlice, refresh_themes
from civicpulse.store.tables import AuditRow
from civicpulse.store.themes import ThemeDecisionRow
from civicpulse.web.theme_cards import SPARK_HEIGHT, SPARK_WIDTH, sparkline
from tests.conftest import LiveServer
from tests.theme_seed import SCRIPT, seed_themes
from tests.web.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    SQLITE_ONLY,
    form_token,
    html_client,
    http_sign_in,
    sign_in,
)

PERCENT = re.compile(r"([\d.]+)\s*%")


def test_trend_lines_fill_empty_days() -> None:
    spark = sparkline({"2026-03-01": 1.0, "2026-03-04": 2.0})
    assert spark is not None and spark.unit == "day" and spark.peak == "2"
    assert (spark.first, spark.last) == ("2026-03-01", "2026-03-04")
    heights = [float(point.split(",")[1]) for point in spark.line.split()]
    assert heights == [SPARK_HEIGHT - 1 - (SPARK_HEIGHT - 2) / 2, SPARK_HEIGHT - 1, SPARK_HEIGHT - 1, 1.0]
    one_day = sparkline({"2026-03-01": 4.0})
    assert one_day is not None and one_day.line == f"0.0,1.0 {float(SPARK_WIDTH)},1.0"  # flat at the top
    assert sparkline({}) is None


def _card(page: Page, members: list[int]) -> Locator:
    """The card of the theme whose quotes come from ``members``."""
    cards = page.locator("article.theme-card")
    for i in range(cards.count()):
        first = cards.nth(i).locator("li.quote").first.get_attribute("data-submission")
        if first is not None and int(first) in members:
            return cards.nth(i)
    raise AssertionError(f"no theme card for {members}")


@SQLITE_ONLY
def test_themes_page_shows_bars_quotes_and_badges_and_escapes_quotes(
    page: Page, live_server: LiveServer
) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    ids = seed_themes(live_server.settings, live_server.db)
    sign_in(page, live_server)
    page.click(".mainnav a[href='/themes']")
    page.wait_for_url(f"{live_server.url}/themes")
    assert page.locator("h1").inner_text() == "Chủ đề nổi bật"
    assert page.locator("article.theme-card").count() == 2
    assert page.locator("[data-stat=items]").inner_text() == "24"
    assert page.locator("[data-stat=suppressed]").inner_text() == "1"  # noise: 2 senders, k = 5
    assert "ít hơn 5 người gửi" in page.locator("#theme-stats").inner_text()

    flood, waste = _card(page, ids["flood"]), _card(page, ids["waste"])
    assert flood.locator("[data-senders]").get_attribute("data-senders") == "8"
    assert waste.locator("[data-senders]").get_attribute("data-senders") == "6"
    assert flood.locator(".meter-fill").get_attribute("data-width") == "100.0"
    assert waste.locator(".meter-fill").get_attribute("data-width") == "75.0"
    drawn = "e => e.getBoundingClientRect().width / e.parentElement.getBoundingClientRect().width"
    assert flood.locator(".meter-fill").evaluate(drawn) == 1.0  # a class, not an inline style (CSP)
    assert abs(waste.locator(".meter-fill").evaluate(drawn) - 0.75) < 0.01
    for card, members in ((flood, ids["flood"]), (waste, ids["waste"])):
        assert card.locator("[data-badge=new]").inner_text() == "MỚI"
        assert card.locator("[data-badge=renamed]").count() == 0
        links = card.locator("li.quote a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert 3 <= len(links) <= 5
        assert {int(href.removeprefix("/submissions/")) for href in links} <= set(members)
        assert card.locator(".keywords .chip").count() > 0 and card.locator(".theme-summary").inner_text()
        shares = [float(m) for m in PERCENT.findall(card.locator(".legend").inner_text())]
        assert shares and sum(shares) == pytest.approx(100, abs=0.2)
        assert card.locator(".places li").count() > 0
        assert card.locator("svg.sparkline polyline").count() == 1
        assert card.locator("details.members a").count() == len(members)

    quotes = flood.locator("li.quote q").all_inner_texts()
    assert quotes and all(quote.startswith(SCRIPT) for quote in quotes)  # shown as text
    assert SCRIPT in flood.locator(".theme-summary").inner_text()
    assert page.locator("main script").count() == 0 and dialogs == []

    flood.locator("li.quote a").first.click()
    page.wait_for_url("**/submissions/*")
    assert page.locator("#submission-text").inner_text().startswith(SCRIPT)


@SQLITE_ONLY
def test_analyst_stores_the_run_renames_and_dismisses_through_the_page(
    page: Page, live_server: LiveServer
) -> None:
    ids = seed_themes(live_server.settings, live_server.db)
    live_server.user_token("analyst@example.org", Role.analyst)
    sign_in(page, live_server, "analyst@example.org", "password-123")
    page.goto(f"{live_server.url}/themes?lang=en")
    assert page.locator(".theme-actions").count() == 0  # the themes have no stored ids yet
    with page.expect_navigation():
        page.click("#store-run")
    assert page.locator("#unsaved").count() == 0 and page.locator(".theme-actions").count() == 2

    flood = _card(page, ids["flood"])
    tid = flood.get_attribute("data-theme-id")
    label = flood.locator(".theme-label").inner_text()
    page.fill(f"#rename-{tid}", "   ")
    with page.expect_navigation():
        page.click(f"#theme-{tid} .theme-action.rename button")
    assert (
        page.locator(f"#theme-{tid} [role=alert]").inner_text() == "A theme name needs 1 to 300 characters."
    )
    assert page.locator(f"#theme-{tid} .theme-label").inner_text() == label

    page.fill(f"#rename-{tid}", "Ngập <b>sau mưa</b>")
    with page.expect_navigation():
        page.click(f"#theme-{tid} .theme-action.rename button")
    assert page.url.endswith(f"/themes#theme-{tid}")
    assert page.locator(f"#theme-{tid} .theme-label").inner_text() == "Ngập <b>sau mưa</b>"
    assert page.locator(f"#theme-{tid} .theme-label b").count() == 0
    assert page.locator(f"#theme-{tid} [data-badge=renamed]").inner_text() == "Renamed"

    waste_id = _card(page, ids["waste"]).get_attribute("data-theme-id")
    with page.expect_navigation():
        page.click(f"#theme-{waste_id} .theme-action.dismiss button")
    assert page.locator("article.theme-card").count() == 1
    assert page.locator(f"#theme-{waste_id}").count() == 0
    assert page.locator("[data-stat=dismissed]").inner_text() == "1"

    with live_server.db.read() as session:
        facts = [(r.theme_id, r.action, r.value, r.actor) for r in session.scalars(select(ThemeDecisionRow))]
        audit = [
            (r.action, r.actor, r.status) for r in session.scalars(select(AuditRow).order_by(AuditRow.id))
        ]
    analyst = "analyst@example.org"
    assert facts == [
        (int(tid), "rename", "Ngập <b>sau mưa</b>", analyst),
        (int(waste_id), "dismiss", None, analyst),
    ]
    assert [a for a in audit if a[0].startswith("theme.")] == [
        ("theme.refresh", analyst, 303),
        ("theme.rename", analyst, 303),
        ("theme.dismiss", analyst, 303),
    ]


def test_viewers_read_only_refused_decisions_and_slices(live_server: LiveServer) -> None:
    ids = seed_themes(live_server.settings, live_server.db)
    with live_server.db.write() as session:
        _, view = refresh_themes(session, ThemeSlice(), k_anonymity=live_server.settings.k_anonymity)
    by_topic = {
        name: next(t.id for t in view.themes if set(t.member_ids) == set(ids[name]))
        for name in ("flood", "waste")
    }
    flood, waste = by_topic["flood"], by_topic["waste"]
    live_server.user_token("viewer@example.org", Role.viewer)
    with html_client(live_server) as viewer:
        assert http_sign_in(viewer, "viewer@example.org", "password-123").status_code == 200
        token = form_token(viewer, "/themes")
        shown = viewer.get("/themes").text
        assert shown.count('class="card theme-card"') == 2
        assert 'class="theme-actions"' not in shown and 'id="store-run"' not in shown
        refused = viewer.post(f"/themes/{flood}/decisions", data={"action": "dismiss", "csrf_token": token})
    assert refused.status_code == 403

    with html_client(live_server) as admin:
        http_sign_in(admin, ADMIN_EMAIL, ADMIN_PASSWORD)
        token = form_token(admin, "/themes")
        path = f"/themes/{waste}/decisions"
        forged = admin.post(path, data={"action": "dismiss"})
        to_itself = admin.post(path, data={"action": "merge", "target_id": str(waste), "csrf_token": token})
        nowhere = admin.post(path, data={"action": "merge", "target_id": "999999", "csrf_token": token})
        unknown = admin.post("/themes/999999/decisions", data={"action": "dismiss", "csrf_token": token})
        odd = admin.post(
            path, data={"action": "explode", "csrf_token": token, "from": "2026-03-02", "to": "2026-03-03"}
        )
        merged = admin.post(path, data={"action": "merge", "target_id": str(flood), "csrf_token": token})
        split_path = f"/themes/{flood}/decisions"
        too_many = admin.post(split_path, data={"action": "split", "parts": "9", "csrf_token": token})
        split = admin.post(split_path, data={"action": "split", "parts": "2", "csrf_token": token})
        one_day = admin.get("/themes", params={"from": "2026-03-02", "to": "2026-03-02"})
        bad_topic = admin.get("/themes", params={"topic": "no-such-topic"})
        backwards = admin.get("/themes", params={"from": "2026-03-05", "to": "2026-03-01"})
    assert forged.status_code == 403
    for refusal in (to_itself, nowhere):
        assert refusal.status_code == 422 and "Hãy chọn một chủ đề khác để gộp vào." in refusal.text
        assert refusal.text.count('class="card theme-card"') == 2  # the page, with nothing lost
    assert unknown.status_code == 422 and "Chủ đề #999999 chưa được lưu hoặc không tồn tại." in unknown.text
    assert odd.status_code == 422 and "Thao tác không hợp lệ: explode" in odd.text
    assert 'id="f-from" name="from" type="date" value="2026-03-02"' in odd.text  # the slice is kept
    assert 'href="/themes?from=2026-03-02&amp;to=2026-03-03&amp;lang=en"' in odd.text  # not the POST URL
    assert [r.headers["location"] for r in merged.history] == [f"/themes#theme-{flood}"]
    [theme] = re.findall(r'data-theme-id="(\d+)"', merged.text)
    assert int(theme) == flood and f'data-senders="{8 + 6}"' in merged.text
    assert too_many.status_code == 422 and "Chỉ tách được thành 2 đến 5 chủ đề." in too_many.text
    # the merged theme splits back into floods and waste, each marked as split from it
    assert split.text.count('class="card theme-card"') == 2
    assert split.text.count(f"Tách từ #{flood}") == 2 and 'data-senders="8"' in split.text
    assert one_day.status_code == 200 and 'data-stat="items">8<' in one_day.text  # the floods of day one
    assert bad_topic.status_code == 400 and "Lĩnh vực không hợp lệ: no-such-topic" in bad_topic.text
    assert backwards.status_code == 400
    with live_server.db.read() as session:
        facts = [(r.theme_id, r.action, r.target_id) for r in session.scalars(select(ThemeDecisionRow))]
    assert facts == [(waste, "merge", flood), (flood, "split", None)]


def test_a_stored_theme_opens_in_the_inbox_with_its_members_and_excerpts(live_server: LiveServer) -> None:
    ids = seed_themes(live_server.settings, live_server.db)
    with html_client(live_server) as admin:
        http_sign_in(admin, ADMIN_EMAIL, ADMIN_PASSWORD)
        before = admin.get("/themes").text
        assert "data-inbox-link" not in before  # nothing stored yet: the page says to store the run
        with live_server.db.write() as session:
            _, view = refresh_themes(session, ThemeSlice(), k_anonymity=live_server.settings.k_anonymity)
        flood = next(t for t in view.themes if set(t.member_ids) == set(ids["flood"]))
        page = admin.get("/themes").text
        assert f'href="/?theme={flood.id}"' in page
        assert all(f'data-submission="{q.submission_id}"' in page for q in flood.excerpts)
        inbox = admin.get("/", params={"theme": str(flood.id), "sort": "received"}).text
        bad = admin.get("/", params={"theme": "abc"})
    shown = {int(sid) for sid in re.findall(r'href="/submissions/(\d+)"', inbox)}
    assert shown == set(ids["flood"])
    assert f'data-theme-filter="{flood.id}"' in inbox
    assert bad.status_code == 400
