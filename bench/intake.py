"""Intake speed, side by side with baselines measured in the same run, on SQLite and PostgreSQL.

(a) HTTP intake: ``civicpulse serve --workers 0`` against a bare FastAPI endpoint (``POST`` -> ``{}``)
    on the same uvicorn settings and process count, both loaded by ``wrk`` posting distinct JSON
    submissions with a bearer token.
(b) CSV import: ``civicpulse.intake.files.import_files`` on a generated 100,000-row CSV against plain
    DB-API ``executemany`` of the same rows into a bare table.

Usage: ``python bench/intake.py [--quick]`` (needs ``wrk`` and PostgreSQL: ``make bench`` installs both).
It prints a table and writes nothing to the repository (``--json FILE`` saves the figures).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests/pg.py starts a throw-away PostgreSQL server

from tests.pg import PostgresServer, free_port  # noqa: E402

CIVICPULSE = Path(sys.executable).parent / "civicpulse"
SECRET = "bench-secret-key-0123456789abcdef"
ADMIN = "bench@example.org"
HTTP_RATIO_TARGET = 0.5
HTTP_P99_TARGET_MS = 100.0
CSV_RATE_TARGET = 20_000.0
BATCH = 5_000  # rows per transaction, as import_files stores them

BARE_APP = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()

@app.post("/api/v1/submissions")
async def create() -> dict:
    return {}

@app.get("/healthz")
async def healthz() -> dict:
    return {}

uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="info", timeout_graceful_shutdown=10)
"""

WRK_SCRIPT = r"""
-- Posts distinct submissions (a counter in the source id and the text) with a bearer token.
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  prefix = args[1]
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. args[2]}
  counter = 0
end
function request()
  counter = counter + 1
  local sid = prefix .. "-" .. tid .. "-" .. counter
  local body = '{"text":"Đường số ' .. counter .. ' ở phường Bến Nghé bị ngập sau mưa, đề nghị xử lý (' ..
    sid .. ')","channel":"api","source_id":"' .. sid .. '"}'
  return wrk.format("POST", "/api/v1/submissions", headers, body)
end
"""

SUBJECTS = ["Đường", "Cống thoát nước", "Đèn chiếu sáng", "Rác thải", "Vỉa hè", "Cây xanh", "Nước sạch"]
PLACES = ["phường Bến Nghé", "xã Tân Phú", "phường Hàng Bạc", "thị trấn Đông Anh", "phường Hải Châu"]
ISSUES = [
    "bị ngập sâu sau mưa lớn",
    "hư hỏng lâu ngày chưa được sửa",
    "bốc mùi hôi thối ảnh hưởng người dân",
    "bị lấn chiếm làm nơi buôn bán",
    "mất điện nhiều đêm liền",
]


@dataclass
class Row:
    """One line of the results table."""

    engine: str
    measure: str
    civicpulse: str
    baseline: str
    ratio: str
    target: str
    met: bool


@dataclass
class WrkResult:
    """What wrk reported."""

    requests: int
    rate: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int


# --- HTTP -------------------------------------------------------------------------------------


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(output: str) -> WrkResult:
    """Requests, rate, p50/p99 (ms) and errors from ``wrk --latency`` output."""
    percentiles = dict(re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.MULTILINE))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return WrkResult(
        requests=int(re.search(r"(\d+) requests in", output).group(1)),
        rate=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
    )


def run_wrk(url: str, script: Path, prefix: str, token: str, seconds: int, connections: int) -> WrkResult:
    """One wrk run of ``seconds`` against ``url``."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    command += ["-s", str(script), url, "--", prefix, token]
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 60)
    return parse_wrk(done.stdout)


@contextmanager
def background(command: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[str]:
    """Run a server in its own process group until the block ends; yields its URL once healthy."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start; see {log}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def civicpulse_env(url: str) -> dict[str, str]:
    """The environment of a ``civicpulse`` process on the store at ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
    env.update(CIVICPULSE_DATABASE_URL=url, CIVICPULSE_SECRET_KEY=SECRET)
    env.update(CIVICPULSE_KEYED_RATE_LIMIT="1000000/minute")  # counted as always, never reached
    return env


def cli(env: dict[str, str], *args: str) -> str:
    """Run a ``civicpulse`` command; its stdout."""
    done = subprocess.run([str(CIVICPULSE), *args], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"civicpulse {args[0]} failed:\n{done.stderr}")
    return done.stdout


def bench_http(
    engine: str, url: str, work: Path, seconds: int, connections: int
) -> tuple[WrkResult, WrkResult]:
    """(civicpulse, bare endpoint) under the same wrk load, after a short warm-up of each."""
    env = civicpulse_env(url)
    cli(env, "init", "--admin-email", ADMIN, "--admin-password", "bench-password-123")
    token = cli(env, "token", "create", "--user", ADMIN, "--name", "bench").strip()
    script = work / "post.lua"
    script.write_text(WRK_SCRIPT, encoding="utf-8")
    bare_file = work / "bare_app.py"
    bare_file.write_text(BARE_APP, encoding="utf-8")
    results = []
    for name, command in (
        ("civicpulse", [str(CIVICPULSE), "serve", "--workers", "0", "--port"]),
        ("bare", [sys.executable, str(bare_file)]),
    ):
        port = free_port()
        with background([*command, str(port)], env, work / f"{engine}-{name}.log", port) as base:
            target = f"{base}/api/v1/submissions"
            run_wrk(target, script, f"{engine}-{name}-warm", token, 2, connections)
            results.append(run_wrk(target, script, f"{engine}-{name}", token, seconds, connections))
    return results[0], results[1]


# --- CSV --------------------------------------------------------------------------------------


def make_csv(path: Path, rows: int) -> None:
    """A Vietnamese-looking CSV export with unique ids (same seed, same file)."""
    rng = random.Random(20251122)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["ma_phan_anh", "noi_dung", "ngay_gui", "dia_chi"])
        for i in range(rows):
            place = rng.choice(PLACES)
            text = f"{rng.choice(SUBJECTS)} ở {place} {rng.choice(ISSUES)}, đề nghị xử lý sớm (số {i})"
            when = f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/2025 {rng.randint(0, 23):02d}:30"
            writer.writerow([f"PA-{i:07d}", text, when, place])


def time_import(url: str, path: Path) -> tuple[float, int]:
    """Seconds for ``import_files`` on a fresh store, and how many rows it stored."""
    from civicpulse.intake.files import ColumnMapping, import_files
    from civicpulse.settings import Settings
    from civicpulse.store.db import Database

    settings = Settings(database_url=url, secret_key=SECRET)
    db = Database.from_settings(settings)
    db.upgrade()
    mapping = ColumnMapping(
        text="noi_dung", source_id="ma_phan_anh", received_at="ngay_gui", locality="dia_chi"
    )
    started = time.perf_counter()
    report = import_files(db, settings, [path], mapping=mapping)
    seconds = time.perf_counter() - started
    db.dispose()
    return seconds, report.stored


def _batches(path: Path) -> Iterator[list[tuple[str, ...]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        batch: list[tuple[str, ...]] = []
        for row in reader:
            batch.append(tuple(row))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


BARE_TABLE = "CREATE TABLE bare (id {id}, source_id TEXT UNIQUE, text TEXT, received TEXT, locality TEXT)"
BARE_INSERT = "INSERT INTO bare (source_id, text, received, locality) VALUES ({0}, {0}, {0}, {0})"


def time_executemany(url: str, path: Path) -> float:
    """Seconds to read the CSV and ``executemany`` it into a bare table, one commit per batch."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.split("///", 1)[1])
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")  # as the store sets it
        connection.execute(BARE_TABLE.format(id="INTEGER PRIMARY KEY"))
        insert = BARE_INSERT.format("?")
    else:
        import psycopg

        connection = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        connection.execute(BARE_TABLE.format(id="BIGSERIAL PRIMARY KEY"))
        insert = BARE_INSERT.format("%s")
    connection.commit()
    started = time.perf_counter()
    for batch in _batches(path):
        connection.cursor().executemany(insert, batch)
        connection.commit()
    seconds = time.perf_counter() - started
    connection.close()
    return seconds


# --- driver -----------------------------------------------------------------------------------


def http_rows(engine: str, ours: WrkResult, bare: WrkResult) -> list[Row]:
    """Table rows for one engine's HTTP figures."""
    ratio = ours.rate / bare.rate
    errors = (
        f" ({ours.non_2xx} non-2xx, {ours.socket_errors} socket errors)"
        if ours.non_2xx or ours.socket_errors
        else ""
    )
    return [
        Row(engine, "HTTP intake req/s", f"{ours.rate:,.0f}{errors}", f"{bare.rate:,.0f}", f"{ratio:.0%}",
            f">= {HTTP_RATIO_TARGET:.0%} of bare", ratio >= HTTP_RATIO_TARGET and not errors),
        Row(engine, "HTTP p50 ms", f"{ours.p50_ms:.1f}", f"{bare.p50_ms:.1f}", "", "", True),
        Row(engine, "HTTP p99 ms", f"{ours.p99_ms:.1f}", f"{bare.p99_ms:.1f}", "",
            f"< {HTTP_P99_TARGET_MS:.0f}", ours.p99_ms < HTTP_P99_TARGET_MS),
    ]  # fmt: skip


def csv_row(engine: str, rows: int, ours: float, stored: int, bare: float) -> Row:
    """The table row for one engine's CSV figures."""
    rate, bare_rate = rows / ours, rows / bare
    note = "" if stored == rows else f" (stored {stored:,}!)"
    met = rate >= CSV_RATE_TARGET and not note
    return Row(engine, f"CSV import rows/s ({rows:,} rows)", f"{rate:,.0f}{note}", f"{bare_rate:,.0f}",
               f"{rate / bare_rate:.0%}", f">= {CSV_RATE_TARGET:,.0f}", met)  # fmt: skip


def markdown(rows: list[Row]) -> str:
    """The results as a Markdown table (for docs/benchmarks.md)."""
    lines = [
        "| engine | measure | civicpulse | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = ("yes" if r.met else "**no**") if r.target else ""
        lines.append(
            f"| {r.engine} | {r.measure} | {r.civicpulse} | {r.baseline} | {r.ratio} | {r.target} | {met} |"
        )
    return "\n".join(lines)


@contextmanager
def engines(names: list[str], work: Path) -> Iterator[Callable[[str, str], str]]:
    """A factory of fresh database URLs: ``new(engine, name)``; PostgreSQL starts when asked for."""
    server: PostgresServer | None = None

    def new(engine: str, name: str) -> str:
        nonlocal server
        if engine == "sqlite":
            return f"sqlite:///{work / name}.db"
        if server is None:
            server = PostgresServer().start()
        return server.create_database(name)

    try:
        yield new
    finally:
        if server is not None:
            server.stop()


def main() -> None:
    """Parse arguments, run the benchmarks, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 s wrk runs and a 20,000-row CSV")
    parser.add_argument("--seconds", type=int, help="wrk duration per target (default 15)")
    parser.add_argument("--rows", type=int, help="CSV rows (default 100,000)")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], action="append", help="repeatable")
    parser.add_argument("--skip", choices=["http", "csv"], action="append", default=[])
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, databases)")
    args = parser.parse_args()
    seconds = args.seconds or (5 if args.quick else 15)
    rows = args.rows or (20_000 if args.quick else 100_000)
    names = args.engine or ["sqlite", "postgresql"]
    if "http" not in args.skip and shutil.which("wrk") is None:
        sys.exit("wrk is not installed: `apt-get install -y wrk` (or `make bench`)")
    console = Console(width=max(Console().width, 130))
    work = Path(tempfile.mkdtemp(prefix="civicpulse-bench-"))
    table_rows: list[Row] = []
    try:
        with engines(names, work) as new_url:
            csv_path = work / "submissions.csv"
            if "csv" not in args.skip:
                make_csv(csv_path, rows)
            for engine in names:
                if "http" not in args.skip:
                    console.print(f"[bold]{engine}[/bold]: HTTP intake, {seconds} s per target ...")
                    ours, bare = bench_http(engine, new_url(engine, "http"), work, seconds, args.connections)
                    table_rows += http_rows(engine, ours, bare)
                if "csv" not in args.skip:
                    console.print(f"[bold]{engine}[/bold]: CSV import of {rows:,} rows ...")
                    took, stored = time_import(new_url(engine, "csv_import"), csv_path)
                    bare_took = time_executemany(new_url(engine, "csv_bare"), csv_path)
                    table_rows.append(csv_row(engine, rows, took, stored, bare_took))
    finally:
        if args.keep:
            console.print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    table = Table("engine", "measure", "civicpulse", "baseline", "ratio", "target", "met", title="Intake")
    for row in table_rows:
        table.add_row(row.engine, row.measure, row.civicpulse, row.baseline, row.ratio, row.target,
                      "yes" if row.met else "[red]no[/red]" if row.target else "")  # fmt: skip
    console.print(table)
    console.print(f"{os.cpu_count()} cores; wrk -t 2 -c {args.connections} -d {seconds}s --latency")
    if args.markdown:
        print(markdown(table_rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in table_rows], ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
