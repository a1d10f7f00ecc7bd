"""The report's one template, rendered to HTML (self-contained: inline CSS and SVG, no scripts)
and to PDF with WeasyPrint (Noto fonts, which carry every Vietnamese diacritic)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from civicpulse.reports.build import SituationReport

TEMPLATES = Path(__file__).parent / "templates"
MEDIA_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}
FORMATS = tuple(MEDIA_TYPES)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(("html",)), auto_reload=False
    )


def render_html(report: SituationReport) -> str:
    """The report as one HTML document."""
    return _environment().get_template("situation.html").render(r=report, t=report.t)


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"the report fetches nothing: {url}")


def render_pdf(html: str) -> bytes:
    """The HTML report as PDF (A4); nothing outside the document is fetched."""
    from weasyprint import HTML

    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()


def render(report: SituationReport, fmt: str) -> bytes:
    """The report in ``fmt`` (``html`` or ``pdf``) as bytes."""
    html = render_html(report)
    return render_pdf(html) if fmt == "pdf" else html.encode("utf-8")


def file_name(report: SituationReport, fmt: str) -> str:
    """A file name for the report: ``civicpulse-report-<from>_<to>[-<province>].<fmt>``."""
    province = f"-{report.options.province}" if report.options.province else ""
    return f"civicpulse-report-{report.options.period.slug()}{province}.{fmt}"
