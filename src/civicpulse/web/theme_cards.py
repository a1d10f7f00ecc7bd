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
from civicpulse.insight.trends import bucketed
from civicpulse.web.i18n import LANGUAGES, Translator

STATIC_DIR = Path(__file__).parent / "static"
TOP_PLACES = 3
EARLY_SHARE = 0.05
RISING = 0.5  # a theme whose last week grew by half or more is marked rising
SPARK_WIDTH, SPARK_HEIGHT = 160, 36


@dataclass(frozen=True)
class Share:
    """One part of a whole, in percent."""

    name: str
    percent: float


@dataclass(frozen=True)
class Count:
    """Items of one kind, shown as "< k" when fewer than k."""

    name: str
    shown: str


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
    places: list[Count]
    spark: Spark | None
    rising: int  # percent growth of the last week when it is rising, else 0


def _percent(share: float) -> float:
    return round(100 * share, 1)


def slice_period(
    trend: dict[str, float], since: datetime | None, until: datetime | None
) -> tuple[date, date] | None:
    """The days a theme's trend is drawn over: the slice's own period when it has one, else from
    the day by which 5 % of the theme's items had come (so a few old items do not stretch the line
    over years) to its last day."""
    if not trend:
        return None
    days = sorted(trend)
    last = (until - timedelta(microseconds=1)).date() if until else date.fromisoformat(days[-1])
    if since:
        return since.date(), last
    total, running = sum(trend.values()) or 1.0, 0.0
    for day in days:
        running += trend[day]
        if running >= EARLY_SHARE * total:
            return date.fromisoformat(day), last
    return date.fromisoformat(days[0]), last


def sparkline(
    trend: dict[str, float], since: datetime | None = None, until: datetime | None = None
) -> Spark | None:
    """SVG points of a trend over the slice's period (see :func:`slice_period`), scaled to its peak."""
    period = slice_period(trend, since, until)
    series = bucketed(trend, *period) if period else None
    if series is None:
        return None
    values = series.values * 2 if len(series.values) == 1 else series.values
    peak = max(values) or 1.0
    step = SPARK_WIDTH / (len(values) - 1)
    points = [
        (round(i * step, 1), round(SPARK_HEIGHT - 1 - (SPARK_HEIGHT - 2) * v / peak, 1))
        for i, v in enumerate(values)
    ]
    line = " ".join(f"{x},{y}" for x, y in points)
    area = f"0,{SPARK_HEIGHT} {line} {SPARK_WIDTH},{SPARK_HEIGHT}"
    first, last = series.starts[0].isoformat(), series.starts[-1].isoformat()
    return Spark(line, area, series.unit, first, last, f"{peak:g}")


def theme_cards(view: ThemesOut) -> list[ThemeCard]:
    """The slice's themes, each with its bar width relative to the largest (distinct senders)."""
    widest = max((theme.senders for theme in view.themes), default=0) or 1
    cards = []
    for theme in view.themes:
        sentiment = [Share(label, _percent(theme.sentiment.get(label, 0.0))) for label in SENTIMENT_LABELS]
        places = [
            Count(name, str(n) if n >= view.k_anonymity else f"< {view.k_anonymity}")
            for name, n in list(theme.place_counts.items())[:TOP_PLACES]
        ]
        cards.append(
            ThemeCard(
                theme=theme,
                width=round(100 * theme.senders / widest, 1),
                sentiment=[s for s in sentiment if s.percent > 0],
                places=places,
                spark=sparkline(theme.trend, view.since, view.until),
                rising=round(100 * theme.growth) if theme.growth >= RISING else 0,
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
