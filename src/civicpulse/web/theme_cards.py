"""What a theme card shows (size bar, sentiment mix, top places, trend line), and the themes of a
slice as one self-contained HTML report; the dashboard page and ``civicpulse themes --format html``
render the same ``_theme.html`` macros."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from markupsafe import Markup

from civicpulse.domain import SENTIMENT_LABELS
from civicpulse.insight.themes.models import ThemeOut, ThemesOut
from civicpulse.insight.trends import bucketed
from civicpulse.web.i18n import LANGUAGES, Translator

STATIC_DIR = Path(__file__).parent / "static"
TOP_PLACES = 3
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


def sparkline(trend: dict[str, float]) -> Spark | None:
    """SVG points of a trend over its own period, scaled to its peak."""
    series = bucketed(trend)
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
