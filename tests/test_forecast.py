"""Forecasts: never negative, nested intervals, intermittent models, the CLI on a CSV, the API."""

from __future__ import annotations

import csv
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from civicpulse.domain import Role
from civicpulse.insight.campaigns import CampaignRules
from civicpulse.insight.counts import rebuild_counts
from civicpulse.insight.forecast import (
    INTERMITTENT,
    LEVELS,
    InsufficientHistory,
    Setup,
    calibration_factors,
    count_dispersion,
    count_interval,
    forecast,
    scaled,
)
from civicpulse.store.tables import AnnotationRow, SubmissionRow
from tests.conftest import LiveServer
from tests.test_cli import CLI, Cli

SHAPE = {"date", "mean", "lo80", "hi80", "lo95", "hi95"}


def daily(uid: str, values: np.ndarray, start: str = "2026-01-05") -> pd.DataFrame:
    return pd.DataFrame({"unique_id": uid, "ds": pd.date_range(start, periods=len(values)), "y": values})


def falling(days: int) -> np.ndarray:
    """A weekly pattern falling to zero: raw models forecast below zero."""
    week = np.tile([6, 5, 5, 4, 4, 1, 1], days // 7 + 1)[:days]
    return np.clip(
        week * np.linspace(1.5, 0.05, days) + np.random.default_rng(1).normal(0, 0.3, days), 0, None
    )


def assert_nested_and_positive(points: pd.DataFrame) -> None:
    columns = ["lo95", "lo80", "mean", "hi80", "hi95"]
    values = points[columns].to_numpy()
    assert (values >= 0).all()
    assert (np.diff(values, axis=1) >= 0).all()


def test_forecasts_are_never_negative_and_intervals_nested() -> None:
    rng = np.random.default_rng(0)
    weekly = 20 + 8 * np.sin(np.arange(91) * 2 * np.pi / 7) + rng.normal(0, 2, 91)
    frame = pd.concat([daily("falling", falling(91)), daily("weekly", weekly)])
    result = forecast(frame, 14, Setup())
    assert len(result.points) == 28
    assert_nested_and_positive(result.points)
    assert set(result.choices) == {"falling", "weekly"}
    for choice in result.choices.values():
        assert np.isfinite(choice.backtest_mase) and choice.backtest_mase >= 0
        assert not choice.intermittent
    seasonal = result.points[result.points["unique_id"] == "weekly"]["mean"]
    assert seasonal.max() - seasonal.min() > 5  # the weekly pattern is carried forward


def test_intermittent_series_get_an_intermittent_model_with_intervals() -> None:
    rng = np.random.default_rng(2)
    sparse = np.where(rng.random(84) < 0.2, rng.integers(1, 4, 84), 0).astype(float)
    frame = pd.concat([daily("sparse", sparse), daily("tonnes", sparse * 0.37)])
    result = forecast(frame, 7, Setup())
    for uid in ("sparse", "tonnes"):
        choice = result.choices[uid]
        assert choice.intermittent and choice.model in INTERMITTENT
        assert_nested_and_positive(result.points[result.points["unique_id"] == uid])
    assert result.choices["sparse"].intervals == "count"  # whole numbers: a count's range
    assert result.choices["tonnes"].intervals == "conformal"  # any other quantity: around the mean
    counts = result.points[result.points["unique_id"] == "sparse"]
    bounds = counts[["lo80", "hi80", "lo95", "hi95"]].to_numpy()
    assert (bounds == np.floor(bounds)).all() and (counts["hi95"] >= 1).all()


@pytest.mark.parametrize(("mean", "dispersion"), [(0.3, 0.0), (0.8, 0.0), (0.5, 1.5), (2.0, 0.6)])
def test_count_intervals_cover_at_least_their_level(mean: float, dispersion: float) -> None:
    rng = np.random.default_rng(7)
    n = 40_000
    if dispersion:
        y = rng.negative_binomial(1 / dispersion, 1 / (1 + dispersion * mean), n)
    else:
        y = rng.poisson(mean, n)
    assert count_dispersion(y.astype(float), np.full(n, mean)) == pytest.approx(dispersion, abs=0.12)
    for level in (80, 95):
        lo, hi = count_interval(np.array([mean]), dispersion, level)
        covered = float(np.mean((y >= lo[0]) & (y <= hi[0])))
        assert level / 100 <= covered < level / 100 + 0.2


def backtest(rng: np.random.Generator, series: int, steps: int, half80: float, half95: float) -> pd.DataFrame:
    """A backtest frame of a model ``m`` whose errors are standard normal and whose own
    half-widths are ``half80`` and ``half95``."""
    n = series * steps
    mean = rng.uniform(5, 50, n)
    return pd.DataFrame(
        {
            "unique_id": np.repeat([f"s{i}" for i in range(series)], steps),
            "y": mean + rng.normal(0, 1, n),
            "m": mean,
            "m-lo-80": mean - half80,
            "m-hi-80": mean + half80,
            "m-lo-95": mean - half95,
            "m-hi-95": mean + half95,
        }
    )


def test_calibration_scales_too_wide_intervals_to_the_nominal_coverage() -> None:
    rng = np.random.default_rng(5)
    factors = calibration_factors(backtest(rng, 40, 13, 3.0, 4.0), "m", min_points=100)
    assert factors[80] == pytest.approx(1.2816 / 3.0, rel=0.1)
    assert factors[95] == pytest.approx(1.96 / 4.0, rel=0.1)
    fresh = backtest(rng, 40, 13, 3.0, 4.0)
    for level, half in ((80, 3.0), (95, 4.0)):
        lo, hi = scaled(fresh["m"].to_numpy(), fresh["m"] - half, fresh["m"] + half, factors[level])
        inside = float(np.mean((fresh["y"] >= lo) & (fresh["y"] <= hi))) * 100
        assert abs(inside - level) <= 3


def test_calibration_needs_enough_backtest_points() -> None:
    rng = np.random.default_rng(6)
    few = backtest(rng, 3, 13, 3.0, 4.0)
    assert calibration_factors(few, "m", min_points=100) == dict.fromkeys(LEVELS, 1.0)
    assert calibration_factors(few, "m", min_points=30) != dict.fromkeys(LEVELS, 1.0)


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    st.lists(st.floats(-50, 200), min_size=1, max_size=5),
    st.floats(0, 10),
    st.floats(0, 10),
    st.floats(0, 5),
)
def test_scaled_bounds_keep_the_mean_between_them(
    means: list[float], below: float, above: float, factor: float
) -> None:
    mean = np.array(means)
    lo, hi = scaled(mean, mean - below, mean + above, factor)
    assert (lo <= mean + 1e-9).all() and (hi >= mean - 1e-9).all()


def group_of_series(count: int, days: int) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    weekly = np.tile([9, 8, 8, 7, 7, 2, 1], days // 7 + 1)[:days]
    parts = [
        daily(f"office-{i}", np.clip(weekly * (1 + i / 5) + rng.normal(0, 2, days), 0, None))
        for i in range(count)
    ]
    parts.append(daily("falling", falling(days)))
    return pd.concat(parts)


def test_calibrated_intervals_never_cross_nor_go_negative() -> None:
    result = forecast(group_of_series(6, 84), 14, Setup(calibrate_min_points=20))
    assert set(result.calibration) == {c.model for c in result.choices.values()}
    factors = [f for per_level in result.calibration.values() for f in per_level.values()]
    assert all(f >= 0 for f in factors) and any(f != 1.0 for f in factors)
    assert_nested_and_positive(result.points)


def test_median_of_models_with_their_own_seasons() -> None:
    setup = Setup(
        models=("AutoETS", "AutoTheta", "SeasonalNaive@7", "DynamicOptimizedTheta@7"), combine="median"
    )
    result = forecast(group_of_series(2, 70), 7, setup)
    assert setup.ensemble == "Median(AutoETS,AutoTheta,SeasonalNaive@7,DynamicOptimizedTheta@7)"
    assert {c.model for c in result.choices.values()} <= {*setup.models, setup.ensemble}
    assert_nested_and_positive(result.points)
    with pytest.raises(ValueError, match="unknown model"):
        forecast(group_of_series(1, 70), 7, Setup(models=("AutoETS", "Prophet")))
    with pytest.raises(ValueError, match="combine"):
        forecast(group_of_series(1, 70), 7, Setup(combine="max"))


def test_naive_drift_and_ces_candidates() -> None:
    setup = Setup(models=("Naive", "RandomWalkWithDrift", "AutoCES"), combine="median")
    result = forecast(group_of_series(2, 70), 7, setup)
    assert {c.model for c in result.choices.values()} <= {*setup.models, setup.ensemble}
    assert_nested_and_positive(result.points)


def test_a_model_fitted_on_its_last_points_only() -> None:
    from statsforecast.models import AutoETS

    from civicpulse.insight.forecast import _regular_model

    y = falling(120) + 3
    recent = _regular_model("AutoETS@7~28", Setup())
    trimmed, whole = AutoETS(season_length=7), AutoETS(season_length=7)
    got = recent.new().forecast(y=y, h=7, level=[80])
    np.testing.assert_allclose(got["mean"], trimmed.forecast(y=y[-28:], h=7, level=[80])["mean"])
    assert not np.allclose(got["mean"], whole.forecast(y=y, h=7)["mean"])
    setup = Setup(models=("AutoETS~28", "SeasonalNaive@7"), combine="median")
    result = forecast(group_of_series(2, 70), 7, setup)
    assert {c.model for c in result.choices.values()} <= {*setup.models, setup.ensemble}
    assert_nested_and_positive(result.points)


def test_calibration_leaves_out_the_series_given_conformal_intervals() -> None:
    from civicpulse.insight.forecast import _with_combination, settle

    rng = np.random.default_rng(8)
    cv = backtest(rng, 50, 13, 3.0, 4.0)
    bad = cv["unique_id"].isin([f"s{i}" for i in range(40, 50)])
    cv.loc[bad, "y"] = cv.loc[bad, "m"] + rng.normal(0, 10, int(bad.sum()))
    cv["ds"], cv["cutoff"] = np.tile(np.arange(100, 113), 50), 99
    data = pd.DataFrame(
        {"unique_id": np.repeat(cv["unique_id"].unique(), 113), "ds": np.tile(np.arange(113), 50)}
    ).assign(y=lambda d: rng.uniform(5, 50, len(d)))
    future = cv.drop(columns=["y", "cutoff"]).assign(ds=lambda d: d["ds"] + 13)
    setup = Setup(models=("m",))
    points, choices, factors = settle(
        data, _with_combination(cv, setup), _with_combination(future, setup), setup, False
    )
    conformal = {uid for uid, c in choices.items() if c.intervals == "conformal"}
    assert conformal == {f"s{i}" for i in range(40, 50)}
    assert factors[setup.ensemble][80] == pytest.approx(1.2816 / 3.0, rel=0.1)
    assert factors[setup.ensemble][95] == pytest.approx(1.96 / 4.0, rel=0.1)
    assert_nested_and_positive(points)


def test_settle_is_what_forecast_does_after_fitting() -> None:
    from statsforecast import StatsForecast

    from civicpulse.insight.forecast import _regular_models, _with_combination, settle

    setup = Setup(n_windows=2, calibrate_min_points=20)
    frame = group_of_series(3, 84)
    data = frame.assign(unique_id=frame["unique_id"].astype(str), y=frame["y"].astype(float))
    engine = StatsForecast(models=_regular_models(setup), freq="D")
    cv = engine.cross_validation(df=data, h=14, n_windows=2, step_size=14, level=list(LEVELS))
    future = engine.forecast(df=data, h=14, level=list(LEVELS))
    points, choices, factors = settle(
        data, _with_combination(cv, setup), _with_combination(future, setup), setup, False
    )
    result = forecast(frame, 14, setup)
    pd.testing.assert_frame_equal(points, result.points)
    assert choices == result.choices and factors == result.calibration


def test_too_short_a_history_is_refused_by_name() -> None:
    with pytest.raises(InsufficientHistory, match=r"short \(10\)"):
        forecast(daily("short", np.ones(10)), 14, Setup())


def test_a_young_mostly_zero_series_is_forecast_or_refused_by_name_never_crashes() -> None:
    """A mostly-zero series needs its conformal intervals' windows before the first backtest one:
    at 14 steps, 43 points; every length from there on is forecast, a shorter one is refused."""
    rng = np.random.default_rng(4)
    needed = Setup().min_length(14, intermittent=True)
    assert needed == 14 + 2 * 14 + 1
    for length in (needed, 49, 56, 57):
        sparse = np.where(rng.random(length) < 0.3, rng.integers(1, 4, length), 0).astype(float)
        sparse[-1] = 1.0
        result = forecast(daily("young", sparse), 14, Setup())
        assert result.choices["young"].intermittent and len(result.points) == 14
        assert_nested_and_positive(result.points)
    with pytest.raises(InsufficientHistory, match=r"young \(42\)") as refused:
        forecast(daily("young", np.where(np.arange(42) % 4 == 0, 1.0, 0.0)), 14, Setup())
    assert refused.value.details["needed_mostly_zeros"] == needed


def write_csv(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["unique_id", "ds", "y"])
        writer.writerows(rows)


def csv_rows() -> list[tuple[str, str, str]]:
    rng = np.random.default_rng(3)
    days = pd.date_range("2026-01-05", periods=70)
    rows = [
        ("office-a", d.date().isoformat(), f"{10 + 3 * (d.dayofweek < 5) + rng.normal():.2f}") for d in days
    ]
    rows += [("office-b", d.date().isoformat(), str(int(rng.random() < 0.15))) for d in days]
    return rows


def test_cli_forecasts_a_csv_and_refuses_bad_rows(tmp_path: Path) -> None:
    cli = Cli(tmp_path)
    good, out = tmp_path / "series.csv", tmp_path / "forecasts.csv"
    write_csv(good, csv_rows())
    run = cli("forecast", "--input", str(good), "--horizon", "10", "--output", str(out))
    assert run.returncode == 0, run.stderr
    assert "forecasting" in run.stderr  # progress
    table = pd.read_csv(out)
    assert list(table.columns) == ["unique_id", "ds", "mean", "lo80", "hi80", "lo95", "hi95"]
    assert table.groupby("unique_id").size().to_dict() == {"office-a": 10, "office-b": 10}
    assert table["ds"].iloc[0] == "2026-03-16"  # the day after the last
    assert_nested_and_positive(table)

    bad = tmp_path / "bad.csv"
    rows = csv_rows()
    rows[4] = ("office-a", "not-a-day", "3")
    rows[9] = ("office-a", rows[9][1], "-2")
    write_csv(bad, rows)
    kept = out.read_text()
    run = cli("forecast", "--input", str(bad), "--horizon", "10", "--output", str(out))
    assert run.returncode == 1
    assert "line 6" in run.stderr and "line 11" in run.stderr
    assert out.read_text() == kept  # nothing written


NOW = datetime.now(UTC)


def seed(live: LiveServer, topic: str, province: str, senders: int, days: int) -> None:
    """Submissions of one topic and province on each of the last ``days`` days, from ``senders``
    people in turn, then the counts rebuilt from them."""
    rng = np.random.default_rng(4)
    with live.db.write() as session:
        for day in range(1, days + 1):
            for i in range(int(rng.integers(2, 6)) + (day % 7 == 0) * 4):
                row = SubmissionRow(
                    tracking_code=uuid.uuid4().hex[:16],
                    dedup_key=uuid.uuid4().hex,
                    content_hash=uuid.uuid4().hex,
                    channel="web_form",
                    text="x",
                    received_at=NOW - timedelta(days=day, minutes=i),
                    analysis_state="done",
                    sender_key=f"{topic}-sender-{(day + i) % senders}",
                )
                session.add(row)
                session.flush()
                session.add(AnnotationRow(submission_id=row.id, stage="topic", data={"code": topic}))
                session.add(
                    AnnotationRow(submission_id=row.id, stage="places", data={"province": {"code": province}})
                )
    with live.db.write() as session:
        rebuild_counts(session, CampaignRules.from_settings(live.settings))


def test_api_forecast_shape_limits_and_k_suppression(live_server: LiveServer) -> None:
    seed(live_server, "environment", "01", senders=8, days=56)
    seed(live_server, "traffic", "79", senders=2, days=56)
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    with live_server.client(viewer) as client:
        answer = client.get(
            "/api/v1/forecasts", params={"topic": "environment", "province": "01", "horizon": 14}
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert set(body) == {"points", "model", "backtest_mase"}
        assert len(body["points"]) == 14
        assert all(set(point) == SHAPE for point in body["points"])
        assert (
            body["points"][0]["date"] == (NOW + timedelta(hours=7)).date().isoformat()
        )  # from today, Vietnam time
        assert isinstance(body["model"], str) and body["backtest_mase"] >= 0
        assert_nested_and_positive(pd.DataFrame(body["points"]))

        for horizon in (0, 29):
            refused = client.get("/api/v1/forecasts", params={"topic": "environment", "horizon": horizon})
            assert refused.status_code == 422
        unknown = client.get("/api/v1/forecasts", params={"topic": "no-such-topic"})
        assert unknown.status_code == 422 and "topic" in unknown.text

        few = client.get("/api/v1/forecasts", params={"topic": "traffic", "province": "79"})
        assert few.status_code == 422 and few.json()["error"]["code"] == "below_k_anonymity"
        assert "points" not in few.text

        empty = client.get("/api/v1/forecasts", params={"topic": "land"})
        assert empty.json()["error"]["code"] in {"below_k_anonymity", "insufficient_history"}
    with live_server.client("") as anonymous:
        assert anonymous.get("/api/v1/forecasts").status_code == 401


def test_cli_forecasts_the_store_series(tmp_path: Path) -> None:
    assert CLI.exists()
    cli = Cli(tmp_path)
    run = cli("forecast", "--topic", "environment", "--horizon", "7")
    assert run.returncode == 1
    assert "fewer than 5 distinct senders" in run.stderr
    run = cli("forecast", "--topic", "no-such-topic")
    assert run.returncode == 1 and "topic" in run.stderr
    assert isinstance(run, subprocess.CompletedProcess)
