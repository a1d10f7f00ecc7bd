"""What a theme card shows (size bar, sentiment mix, top places, trend line), and the themes of a
slice as one self-contained HTML report; the dashboard page and ``civicpulse themes --format html``
render the same ``_theme.html`` macros."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from markupsafe import Markup

from civicpulse.domain import SENTIMENT_LABELS
from civicpulse.insight.themes.models import ThemeOut, ThemesOut
from civicpulse.web.i18n import LANGUAGES, Translator

STATIC_DIR = Path(__file__).parent / "static"
TOP_PLACES = 3
MAX_POINTS = 62  # a trend is drawn by day up to this many days, else by week, else by month
SPARK_WIDTH, SPARK_HEIGHT = 160, 36


@dataclass(frozen=True)
class Share:
    """One part of a whole, in percent."""

    name: str
    percent: float


@dataclass(frozen=True)
class Spark:
    """A theme's trend as SVG polyline points, with the period it covers."""

    line: str
    area: str
    unit: str  # day, week or month
    first: str
    last: str
    peak: str  # the largest bucket, as shown
    view_box: str = f"0 0 {SPARK_WIDTH} {SPARK_HEIGHT}"


@dataclass(frozen=True)
class ThemeCard:
    """A theme with its figures ready to draw."""

    theme: ThemeOut
    width: float
    sentiment: list[Share]
    places: list[Share]
    spark: Spark | None


def _percent(share: float) -> float:
    return round(100 * share, 1)


def _bucket(day: date, unit: str) -> date:
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _next(start: date, unit: str) -> date:
    if unit == "week":
        return start + timedelta(days=7)
    if unit == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def trend_buckets(trend: dict[str, float]) -> tuple[str, list[date]]:
    """The unit (day, week or month: the finest that needs at most ``MAX_POINTS`` buckets, else
    month) and the buckets spanning a trend from its first day to its last, empty ones included."""
    days = [date.fromisoformat(day) for day in trend]
    if not days:
        return "day", []
    first, last = min(days), max(days)
    span = (last - first).days + 1
    unit = "day" if span <= MAX_POINTS else "week" if span <= MAX_POINTS * 7 else "month"
    buckets, at = [], _bucket(first, unit)
    while at <= last:
        buckets.append(at)
        at = _next(at, unit)
    return unit, buckets


def sparkline(trend: dict[str, float]) -> Spark | None:
    """SVG points of a trend over its own period, scaled to its peak."""
    unit, buckets = trend_buckets(trend)
    if not buckets:
        return None
    position = {bucket: i for i, bucket in enumerate(buckets)}
    values = [0.0] * len(buckets)
    for day, weight in trend.items():
        values[position[_bucket(date.fromisoformat(day), unit)]] += weight
    if len(values) == 1:
        values = values * 2
    peak = max(values) or 1.0
    step = SPARK_WIDTH / (len(values) - 1)
    points = [
        (round(i * step, 1), round(SPARK_HEIGHT - 1 - (SPARK_HEIGHT - 2) * v / peak, 1))
        for i, v in enumerate(values)
    ]
    line = " ".join(f"{x},{y}" for x, y in points)
    area = f"0,{SPARK_HEIGHT} {line} {SPARK_WIDTH},{SPARK_HEIGHT}"
    return Spark(line, area, unit, buckets[0].isoformat(), buckets[-1].isoformat(), f"{peak:g}")


def theme_cards(view: ThemesOut) -> list[ThemeCard]:
    """The slice's themes, each with its bar width relative to the largest (distinct senders)."""
    widest = max((theme.senders for theme in view.themes), default=0) or 1
    cards = []
    for theme in view.themes:
        sentiment = [Share(label, _percent(theme.sentiment.get(label, 0.0))) for label in SENTIMENT_LABELS]
        places = [Share(name, _percent(share)) for name, share in list(theme.places.items())[:TOP_PLACES]]
        cards.append(
            ThemeCard(
                theme=theme,
                width=round(100 * theme.senders / widest, 1),
                sentiment=[s for s in sentiment if s.percent > 0],
                places=places,
                spark=sparkline(theme.trend),
            )
        )
    return cards


def report_html(
    view: ThemesOut,
    *,
    lang: str,
    generated_at: datetime,
    topic_name: str | None = None,
    place_name: str | None = None,
) -> str:
    """The themes of a slice as one HTML document: inline CSS, no scripts, no outside assets."""
    from civicpulse.web.render import build_templates

    t = Translator(lang if lang in LANGUAGES else LANGUAGES[0])
    since, until = (
        at.replace(tzinfo=UTC) if at and at.tzinfo is None else at for at in (view.since, view.until)
    )
    template = build_templates().env.get_template("themes_report.html")
    context: dict[str, Any] = {
        "t": t,
        "lang": t.lang,
        "view": view,
        "since": since,  # a time without zone is UTC, as in the store
        "until": until,
        "cards": theme_cards(view),
        "generated_at": generated_at,
        "topic_name": topic_name,
        "place_name": place_name,
        "css": Markup((STATIC_DIR / "civicpulse.css").read_text(encoding="utf-8")),  # our own file
    }
    return template.render(context)
