"""The forecast of one topic × province daily series, as the API and the CLI show it.

The series is read from the trend counts (``store.counts``: submissions per Vietnam-time day,
campaigns counted once) from the first day with submissions in the last ``HISTORY_DAYS`` days to
yesterday (today is not over yet), missing days counted as 0; the forecast starts today. A series
whose history has fewer than ``k_anonymity`` distinct senders is not forecast (``BelowK``), and one
too short to backtest raises ``forecast.InsufficientHistory``: both answer 422 with their code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from civicpulse.errors import Unprocessable
from civicpulse.insight.forecast import MAX_HORIZON, Setup, forecast
from civicpulse.store.counts import LOCAL_TZ, Slice, distinct_senders, series
from civicpulse.store.tables import utcnow

HISTORY_DAYS = 730


class BelowK(Unprocessable):
    """A series of too few distinct senders to be forecast."""

    code = "below_k_anonymity"


@dataclass(frozen=True)
class ForecastPoint:
    """One forecast day with its 80 % and 95 % intervals."""

    date: date
    mean: float
    lo80: float
    hi80: float
    lo95: float
    hi95: float


@dataclass(frozen=True)
class SeriesForecast:
    """The forecast of a series, the model that made it and its backtest MASE."""

    points: list[ForecastPoint]
    model: str
    backtest_mase: float


def daily_history(session: Session, cut: Slice, today: date) -> pd.DataFrame:
    """``unique_id, ds, y`` of a slice from its first day with submissions to yesterday."""
    first = (today - timedelta(days=HISTORY_DAYS)).isoformat()
    last = (today - timedelta(days=1)).isoformat()
    counts = {p.period: p.counted for p in series(session, "day", cut, first, last)}
    if not counts:
        return pd.DataFrame({"unique_id": [], "ds": [], "y": []})
    days = pd.date_range(min(counts), last, freq="D")
    return pd.DataFrame(
        {"unique_id": "series", "ds": days, "y": [float(counts.get(d.date().isoformat(), 0)) for d in days]}
    )


def forecast_series(
    session: Session,
    horizon: int,
    *,
    topic: str | None,
    province: str | None,
    k_anonymity: int,
    now: datetime | None = None,
) -> SeriesForecast:
    """Forecast ``horizon`` days (1 to ``MAX_HORIZON``) of one topic × province series (``None``: all)."""
    if not 1 <= horizon <= MAX_HORIZON:
        raise Unprocessable(f"horizon must be between 1 and {MAX_HORIZON}")
    today = (now or utcnow()).astimezone(LOCAL_TZ).date()
    cut = Slice(topic=topic, province=province)
    first = (today - timedelta(days=HISTORY_DAYS)).isoformat()
    senders = distinct_senders(session, cut, first, (today - timedelta(days=1)).isoformat())
    if senders < k_anonymity:
        raise BelowK(
            f"this series has fewer than {k_anonymity} distinct senders: it is not forecast",
            details={"k_anonymity": k_anonymity},
        )
    history = daily_history(session, cut, today)
    result = forecast(history, horizon, Setup())
    choice = result.choices["series"]
    points = [
        ForecastPoint(row.ds.date(), row.mean, row.lo80, row.hi80, row.lo95, row.hi95)
        for row in result.points.itertuples(index=False)
    ]
    return SeriesForecast(points, choice.model, choice.backtest_mase)
