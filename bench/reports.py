"""Situation report speed on PostgreSQL over 1,000,000 submissions (target: under 10 s).

Seeds a throw-away PostgreSQL server (``tests/pg.py``) with COPY: ``--rows`` submissions in the
report's week plus a quarter as many in the week before, each with its ``topic``, ``places`` and
``pii`` annotations; a case for one submission in seven (answered, running or overdue, across 12
agencies); a stored whole-store themes run whose 12 themes hold every submission; and analysts' topic
corrections for 0.5 %. Then it times ``build_report`` (the SQL aggregates) and the HTML and PDF
rendering, as ``civicpulse report`` runs them, and prints the figures.

Usage: ``python bench/reports.py [--rows 1000000] [--json FILE]`` (needs PostgreSQL:
``make bench`` installs it). Writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests/pg.py starts a throw-away PostgreSQL server

from tests.pg import PostgresServer  # noqa: E402

TARGET_SECONDS = 10.0
PERIOD_START = date(2026, 3, 2)
TOPICS = ["traffic", "environment", "land", "health", "education", "welfare", "security", "utilities"]
PROVINCES = {
    "79": "Thành phố Hồ Chí Minh",
    "01": "Thành phố Hà Nội",
    "48": "Thành phố Đà Nẵng",
    "31": "Thành phố Hải Phòng",
    "92": "Thành phố Cần Thơ",
}
CHANNELS = ["web_form", "api", "open311", "email", "hotline", "file_import"]
AGENCIES = [
    "so-xd",
    "so-yt",
    "so-gddt",
    "so-nnmt",
    "so-nv",
    "so-ct",
    "so-tc",
    "so-tp",
    "so-vhttdl",
    "so-khcn",
    "cong-an",
    "ubnd-tp",
]
TEXTS = [
    "Đường Nguyễn Trãi ngập sâu sau mỗi trận mưa lớn, xe máy chết máy giữa đường. Đề nghị xử lý.",
    "Rác thải sinh hoạt chất đống ở đầu hẻm nhiều ngày không ai thu gom, bốc mùi hôi thối.",
    "Quán karaoke gần nhà hát to đến nửa đêm, gia đình tôi không thể ngủ được.",
    "Bệnh viện quận quá tải, người bệnh phải chờ khám từ sáng đến chiều, gọi [PHONE] không ai nghe.",
    "Đèn đường trên phố Hàng Bài hỏng cả tháng nay, buổi tối đi lại rất nguy hiểm.",
    "Trường tiểu học thu thêm nhiều khoản ngoài quy định, phụ huynh bức xúc.",
]
THEMES = 12


def _copy(conn, table: str, columns: list[str], rows) -> int:
    count = 0
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


def seed(url: str, rows: int) -> dict[str, float]:
    """Fill the store; the seconds each part took."""
    import psycopg

    from civicpulse.insight.themes.service import ThemeSlice
    from civicpulse.store.db import Database

    db = Database(url)
    db.upgrade()
    db.dispose()
    rng = random.Random(7)
    since = datetime(PERIOD_START.year, PERIOD_START.month, PERIOD_START.day, tzinfo=UTC) - timedelta(hours=7)
    before = rows // 4
    total = rows + before
    times: dict[str, float] = {}
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        received = [
            (since + timedelta(seconds=rng.randrange(7 * 86400)))
            if i < rows
            else (since - timedelta(seconds=1 + rng.randrange(7 * 86400)))
            for i in range(total)
        ]
        now = datetime.now(UTC)
        _copy(
            conn,
            "submissions",
            [
                "id",
                "tracking_code",
                "dedup_key",
                "content_hash",
                "channel",
                "text",
                "received_at",
                "created_at",
                "updated_at",
                "status",
                "analysis_state",
                "has_contact",
                "sender_key",
                "attachments",
            ],
            (
                (
                    i + 1,
                    f"B{i:09d}",
                    f"d{i}",
                    f"h{i}",
                    CHANNELS[i % len(CHANNELS)],
                    TEXTS[i % len(TEXTS)],
                    received[i],
                    now,
                    now,
                    "open",
                    "done",
                    False,
                    f"s{rng.randrange(total // 3)}" if i % 10 else None,
                    "[]",
                )
                for i in range(total)
            ),
        )
        times["submissions"] = time.perf_counter() - started
        started = time.perf_counter()

        def annotations():
            for i in range(total):
                sid = i + 1
                province = list(PROVINCES)[i % len(PROVINCES)]
                yield (
                    sid,
                    "topic",
                    json.dumps({"code": TOPICS[(i * 7) % len(TOPICS)], "confidence": 0.8}),
                    now,
                )
                yield (
                    sid,
                    "places",
                    json.dumps({"places": [], "province": {"name": PROVINCES[province], "code": province}}),
                    now,
                )
                yield (
                    sid,
                    "pii",
                    json.dumps({"redacted_text": TEXTS[i % len(TEXTS)]}, ensure_ascii=False),
                    now,
                )

        _copy(conn, "annotations", ["submission_id", "stage", "data", "created_at"], annotations())
        _copy(
            conn,
            "labels",
            ["submission_id", "task", "value", "actor", "created_at"],
            ((i + 1, "topic", TOPICS[i % len(TOPICS)], "analyst@bench", now) for i in range(0, total, 200)),
        )
        times["annotations"] = time.perf_counter() - started
        started = time.perf_counter()
        case_ids = range(0, total, 7)

        def cases():
            for n, i in enumerate(case_ids):
                start = received[i]
                kind = n % 4
                answered = start + timedelta(days=1 + n % 12) if kind < 2 else None
                due = start + timedelta(days=10)
                state = "answered" if kind < 2 else "in_progress" if kind == 2 else "received"
                yield (
                    n + 1,
                    state,
                    "petition",
                    False,
                    TOPICS[n % len(TOPICS)],
                    AGENCIES[n % len(AGENCIES)],
                    start,
                    due,
                    due,
                    answered,
                    now,
                    now,
                )

        _copy(
            conn,
            "cases",
            [
                "id",
                "state",
                "case_type",
                "complex",
                "topic",
                "agency",
                "clock_start",
                "due_at",
                "answer_due_at",
                "answered_at",
                "created_at",
                "updated_at",
            ],
            cases(),
        )
        _copy(
            conn,
            "case_members",
            ["submission_id", "case_id", "added_at"],
            ((i + 1, n + 1, now) for n, i in enumerate(case_ids)),
        )
        times["cases"] = time.perf_counter() - started
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.execute(
                "INSERT INTO theme_runs (slice_key, created_at, items, unassigned, unassigned_share, model,"
                " space) VALUES (%s, %s, %s, 0, 0, 'bench', '{}') RETURNING id",
                (ThemeSlice().key(), since, total),
            )
            run_id = cur.fetchone()[0]
            for t in range(THEMES):
                cur.execute(
                    "INSERT INTO themes (run_id, theme_id, is_new, label, senders, weight, detail) "
                    "VALUES (%s, %s, false, %s, 0, 0, %s)",
                    (
                        run_id,
                        t + 1,
                        TEXTS[t % len(TEXTS)].split(",")[0],
                        json.dumps({"keywords": ["ngập", "rác"]}),
                    ),
                )
        _copy(
            conn,
            "theme_members",
            ["run_id", "submission_id", "theme_id"],
            ((run_id, i + 1, 1 + (i % len(TEXTS)) * 2 + (i % 2)) for i in range(total)),
        )
        times["themes"] = time.perf_counter() - started
        conn.execute("ANALYZE")
        conn.commit()
    return times


def measure(url: str, province: str | None) -> dict[str, float]:
    """Seconds to build (SQL) and render one report, as ``civicpulse report`` does."""
    from civicpulse.reports.build import ReportOptions, build_report
    from civicpulse.reports.period import Period
    from civicpulse.reports.render import render_html, render_pdf
    from civicpulse.store.db import Database
    from civicpulse.taxonomy import load_taxonomy

    db = Database(url)
    options = ReportOptions(period=Period(PERIOD_START, PERIOD_START + timedelta(days=6)), province=province)
    taxonomy = load_taxonomy()
    started = time.perf_counter()
    with db.read() as session:
        report = build_report(session, options, taxonomy=taxonomy, province_names=PROVINCES)
    built = time.perf_counter()
    html = render_html(report)
    rendered = time.perf_counter()
    pdf = render_pdf(html)
    done = time.perf_counter()
    db.dispose()
    return {
        "submissions in the period": float(report.total.current.replace(".", "").replace(",", "")),
        "build (SQL)": built - started,
        "HTML": rendered - built,
        "PDF": done - rendered,
        "total, PDF": done - started,
        "pdf bytes": float(len(pdf)),
    }


def main() -> None:
    """Seed, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="submissions in the report's week")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    console = Console(width=120)
    server = PostgresServer().start()
    try:
        url = server.create_database(f"bench_{uuid.uuid4().hex[:8]}")
        console.print(f"seeding {args.rows:,} submissions (+{args.rows // 4:,} the week before) ...")
        seeded = seed(url, args.rows)
        console.print("seeded in " + ", ".join(f"{k} {v:.1f} s" for k, v in seeded.items()))
        measure(url, None)  # warm: imports, fonts, the page cache
        figures = {"all provinces": measure(url, None), "one province (79)": measure(url, "79")}
    finally:
        server.stop()
    table = Table("report", "submissions", "build (SQL)", "HTML", "PDF", "total (PDF)", "target")
    for name, f in figures.items():
        table.add_row(
            name,
            f"{f['submissions in the period']:,.0f}",
            f"{f['build (SQL)']:.2f} s",
            f"{f['HTML']:.2f} s",
            f"{f['PDF']:.2f} s",
            f"{f['total, PDF']:.2f} s",
            "met" if f["total, PDF"] < TARGET_SECONDS else "MISSED",
        )
    console.print(table)
    if args.json:
        args.json.write_text(json.dumps({"rows": args.rows, "seed": seeded, "figures": figures}, indent=2))


if __name__ == "__main__":
    main()
