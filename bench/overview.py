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

Usage: ``python bench/overview.py [--rows 1000000] [--repeat 15] [--engines sqlite,postgresql]``
(PostgreSQL: ``make bench`` installs it). Writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic_store import CHANNELS, SENTIMENTS, TOPICS, throwaway_database, weighted_provinces  # noqa: E402

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
    if url.startswith("postgresql"):
        with db.engine.connect() as conn:
            conn.exec_driver_sql("COMMIT")
            conn.exec_driver_sql("ANALYZE")
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
    db.dispose()
    return time.perf_counter() - started


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
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    from civicpulse.store.counts import LOCAL_TZ

    today = datetime.now(UTC).astimezone(LOCAL_TZ).date() - timedelta(days=1)
    for engine in args.engines.split(","):
        with throwaway_database(engine, "civicpulse-overview-") as url:
            seconds = fill(url, args.rows, today)
            figures = measure(url, args.repeat)
        verdict = all(v < TARGET_MS for k, v in figures.items() if k in ("country", "province 79"))
        print(f"{engine}: {args.rows:,} submissions filled in {seconds:.0f} s")
        for name, value in figures.items():
            print(f"  {name}: {value:.0f}" + ("" if name == "warnings shown" else " ms (median)"))
        print(f"  target < {TARGET_MS:.0f} ms: {'met' if verdict else 'NOT met'}")


if __name__ == "__main__":
    main()
