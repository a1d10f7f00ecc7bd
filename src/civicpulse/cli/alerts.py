"""``civicpulse alerts``: list the rules, run them (fire, digest, deliver), dry-run one on past data."""

from __future__ import annotations

import json
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from civicpulse.cli.base import app, err, fail, load_settings, open_store
from civicpulse.errors import CivicPulseError

alerts_app = typer.Typer(
    help="Alert rules: list them, run them, dry-run one on past data.", no_args_is_help=True
)
app.add_typer(alerts_app, name="alerts")

TEST_DAYS = 90
Format = Annotated[str, typer.Option("--format", help="table or json.")]


def _format(value: str) -> str:
    if value not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    return value


def _instant(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            "use an ISO 8601 instant, e.g. 2026-06-15T09:00+07:00", param_hint=option
        ) from None
    if moment.tzinfo is None:
        raise typer.BadParameter("give the time zone, e.g. +07:00", param_hint=option)
    return moment


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("use YYYY-MM-DD", param_hint=option) from None


@alerts_app.command("list")
def list_rules(
    owner: Annotated[str | None, typer.Option(help="Only the rules of this user (e-mail).")] = None,
    output_format: Format = "table",
) -> None:
    """Every alert rule with its owner, what it watches and how it is delivered."""
    from civicpulse.store.alerts import all_rules

    fmt = _format(output_format)
    settings = load_settings()
    db = open_store(settings)
    try:
        with db.read() as session:
            rows = [
                {
                    "id": rule.id,
                    "owner": user.email,
                    "name": rule.name,
                    "kind": rule.kind,
                    "topic": rule.topic,
                    "province": rule.province,
                    "theme": rule.theme,
                    "query": rule.query,
                    "level": rule.level,
                    "period": rule.period,
                    "delivery": "+".join(
                        name
                        for name, on in (("email", rule.email), ("webhook", bool(rule.webhook_url)))
                        if on
                    )
                    or "dashboard",
                    "digest": rule.digest,
                    "muted": rule.muted,
                }
                for rule, user in all_rules(session)
                if owner is None or user.email == owner.strip().lower()
            ]
    finally:
        db.dispose()
    _emit(
        rows,
        fmt,
        ["id", "owner", "name", "kind", "topic", "province", "level", "delivery", "digest", "muted"],
    )


@alerts_app.command("run")
def run(
    now: Annotated[str | None, typer.Option(help="Act as at this instant (ISO 8601); default: now.")] = None,
) -> None:
    """Evaluate every unmuted rule over the last days (each firing once), queue the digests that are
    due and deliver what is due (retries included). Run it every few minutes (cron, a timer)."""
    from civicpulse.api.routers.alerts import scope_of_owner
    from civicpulse.insight.alert_runs import run_alerts
    from civicpulse.taxonomy import load_taxonomy

    moment = _instant(now, "--now")
    settings = load_settings()
    db = open_store(settings)
    try:
        report = run_alerts(db, settings, scope_of_owner(load_taxonomy(settings.taxonomy_file)), now=moment)
    finally:
        db.dispose()
    sent = report.delivery
    typer.echo(
        f"fired {report.fired}, digests {report.digests}, sent {sent.sent}, retrying {sent.retrying}, "
        f"failed {sent.failed}, out of sight {report.out_of_sight}, broken {report.broken}"
    )
    if report.broken:
        raise typer.Exit(1)


def _rule_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {path}: {exc.strerror or exc}")
        raise typer.Exit(2) from exc
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        err.print(
            f"[red]error:[/red] {path} is not valid {'JSON' if path.suffix == '.json' else 'TOML'}: {exc}"
        )
        raise typer.Exit(2) from exc
    if not isinstance(data, dict):
        err.print(f"[red]error:[/red] {path} must hold one rule (a table of fields)")
        raise typer.Exit(2)
    return data


@alerts_app.command("test")
def test_rule(
    rule: Annotated[
        str, typer.Argument(help="A rule's id, or a rule file (.toml or .json, the API's fields).")
    ],
    since: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD); default: 90 days ago.")
    ] = None,
    until: Annotated[str | None, typer.Option("--to", help="Last day, included; default: today.")] = None,
    owner: Annotated[
        str | None, typer.Option(help="A rule file is seen as this user sees (default: every series).")
    ] = None,
    now: Annotated[str | None, typer.Option(help="Forecasts as at this instant (ISO 8601).")] = None,
    output_format: Format = "table",
) -> None:
    """Dry-run a rule on past data: what it would have fired on the days --from to --to. Nothing is
    stored or sent."""
    from civicpulse.api.routers.alerts import RuleIn, alert_scope, checked_rule
    from civicpulse.domain import Role
    from civicpulse.identity import Principal
    from civicpulse.insight.alert_runs import watch_of
    from civicpulse.insight.alerts import Watch, dry_run, local_today
    from civicpulse.store.tables import AlertRuleRow, UserRow, utcnow
    from civicpulse.store.users import principal_of
    from civicpulse.taxonomy import load_taxonomy

    fmt = _format(output_format)
    moment = _instant(now, "--now") or utcnow()
    last = _day(until, "--to") or local_today(moment)
    first = _day(since, "--from") or last - timedelta(days=TEST_DAYS - 1)
    if first > last:
        raise typer.BadParameter("--from must be before --to", param_hint="--from")
    settings = load_settings()
    taxonomy = load_taxonomy(settings.taxonomy_file)
    db = open_store(settings)
    try:
        with db.read() as session:
            if rule.isdigit():
                row = session.get(AlertRuleRow, int(rule))
                if row is None:
                    err.print(f"[red]error:[/red] alert rule {rule} does not exist")
                    raise typer.Exit(1)
                user = principal_of(session.get(UserRow, row.owner_id))
                watch = watch_of(row)
            else:
                user = Principal(0, "cli", Role.admin, ())
                if owner is not None:
                    found = (
                        session.query(UserRow).filter(UserRow.email == owner.strip().lower()).one_or_none()
                    )
                    if found is None:
                        err.print(f"[red]error:[/red] no user {owner!r}")
                        raise typer.Exit(1)
                    user = principal_of(found)
                try:
                    body = RuleIn.model_validate({"name": "test", **_rule_file(Path(rule))})
                except ValueError as exc:
                    err.print(f"[red]error:[/red] {exc}")
                    raise typer.Exit(2) from None
                values = checked_rule(session, taxonomy, settings, user, body)
                watch = Watch(
                    **{
                        k: values[k]
                        for k in ("kind", "topic", "province", "theme", "query", "level", "period")
                    }
                )
            scope = alert_scope(session, user.role, user.agencies, taxonomy)
            firings = dry_run(
                session, watch, scope, first, last, k_anonymity=settings.k_anonymity, now=moment
            )
    except CivicPulseError as exc:
        raise fail(exc) from None
    finally:
        db.dispose()
    rows = [firing.as_dict() for firing in firings]
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    shown = [
        {
            **row,
            "figures": ", ".join(f"{k} {v}" for k, v in row["figures"].items()),
            "why": ", ".join(
                f"{c['kind']} {c['code']} {c['share']:.0%}"
                for c in row["explanation"].get("contributors", [])[:3]
            ),
        }
        for row in rows
    ]
    _emit(
        shown, fmt, ["key", "start", "end", "figures", "why"], f"{watch.kind}: {len(rows)} would have fired"
    )


def _emit(rows: list[dict[str, Any]], fmt: str, columns: list[str], title: str = "alert rules") -> None:
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console(width=200).print(table)
