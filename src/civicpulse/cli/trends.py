"""``civicpulse trends`` (counts over time, ``trends rebuild``) and ``civicpulse warnings``."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from civicpulse.cli.base import app, err, load_settings, open_store

trends_app = typer.Typer(
    help="Counts of submissions and distinct senders over time (k-anonymous).", invoke_without_command=True
)
app.add_typer(trends_app, name="trends")

Since = Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD, Vietnam time) or instant.")]
Until = Annotated[str | None, typer.Option("--to", help="Last day, included (YYYY-MM-DD) or instant.")]
Format = Annotated[str, typer.Option("--format", help="table or json.")]


def _check_format(value: str) -> str:
    if value not in ("table", "json"):
        raise typer.BadParameter("use table or json", param_hint="--format")
    return value


def _refused(exc: Exception) -> typer.Exit:
    err.print(f"[red]error:[/red] {getattr(exc, 'message', exc)}")
    return typer.Exit(2)


def _emit(rows: list[dict[str, Any]], fmt: str, columns: list[str], title: str) -> None:
    if fmt == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    Console().print(table)


@trends_app.callback()
def trends(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Option(help="Only this topic code.")] = None,
    province: Annotated[str | None, typer.Option(help="Only this province (code or exact name).")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel.")] = None,
    since: Since = None,
    until: Until = None,
    granularity: Annotated[str, typer.Option(help="day or hour (hours: the last 14 days).")] = "day",
    output_format: Format = "table",
) -> None:
    """Submissions (campaigns counted once) and distinct senders per day or hour; periods with
    fewer than k senders are shown as suppressed."""
    if ctx.invoked_subcommand is not None:
        return
    from civicpulse.api.queries import parse_channel, parse_topic
    from civicpulse.api.routers.trends import day_window, province_code
    from civicpulse.errors import Unprocessable
    from civicpulse.store.counts import Slice, hourly_cutoff, series
    from civicpulse.taxonomy import load_taxonomy

    fmt = _check_format(output_format)
    if granularity not in ("day", "hour"):
        raise typer.BadParameter("use day or hour", param_hint="--granularity")
    settings = load_settings()
    try:
        cut = Slice(
            topic=parse_topic(topic, load_taxonomy(settings.taxonomy_file).codes()),
            province=province_code(province),
            channel=parse_channel(channel),
        )
        first, last = day_window(since, until, 28 if granularity == "day" else 2)
    except Unprocessable as exc:
        raise _refused(exc) from None
    low, high = first.isoformat(), last.isoformat()
    if granularity == "hour":
        low, high = max(f"{low}T00", hourly_cutoff()), f"{high}T23"
    k = settings.k_anonymity
    db = open_store(settings)
    try:
        with db.read() as session:
            points = series(session, granularity, cut, low, high)
    finally:
        db.dispose()
    rows = [
        {"period": p.period, "submissions": None, "received": None, "senders": None, "suppressed": True}
        if 0 < p.senders < k
        else {
            "period": p.period,
            "submissions": p.counted,
            "received": p.submissions,
            "senders": p.senders,
            "suppressed": False,
        }
        for p in points
    ]
    _emit(rows, fmt, ["period", "submissions", "received", "senders", "suppressed"], f"trends (k = {k})")


@trends_app.command("rebuild")
def rebuild(
    engine: Annotated[str, typer.Option(help="local or ray (pip install 'civicpulse[ray]').")] = "local",
    address: Annotated[
        str | None, typer.Option(help='Ray cluster to join ("auto": the one "ray start" started here).')
    ] = None,
) -> None:
    """Recompute every count from the stored annotations (after corrections or a settings change);
    --engine ray aggregates on Ray (the counts are incomplete until it ends)."""
    from civicpulse.cli.analysis import check_engine
    from civicpulse.insight.campaigns import CampaignRules
    from civicpulse.insight.counts import rebuild_counts

    check_engine(engine, address)
    settings = load_settings()
    db = open_store(settings)
    rules = CampaignRules.from_settings(settings)
    try:
        if engine == "ray":
            from civicpulse.runtime.ray_trends import rebuild_counts_ray

            total = rebuild_counts_ray(settings, rules, address=address)
        else:
            with db.write() as session:
                total = rebuild_counts(session, rules)
    finally:
        db.dispose()
    typer.echo(f"counted {total} analysed submissions")


@app.command("warnings")
def warnings(since: Since = None, until: Until = None, output_format: Format = "table") -> None:
    """Spike warnings that start on the days --from to --to (the last 7 days by default), each with
    its size and what drives it; series with fewer than k senders never warn."""
    from civicpulse.api.routers.trends import MAX_WARNING_DAYS, day_window
    from civicpulse.errors import Unprocessable
    from civicpulse.insight.warnings import find_warnings

    fmt = _check_format(output_format)
    settings = load_settings()
    try:
        first, last = day_window(since, until, 7)
    except Unprocessable as exc:
        raise _refused(exc) from None
    if (last - first).days + 1 > MAX_WARNING_DAYS:
        raise typer.BadParameter(f"at most {MAX_WARNING_DAYS} days at a time", param_hint="--from")
    db = open_store(settings)
    try:
        with db.read() as session:
            found = [
                w.as_dict() for w in find_warnings(session, first, last, k_anonymity=settings.k_anonymity)
            ]
    finally:
        db.dispose()
    if fmt == "json":
        _emit(found, fmt, [], "")
        return
    rows = [
        {
            **w,
            "series": " / ".join(x for x in (w["topic"], w["province"]) if x),
            "why": ", ".join(
                f"{c['kind']} {c['code']} {c['share']:.0%}" for c in w["explanation"]["contributors"][:3]
            ),
            "campaign": "yes" if w["explanation"]["campaign_driven"] else "no",
        }
        for w in found
    ]
    _emit(rows, fmt, ["series", "start", "days", "observed", "expected", "why", "campaign"], "warnings")
