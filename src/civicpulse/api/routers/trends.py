"""REST: counts over time and spike warnings (aggregates only, k-anonymous; no individual data)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from civicpulse.api.deps import AggregateReader, Ctx, ReadSession
from civicpulse.api.queries import (
    MAX_CODE,
    MAX_TIME,
    TIME_HELP,
    BadQuery,
    check_window,
    parse_channel,
    parse_place,
    parse_time,
    parse_topic,
)
from civicpulse.insight.warnings import find_warnings
from civicpulse.store.counts import LOCAL_TZ, Slice, hourly_cutoff, local_hour, series
from civicpulse.store.tables import utcnow

router = APIRouter(prefix="/api/v1", tags=["trends"])

Time = Annotated[str | None, Query(max_length=MAX_TIME, description=TIME_HELP)]
Code = Annotated[str | None, Query(max_length=MAX_CODE)]
DEFAULT_DAYS = {"day": 28, "hour": 2}
MAX_WARNING_DAYS = 92


class TrendPoint(BaseModel):
    """One period: submissions (campaigns counted once), all received, distinct senders; ``null``
    with ``suppressed`` when fewer than k distinct senders."""

    period: str
    submissions: int | None
    received: int | None
    senders: int | None
    suppressed: bool


class TrendsOut(BaseModel):
    """A series of counts."""

    granularity: Literal["day", "hour"]
    topic: str | None
    province: str | None
    channel: str | None
    k_anonymity: int
    items: list[TrendPoint]


class ContributorOut(BaseModel):
    kind: str
    code: str
    share: float


class ExplanationOut(BaseModel):
    contributors: list[ContributorOut]
    campaign_driven: bool
    campaign_share: float


class WarningOut(BaseModel):
    """A spike: its series, when it started, its size against the expected range, and why."""

    topic: str | None
    province: str | None
    start: str
    end: str
    days: int
    observed: int
    expected: float
    expected_range: list[float]
    excess: float
    ratio: float | None
    surprise: float
    senders: int
    explanation: ExplanationOut
    quotes: list[str]


class WarningsOut(BaseModel):
    items: list[WarningOut]


def province_code(value: str | None) -> str | None:
    """A province code or exact name (refused naming ``province``)."""
    try:
        return parse_place(value)
    except BadQuery as exc:
        fields = exc.details.get("fields", [{}]) if isinstance(exc.details, dict) else [{}]
        raise BadQuery(
            "province", fields[0].get("message", "unknown province"), exc.key, **exc.values
        ) from None


def _local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TZ)


def day_window(since: str | None, until: str | None, default_days: int) -> tuple[date, date]:
    """Local days ``from`` to ``to`` (both included); the last ``default_days`` days by default."""
    start, stop = parse_time("from", since), parse_time("to", until, end=True)
    check_window(start, stop)
    last = _local(stop - timedelta(microseconds=1)).date() if stop else _local(utcnow()).date()
    first = _local(start).date() if start else last - timedelta(days=default_days - 1)
    if first > last:
        raise BadQuery("to", "'from' must be before 'to'", "themes.bad_range")
    return first, last


@router.get("/trends", response_model=TrendsOut)
def trends(
    session: ReadSession,
    ctx: Ctx,
    user: AggregateReader,
    since: Annotated[Time, Query(alias="from")] = None,
    until: Annotated[Time, Query(alias="to")] = None,
    topic: Code = None,
    province: Code = None,
    channel: Code = None,
    granularity: Literal["day", "hour"] = "day",
) -> TrendsOut:
    """Submissions and distinct senders per day (or per hour, kept for the last 14 days) of one
    topic, province and channel (each left out: all of them). Periods with fewer than k distinct
    senders show ``null`` and ``suppressed: true``; periods without submissions are left out."""
    cut = Slice(
        topic=parse_topic(topic, ctx.taxonomy.codes()),
        province=province_code(province),
        channel=parse_channel(channel),
    )
    first, last = day_window(since, until, DEFAULT_DAYS[granularity])
    if granularity == "hour":
        low, high = max(f"{first.isoformat()}T00", hourly_cutoff()), f"{last.isoformat()}T23"
    else:
        low, high = first.isoformat(), last.isoformat()
    k = ctx.settings.k_anonymity
    items = [
        TrendPoint(period=p.period, submissions=None, received=None, senders=None, suppressed=True)
        if 0 < p.senders < k
        else TrendPoint(
            period=p.period,
            submissions=p.counted,
            received=p.submissions,
            senders=p.senders,
            suppressed=False,
        )
        for p in series(
            session, granularity, cut, low, min(high, local_hour(utcnow())) if granularity == "hour" else high
        )
    ]
    return TrendsOut(
        granularity=granularity,
        topic=cut.topic,
        province=cut.province,
        channel=cut.channel,
        k_anonymity=k,
        items=items,
    )


@router.get("/warnings", response_model=WarningsOut)
def warnings(
    session: ReadSession,
    ctx: Ctx,
    user: AggregateReader,
    since: Annotated[Time, Query(alias="from")] = None,
    until: Annotated[Time, Query(alias="to")] = None,
) -> WarningsOut:
    """Spike warnings that start on the days ``from`` to ``to`` (the last 7 days by default; at most
    92 days), largest first. Each names its series (topic and/or province), its size against the
    expected range and its explanation: the places, topics, channels and campaigns that carry the
    excess, whether a campaign drives it, and 3 redacted quotes. Series with fewer than k distinct
    senders never warn."""
    first, last = day_window(since, until, 7)
    if (last - first).days + 1 > MAX_WARNING_DAYS:
        raise BadQuery("from", f"at most {MAX_WARNING_DAYS} days at a time", "err.invalid")
    found = find_warnings(session, first, last, k_anonymity=ctx.settings.k_anonymity)
    return WarningsOut(items=[WarningOut.model_validate(w.as_dict()) for w in found])
