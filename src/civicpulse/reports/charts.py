"""Static inline SVG charts (no scripts): paired bars (this period and the previous one) and a
line of the two periods over time. A suppressed value (``None``) draws nothing and is labelled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = "Noto Sans, DejaVu Sans, sans-serif"
CURRENT = "#1f5f99"
PREVIOUS = "#a9c4de"
WIDTH = 640


@dataclass(frozen=True)
class Bar:
    """One row of a bar chart; ``None`` is a suppressed value."""

    label: str
    current: int | None
    previous: int | None


def _svg(height: int, body: str, title: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" font-size="11">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def _short(label: str, limit: int = 34) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(bars: Sequence[Bar], *, title: str, hidden: str) -> Markup:
    """Horizontal bars, this period over the previous one; ``hidden`` labels suppressed values."""
    row, label_w, value_w = 26, 210, 70
    area = WIDTH - label_w - value_w
    top = max([b.current or 0 for b in bars] + [b.previous or 0 for b in bars] + [1])
    parts: list[str] = []
    for i, bar in enumerate(bars):
        y = 4 + i * row
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(_short(bar.label))}</text>'
        )
        for value, colour, dy, h in ((bar.current, CURRENT, 2, 12), (bar.previous, PREVIOUS, 15, 6)):
            if value:
                width = max(1.0, area * value / top)
                parts.append(
                    f'<rect x="{label_w}" y="{y + dy}" width="{width:.1f}" height="{h}" fill="{colour}"/>'
                )
        shown = hidden if bar.current is None else f"{bar.current:,}"
        parts.append(f'<text x="{WIDTH - value_w + 6}" y="{y + 13}">{escape(shown)}</text>')
    return _svg(8 + row * max(len(bars), 1), "".join(parts), title)


def line_chart(
    labels: Sequence[str],
    current: Sequence[int | None],
    previous: Sequence[int | None],
    *,
    title: str,
) -> Markup:
    """Two lines over the same buckets; a suppressed bucket breaks its line."""
    height, left, right, top_pad, bottom = 200, 48, 12, 12, 28
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    peak = max([v or 0 for v in (*current, *previous)] + [1])
    step = plot_w / max(len(labels) - 1, 1)

    def point(i: int, value: int) -> str:
        return f"{left + i * step:.1f},{top_pad + plot_h * (1 - value / peak):.1f}"

    def path(values: Sequence[int | None], colour: str, width: float) -> str:
        runs: list[list[str]] = [[]]
        for i, value in enumerate(values):
            if value is None:
                runs.append([])
            else:
                runs[-1].append(point(i, value))
        out = []
        for run in runs:
            if len(run) == 1:
                x, y = run[0].split(",")
                out.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
            elif run:
                out.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                    f'stroke-width="{width}"/>'
                )
        return "".join(out)

    axis_y = top_pad + plot_h
    parts = [
        f'<line x1="{left}" y1="{axis_y}" x2="{WIDTH - right}" y2="{axis_y}" stroke="#888"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{axis_y}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{top_pad + 4}" text-anchor="end">{peak:,}</text>',
        f'<text x="{left - 4}" y="{axis_y}" text-anchor="end">0</text>',
        path(previous, PREVIOUS, 1.5),
        path(current, CURRENT, 2.5),
    ]
    if labels:
        for i in sorted({0, len(labels) // 2, len(labels) - 1}):
            anchor = "start" if i == 0 else "end" if i == len(labels) - 1 else "middle"
            parts.append(
                f'<text x="{left + i * step:.1f}" y="{height - 8}" text-anchor="{anchor}">'
                f"{escape(labels[i])}</text>"
            )
    return _svg(height, "".join(parts), title)
