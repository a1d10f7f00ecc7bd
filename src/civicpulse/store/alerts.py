"""Stored alert rules, fired alerts and their delivery log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpulse.store.contacts import ContactCipher
from civicpulse.store.tables import (
    AlertDeliveryRow,
    AlertRow,
    AlertRuleRow,
    ClaimRow,
    RumourSignalRow,
    UserRow,
    utcnow,
)
from civicpulse.store.themes import ThemeMemberRow, ThemeRow

PENDING, SENT, FAILED = "pending", "sent", "failed"
RULE_FIELDS = (
    "name",
    "topic",
    "province",
    "theme",
    "query",
    "kind",
    "level",
    "period",
    "email",
    "webhook_url",
    "webhook_secret",
    "digest",
    "muted",
)


def seal_secret(cipher: ContactCipher, secret: str | None) -> str | None:
    """A webhook secret as stored: Fernet ciphertext under the contact key."""
    return None if secret is None else cipher.encrypt_json(secret).decode("ascii")


def open_secret(cipher: ContactCipher, sealed: str | None) -> str | None:
    """A stored webhook secret in clear (``ContactKeyMismatch`` under another key)."""
    return None if sealed is None else str(cipher.decrypt_json(sealed.encode("ascii")))


def save_rule(
    session: Session,
    values: Mapping[str, Any],
    *,
    owner_id: int,
    cipher: ContactCipher,
    row: AlertRuleRow | None = None,
) -> AlertRuleRow:
    """Create a rule of ``owner_id``, or replace the fields of ``row`` given in ``values`` (the
    webhook secret in clear: it is stored encrypted)."""
    if row is None:
        row = AlertRuleRow(owner_id=owner_id, created_at=utcnow())
        session.add(row)
    for name in RULE_FIELDS:
        if name in values:
            value = values[name]
            setattr(row, name, seal_secret(cipher, value) if name == "webhook_secret" else value)
    row.updated_at = utcnow()
    session.flush()
    return row


def rules_of(session: Session, owner_id: int) -> list[AlertRuleRow]:
    """The rules of one user, oldest first."""
    return list(
        session.scalars(
            select(AlertRuleRow).where(AlertRuleRow.owner_id == owner_id).order_by(AlertRuleRow.id)
        )
    )


def own_rule(session: Session, rule_id: int, owner_id: int) -> AlertRuleRow | None:
    """A rule of this owner (``None`` for another's: nobody learns that it exists)."""
    row = session.get(AlertRuleRow, rule_id)
    return row if row is not None and row.owner_id == owner_id else None


def all_rules(session: Session, *, active_only: bool = False) -> list[tuple[AlertRuleRow, UserRow]]:
    """Every rule with its owner (active owners, and unmuted rules when ``active_only``)."""
    query = (
        select(AlertRuleRow, UserRow)
        .join(UserRow, UserRow.id == AlertRuleRow.owner_id)
        .order_by(AlertRuleRow.id)
    )
    if active_only:
        query = query.where(AlertRuleRow.muted.is_(False), UserRow.active.is_(True))
    return [(rule, user) for rule, user in session.execute(query).all()]


def rumour_people(
    session: Session, since: datetime, until: datetime, *, province: str | None = None
) -> list[tuple[int, str, int]]:
    """``(claim id, claim, distinct people)`` of the claims repeated between ``since`` and
    ``until`` (rumour signals by received time, in ``province`` when given), most people first."""
    query = (
        select(ClaimRow.id, ClaimRow.claim_reviewed, func.count(func.distinct(RumourSignalRow.sender)))
        .join(ClaimRow, ClaimRow.id == RumourSignalRow.claim_id)
        .where(RumourSignalRow.received_at >= since, RumourSignalRow.received_at <= until)
        .group_by(ClaimRow.id, ClaimRow.claim_reviewed)
    )
    if province is not None:
        query = query.where(RumourSignalRow.province == province)
    rows = [(int(cid), str(text), int(people)) for cid, text, people in session.execute(query)]
    return sorted(rows, key=lambda row: (-row[2], row[0]))


def fired_keys(session: Session, rule_id: int) -> set[str]:
    """The keys this rule has already fired on."""
    return set(session.scalars(select(AlertRow.key).where(AlertRow.rule_id == rule_id)))


def add_alert(session: Session, rule: AlertRuleRow, values: Mapping[str, Any], now: datetime) -> AlertRow:
    """Record one firing of ``rule``."""
    row = AlertRow(rule_id=rule.id, owner_id=rule.owner_id, fired_at=now, **values)
    session.add(row)
    session.flush()
    return row


def alerts_of(session: Session, owner_id: int, *, limit: int = 100, unacked: bool = False) -> list[AlertRow]:
    """A user's alerts, newest first."""
    query = select(AlertRow).where(AlertRow.owner_id == owner_id)
    if unacked:
        query = query.where(AlertRow.acked_at.is_(None))
    return list(session.scalars(query.order_by(AlertRow.fired_at.desc(), AlertRow.id.desc()).limit(limit)))


def own_alert(session: Session, alert_id: int, owner_id: int) -> AlertRow | None:
    """An alert of this owner, else ``None``."""
    row = session.get(AlertRow, alert_id)
    return row if row is not None and row.owner_id == owner_id else None


def undigested(session: Session, rule_id: int) -> list[AlertRow]:
    """Alerts of a digest rule not yet sent in a digest, oldest first."""
    return list(
        session.scalars(
            select(AlertRow)
            .where(AlertRow.rule_id == rule_id, AlertRow.digested_at.is_(None))
            .order_by(AlertRow.fired_at, AlertRow.id)
        )
    )


def queue_delivery(
    session: Session,
    rule: AlertRuleRow,
    alert_ids: Sequence[int],
    channel: str,
    *,
    digest: bool,
    now: datetime,
) -> None:
    """A first attempt, due now."""
    session.add(
        AlertDeliveryRow(
            rule_id=rule.id,
            alert_ids=list(alert_ids),
            digest=digest,
            channel=channel,
            attempt=1,
            status=PENDING,
            next_at=now,
        )
    )


def due_deliveries(session: Session, now: datetime, *, limit: int = 200) -> list[int]:
    """Ids of the pending attempts whose time has come, oldest first."""
    return list(
        session.scalars(
            select(AlertDeliveryRow.id)
            .where(AlertDeliveryRow.status == PENDING, AlertDeliveryRow.next_at <= now)
            .order_by(AlertDeliveryRow.next_at, AlertDeliveryRow.id)
            .limit(limit)
        )
    )


def deliveries_of(session: Session, rule_ids: Sequence[int]) -> list[AlertDeliveryRow]:
    """Every attempt of these rules, oldest first."""
    if not rule_ids:
        return []
    return list(
        session.scalars(
            select(AlertDeliveryRow)
            .where(AlertDeliveryRow.rule_id.in_(list(rule_ids)))
            .order_by(AlertDeliveryRow.id)
        )
    )


def alerts_by_id(session: Session, alert_ids: Sequence[int]) -> list[AlertRow]:
    """These alerts, oldest first."""
    if not alert_ids:
        return []
    return list(
        session.scalars(select(AlertRow).where(AlertRow.id.in_(list(alert_ids))).order_by(AlertRow.id))
    )


def theme_exists(session: Session, theme_id: int) -> bool:
    """Whether a stored themes run has this theme."""
    return session.scalar(select(ThemeRow.id).where(ThemeRow.theme_id == theme_id).limit(1)) is not None


def theme_member_ids(session: Session, theme_id: int) -> set[int]:
    """The submissions of a theme in the latest run that has it."""
    run = session.scalar(select(func.max(ThemeRow.run_id)).where(ThemeRow.theme_id == theme_id))
    if run is None:
        return set()
    return set(
        session.scalars(
            select(ThemeMemberRow.submission_id).where(
                ThemeMemberRow.run_id == run, ThemeMemberRow.theme_id == theme_id
            )
        )
    )
