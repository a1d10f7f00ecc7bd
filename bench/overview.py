"""Overview page speed at 1,000,000 submissions, on SQLite and PostgreSQL (target: under 300 ms).

Fills a throw-away store: ``--rows`` analysed submissions over the last 365 days (8 topics, all 34
provinces weighted like a real inflow, 6 channels, one sender for three submissions), their trend
facts, and the daily counts and distinct-sender sets derived from the facts by one ``GROUP BY``
each (what ``civicpulse trends rebuild`` keeps equal to the facts), a redacted text (``pii``) for
the last 28 days, a spike of one topic in one province over the last three days, and a stored
whole-store themes run of 12 themes holding every submission. Then it signs in and times ``GET
/overview`` and ``GET /overview?province=79`` (the target), and the warnings the page loads after
its first paint (``GET /overview/warnings``: the spike detector over every series), through the app
(Starlette's TestClient: routing, session, SQL, template), the median of ``--repeat`` requests after
one warm-up: wall time, and the CPU time of this process (all of the work on SQLite; on PostgreSQL
the server's share is not in it), which a shared, busy machine inflates far less than wall time.

The page's figures and the warnings are stored once computed (``overview_snapshots``, spike
detections) and computed again after a change of the counts on the days they read: the warm-up
request does it here, so the medians are those of stored figures; the ``cold`` lines time the
first request after the stored figures are forgotten (what the first view of a day costs).

Usage: ``python bench/overview.py [--rows 1000000] [--repeat 15] [--engines sqlite,postgresql]``
(PostgreSQL: ``make bench`` installs it). Writes nothing into the repository. ``--url URL`` uses
an existing store (filled first when it has no submissions; kept afterwards), so that two versions
of the code can be timed in turn on the same store; ``--explain`` then prints the statements that
``build_overview`` runs (country and province 79), each with its client time and, on PostgreSQL,
its server time and plan from ``EXPLAIN (ANALYZE, BUFFERS)``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from statement_times import explained, recorded  # noqa: E402
from synthetic_store import CHANNELS, SENTIMENTS, TOPICS, analyze, throwaway_database, weighted_provinces  # noqa: E402

TARGET_MS = 300.0
CHUNK = 50_000
THEMES = 12


def fill(url: str, rows: int, today: date) -> float:
    """Fill the store; seconds taken."""
    from sqlalchemy import func, insert, select

    from civicpulse.store.db import Database
    from civicpulse.store.tables import (
        AnnotationRow,
        SubmissionRow,
        TrendCountRow,
        TrendFactRow,
        TrendSenderRow,
    )
    from civicpulse.store.themes import ThemeMemberRow, ThemeRow, ThemeRunRow

    started = time.perf_counter()
    db = Database(url)
    db.upgrade()
    rng = random.Random(12)
    codes, weights = weighted_provinces()
    now = datetime.now(UTC)
    recent = (today - timedelta(days=28)).isoformat()
    spike_from = today - timedelta(days=3)
    with db.write() as session:
        run = ThemeRunRow(
            slice_key="||||*",
            created_at=now,
            items=rows,
            unassigned=0,
            unassigned_share=0.0,
            model="bench",
            space={},
        )
        session.add(run)
        session.flush()
        for theme in range(1, THEMES + 1):
            first_seen = (now - timedelta(days=3 if theme == THEMES else 300)).isoformat()
            session.add(
                ThemeRow(
                    run_id=run.id,
                    theme_id=theme,
                    is_new=theme == THEMES,
                    label=f"Chủ đề {theme}",
                    senders=rows // THEMES,
                    weight=1.0,
                    detail={"first_seen": first_seen},
                )
            )
        run_id = run.id
    for start in range(0, rows, CHUNK):
        subs, facts, pii, members = [], [], [], []
        for i in range(start, min(rows, start + CHUNK)):
            sid = i + 1
            spike = i % 40 == 0
            day = (
                spike_from + timedelta(days=rng.randrange(3))
                if spike
                else today - timedelta(days=rng.randrange(365))
            )
            at = datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC) - timedelta(hours=7)
            topic = "environment" if spike else rng.choice(TOPICS)
            province = "79" if spike else rng.choices(codes, weights)[0]
            channel = CHANNELS[i % len(CHANNELS)]
            sender = f"s{rng.randrange(rows // 3)}"
            subs.append(
                {
                    "id": sid,
                    "tracking_code": f"B{sid:09d}",
                    "dedup_key": f"d{sid}",
                    "content_hash": f"h{sid}",
                    "channel": channel,
                    "text": "…",
                    "received_at": at,
                    "created_at": now,
                    "updated_at": now,
                    "status": "open",
                    "analysis_state": "done",
                    "has_contact": False,
                    "sender_key": sender,
                    "attachments": [],
                }
            )
            facts.append(
                {
                    "submission_id": sid,
                    "day": day.isoformat(),
                    "hour": f"{day.isoformat()}T{at.hour:02d}",
                    "topic": topic,
                    "province": province,
                    "channel": channel,
                    "sentiment": SENTIMENTS[i % 3],
                    "sender": sender,
                    "counted": True,
                    "campaign": None,
                }
            )
            members.append({"run_id": run_id, "submission_id": sid, "theme_id": 1 + (i % THEMES)})
            if day.isoformat() >= recent:
                pii.append(
                    {
                        "submission_id": sid,
                        "stage": "pii",
                        "created_at": now,
                        "data": {"text": f"Phản ánh số {sid}: bãi rác bốc mùi ở [ADDRESS]."},
                    }
                )
        with db.write() as session:
            session.execute(insert(SubmissionRow), subs)
            session.execute(insert(TrendFactRow), facts)
            session.execute(insert(ThemeMemberRow), members)
            if pii:
                session.execute(insert(AnnotationRow), pii)
    cell = (TrendFactRow.topic, TrendFactRow.province, TrendFactRow.channel, TrendFactRow.sentiment)
    with db.write() as session:
        counts = select(
            func.cast("day", TrendCountRow.unit.type).label("unit"),
            TrendFactRow.day,
            *cell,
            func.count(),
            func.sum(func.cast(TrendFactRow.counted, TrendCountRow.counted.type)),
        ).group_by(TrendFactRow.day, *cell)
        session.execute(
            insert(TrendCountRow).from_select(
                ["unit", "period", "topic", "province", "channel", "sentiment", "submissions", "counted"],
                counts,
            )
        )
        senders = select(
            func.cast("day", TrendSenderRow.unit.type).label("unit"),
            TrendFactRow.day,
            *cell,
            TrendFactRow.sender,
            func.count(),
        ).group_by(TrendFactRow.day, *cell, TrendFactRow.sender)
        session.execute(
            insert(TrendSenderRow).from_select(
                ["unit", "period", "topic", "province", "channel", "sentiment", "sender", "items"], senders
            )
        )
    db.dispose()
    analyze(url)
    return time.perf_counter() - started


def has_submissions(url: str) -> bool:
    """Whether the store at ``url`` is filled already."""
    from sqlalchemy import inspect, text

    from civicpulse.store.db import Database

    db = Database(url)
    try:
        if "submissions" not in inspect(db.engine).get_table_names():
            return False
        with db.read() as session:
            return session.execute(text("SELECT 1 FROM submissions LIMIT 1")).first() is not None
    finally:
        db.dispose()


def explain(url: str, today: date) -> None:
    """Print the statements of ``build_overview`` (country, then province 79), the longest first."""
    from tests.conftest import make_settings

    from civicpulse.insight.overview import build_overview
    from civicpulse.store.db import Database

    k = make_settings(url).k_anonymity
    db = Database(url)
    for province in (None, "79"):
        with recorded(db.engine) as statements, db.read() as session:
            started, used = time.perf_counter(), time.process_time()
            build_overview(session, today, province=province, k_anonymity=k)
            wall, cpu = time.perf_counter() - started, time.process_time() - used
        client = sum(seconds for _, _, seconds in statements.runs)
        print(
            f"build_overview, province {province or 'all'}: {wall * 1000:.0f} ms wall, "
            f"{cpu * 1000:.0f} ms CPU, {len(statements.runs)} statements, "
            f"{client * 1000:.0f} ms waiting on them"
        )
        for sql, times, seconds in statements.by_text()[:8]:
            print(f"  client {seconds * 1000:7.1f} ms  x{times:<3} {sql}")
        if db.dialect == "postgresql":
            plans = explained(db.engine, statements)
            print(f"  server (EXPLAIN ANALYZE): {sum(p[2] for p in plans):.1f} ms execution in all")
            for sql, times, execution, planning, nodes in plans[:6]:
                print(f"  server {execution:7.1f} ms (+{planning:.1f} planning) x{times:<3} {sql}")
                print("\n".join("        " + line for line in nodes.splitlines()[:12]))
    db.dispose()


def forget(url: str, *tables: str) -> None:
    """Empty the stored figures of ``tables`` (the next request computes and stores them again)."""
    from sqlalchemy import inspect, text

    from civicpulse.store.db import Database

    db = Database(url)
    with db.write() as session:
        present = set(inspect(session.connection()).get_table_names())
        for table in tables:
            if table in present:
                session.execute(text(f"DELETE FROM {table}"))
    db.dispose()


def first_view(client: Any, url: str, path: str, tables: tuple[str, ...]) -> tuple[float, float]:
    """Milliseconds (wall, CPU of this process) of ``path`` right after its stored figures are gone."""
    forget(url, *tables)
    started, used = time.perf_counter(), time.process_time()
    assert client.get(path).status_code == 200
    return (time.perf_counter() - started) * 1000, (time.process_time() - used) * 1000


def measure(url: str, repeat: int) -> dict[str, float]:
    """Median milliseconds of each page, after one warm-up."""
    from fastapi.testclient import TestClient
    from tests.conftest import make_settings

    from civicpulse.domain import Role
    from civicpulse.service import create_app
    from civicpulse.store.db import Database
    from civicpulse.store.users import create_user

    settings = make_settings(url)
    db = Database(url)
    with db.write() as session:
        create_user(session, "leader@example.org", "leader-password", Role.viewer, exist_ok=True)
    db.dispose()
    found: dict[str, float] = {}
    with TestClient(create_app(settings, run_workers=False), base_url="https://testserver") as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        signed = client.post(
            "/login", data={"email": "leader@example.org", "password": "leader-password", "csrf_token": token}
        )
        assert signed.status_code in (200, 303), signed.text[:300]
        pages = (
            ("country", "/overview"),
            ("province 79", "/overview?province=79"),
            ("warnings (loaded after the page)", "/overview/warnings"),
        )
        for name, path in pages:
            answer = client.get(path)
            assert answer.status_code == 200, answer.text[:500]
            times, cpu = [], []
            for _ in range(repeat):
                started, used = time.perf_counter(), time.process_time()
                answer = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - used) * 1000)
                assert answer.status_code == 200
            found[name] = statistics.median(times)
            found[f"{name}, CPU of this process"] = statistics.median(cpu)
        found["warnings shown"] = float(answer.text.count('<article class="warning"'))
        colds = (
            ("cold country (figures computed and stored)", "/overview", ("overview_snapshots",)),
            ("cold province 79", "/overview?province=79", ("overview_snapshots",)),
            (
                "cold warnings (every series detected and stored)",
                "/overview/warnings",
                ("spike_detections", "spike_detection_runs"),
            ),
        )
        for name, path, tables in colds:
            found[name], found[f"{name}, CPU of this process"] = first_view(client, url, path, tables)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--url", help="an existing store to use (filled when empty) instead of throw-away ones"
    )
    parser.add_argument("--explain", action="store_true", help="print the statements of build_overview")
    args = parser.parse_args()
    from civicpulse.store.counts import LOCAL_TZ

    today = datetime.now(UTC).astimezone(LOCAL_TZ).date() - timedelta(days=1)
    if args.url:
        seconds = 0.0 if has_submissions(args.url) else fill(args.url, args.rows, today)
        if args.explain:
            explain(args.url, today)
        report(args.url.split(":")[0], args.rows, seconds, measure(args.url, args.repeat))
        return
    for engine in args.engines.split(","):
        with throwaway_database(engine, "civicpulse-overview-") as url:
            seconds = fill(url, args.rows, today)
            if args.explain:
                explain(url, today)
            figures = measure(url, args.repeat)
        report(engine, args.rows, seconds, figures)


def report(engine: str, rows: int, seconds: float, figures: dict[str, float]) -> None:
    """Print one engine's figures and the verdict."""
    verdict = all(v < TARGET_MS for k, v in figures.items() if k in ("country", "province 79"))
    print(f"{engine}: {rows:,} submissions filled in {seconds:.0f} s")
    for name, value in figures.items():
        print(f"  {name}: {value:.0f}" + ("" if name == "warnings shown" else " ms (median)"))
    print(f"  target < {TARGET_MS:.0f} ms: {'met' if verdict else 'NOT met'}", flush=True)


if __name__ == "__main__":
    main()
