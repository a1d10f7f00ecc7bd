"""What the overview refresher of ``civicpulse serve`` costs and what it saves, on SQLite and
PostgreSQL, over the store of ``bench/overview.py`` (``--rows`` analysed submissions over a year).

Times, in this process: a round on a new day (nothing stored for the default week: the country's
figures and every series' warnings computed and stored), a round with nothing changed (the usual
one: two reads), and a round after a late batch on a day the week read (the counts hook's marks:
the figures and the touched series computed again). Then the first ``GET /overview`` and ``GET
/overview/warnings`` of a day, without the refresher (computed during the request) and after a
round (read from the store), through the app (Starlette's TestClient), each the median of
``--repeat`` tries.

Usage: ``python bench/overview_refresh.py [--rows 1000000] [--repeat 5] [--engines sqlite,postgresql]``.
Writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from overview import fill, forget  # noqa: E402
from synthetic_store import throwaway_database  # noqa: E402

STORED = ("overview_snapshots", "spike_detections", "spike_detection_runs")


def _ms(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000


@contextmanager
def signed_in_client(url: str) -> Iterator[Any]:
    """The app (no refresher, no workers) with a leader signed in."""
    from fastapi.testclient import TestClient
    from tests.conftest import make_settings

    from civicpulse.domain import Role
    from civicpulse.service import create_app
    from civicpulse.store.db import Database
    from civicpulse.store.users import create_user

    db = Database(url)
    with db.write() as session:
        create_user(session, "leader@example.org", "leader-password", Role.viewer, exist_ok=True)
    db.dispose()
    app = create_app(make_settings(url), run_workers=False)
    with TestClient(app, base_url="https://testserver") as client:
        token = client.get("/login").text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = client.post(
            "/login", data={"email": "leader@example.org", "password": "leader-password", "csrf_token": token}
        )
        assert signed.status_code in (200, 303), signed.text[:300]
        yield client


def measure(url: str, repeat: int) -> dict[str, float]:
    """Median milliseconds of each round and first view."""
    from tests.conftest import make_settings

    from civicpulse.insight.overview import default_last_day
    from civicpulse.insight.overview_refresh import refresh_overview
    from civicpulse.store.db import Database
    from civicpulse.store.detections import note_changes

    settings = make_settings(url)
    k, last = settings.k_anonymity, default_last_day()
    db = Database(url)
    late = [((last - timedelta(days=2)).isoformat(), "environment", "79")]

    def round_() -> None:
        refresh_overview(db, k)

    def new_day() -> float:
        forget(url, *STORED)
        return _ms(round_)

    def late_batch() -> float:
        with db.write() as session:
            note_changes(session, late)
        return _ms(round_)

    found = {
        "round on a new day": statistics.median(new_day() for _ in range(repeat)),
        "round, nothing changed": statistics.median(
            _ms(lambda: refresh_overview(db, k)) for _ in range(repeat)
        ),
        "round after a late batch": statistics.median(late_batch() for _ in range(repeat)),
    }
    with signed_in_client(url) as client:
        for name, path in (("overview", "/overview"), ("warnings", "/overview/warnings")):
            alone, refreshed = [], []
            for _ in range(repeat):
                forget(url, *STORED)
                alone.append(_ms(lambda path=path: _ok(client.get(path))))
                forget(url, *STORED)
                refresh_overview(db, k)
                refreshed.append(_ms(lambda path=path: _ok(client.get(path))))
            found[f"first {name} of the day, no refresher"] = statistics.median(alone)
            found[f"first {name} of the day, after a round"] = statistics.median(refreshed)
    db.dispose()
    return found


def _ok(answer: Any) -> None:
    assert answer.status_code == 200, answer.text[:300]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    from civicpulse.insight.overview import default_last_day

    for engine in args.engines.split(","):
        with throwaway_database(engine, "civicpulse-overview-refresh-") as url:
            seconds = fill(url, args.rows, default_last_day())
            figures = measure(url, args.repeat)
        print(f"{engine}: {args.rows:,} submissions filled in {seconds:.0f} s")
        for name, value in figures.items():
            print(f"  {name}: {value:.0f} ms (median of {args.repeat})", flush=True)


if __name__ == "__main__":
    main()
