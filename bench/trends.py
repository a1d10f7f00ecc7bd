"""Counts over time at 1,000,000 submissions, on SQLite and PostgreSQL (issue 12's speed check).

Targets: ``civicpulse trends rebuild`` (``insight.counts.rebuild_counts``) under 60 s; the
``counts`` hook on one analysed batch of 64 (``update_counts``, with its commit) under 20 ms.

Fills a throw-away store the way analysis leaves it: ``--rows`` analysed submissions over the last
365 days (8 topics, 34 provinces, 6 channels, 3 sentiments, one sender for three submissions, one
in ten anonymous), their ``topic``, ``places`` and ``sentiment`` annotations, analysts' corrections
for 0.5 %, and a near-duplicate row for every submission (the dedup stage writes one each), 200 of
the groups campaigns of 25 copies from 25 senders within a day. Then it times the rebuild twice (into
empty tables, then over full ones) and ``--batches`` batches of 64 new submissions, two of each a
copy joining a campaign, counted in by the hook; the median and the 90th percentile are reported,
with the CPU time of this process (all of the work on SQLite; on PostgreSQL the server's share is
not in it), which a shared, busy machine inflates far less than wall time.

Usage: ``python bench/trends.py [--rows 1000000] [--batches 40] [--engines sqlite,postgresql]``
(PostgreSQL: ``make bench`` installs it). Writes nothing into the repository. ``--url URL`` uses an
existing store (filled first when it has no submissions; kept afterwards, each run adding its
batches), so that two versions of the code can be timed in turn on the same store; ``--profile``
prints the statements of the rebuild and of a batch with the time the client waited on each.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from statement_times import Statements, recorded  # noqa: E402
from synthetic_store import CHANNELS, SENTIMENTS, TOPICS, analyze, throwaway_database, weighted_provinces  # noqa: E402

REBUILD_TARGET_S = 60.0
BATCH_TARGET_MS = 20.0
BATCH = 64
CAMPAIGNS = 200
CAMPAIGN_SIZE = 25
SUBMISSION_COLUMNS = [
    "id", "tracking_code", "dedup_key", "content_hash", "channel", "text", "received_at", "created_at",
    "updated_at", "status", "analysis_state", "has_contact", "sender_key", "attachments",
]  # fmt: skip
NEARDUP_COLUMNS = [
    "submission_id",
    "scheme",
    "signature",
    "group_id",
    "similarity",
    "linked_groups",
    "created_at",
]


class Generator:
    """Submissions, annotations, corrections and near-duplicate rows, reproducibly."""

    def __init__(self, rows: int, now: datetime) -> None:
        self.rows, self.now = rows, now
        self.rng = random.Random(12)
        self.codes, self.weights = weighted_provinces()
        self.campaign_of = {
            1 + (c * 997 + j * 13) % rows: c for c in range(CAMPAIGNS) for j in range(CAMPAIGN_SIZE)
        }

    def received(self, sid: int) -> datetime:
        if sid in self.campaign_of:
            return self.now - timedelta(days=1 + self.campaign_of[sid], minutes=sid % 600)
        return self.now - timedelta(seconds=self.rng.randrange(365 * 86400))

    def submission(self, sid: int) -> tuple[Any, ...]:
        sender = f"s{self.rng.randrange(max(1, self.rows // 3))}" if sid % 10 else None
        return (
            sid, f"B{sid:09d}", f"d{sid}", f"h{sid}", CHANNELS[sid % len(CHANNELS)], "…",
            self.received(sid), self.now, self.now, "open", "done", False, sender, "[]",
        )  # fmt: skip

    def annotations(self, sid: int) -> Iterator[tuple[Any, ...]]:
        province = self.rng.choices(self.codes, self.weights)[0]
        places = {"places": [], "province": {"code": province, "name": "x"}} if sid % 17 else {"places": []}
        yield (sid, "topic", json.dumps({"code": self.rng.choice(TOPICS), "confidence": 0.8}), self.now)
        yield (sid, "places", json.dumps(places), self.now)
        yield (sid, "sentiment", json.dumps({"label": SENTIMENTS[sid % 3]}), self.now)

    def neardup(self, sid: int, group: int | None = None) -> tuple[Any, ...]:
        campaign = self.campaign_of.get(sid)
        group = group if group is not None else (sid if campaign is None else -(1 + campaign))
        return (sid, "minhash-v1", b"\x00" * 16, group, None, "null", self.now)

    def campaign_groups(self) -> list[int]:
        return [-(1 + c) for c in range(CAMPAIGNS)]


def _sqlite_rows(rows: Iterable[tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
    for row in rows:
        yield tuple(
            v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in row
        )


def _write(url: str, table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    """Append rows: ``executemany`` in one transaction on SQLite, ``COPY`` on PostgreSQL."""
    if url.startswith("sqlite"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        with conn:
            marks = ", ".join("?" * len(columns))
            conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", _sqlite_rows(rows)
            )
        conn.close()
        return
    import psycopg

    with (
        psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn,
        conn.cursor() as cur,
        cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def fill(url: str, gen: Generator, first: int, last: int) -> None:
    """Store the submissions ``first`` to ``last`` (ids) with their annotations and dedup rows."""
    ids = range(first, last + 1)
    _write(url, "submissions", SUBMISSION_COLUMNS, (gen.submission(sid) for sid in ids))
    _write(
        url,
        "annotations",
        ["submission_id", "stage", "data", "created_at"],
        (row for sid in ids for row in gen.annotations(sid)),
    )
    _write(
        url,
        "labels",
        ["submission_id", "task", "value", "actor", "created_at"],
        (
            (sid, "topic", TOPICS[sid % len(TOPICS)], "analyst@bench", gen.now)
            for sid in ids
            if sid % 200 == 0
        ),
    )
    _write(url, "near_duplicates", NEARDUP_COLUMNS, (gen.neardup(sid) for sid in ids))


def _new_batch(url: str, gen: Generator, first: int) -> list[int]:
    """64 new analysed submissions from id ``first``: two of them copies joining a campaign."""
    ids = list(range(first, first + BATCH))
    joining = {ids[0]: gen.campaign_groups()[first % CAMPAIGNS], ids[1]: gen.campaign_groups()[0]}
    fill_rows = [gen.submission(sid) for sid in ids]
    _write(url, "submissions", SUBMISSION_COLUMNS, fill_rows)
    _write(url, "annotations", ["submission_id", "stage", "data", "created_at"],
           (row for sid in ids for row in gen.annotations(sid)))  # fmt: skip
    _write(url, "near_duplicates", NEARDUP_COLUMNS, (gen.neardup(sid, joining.get(sid)) for sid in ids))
    return ids


def _print_statements(title: str, statements: Statements, per: int = 1) -> None:
    print(f"  {title}: {len(statements.runs) / per:.0f} statements", flush=True)
    for sql, times, seconds in statements.by_text()[:10]:
        print(f"    {seconds * 1000 / per:9.1f} ms  x{times / per:<5.1f} {sql}")


def _stored_rows(url: str) -> int:
    """Submissions already in the store at ``url`` (0 for a new one)."""
    from sqlalchemy import func, inspect, select

    from civicpulse.store.db import Database
    from civicpulse.store.tables import SubmissionRow

    db = Database(url)
    try:
        if "submissions" not in inspect(db.engine).get_table_names():
            return 0
        with db.read() as session:
            return int(session.scalar(select(func.max(SubmissionRow.id))) or 0)
    finally:
        db.dispose()


def measure(url: str, rows: int, batches: int, profile: bool = False) -> dict[str, float]:
    """Fill (unless filled), then time the rebuild (twice) and the hook on ``batches`` batches."""
    from sqlalchemy import func, select

    from civicpulse.insight.campaigns import CampaignRules
    from civicpulse.insight.counts import rebuild_counts, update_counts
    from civicpulse.store.db import Database
    from civicpulse.store.tables import TrendCountRow, TrendFactRow

    gen = Generator(rows, datetime.now(UTC))
    found: dict[str, float] = {}
    stored = _stored_rows(url)
    if not stored:
        db = Database(url)
        db.upgrade()
        db.dispose()
        started = time.perf_counter()
        for first in range(1, rows + 1, 100_000):
            fill(url, gen, first, min(rows, first + 99_999))
        analyze(url)
        found["fill s"] = time.perf_counter() - started
    rules = CampaignRules()
    db = Database(url)
    for name in ("rebuild s (empty tables)", "rebuild s (over full tables)"):
        started, used = time.perf_counter(), time.process_time()
        with recorded(db.engine) as statements, db.write() as session:
            counted = rebuild_counts(session, rules)
        found[name] = time.perf_counter() - started
        found[f"{name}, CPU of this process"] = time.process_time() - used
        if profile:
            _print_statements(name, statements)
        assert counted == max(rows, stored), counted
    analyze(url)
    with db.read() as session:
        found["facts"] = float(session.scalar(select(func.count()).select_from(TrendFactRow)) or 0)
        found["count rows"] = float(session.scalar(select(func.count()).select_from(TrendCountRow)) or 0)
    times, cpu, commits = [], [], []
    next_id = max(rows, stored) + 1
    with recorded(db.engine) as statements:
        for _ in range(batches):
            ids = _new_batch(url, gen, next_id)
            next_id += BATCH
            started, used = time.perf_counter(), time.process_time()
            with db.write() as session:
                update_counts(session, ids, rules)
                counted = time.perf_counter()
            times.append((time.perf_counter() - started) * 1000)
            commits.append((time.perf_counter() - counted) * 1000)
            cpu.append((time.process_time() - used) * 1000)
    db.dispose()
    if profile:
        _print_statements("per batch of 64", statements, batches)
    found["batch of 64 ms (median)"] = statistics.median(times)
    found["batch of 64 ms (p90)"] = statistics.quantiles(times, n=10)[-1]
    found["batch of 64 ms, CPU of this process (median)"] = statistics.median(cpu)
    found["batch of 64 ms, of which the commit (median)"] = statistics.median(commits)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument(
        "--url", help="an existing store to use (filled when empty) instead of throw-away ones"
    )
    parser.add_argument("--profile", action="store_true", help="print the statements of rebuild and batch")
    args = parser.parse_args()
    for engine in [args.url.split(":")[0]] if args.url else args.engines.split(","):
        if args.url:
            figures = measure(args.url, args.rows, args.batches, args.profile)
        else:
            with throwaway_database(engine, "civicpulse-trends-") as url:
                figures = measure(url, args.rows, args.batches, args.profile)
        print(f"{engine}: {args.rows:,} submissions")
        for name, value in figures.items():
            print(f"  {name}: {value:,.1f}")
        rebuild_ok = figures["rebuild s (over full tables)"] < REBUILD_TARGET_S
        batch_ok = figures["batch of 64 ms (median)"] < BATCH_TARGET_MS
        print(f"  rebuild < {REBUILD_TARGET_S:.0f} s: {'met' if rebuild_ok else 'NOT met'}")
        print(f"  batch of 64 < {BATCH_TARGET_MS:.0f} ms: {'met' if batch_ok else 'NOT met'}", flush=True)


if __name__ == "__main__":
    main()
