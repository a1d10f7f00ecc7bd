"""REST: each user's alert rules (create, read, change, mute, delete) and the alerts they fired
(history, acknowledge). A rule only watches what its owner may see; everything is audited."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import AfterValidator, Field, StringConstraints, model_validator
from sqlalchemy.orm import Session

from civicpulse.api.context import AppContext
from civicpulse.api.deps import Ctx, CurrentUser, ReadSession, client_address
from civicpulse.api.queries import BadQuery, parse_topic
from civicpulse.api.routers.trends import province_code
from civicpulse.cases.service import load_directory
from civicpulse.domain import Role, Strict, check_clean_text
from civicpulse.errors import NotFound, Unprocessable
from civicpulse.identity import Principal
from civicpulse.insight.alert_delivery import alert_payload
from civicpulse.insight.alerts import OutOfSight, Scope, Watch
from civicpulse.insight.webhook_guard import check_webhook_url
from civicpulse.settings import Settings
from civicpulse.store import alerts as stored
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import AlertDeliveryRow, AlertRow, AlertRuleRow, UserRow, utcnow
from civicpulse.taxonomy import Taxonomy

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]
OneLine = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\r\n]*$")
]
Query_ = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=2, max_length=200, pattern=r"^[^\r\n]*$"),
    AfterValidator(check_clean_text),
]


def _check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
        raise ValueError("a webhook is an http:// or https:// URL with a host and no user name")
    return value


WebhookUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=2000),
    AfterValidator(check_clean_text),
    AfterValidator(_check_url),
]
Secret = Annotated[str, StringConstraints(min_length=16, max_length=200, pattern=r"^[\x21-\x7e]+$")]


class RuleIn(Strict):
    """An alert rule: what it watches (``topic``, ``province``, ``theme``, ``query``: each left out
    is all), when it fires (``kind`` with its ``level``), how it is delivered and whether it is muted.
    ``spike``: the spike detector of the warnings; ``threshold``: a day's (or, ``hourly``, an hour's)
    submissions, campaigns counted once, reach ``level``; ``forecast``: the 7-day forecast of a topic
    and/or province reaches ``level``. Delivery: the owner's e-mail (``email``) and/or a webhook
    signed with ``webhook_secret`` (stored encrypted, never shown); the webhook's host must resolve
    to public addresses only (``https`` in production); ``digest`` daily or weekly groups alerts
    into one message."""

    name: Annotated[OneLine, AfterValidator(check_clean_text)]
    topic: Annotated[str | None, Field(max_length=64)] = None
    province: Annotated[str | None, Field(max_length=100)] = None
    theme: Annotated[int | None, Field(ge=1, le=2**63 - 1, strict=True)] = None
    query: Query_ | None = None
    kind: Literal["spike", "threshold", "forecast", "rumour"]
    level: Annotated[float | None, Field(gt=0, le=1e9)] = None
    period: Literal["daily", "hourly"] = "daily"
    email: bool = True
    webhook_url: WebhookUrl | None = None
    webhook_secret: Secret | None = None
    digest: Literal["none", "daily", "weekly"] = "none"
    muted: bool = False

    @model_validator(mode="after")
    def _secret_with_webhook(self) -> RuleIn:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("a webhook needs a webhook_secret (16 to 200 printable characters)")
        if not self.webhook_url:
            self.webhook_secret = None
        return self


class RulePatch(Strict):
    """Fields of a rule to change (``{"muted": true}`` mutes it); the others are kept."""

    name: OneLine | None = None
    topic: Annotated[str | None, Field(max_length=64)] = None
    province: Annotated[str | None, Field(max_length=100)] = None
    theme: Annotated[int | None, Field(ge=1, le=2**63 - 1, strict=True)] = None
    query: Query_ | None = None
    kind: Literal["spike", "threshold", "forecast", "rumour"] | None = None
    level: Annotated[float | None, Field(gt=0, le=1e9)] = None
    period: Literal["daily", "hourly"] | None = None
    email: bool | None = None
    webhook_url: WebhookUrl | None = None
    webhook_secret: Secret | None = None
    digest: Literal["none", "daily", "weekly"] | None = None
    muted: bool | None = None


class RuleOut(Strict):
    """A stored rule; its webhook secret is never shown."""

    id: int
    name: str
    topic: str | None
    province: str | None
    theme: int | None
    query: str | None
    kind: str
    level: float | None
    period: str
    email: bool
    webhook_url: str | None
    webhook_secret_set: bool
    digest: str
    muted: bool
    created_at: dt.datetime
    updated_at: dt.datetime


class DeliveryOut(Strict):
    """One attempt to deliver an alert (alone or in a digest)."""

    channel: str
    attempt: int
    status: str
    response_code: int | None
    error: str | None
    digest: bool
    next_at: dt.datetime
    tried_at: dt.datetime | None


class AlertOut(Strict):
    """A fired alert: its series and period, the figures and the explanation (contributors and
    redacted quotes, never a citizen), whether it was acknowledged, and its deliveries."""

    id: int
    rule_id: int
    fired_at: dt.datetime
    series: dict[str, Any]
    start: str
    end: str
    figures: dict[str, Any]
    explanation: dict[str, Any]
    acked_at: dt.datetime | None
    acked_by: str | None
    deliveries: list[DeliveryOut]


def alert_scope(session: Session, role: Role, agencies: tuple[str, ...], taxonomy: Taxonomy) -> Scope:
    """What a user may watch: every series for those who read the trends (admins, analysts,
    viewers); an officer, the topics and provinces of their agencies in the directory."""
    if role != Role.agency_officer:
        return Scope(everything=True)
    directory = load_directory(session, taxonomy)
    areas = [
        (frozenset(agency.topics), frozenset(agency.provinces))
        for code in agencies
        if (agency := directory.agencies.get(code)) is not None
    ]
    return Scope(everything=False, areas=tuple(areas))


def scope_of_owner(taxonomy: Taxonomy) -> Any:
    """``scope_of(session, user_row)`` for the alert runs."""

    def scope_of(session: Session, owner: UserRow) -> Scope:
        return alert_scope(session, Role(owner.role), tuple(owner.agencies or ()), taxonomy)

    return scope_of


def rule_out(row: AlertRuleRow) -> RuleOut:
    """A stored rule for the API."""
    fields = {name: getattr(row, name) for name in RuleOut.model_fields if hasattr(row, name)}
    return RuleOut.model_validate({**fields, "webhook_secret_set": bool(row.webhook_secret)})


def alert_out(row: AlertRow, deliveries: list[AlertDeliveryRow]) -> AlertOut:
    """A stored alert with its delivery attempts."""
    shown = alert_payload(row)
    attempts = [
        DeliveryOut(
            channel=d.channel,
            attempt=d.attempt,
            status=d.status,
            response_code=d.response_code,
            error=d.error,
            digest=d.digest,
            next_at=d.next_at,
            tried_at=d.tried_at,
        )
        for d in deliveries
        if row.id in (d.alert_ids or [])
    ]
    return AlertOut.model_validate(
        {
            **shown,
            "fired_at": row.fired_at,
            "acked_at": row.acked_at,
            "acked_by": row.acked_by,
            "deliveries": attempts,
        }
    )


def _body_code(field: str, parse: Any) -> Any:
    try:
        return parse()
    except BadQuery as exc:
        raise Unprocessable(
            f"invalid input: body.{field}: {exc.details['fields'][0]['message']}",
            details={"fields": [{"field": f"body.{field}", "message": exc.details["fields"][0]["message"]}]},
        ) from None


def checked_rule(
    session: Session, taxonomy: Taxonomy, settings: Settings, user: Principal, body: RuleIn
) -> dict[str, Any]:
    """The rule's stored values: codes checked, the theme stored, the webhook's address allowed
    (422 ``webhook_refused``), the rule evaluable and within what ``user`` may see (403
    ``alert_out_of_sight`` otherwise)."""
    values = body.model_dump()
    if body.webhook_url:
        check_webhook_url(body.webhook_url, settings)
    values["topic"] = _body_code("topic", lambda: parse_topic(body.topic, taxonomy.codes()))
    values["province"] = _body_code("province", lambda: province_code(body.province))
    if body.theme is not None and not stored.theme_exists(session, body.theme):
        raise Unprocessable(f"theme {body.theme} is not in any stored themes run")
    watch = Watch(
        kind=body.kind,
        topic=values["topic"],
        province=values["province"],
        theme=body.theme,
        query=body.query,
        level=body.level,
        period=body.period,
    )
    if not alert_scope(session, user.role, user.agencies, taxonomy).covers(watch.topic, watch.province):
        raise OutOfSight(
            "your agencies do not cover this series: name a topic and/or province of your agencies"
        )
    return values


def _audit(
    session: Session, request: Request, user: Principal, action: str, target: str, status: int, **detail: Any
) -> None:
    record_audit(
        session,
        actor=user.email,
        action=action,
        target=target,
        client=client_address(request),
        status=status,
        detail=detail,
    )
    request.state.audited = True


def _rule(session: Session, rule_id: int, user: Principal) -> AlertRuleRow:
    row = stored.own_rule(session, rule_id, user.id)
    if row is None:
        raise NotFound(f"alert rule {rule_id} does not exist")
    return row


def current_values(row: AlertRuleRow) -> dict[str, Any]:
    """A stored rule as ``RuleIn`` fields, less its webhook secret."""
    return {name: getattr(row, name) for name in RuleIn.model_fields if name != "webhook_secret"}


def save_checked(
    session: Session, ctx: AppContext, user: Principal, values: dict[str, Any], row: AlertRuleRow | None
) -> AlertRuleRow:
    """Validate ``values`` as a whole rule and store it (new when ``row`` is ``None``); a webhook
    given without a secret keeps the stored one."""
    if (
        row is not None
        and row.webhook_secret
        and values.get("webhook_url")
        and not values.get("webhook_secret")
    ):
        values = {**values, "webhook_secret": stored.open_secret(ctx.cipher, row.webhook_secret)}
    try:
        body = RuleIn.model_validate(values)
    except ValueError as exc:
        raise Unprocessable(f"invalid input: {exc}") from None
    checked = checked_rule(session, ctx.taxonomy, ctx.settings, user, body)
    return stored.save_rule(session, checked, owner_id=user.id, cipher=ctx.cipher, row=row)


@router.get("/rules", response_model=list[RuleOut])
def list_rules(session: ReadSession, user: CurrentUser) -> list[RuleOut]:
    """The caller's rules, oldest first."""
    return [rule_out(row) for row in stored.rules_of(session, user.id)]


@router.post("/rules", response_model=RuleOut, status_code=201)
def create_rule(body: RuleIn, request: Request, ctx: Ctx, user: CurrentUser) -> RuleOut:
    """A new rule of the caller."""
    with ctx.db.write() as session:
        checked = checked_rule(session, ctx.taxonomy, ctx.settings, user, body)
        row = stored.save_rule(session, checked, owner_id=user.id, cipher=ctx.cipher)
        _audit(session, request, user, "alert_rule.create", f"alert_rule:{row.id}", 201, kind=row.kind)
        return rule_out(row)


@router.get("/rules/{rule_id}", response_model=RuleOut)
def read_rule(rule_id: RowId, session: ReadSession, user: CurrentUser) -> RuleOut:
    """One of the caller's rules (another's answers 404)."""
    return rule_out(_rule(session, rule_id, user))


@router.put("/rules/{rule_id}", response_model=RuleOut)
def replace_rule(rule_id: RowId, body: RuleIn, request: Request, ctx: Ctx, user: CurrentUser) -> RuleOut:
    """Replace a rule (its alerts stay)."""
    with ctx.db.write() as session:
        row = save_checked(session, ctx, user, body.model_dump(), _rule(session, rule_id, user))
        _audit(session, request, user, "alert_rule.update", f"alert_rule:{row.id}", 200, muted=row.muted)
        return rule_out(row)


@router.patch("/rules/{rule_id}", response_model=RuleOut)
def change_rule(rule_id: RowId, body: RulePatch, request: Request, ctx: Ctx, user: CurrentUser) -> RuleOut:
    """Change some fields of a rule; ``{"muted": true}`` mutes it (no firing, no delivery), ``false``
    unmutes it."""
    with ctx.db.write() as session:
        row = _rule(session, rule_id, user)
        was_muted = row.muted
        row = save_checked(
            session, ctx, user, {**current_values(row), **body.model_dump(exclude_unset=True)}, row
        )
        action = "alert_rule.update"
        if row.muted != was_muted:
            action = "alert_rule.mute" if row.muted else "alert_rule.unmute"
        _audit(
            session, request, user, action, f"alert_rule:{row.id}", 200, fields=sorted(body.model_fields_set)
        )
        return rule_out(row)


@router.delete("/rules/{rule_id}", status_code=204)
def delete_rule(rule_id: RowId, request: Request, ctx: Ctx, user: CurrentUser) -> Response:
    """Remove a rule with its alerts and delivery log (the audit log keeps what happened)."""
    with ctx.db.write() as session:
        session.delete(_rule(session, rule_id, user))
        _audit(session, request, user, "alert_rule.delete", f"alert_rule:{rule_id}", 204)
    return Response(status_code=204)


@router.get("", response_model=list[AlertOut])
def list_alerts(
    session: ReadSession,
    user: CurrentUser,
    unacked: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AlertOut]:
    """The caller's alerts, newest first (``unacked``: those not acknowledged yet)."""
    rows = stored.alerts_of(session, user.id, limit=limit, unacked=unacked)
    deliveries = stored.deliveries_of(session, sorted({row.rule_id for row in rows}))
    return [alert_out(row, deliveries) for row in rows]


@router.post("/{alert_id}/ack", response_model=AlertOut)
def acknowledge(alert_id: RowId, request: Request, ctx: Ctx, user: CurrentUser) -> AlertOut:
    """Acknowledge one of the caller's alerts (again: it keeps its first acknowledgement)."""
    with ctx.db.write() as session:
        row = stored.own_alert(session, alert_id, user.id)
        if row is None:
            raise NotFound(f"alert {alert_id} does not exist")
        first = row.acked_at is None
        if first:
            row.acked_at, row.acked_by = utcnow(), user.email
        _audit(session, request, user, "alert.ack", f"alert:{row.id}", 200, first=first)
        return alert_out(row, stored.deliveries_of(session, [row.rule_id]))
