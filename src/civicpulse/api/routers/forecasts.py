"""REST: the daily forecast of a topic × province series with 80 % and 95 % intervals."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from civicpulse.api.deps import AggregateReader, Ctx, ReadSession
from civicpulse.api.queries import MAX_CODE, parse_place, parse_topic
from civicpulse.insight.forecast import MAX_HORIZON
from civicpulse.insight.forecast_view import forecast_series

router = APIRouter(prefix="/api/v1/forecasts", tags=["forecasts"])

Code = Annotated[str, Query(min_length=1, max_length=MAX_CODE)]


class PointOut(BaseModel):
    """One forecast day: the mean and the bounds of the 80 % and 95 % intervals (never negative)."""

    date: date
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


class ForecastOut(BaseModel):
    """A forecast, the model chosen by backtest and that model's backtest MASE (errors scaled by the
    in-sample error of the weekly seasonal naive: under 1 beats it)."""

    points: list[PointOut]
    model: str
    backtest_mase: float


@router.get("", response_model=ForecastOut)
def get_forecast(
    session: ReadSession,
    ctx: Ctx,
    user: AggregateReader,
    topic: Code | None = None,
    province: Code | None = None,
    horizon: Annotated[int, Query(ge=1, le=MAX_HORIZON, description="Days ahead, 1 to 28.")] = 14,
) -> ForecastOut:
    """Daily submissions (campaigns counted once) of one topic and one province (code or exact
    name; either left out means all), forecast from today for ``horizon`` days. A series with fewer
    distinct senders than k-anonymity in its history answers 422 ``below_k_anonymity``; one too
    short to backtest (under ``horizon`` + 14 days since its first submission) 422
    ``insufficient_history``."""
    result = forecast_series(
        session,
        horizon,
        topic=parse_topic(topic, ctx.taxonomy.codes()),
        province=parse_place(province),
        k_anonymity=ctx.settings.k_anonymity,
    )
    return ForecastOut(
        points=[PointOut(**vars(point)) for point in result.points],
        model=result.model,
        backtest_mase=result.backtest_mase,
    )
