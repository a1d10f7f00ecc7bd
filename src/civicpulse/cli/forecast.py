"""``civicpulse forecast``: forecasts with intervals of an office's own series (CSV) or of the store's."""

from __future__ import annotations

import csv
import math
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from civicpulse.atomic import atomic_output
from civicpulse.cli.base import app, cannot_write, err, fail, load_settings, open_store
from civicpulse.errors import CivicPulseError

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ("unique_id", "ds", "y")
FREQUENCIES = {
    "D": 7,
    "W": 1,
    "H": 24,
}  # season lengths: a week of days; weeks: none (52 is slow); a day of hours
MAX_CSV_HORIZON = 366
MAX_ERRORS = 20


def parse_moment(raw: str) -> datetime:
    """An ISO date or datetime (without time zone)."""
    value = datetime.fromisoformat(raw)
    return value.replace(tzinfo=None)


def read_series(path: Path) -> pd.DataFrame:
    """The long frame of a CSV ``unique_id, ds, y``; bad rows are refused with their line numbers."""
    import pandas as pd

    errors: list[str] = []
    rows: list[tuple[str, datetime, float]] = []
    seen: set[tuple[str, datetime]] = set()
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        err.print(f"[red]error:[/red] cannot read {path}: {exc.strerror or exc}")
        raise typer.Exit(1) from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [name for name in COLUMNS if name not in (reader.fieldnames or [])]
        if missing:
            need = ", ".join(COLUMNS)
            err.print(f"[red]error:[/red] {path}: missing column(s) {', '.join(missing)} (need {need})")
            raise typer.Exit(1)
        for row in reader:
            line = reader.line_num
            uid, ds, y = ((row.get(name) or "").strip() for name in COLUMNS)
            try:
                if not uid:
                    raise ValueError("unique_id is empty")
                moment = parse_moment(ds)
                value = float(y)
                if not math.isfinite(value) or value < 0:
                    raise ValueError(f"y must be a number >= 0, got {y!r}")
                if (uid, moment) in seen:
                    raise ValueError(f"a second value for {uid} on {ds}")
            except ValueError as exc:
                errors.append(f"line {line}: {exc}")
                continue
            seen.add((uid, moment))
            rows.append((uid, moment, value))
    if errors:
        for message in errors[:MAX_ERRORS]:
            err.print(f"[red]refused[/red] {message}")
        more = f" ({len(errors) - MAX_ERRORS} more not shown)" if len(errors) > MAX_ERRORS else ""
        err.print(f"[red]error:[/red] {len(errors)} bad row(s) in {path}{more}; nothing written")
        raise typer.Exit(1)
    if not rows:
        err.print(f"[red]error:[/red] {path} has no rows")
        raise typer.Exit(1)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def regular(frame: pd.DataFrame, freq: str) -> tuple[pd.DataFrame, str, int]:
    """Each series on a regular calendar of ``freq`` (weeks anchored on the first date's weekday);
    missing steps count as 0. Returns the frame, the pandas alias and how many steps were filled."""
    import pandas as pd

    alias = freq
    if freq == "W":
        alias = f"W-{frame['ds'].min().strftime('%a').upper()}"
    parts, filled = [], 0
    for uid, part in frame.groupby("unique_id", sort=False):
        steps = pd.date_range(part["ds"].min(), part["ds"].max(), freq=alias)
        if len(steps) < len(part) or not part["ds"].isin(steps).all():
            err.print(f"[red]error:[/red] series {uid}: dates are not on one {freq} calendar")
            raise typer.Exit(1)
        full = part.set_index("ds")["y"].reindex(steps, fill_value=0.0)
        filled += len(steps) - len(part)
        parts.append(pd.DataFrame({"unique_id": uid, "ds": steps, "y": full.to_numpy()}))
    return pd.concat(parts, ignore_index=True), alias, filled


def write_points(points: pd.DataFrame, output: Path, hourly: bool) -> None:
    """``unique_id, ds, mean, lo80, hi80, lo95, hi95``, written whole or not at all."""
    from civicpulse.insight.forecast import OUTPUT_COLUMNS

    shaped = points.copy()
    shaped["ds"] = shaped["ds"].map(lambda d: d.isoformat() if hourly else d.date().isoformat())
    try:
        with atomic_output(output) as partial:
            shaped[list(OUTPUT_COLUMNS)].to_csv(partial, index=False, float_format="%.4f")
    except OSError as exc:
        raise cannot_write(output, exc) from exc


@app.command()
def forecast(
    horizon: Annotated[int, typer.Option(help="Steps ahead (days for --topic/--province: 1 to 28).")] = 14,
    input_csv: Annotated[
        Path | None, typer.Option("--input", help="A CSV of series in long format: unique_id, ds, y.")
    ] = None,
    output: Annotated[Path | None, typer.Option(help="Write the forecasts (CSV) here.")] = None,
    freq: Annotated[
        str, typer.Option(help="Step of the --input series: D (days), W (weeks) or H (hours).")
    ] = "D",
    topic: Annotated[str | None, typer.Option(help="A topic code of the taxonomy (store's data).")] = None,
    province: Annotated[
        str | None, typer.Option(help="A province code or exact name (store's data).")
    ] = None,
) -> None:
    """Forecasts with 80 % and 95 % intervals, the model chosen per series by backtest. With
    --input: any series (unique_id, ds, y) to --output as unique_id, ds, mean, lo80, hi80, lo95,
    hi95. Without: the store's daily submissions of --topic and/or --province."""
    if input_csv is not None:
        if output is None:
            raise typer.BadParameter("give --output FILE with --input", param_hint="--output")
        if freq not in FREQUENCIES:
            raise typer.BadParameter(f"choose one of: {', '.join(FREQUENCIES)}", param_hint="--freq")
        if not 1 <= horizon <= MAX_CSV_HORIZON:
            raise typer.BadParameter(f"between 1 and {MAX_CSV_HORIZON}", param_hint="--horizon")
        forecast_csv(input_csv, output, horizon, freq)
    else:
        forecast_store(horizon, topic, province, output)


def forecast_csv(input_csv: Path, output: Path, horizon: int, freq: str) -> None:
    """Forecast every series of a CSV."""
    from civicpulse.insight.forecast import Setup
    from civicpulse.insight.forecast import forecast as run_forecast

    frame, alias, filled = regular(read_series(input_csv), freq)
    series_count = frame["unique_id"].nunique()
    err.print(f"read {len(frame) - filled} rows, {series_count} series from {input_csv}")
    if filled:
        err.print(f"{filled} missing step(s) inside series counted as 0")
    setup = Setup(season_length=FREQUENCIES[freq], freq=alias)
    try:
        result = run_forecast(frame, horizon, setup, progress=err.print)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    write_points(result.points, output, hourly=freq == "H")
    models: dict[str, int] = {}
    for choice in result.choices.values():
        models[choice.model] = models.get(choice.model, 0) + 1
    err.print(f"wrote {len(result.points)} rows for {series_count} series to {output}; models: {models}")


def forecast_store(horizon: int, topic: str | None, province: str | None, output: Path | None) -> None:
    """Forecast the store's daily series of a topic and province; print it or write it."""
    import pandas as pd

    from civicpulse.api.queries import parse_place, parse_topic
    from civicpulse.insight.forecast_view import forecast_series
    from civicpulse.taxonomy import load_taxonomy

    settings = load_settings()
    try:
        topic_code = parse_topic(topic, load_taxonomy(settings.taxonomy_file).codes())
        province_code = parse_place(province)
        db = open_store(settings)
        with db.read() as session:
            result = forecast_series(
                session, horizon, topic=topic_code, province=province_code, k_anonymity=settings.k_anonymity
            )
    except CivicPulseError as exc:
        raise fail(exc) from exc
    err.print(f"model: {result.model}; backtest MASE {result.backtest_mase:.3f}")
    points = pd.DataFrame([vars(p) for p in result.points])
    if output is not None:
        points.insert(0, "unique_id", f"{topic_code or 'all'}:{province_code or 'all'}")
        points["ds"] = pd.to_datetime(points.pop("date"))
        write_points(points, output, hourly=False)
        err.print(f"wrote {len(points)} days to {output}")
        return
    for point in result.points:
        day: date = point.date
        bounds = f"[{point.lo80:.1f}, {point.hi80:.1f}]\t[{point.lo95:.1f}, {point.hi95:.1f}]"
        typer.echo(f"{day.isoformat()}\t{point.mean:.1f}\t{bounds}")
