"""The server keeps the leaders' overview ready without any page view, on SQLite and PostgreSQL:
the country's snapshot and the stored spike detection of the default week appear, a late batch on
a day they read is taken in at the next round, views racing a round all answer, and with
``overview_refresh_seconds = 0`` nothing runs."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from civicpulse.insight.overview import (
    MAX_WARNINGS,
    Row,
    Weeks,
    build_overview,
    default_last_day,
    open_warnings,
    stored_overview,
)
from civicpulse.insight.overview_refresh import OverviewRefresher
from civicpulse.insight.warnings import SpikeWarning, find_warnings, stored_warnings
from civicpulse.settings import Settings
from civicpulse.store.counts import UNKNOWN
from civicpulse.store.db import Database
from civicpulse.store.detections import stored_window
from civicpulse.store.tables import OverviewSnapshotRow
from tests.conftest import LiveServer, make_settings, wait_until
from tests.server import serving
from tests.test_warnings import counted_complaints
from tests.web.conftest import html_client, http_sign_in


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url, overview_refresh_seconds=0.2)


def _snapshot(db: Database, last: date) -> OverviewSnapshotRow | None:
    with db.read() as session:
        row = session.get(OverviewSnapshotRow, (last.isoformat(), UNKNOWN))
        if row is not None:
            session.expunge(row)
        return row


def _current(db: Database, last: date, k: int) -> list[SpikeWarning] | None:
    """The stored warnings of the default week's detection, ``None`` unless stored and current."""
    weeks = Weeks.ending(last)
    with db.read() as session:
        return stored_warnings(session, weeks.before_first, weeks.last, k_anonymity=k)


def _up_to_date(db: Database, last: date, k: int, this_week: int) -> bool:
    """Whether the stored country snapshot counts ``this_week`` and is current, and so is the
    detection."""
    row = _snapshot(db, last)
    return (
        row is not None
        and row.basis != ""
        and row.seen == row.changes
        and row.data["total"][1] == this_week
        and _current(db, last, k) is not None
    )


def _as_computed_now(db: Database, last: date, k: int) -> None:
    """The stored figures and warnings equal what the page would compute now."""
    row = _snapshot(db, last)
    weeks = Weeks.ending(last)
    with db.read() as session:
        built = build_overview(session, last, province=None, k_anonymity=k)
        fresh = find_warnings(session, weeks.before_first, weeks.last, k_anonymity=k)
    assert row is not None and Row(*row.data["total"]) == built.total
    stored = _current(db, last, k)
    assert stored is not None
    assert [w.as_dict() for w in stored] == [w.as_dict() for w in fresh]


def test_the_server_refreshes_the_country_overview_and_warnings_on_its_own(
    settings: Settings, db: Database, live_server: LiveServer
) -> None:
    last, k = default_last_day(), settings.k_anonymity
    counted_complaints(settings, db, last - timedelta(days=40), range(0, 1))
    counted_complaints(settings, db, last - timedelta(days=2), range(1, 1 + 2 * k))
    assert wait_until(lambda: _up_to_date(db, last, k, 2 * k), timeout=60), "no snapshot without a page view"
    _as_computed_now(db, last, k)
    assert _current(db, last, k), "the spike of the week is among the stored warnings"
    before = _snapshot(db, last)
    assert before is not None

    counted_complaints(settings, db, last - timedelta(days=1), range(100, 103))  # a late batch
    assert wait_until(lambda: _up_to_date(db, last, k, 2 * k + 3), timeout=60), (
        "the next round kept the old figures"
    )
    after = _snapshot(db, last)
    assert after is not None and after.changes > before.changes
    _as_computed_now(db, last, k)
    with html_client(live_server, "en") as client:  # the page's default week is the refreshed one
        assert http_sign_in(client, "admin@example.org", "admin-password").status_code == 200
        page = client.get("/overview")
        assert page.status_code == 200 and f'id="kpi-this-week">{2 * k + 3}<' in page.text
        warnings = client.get("/overview/warnings")
        shown = warnings.text.count('<article class="warning"')
        stored = _current(db, last, k) or []
        assert warnings.status_code == 200 and 0 < shown == min(len(stored), MAX_WARNINGS)


def test_with_zero_seconds_nothing_is_refreshed(db_url: str, db: Database) -> None:
    settings = make_settings(db_url)
    assert settings.overview_refresh_seconds == 0
    last = default_last_day()
    counted_complaints(settings, db, last - timedelta(days=2), range(0, 6))
    refresher = OverviewRefresher(db, settings)
    refresher.start()
    assert not refresher.running
    with serving(settings):
        time.sleep(0.5)
        assert _snapshot(db, last) is None
        with db.read() as session:
            assert stored_window(session, last.isoformat()) is None


def test_a_page_view_during_a_refresh_round_gets_its_figures(settings: Settings, db: Database) -> None:
    """Views and the refresher opening the same week's snapshot and detection at once all answer."""
    k, views = settings.k_anonymity, 8
    latest = default_last_day()
    counted_complaints(settings, db, latest - timedelta(days=3), range(0, 2 * k))
    for last in (latest - timedelta(days=n) for n in range(3)):
        weeks, barrier = Weeks.ending(last), threading.Barrier(views)

        def view(last: date = last, weeks: Weeks = weeks, barrier: threading.Barrier = barrier) -> tuple:
            barrier.wait()
            overview = stored_overview(db, last, province=None, k_anonymity=k)
            return overview.total, open_warnings(db, weeks, province=None, k_anonymity=k)

        with ThreadPoolExecutor(views) as pool:
            answers = [future.result() for future in [pool.submit(view) for _ in range(views)]]
        assert all(answer == answers[0] for answer in answers)
        assert answers[0][0].this_week == 2 * k
