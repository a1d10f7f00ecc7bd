"""One run of the alerts (``civicpulse alerts run``): evaluate every unmuted rule over the last
days, record what is new (once per rule and key, audited), queue its deliveries or keep it for the
digest, queue the digests that are due, and deliver what is due. ``civicpulse serve`` runs it
every ``alert_run_interval_seconds`` in an ``AlertRunner`` thread."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civicpulse.insight.alert_delivery import ACTOR, DeliveryReport, deliver_due
from civicpulse.insight.alerts import Firing, Scope, Watch, due_window, evaluate
from civicpulse.periodic import Periodic
from civicpulse.settings import Settings
from civicpulse.store import alerts as stored
from civicpulse.store.audit import record_audit
from civicpulse.store.db import Database
from civicpulse.store.tables import AlertRuleRow, UserRow, utcnow

DIGEST_PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}
ScopeOf = Callable[[Session, UserRow], Scope]
log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What one run did."""

    fired: int = 0
    out_of_sight: int = 0
    broken: int = 0
    digests: int = 0
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


def watch_of(rule: AlertRuleRow) -> Watch:
    """What a stored rule watches."""
    return Watch(
        kind=rule.kind,
        topic=rule.topic,
        province=rule.province,
        theme=rule.theme,
        query=rule.query,
        level=rule.level,
        period=rule.period,
    )


def channels(rule: AlertRuleRow) -> list[str]:
    """How a rule's alerts go out: ``email`` and/or ``webhook`` (none: the dashboard only)."""
    return [name for name, wanted in (("email", rule.email), ("webhook", bool(rule.webhook_url))) if wanted]


def _new_firings(
    db: Database, settings: Settings, rule_id: int, scope_of: ScopeOf, now: datetime
) -> list[Firing] | None:
    """The rule's firings over the due window not yet recorded; ``None`` when out of sight."""
    since, until = due_window(now)
    with db.read() as session:
        rule = session.get(AlertRuleRow, rule_id)
        owner = session.get(UserRow, rule.owner_id) if rule is not None else None
        if rule is None or owner is None:
            return []
        watch = watch_of(rule)
        if not scope_of(session, owner).covers(watch.topic, watch.province):
            return None
        known = stored.fired_keys(session, rule_id)
        found = evaluate(
            session,
            watch,
            since,
            until,
            k_anonymity=settings.k_anonymity,
            now=now,
            rumour_hours=settings.rumour_alert_hours,
        )
    return [firing for firing in found if firing.key not in known]


def _record(db: Database, rule_id: int, firings: list[Firing], now: datetime) -> int:
    """Store the firings, audit each, and queue their deliveries unless the rule has a digest."""
    with db.write() as session:
        rule = session.get(AlertRuleRow, rule_id)
        if rule is None:
            return 0
        known = stored.fired_keys(session, rule_id)
        fresh = [firing for firing in firings if firing.key not in known]
        watch = watch_of(rule)
        for firing in fresh:
            row = stored.add_alert(
                session,
                rule,
                {
                    "key": firing.key,
                    "series": watch.series_dict(),
                    "start": firing.start,
                    "end": firing.end,
                    "figures": firing.figures,
                    "explanation": firing.explanation,
                },
                now,
            )
            record_audit(
                session,
                actor=ACTOR,
                action="alert.fire",
                target=f"alert:{row.id}",
                status=201,
                detail={"rule": rule.id, "key": firing.key},
            )
            if rule.digest == "none":
                row.digested_at = now
                for channel in channels(rule):
                    stored.queue_delivery(session, rule, [row.id], channel, digest=False, now=now)
        return len(fresh)


def fire_rules(db: Database, settings: Settings, scope_of: ScopeOf, *, now: datetime) -> RunReport:
    """Evaluate every unmuted rule of an active owner and record what is new."""
    report = RunReport()
    with db.read() as session:
        rule_ids = [rule.id for rule, _ in stored.all_rules(session, active_only=True)]
    for rule_id in rule_ids:
        try:
            firings = _new_firings(db, settings, rule_id, scope_of, now)
            if firings is None:
                report.out_of_sight += 1
                continue
            if firings:
                report.fired += _record(db, rule_id, firings, now)
        except IntegrityError:  # another run recorded the same firing first
            continue
        except Exception:  # one broken rule never stops the others
            log.exception("alert rule %s could not be evaluated", rule_id)
            report.broken += 1
    return report


def queue_digests(db: Database, *, now: datetime) -> int:
    """Queue a digest for every rule whose digest period is over and which has alerts waiting."""
    queued = 0
    with db.write() as session:
        for rule, _ in stored.all_rules(session, active_only=True):
            period = DIGEST_PERIODS.get(rule.digest)
            if period is None or (rule.digest_at or rule.created_at) + period > now:
                continue
            waiting = stored.undigested(session, rule.id)
            if not waiting:
                continue
            ids = [alert.id for alert in waiting]
            for channel in channels(rule):
                stored.queue_delivery(session, rule, ids, channel, digest=True, now=now)
            for alert in waiting:
                alert.digested_at = now
            rule.digest_at = now
            queued += 1
    return queued


def run_alerts(
    db: Database,
    settings: Settings,
    scope_of: ScopeOf,
    *,
    now: datetime | None = None,
    client: httpx.Client | None = None,
) -> RunReport:
    """Fire, queue due digests, deliver: safe to run as often as wanted (each firing once)."""
    moment = now or utcnow()
    report = fire_rules(db, settings, scope_of, now=moment)
    report.digests = queue_digests(db, now=moment)
    report.delivery = deliver_due(db, settings, now=moment, client=client)
    return report


class AlertRunner(Periodic):
    """Runs the alerts in a daemon thread of ``civicpulse serve``: at start, then every
    ``alert_run_interval_seconds`` (0: never; ``civicpulse alerts run`` from cron instead).

    ``stop`` returns once the run under way has finished (each webhook call is bounded by
    ``alert_webhook_timeout_seconds``) or after ``timeout`` seconds."""

    def __init__(self, db: Database, settings: Settings, scope_of: ScopeOf) -> None:
        self.db, self.settings, self.scope_of = db, settings, scope_of
        interval = settings.alert_run_interval_seconds
        super().__init__(
            "civicpulse-alerts", self._round, interval, enabled=interval > 0, failure="alert run failed"
        )

    def _round(self) -> None:
        report = run_alerts(self.db, self.settings, self.scope_of)
        if report.fired or report.delivery.sent or report.delivery.failed or report.broken:
            log.info(
                "alerts: fired %d, sent %d, retrying %d, failed %d, broken rules %d",
                report.fired,
                report.delivery.sent,
                report.delivery.retrying,
                report.delivery.failed,
                report.broken,
            )
