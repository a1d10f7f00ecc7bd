"""REST: situation reports (HTML or PDF) for admins and analysts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civicpulse.api.context import AppContext
from civicpulse.api.deps import Analyst, Ctx, ReadSession
from civicpulse.api.queries import MAX_CODE, parse_place
from civicpulse.reports.build import ReportOptions, build_report
from civicpulse.reports.period import make_period
from civicpulse.reports.render import MEDIA_TYPES, file_name, render

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'"
)
Day = Annotated[str | None, Query(max_length=10, description="A day, YYYY-MM-DD (Vietnam time).")]
Format = Literal["html", "pdf"]
Language = Literal["vi", "en"]


def province_names() -> dict[str, str]:
    """Current province codes and names (the gazetteer's, read at this boundary)."""
    from civicpulse.analysis.gazetteer import gazetteer

    return {code: unit.name for code, unit in gazetteer().provinces.items()}


def situation_response(
    session: Session,
    ctx: AppContext,
    *,
    since: str | None,
    until: str | None,
    province: str | None,
    fmt: str,
    lang: str,
) -> Response:
    """The report of ``since`` to ``until`` (both days included; the last 7 days by default) as
    an answer: a self-contained HTML document (scripts refused by its policy) or a PDF."""
    period = make_period(since, until)
    options = ReportOptions(
        period=period,
        province=parse_place(province),
        lang=lang,
        k_anonymity=ctx.settings.k_anonymity,
        live_theme_limit=ctx.settings.report_live_themes_max,
    )
    report = build_report(session, options, taxonomy=ctx.taxonomy, province_names=province_names())
    name = file_name(report, fmt)
    headers = {"content-disposition": f'inline; filename="{name}"'}
    if fmt == "html":
        headers["content-security-policy"] = REPORT_CSP
    return Response(render(report, fmt), media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get(
    "/situation",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "text/html": {}}, "description": "The report."}},
)
def situation_report(
    session: ReadSession,
    ctx: Ctx,
    user: Analyst,
    since: Annotated[Day, Query(alias="from")] = None,
    until: Annotated[Day, Query(alias="to")] = None,
    province: Annotated[str | None, Query(max_length=MAX_CODE, description="Province code or name.")] = None,
    fmt: Annotated[Format, Query(alias="format")] = "pdf",
    lang: Language = "vi",
) -> Response:
    """A situation report of the days ``from`` to ``to`` (both included; the last 7 days when both
    are left out): volumes and change against the previous period of the same length, top and new
    themes with redacted quotes, each agency's record. Groups of fewer distinct senders than
    k-anonymity are suppressed (shown as "< k")."""
    return situation_response(session, ctx, since=since, until=until, province=province, fmt=fmt, lang=lang)
