"""Delivering alerts: e-mail to the rule's owner through ``civicpulse.mailer``, and signed webhooks.

A webhook is a ``POST`` of a JSON body with ``X-CivicPulse-Timestamp`` (Unix seconds, also in the
body) and ``X-CivicPulse-Signature: sha256=<hex HMAC-SHA256 of the raw body with the rule's
secret>``; any 2xx answer is a delivery. The secret is stored encrypted (``store.alerts.seal_secret``);
the URL's host is resolved again before each call and the call goes to the address checked there
(``insight.webhook_guard``): an address inside the office's network is a failed attempt, never a
call. Each attempt is a row of the delivery log; a failed one
leaves a successor due ``alert_retry_base_seconds`` × 2^(attempt − 1) later, up to
``alert_max_attempts``. Alerts carry counts, codes and redacted quotes only: never a citizen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from civicpulse.errors import ContactKeyMismatch, MailNotSent, Unprocessable
from civicpulse.insight.webhook_guard import WebhookRefused, pinned_request
from civicpulse.mailer import send_mail
from civicpulse.settings import Settings
from civicpulse.store import alerts as stored
from civicpulse.store.audit import record_audit
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.tables import AlertDeliveryRow, AlertRow, AlertRuleRow, UserRow

ACTOR = "system:alerts"
SIGNATURE_HEADER = "X-CivicPulse-Signature"
TIMESTAMP_HEADER = "X-CivicPulse-Timestamp"
CLAIM_SECONDS = 300
log = logging.getLogger(__name__)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def alert_payload(row: AlertRow) -> dict[str, Any]:
    """An alert as webhooks, e-mails and the API show it."""
    return {
        "id": row.id,
        "rule_id": row.rule_id,
        "fired_at": row.fired_at.isoformat(),
        "series": row.series,
        "start": row.start,
        "end": row.end,
        "figures": row.figures,
        "explanation": row.explanation,
    }


def series_label(series: dict[str, Any]) -> str:
    """``topic=… province=… theme=… query="…"``, or ``all`` for the whole stream."""
    parts = [
        f"{name}={series[name]}" for name in ("topic", "province", "theme") if series.get(name) is not None
    ]
    if series.get("query"):
        parts.append(f'query="{series["query"]}"')
    return " ".join(parts) or "all"


def _figures_line(figures: dict[str, Any]) -> str:
    return ", ".join(f"{name} {value}" for name, value in figures.items())


def compose_mail(rule: AlertRuleRow, alerts: list[AlertRow], *, digest: bool) -> tuple[str, str]:
    """Subject and plain-text body of one alert, or of a digest of several."""
    name = " ".join(rule.name.split())
    if digest:
        subject = f"[CivicPulse] Tổng hợp cảnh báo / Alert digest: {name} ({len(alerts)})"
    else:
        subject = f"[CivicPulse] Cảnh báo / Alert: {name}"
    lines = [f"Quy tắc / Rule: {name} ({rule.kind}, {series_label(alerts[0].series) if alerts else ''})", ""]
    for number, alert in enumerate(alerts, 1):
        lines.append(f"[{number}] {series_label(alert.series)} · {alert.start} → {alert.end}")
        lines.append(f"    {_figures_line(alert.figures)}")
        contributors = alert.explanation.get("contributors") or []
        if contributors:
            shown = ", ".join(f"{c['kind']} {c['code']} ({round(100 * c['share'])}%)" for c in contributors)
            lines.append(f"    Nguyên nhân / Drivers: {shown}")
        if alert.explanation.get("campaign_driven"):
            lines.append("    Do chiến dịch gửi hàng loạt / Driven by a coordinated campaign")
        lines.extend(f'    "{quote}"' for quote in alert.explanation.get("quotes") or [])
        lines.append("")
    lines.append("-- \nThư gửi tự động từ CivicPulse. Sent automatically by CivicPulse.")
    return subject, "\n".join(lines)


def webhook_body(rule: AlertRuleRow, alerts: list[AlertRow], *, digest: bool, now: datetime) -> bytes:
    """The JSON body of a webhook call."""
    document = {
        "event": "digest" if digest else "alert",
        "sent_at": int(now.timestamp()),
        "rule": {"id": rule.id, "name": rule.name, "kind": rule.kind},
        "alerts": [alert_payload(alert) for alert in alerts],
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


@dataclass(frozen=True)
class _Attempt:
    delivery_id: int
    rule_id: int
    channel: str
    attempt: int
    alert_ids: tuple[int, ...]
    to: str
    url: str | None
    sealed_secret: str | None
    subject: str
    text: str
    body: bytes


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: success, the HTTP status when there was one, the error otherwise."""

    ok: bool
    response_code: int | None = None
    error: str | None = None


@dataclass
class DeliveryReport:
    """What one round of delivery did."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0


def _claim(db: Database, delivery_id: int, now: datetime) -> _Attempt | None:
    """Hold one due attempt (for ``CLAIM_SECONDS``, should this process stop) and compose it."""
    with db.write() as session:
        held = session.execute(
            update(AlertDeliveryRow)
            .where(
                AlertDeliveryRow.id == delivery_id,
                AlertDeliveryRow.status == stored.PENDING,
                AlertDeliveryRow.next_at <= now,
            )
            .values(next_at=now + timedelta(seconds=CLAIM_SECONDS))
        )
        if held.rowcount != 1:
            return None
        row = session.get(AlertDeliveryRow, delivery_id)
        rule = session.get(AlertRuleRow, row.rule_id) if row is not None else None
        owner = session.get(UserRow, rule.owner_id) if rule is not None else None
        if row is None or rule is None or owner is None:
            return None
        if rule.muted or not owner.active:
            row.status, row.error, row.tried_at = (
                stored.FAILED,
                "the rule is muted or its owner inactive",
                now,
            )
            return None
        alerts = stored.alerts_by_id(session, row.alert_ids)
        subject, text = compose_mail(rule, alerts, digest=row.digest)
        return _Attempt(
            delivery_id=row.id,
            rule_id=rule.id,
            channel=row.channel,
            attempt=row.attempt,
            alert_ids=tuple(row.alert_ids),
            to=owner.email,
            url=rule.webhook_url,
            sealed_secret=rule.webhook_secret,
            subject=subject,
            text=text,
            body=webhook_body(rule, alerts, digest=row.digest, now=now),
        )


def _send(
    settings: Settings, cipher: ContactCipher, attempt: _Attempt, client: httpx.Client, now: datetime
) -> Outcome:
    if attempt.channel == "email":
        try:
            send_mail(settings, [attempt.to], attempt.subject, attempt.text)
        except (MailNotSent, Unprocessable) as exc:
            return Outcome(False, error=exc.message)
        return Outcome(True)
    if not attempt.url or not attempt.sealed_secret:
        return Outcome(False, error="the rule has no webhook any more")
    try:
        secret = stored.open_secret(cipher, attempt.sealed_secret)
    except ContactKeyMismatch:
        return Outcome(False, error="the webhook secret does not open with the configured contact key")
    try:
        target = pinned_request(attempt.url, settings)
    except WebhookRefused as exc:
        return Outcome(False, error=f"refused, not sent: {exc.message}"[:500])
    headers = {
        "Content-Type": "application/json",
        "Host": target.host_header,
        SIGNATURE_HEADER: sign(secret or "", attempt.body),
        TIMESTAMP_HEADER: str(int(now.timestamp())),
    }
    extensions = {"sni_hostname": target.server_name} if target.server_name else {}
    try:
        answer = client.post(target.url, content=attempt.body, headers=headers, extensions=extensions)
    except httpx.HTTPError as exc:
        return Outcome(False, error=f"{type(exc).__name__}: {exc}"[:500])
    if answer.is_success:
        return Outcome(True, answer.status_code)
    return Outcome(False, answer.status_code, f"HTTP {answer.status_code}")


def retry_delay(settings: Settings, attempt: int) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1, 2, ...)."""
    return timedelta(seconds=settings.alert_retry_base_seconds * 2 ** (attempt - 1))


def _record(db: Database, settings: Settings, attempt: _Attempt, outcome: Outcome, now: datetime) -> bool:
    """Log the attempt (and audit it); queue the next one after a failure; whether it retries."""
    retry = not outcome.ok and attempt.attempt < settings.alert_max_attempts
    with db.write() as session:
        row = session.get(AlertDeliveryRow, attempt.delivery_id)
        if row is None:
            return False
        row.status = stored.SENT if outcome.ok else stored.FAILED
        row.response_code, row.error, row.tried_at = outcome.response_code, outcome.error, now
        if retry:
            session.add(
                AlertDeliveryRow(
                    rule_id=row.rule_id,
                    alert_ids=list(row.alert_ids),
                    digest=row.digest,
                    channel=row.channel,
                    attempt=row.attempt + 1,
                    status=stored.PENDING,
                    next_at=now + retry_delay(settings, row.attempt),
                )
            )
        record_audit(
            session,
            actor=ACTOR,
            action="alert.deliver",
            target=f"alert_rule:{attempt.rule_id}",
            status=200 if outcome.ok else 502,
            detail={
                "channel": attempt.channel,
                "attempt": attempt.attempt,
                "alerts": list(attempt.alert_ids),
                "response_code": outcome.response_code,
                **({"error": outcome.error} if outcome.error else {}),
            },
        )
    return retry


def deliver_due(
    db: Database, settings: Settings, *, now: datetime, client: httpx.Client | None = None
) -> DeliveryReport:
    """Try every attempt whose time has come."""
    report = DeliveryReport()
    with db.read() as session:
        due = stored.due_deliveries(session, now)
    cipher = ContactCipher(settings.fernet_key)
    own_client = client is None
    http = client or httpx.Client(timeout=settings.alert_webhook_timeout_seconds, follow_redirects=False)
    try:
        for delivery_id in due:
            attempt = _claim(db, delivery_id, now)
            if attempt is None:
                continue
            outcome = _send(settings, cipher, attempt, http, now)
            retrying = _record(db, settings, attempt, outcome, now)
            if outcome.ok:
                report.sent += 1
            elif retrying:
                report.retrying += 1
            else:
                report.failed += 1
                log.warning("alert delivery %s failed for good: %s", delivery_id, outcome.error)
    finally:
        if own_client:
            http.close()
    return report
