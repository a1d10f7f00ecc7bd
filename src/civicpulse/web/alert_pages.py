"""The alerts page (``/alerts``): the signed-in user's rules (create, edit, mute, delete) and the
alerts they fired (acknowledge). Forms are CSRF-protected and act as the API does (same checks,
same audit)."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from civicpulse.api.deps import OptionalUser, ReadSession, client_address
from civicpulse.api.routers.alerts import current_values, save_checked
from civicpulse.errors import CivicPulseError, NotFound
from civicpulse.identity import Principal
from civicpulse.insight.alert_delivery import series_label
from civicpulse.insight.alerts import KINDS
from civicpulse.store import alerts as stored
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import utcnow
from civicpulse.web.csrf import CsrfProtected
from civicpulse.web.i18n import translator
from civicpulse.web.inbox_pages import MAX_ID, sign_in_first
from civicpulse.web.render import render

router = APIRouter(include_in_schema=False)

RowId = Annotated[int, Path(ge=1, le=MAX_ID)]
Short = Annotated[str, Form(max_length=2_000)]
BLANK_RULE = {"kind": "spike", "period": "daily", "digest": "none", "email": True}


def _page(
    request: Request,
    session: Session,
    user: Principal,
    *,
    values: dict[str, Any] | None = None,
    editing: int | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    rules = stored.rules_of(session, user.id)
    context = {
        "rules": rules,
        "rule_names": {rule.id: rule.name for rule in rules},
        "alerts": stored.alerts_of(session, user.id, limit=100),
        "series_label": series_label,
        "kinds": KINDS,
        "topics": request.app.state.ctx.taxonomy.topics,
        "values": values or BLANK_RULE,
        "editing": editing,
        "error": error,
        "active": "alerts",
    }
    return render(request, "alerts.html", context, status_code=status_code)


@router.get("/alerts")
def alerts_page(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    edit: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """The user's rules and alerts; ``?edit=ID`` fills the form with one rule."""
    if user is None:
        return sign_in_first(request)
    if edit is not None:
        row = stored.own_rule(session, edit, user.id)
        if row is None:
            raise NotFound(translator(request)("error.404"))
        return _page(request, session, user, values=current_values(row), editing=row.id)
    return _page(request, session, user)


def _form_values(
    name: str,
    kind: str,
    topic: str,
    province: str,
    query: str,
    level: str,
    period: str,
    email: str,
    webhook_url: str,
    webhook_secret: str,
    digest: str,
) -> dict[str, Any]:
    level_value: Any = level.strip() or None
    with suppress(ValueError):  # else left as typed: the rule's check names the field
        level_value = float(level_value) if level_value is not None else None
    return {
        "name": name.strip(),
        "kind": kind,
        "topic": topic.strip() or None,
        "province": province.strip() or None,
        "query": query.strip() or None,
        "level": level_value,
        "period": period,
        "email": email == "on",
        "webhook_url": webhook_url.strip() or None,
        "webhook_secret": webhook_secret.strip() or None,
        "digest": digest,
    }


@router.post("/alerts/rules", dependencies=[CsrfProtected])
def save_rule(
    request: Request,
    user: OptionalUser,
    name: Short = "",
    kind: Short = "spike",
    topic: Short = "",
    province: Short = "",
    query: Short = "",
    level: Short = "",
    period: Short = "daily",
    email: Short = "",
    webhook_url: Short = "",
    webhook_secret: Short = "",
    digest: Short = "none",
    rule_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Create a rule, or change the one named by ``rule_id`` (an empty secret keeps the stored one)."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    ctx = request.app.state.ctx
    values = _form_values(
        name, kind, topic, province, query, level, period, email, webhook_url, webhook_secret, digest
    )
    try:
        with ctx.db.write() as session:
            row = stored.own_rule(session, rule_id, user.id) if rule_id is not None else None
            if rule_id is not None and row is None:
                raise NotFound(t("error.404"))
            if row is not None:
                values["muted"] = row.muted
            saved = save_checked(session, ctx, user, values, row)
            action = "alert_rule.update" if row is not None else "alert_rule.create"
            _audit(session, request, user, action, f"alert_rule:{saved.id}")
    except CivicPulseError as exc:
        with ctx.db.read() as session:
            shown = {**values, "webhook_secret": None}
            return _page(
                request,
                session,
                user,
                values=shown,
                editing=rule_id,
                error=t("alerts.refused", reason=exc.message),
                status_code=exc.status,
            )
    return RedirectResponse(f"/alerts#rule-{saved.id}", status_code=303)


def _audit(session: Session, request: Request, user: Principal, action: str, target: str) -> None:
    record_audit(
        session, actor=user.email, action=action, target=target, client=client_address(request), status=303
    )
    request.state.audited = True


@router.post("/alerts/rules/{rule_id}/mute", dependencies=[CsrfProtected])
def toggle_mute(request: Request, rule_id: RowId, user: OptionalUser) -> Response:
    """Mute a rule, or unmute a muted one."""
    if user is None:
        return sign_in_first(request)
    with request.app.state.ctx.db.write() as session:
        row = stored.own_rule(session, rule_id, user.id)
        if row is None:
            raise NotFound(translator(request)("error.404"))
        row.muted, row.updated_at = not row.muted, utcnow()
        _audit(
            session,
            request,
            user,
            "alert_rule.mute" if row.muted else "alert_rule.unmute",
            f"alert_rule:{row.id}",
        )
    return RedirectResponse(f"/alerts#rule-{rule_id}", status_code=303)


@router.post("/alerts/rules/{rule_id}/delete", dependencies=[CsrfProtected])
def delete_rule(request: Request, rule_id: RowId, user: OptionalUser) -> Response:
    """Remove a rule with its alerts."""
    if user is None:
        return sign_in_first(request)
    with request.app.state.ctx.db.write() as session:
        row = stored.own_rule(session, rule_id, user.id)
        if row is None:
            raise NotFound(translator(request)("error.404"))
        session.delete(row)
        _audit(session, request, user, "alert_rule.delete", f"alert_rule:{rule_id}")
    return RedirectResponse("/alerts", status_code=303)


@router.post("/alerts/{alert_id}/ack", dependencies=[CsrfProtected])
def acknowledge(request: Request, alert_id: RowId, user: OptionalUser) -> Response:
    """Acknowledge one of the user's alerts."""
    if user is None:
        return sign_in_first(request)
    with request.app.state.ctx.db.write() as session:
        row = stored.own_alert(session, alert_id, user.id)
        if row is None:
            raise NotFound(translator(request)("error.404"))
        if row.acked_at is None:
            row.acked_at, row.acked_by = utcnow(), user.email
        _audit(session, request, user, "alert.ack", f"alert:{row.id}")
    return RedirectResponse(f"/alerts#alert-{alert_id}", status_code=303)
