"""``civicpulse report``: a situation report as HTML or PDF, written to a file and/or e-mailed."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from civicpulse.atomic import atomic_output
from civicpulse.cli.base import app, cannot_write, err, fail, load_settings, open_store
from civicpulse.errors import CivicPulseError, Unprocessable
from civicpulse.mailer import Attachment, send_mail

if TYPE_CHECKING:
    from civicpulse.reports.build import SituationReport
    from civicpulse.settings import Settings


def province_names() -> dict[str, str]:
    """Current province codes and names (the gazetteer's)."""
    from civicpulse.analysis.gazetteer import gazetteer

    return {code: unit.name for code, unit in gazetteer().provinces.items()}


def province_code(value: str | None, names: dict[str, str]) -> str | None:
    """A province code, given its code or exact name; unknown ones are refused."""
    if value is None or not value.strip():
        return None
    raw = value.strip()
    by_name = {name: code for code, name in names.items()}
    code = by_name.get(raw, raw)
    if code not in names:
        raise typer.BadParameter(
            f"{raw!r} is not a province code or name (e.g. 01 for Hà Nội, 79 for Hồ Chí Minh)",
            param_hint="--province",
        )
    return code


@app.command()
def report(
    since: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD, Vietnam time).")] = None,
    until: Annotated[str | None, typer.Option("--to", help="Last day, included (YYYY-MM-DD).")] = None,
    period: Annotated[
        str | None,
        typer.Option(help="week or month: the 7 or 30 days ending today (instead of --from/--to)."),
    ] = None,
    province: Annotated[str | None, typer.Option(help="Only this province (code or exact name).")] = None,
    output_format: Annotated[str, typer.Option("--format", help="html or pdf.")] = "pdf",
    output: Annotated[Path | None, typer.Option(help="Write the report to this file.")] = None,
    lang: Annotated[str, typer.Option(help="Language of the report: vi or en.")] = "vi",
    mail_to: Annotated[
        list[str] | None, typer.Option("--mail-to", help="E-mail the report to this address (repeatable).")
    ] = None,
) -> None:
    """A situation report: volumes and change against the previous period, top and new themes
    with quotes, each agency's record; groups of fewer than k senders are suppressed."""
    from civicpulse.reports.build import ReportOptions, build_report
    from civicpulse.reports.catalogue import LANGUAGES
    from civicpulse.reports.period import make_period
    from civicpulse.reports.render import FORMATS, MEDIA_TYPES, file_name, render
    from civicpulse.taxonomy import load_taxonomy

    if output_format not in FORMATS:
        raise typer.BadParameter(f"choose one of: {', '.join(FORMATS)}", param_hint="--format")
    if lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of: {', '.join(LANGUAGES)}", param_hint="--lang")
    if output is None and not mail_to:
        raise typer.BadParameter("give --output FILE and/or --mail-to ADDRESS", param_hint="--output")
    try:
        chosen = make_period(since, until, period)
    except Unprocessable as exc:
        raise typer.BadParameter(exc.message, param_hint="--from/--to/--period") from exc
    names = province_names()
    code = province_code(province, names)
    settings = load_settings()
    options = ReportOptions(
        period=chosen,
        province=code,
        lang=lang,
        k_anonymity=settings.k_anonymity,
        live_theme_limit=settings.report_live_themes_max,
    )
    db = open_store(settings)
    try:
        with db.read() as session:
            built = build_report(
                session, options, taxonomy=load_taxonomy(settings.taxonomy_file), province_names=names
            )
        data = render(built, output_format)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    finally:
        db.dispose()
    if output is not None:
        try:
            with atomic_output(output) as partial:
                partial.write_bytes(data)
        except OSError as exc:
            raise cannot_write(output, exc) from exc
        err.print(f"wrote the report for {chosen.start} to {chosen.end} to {output}")
    if mail_to:
        attachment = Attachment(
            file_name(built, output_format), data, MEDIA_TYPES[output_format].split(";")[0]
        )
        _mail(settings, mail_to, built, attachment)


def _mail(settings: Settings, to: list[str], built: SituationReport, attachment: Attachment) -> None:
    """Send the report as an attachment."""
    t = built.t
    period = f"{t.day(built.options.period.start)} – {t.day(built.options.period.end)}"
    place = built.province_name or t("all_provinces")
    try:
        send_mail(
            settings,
            to,
            f"{t('title')}: {period} ({place})",
            f"{t('title')}\n{t('period')}: {period}\n{t('province')}: {place}\n\n{t('footer')}\n",
            [attachment],
        )
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(f"mailed the report to {', '.join(to)}")
