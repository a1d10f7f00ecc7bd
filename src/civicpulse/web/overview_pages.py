"""The leaders' overview page (``/overview``): the week at a glance, a map of the 34 provinces
that filters the page (``?province=``), the open warnings explained, and a forecast fan loaded
after the page (``/overview/forecast.json``), all k-anonymous."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from civicpulse.analysis.gazetteer import gazetteer
from civicpulse.api.deps import OptionalUser, ReadSession
from civicpulse.api.queries import MAX_CODE, parse_place
from civicpulse.domain import Role
from civicpulse.errors import BadRequest, Forbidden, Unprocessable
from civicpulse.identity import Principal
from civicpulse.insight.forecast import InsufficientHistory
from civicpulse.insight.forecast_view import BelowK, forecast_series
from civicpulse.insight.overview import (
    Overview,
    Row,
    Weeks,
    default_last_day,
    open_warnings,
    stored_overview,
)
from civicpulse.store.counts import LOCAL_TZ, Slice, series
from civicpulse.store.tables import utcnow
from civicpulse.web.i18n import Translator, translator
from civicpulse.web.inbox_pages import sign_in_first, translated
from civicpulse.web.render import render

router = APIRouter(include_in_schema=False)

READERS = (Role.admin, Role.analyst, Role.viewer)
FAN_HORIZON = 14
FAN_HISTORY_DAYS = 56
BANDS = ("mean", "lo80", "hi80", "lo95", "hi95")
Province = Annotated[str | None, Query(max_length=MAX_CODE)]
Day = Annotated[str | None, Query(alias="to", max_length=10)]


def _reader(request: Request, user: Principal) -> Translator:
    t = translator(request)
    if user.role not in READERS:
        raise Forbidden(t("error.403"))
    return t


def _province(t: Translator, value: str | None) -> str | None:
    with translated(t):
        return parse_place(value)


def _last_day(t: Translator, value: str | None) -> date:
    """The week's last day: ``to`` when given, else yesterday (the last full day, Vietnam time)."""
    if not value:
        return default_last_day()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(t("overview.bad_day", value=value)) from None


def province_names() -> dict[str, str]:
    """Province code -> current official name."""
    return {code: unit.name for code, unit in gazetteer().provinces.items()}


def _figure(value: int | None, k: int) -> str:
    return f"< {k}" if value is None else f"{value:,}".replace(",", ".")


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.0f} %"


def _row_view(row: Row, name: str, k: int) -> dict[str, Any]:
    return {
        "code": row.code,
        "name": name,
        "this_week": _figure(row.this_week, k),
        "last_week": _figure(row.last_week, k),
        "change": _percent(row.change),
        "rising": (row.change or 0) > 0,
        "expected": "—" if row.expected is None else f"{row.expected:.0f}",
        "against_expected": _percent(row.against_expected),
        "above_range": row.above_range,
    }


def _map_data(view: Overview, names: dict[str, str], t: Translator) -> dict[str, Any]:
    """What overview.js draws: every province's figures (``null`` under k) and the strings."""
    rows = {row.code: row for row in view.provinces}
    provinces = []
    for code, name in sorted(names.items()):
        row = rows.get(code, Row(code, 0, 0))
        provinces.append(
            {
                "code": code,
                "name": name,
                "volume": row.this_week,
                "last_week": row.last_week,
                "change": None if row.change is None else round(row.change * 100, 1),
            }
        )
    return {
        "provinces": provinces,
        "selected": view.province,
        "k": view.k_anonymity,
        "labels": {
            "volume": t("overview.map.volume"),
            "change": t("overview.map.change"),
            "below_k": t("overview.below_k", k=view.k_anonymity),
            "no_data": t("overview.map.no_data"),
            "history": t("overview.fan.history"),
            "hidden": t("overview.fan.hidden", k=view.k_anonymity),
            "mean": t("overview.fan.mean"),
            "band80": t("overview.fan.band80"),
            "band95": t("overview.fan.band95"),
            "fan_error": t("overview.fan.error"),
        },
    }


def _overview_page(
    request: Request, t: Translator, province: str | None, last: date, colour: str
) -> Response:
    ctx = request.app.state.ctx
    k = ctx.settings.k_anonymity
    view = stored_overview(ctx.db, last, province=province, k_anonymity=k)
    names = province_names()
    topic_names = {
        topic.code: topic.name_en if t.lang == "en" else topic.name_vi for topic in ctx.taxonomy.topics
    }
    context = {
        "view": view,
        "total": _row_view(view.total, t("overview.all"), k),
        "topics": [_row_view(row, topic_names.get(row.code or "", row.code or ""), k) for row in view.topics],
        "themes": [
            {
                "label": th.label,
                "is_new": th.is_new,
                "this_week": _figure(th.this_week, k),
                "last_week": _figure(th.last_week, k),
            }
            for th in view.themes
        ],
        "warnings_url": "/overview/warnings?"
        + urlencode({"province": province or "", "to": last.isoformat()}),
        "topic_names": topic_names,
        "province_names": names,
        "province_name": names.get(province or "", ""),
        "provinces_sorted": sorted(names.items(), key=lambda item: item[1]),
        "map_data": _map_data(view, names, t),
        "colour": colour,
        "clear_url": "/overview?" + urlencode({"to": request.query_params.get("to", ""), "map": colour}),
        "last_day": last.isoformat() if request.query_params.get("to") else "",
        "k": k,
        "active": "overview",
    }
    return render(request, "overview.html", context)


@router.get("/overview")
def overview_page(
    request: Request,
    user: OptionalUser,
    province: Province = None,
    to: Day = None,
    colour: Annotated[Literal["volume", "change"], Query(alias="map")] = "volume",
) -> Response:
    """The week at a glance for leaders (admins, analysts, viewers), of the country or of one
    province; the week ends on ``to`` (yesterday by default)."""
    if user is None:
        return sign_in_first(request)
    t = _reader(request, user)
    return _overview_page(request, t, _province(t, province), _last_day(t, to), colour)


@router.get("/overview/warnings")
def overview_warnings(
    request: Request, user: OptionalUser, province: Province = None, to: Day = None
) -> Response:
    """The open warnings of the page's week and province, explained (loaded by htmx after the page)."""
    if user is None:
        return sign_in_first(request)
    t = _reader(request, user)
    code = _province(t, province)
    ctx = request.app.state.ctx
    warnings = open_warnings(
        ctx.db, Weeks.ending(_last_day(t, to)), province=code, k_anonymity=ctx.settings.k_anonymity
    )
    topic_names = {
        topic.code: topic.name_en if t.lang == "en" else topic.name_vi for topic in ctx.taxonomy.topics
    }
    context = {"warnings": warnings, "topic_names": topic_names, "province_names": province_names()}
    return render(request, "overview_warnings.html", context)


def _history(session: Session, province: str | None, today: date, k: int) -> list[dict[str, Any]]:
    """The slice's daily submissions before today, ``null`` on days under k distinct senders."""
    first = today - timedelta(days=FAN_HISTORY_DAYS)
    yesterday = today - timedelta(days=1)
    found = series(session, "day", Slice(province=province), first.isoformat(), yesterday.isoformat())
    points = {p.period: p for p in found}
    days = [first + timedelta(days=i) for i in range(FAN_HISTORY_DAYS)]
    out = []
    for day in days:
        point = points.get(day.isoformat())
        value = 0 if point is None else (point.counted if point.senders >= k else None)
        out.append({"date": day.isoformat(), "value": value})
    return out


@router.get("/overview/forecast.json")
def overview_forecast(
    request: Request, session: ReadSession, user: OptionalUser, province: Province = None
) -> Response:
    """The fan chart's data: the last 8 weeks and a 14-day forecast with 80 % and 95 % bands;
    a series under k distinct senders or too short answers 422 with a message to show."""
    if user is None:
        return sign_in_first(request)
    t = _reader(request, user)
    code = _province(t, province)
    k = request.app.state.ctx.settings.k_anonymity
    today = utcnow().astimezone(LOCAL_TZ).date()
    try:
        result = forecast_series(session, FAN_HORIZON, topic=None, province=code, k_anonymity=k)
    except BelowK:
        return JSONResponse({"message": t("overview.fan.below_k", k=k)}, status_code=422)
    except (InsufficientHistory, Unprocessable):
        return JSONResponse({"message": t("overview.fan.short")}, status_code=422)
    return JSONResponse(
        {
            "history": _history(session, code, today, k),
            "points": [
                {
                    key: (value.isoformat() if key == "date" else round(value, 2))
                    for key, value in vars(p).items()
                }
                for p in result.points
            ],
            "model": result.model,
            "backtest_mase": round(result.backtest_mase, 3),
        }
    )
