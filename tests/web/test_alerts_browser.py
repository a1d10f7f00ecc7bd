"""The alerts page in a phone-sized browser: create a rule with the form, see an alert it fired,
acknowledge it (recorded and audited), mute the rule."""

from __future__ import annotations

from playwright.sync_api import Browser, expect
from sqlalchemy import select

from civicpulse.store.tables import AlertRow, AlertRuleRow, AuditRow, utcnow
from tests.conftest import LiveServer
from tests.web.conftest import ADMIN_EMAIL, SQLITE_ONLY, sign_in

pytestmark = SQLITE_ONLY


def test_create_a_rule_then_acknowledge_its_alert_and_mute_it(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/alerts?lang=en")
    page.fill("#rule-name", "Waste in HCMC")
    page.select_option("#rule-kind", "threshold")
    page.fill("#rule-level", "12")
    page.select_option("#rule-topic", "environment")
    page.fill("#rule-province", "79")
    page.click("#save-rule")
    expect(page.locator("#rules")).to_contain_text("Waste in HCMC")
    with live_server.db.write() as session:
        rule = session.scalars(select(AlertRuleRow)).one()
        assert (rule.kind, rule.level, rule.topic, rule.province) == ("threshold", 12.0, "environment", "79")
        alert = AlertRow(
            rule_id=rule.id,
            owner_id=rule.owner_id,
            key="threshold:2026-06-15",
            fired_at=utcnow(),
            series={"topic": "environment", "province": "79"},
            start="2026-06-15",
            end="2026-06-15",
            figures={"observed": 14, "level": 12.0},
            explanation={"contributors": [], "quotes": ["Bãi rác ở kênh [PERSON] bốc mùi"]},
        )
        session.add(alert)
        session.flush()
        alert_id, rule_id = alert.id, rule.id
    page.goto(f"{live_server.url}/alerts")
    row = page.locator(f"#alert-{alert_id}")
    expect(row).to_contain_text("observed 14")
    page.click(f"#ack-{alert_id}")
    expect(page.locator(f"#alert-{alert_id}")).to_contain_text("Acknowledged")
    page.click(f"#mute-{rule_id}")
    expect(page.locator(f"#rule-{rule_id}")).to_contain_text("Muted")
    right = page.evaluate(
        "Math.max(...['#alert-history', '#alert-rules', '#rule-form']"
        ".map(s => document.querySelector(s).getBoundingClientRect().right))"
    )
    context.close()
    assert right <= 390, "the alerts sections are wider than a phone"
    with live_server.db.read() as session:
        assert session.get(AlertRow, alert_id).acked_by == ADMIN_EMAIL
        assert session.get(AlertRuleRow, rule_id).muted is True
        actions = session.scalars(select(AuditRow.action).where(AuditRow.action.like("alert%"))).all()
    assert actions == ["alert_rule.create", "alert.ack", "alert_rule.mute"]


def test_a_rumour_rule_is_made_from_the_form(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(locale="vi-VN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/alerts?lang=vi")
    expect(page.locator("#rule-kind-hint")).to_contain_text("tin đồn")
    page.fill("#rule-name", "Tin đồn thu hồi đất")
    page.select_option("#rule-kind", "rumour")
    page.fill("#rule-level", "3")
    page.fill("#rule-query", "thu hồi đất")
    page.click("#save-rule")
    expect(page.locator("#rules")).to_contain_text("Tin đồn thu hồi đất")
    context.close()
    with live_server.db.read() as session:
        rule = session.scalars(select(AlertRuleRow)).one()
    assert (rule.kind, rule.level, rule.query, rule.topic) == ("rumour", 3.0, "thu hồi đất", None)
