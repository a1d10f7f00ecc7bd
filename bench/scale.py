"""Local engine against Ray engine: items/s over stored submissions on a throw-away PostgreSQL.

Texts: UIT-VSFC and ViHSD (Vietnamese) and CFPB complaints (English) from ../shared/data (read in
place, never copied into the repository), cycled to ``--items``. Each engine analyses the same
freshly imported store (``civicpulse analyze`` without files: the local worker, or Ray Data); the
import is not timed. Peak memory is the largest resident size of this process and its children
(Ray's workers included), sampled every 0.2 s; ``load`` the machine's 1-minute load average
around the run (other jobs on the machine make both engines slower, and unevenly).

    .venv/bin/python bench/scale.py --items 20000 --cpus 2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from rich.console import Console

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))  # tests/pg.py starts a throw-away PostgreSQL server

from tests.conftest import make_settings  # noqa: E402
from tests.pg import PostgresServer  # noqa: E402

WITHOUT_EMBEDDINGS = [
    "language",
    "normalize",
    "pii",
    "places",
    "dedup",
    "topic",
    "sentiment",
    "urgency",
    "route",
]
SOURCES = [
    DATA / "uit-vsfc" / "dev.jsonl",
    DATA / "vihsd" / "dev.jsonl",
    DATA / "cfpb-consumer-complaints" / "ibm_product5_train.jsonl",
]


def texts() -> list[str]:
    """Every text of the sources, interleaved."""
    found = []
    for path in SOURCES:
        for line in path.read_text(encoding="utf-8").splitlines():
            value = json.loads(line)
            text = value.get("text") or value.get("free_text") or ""
            if text.strip():
                found.append(text.strip()[:2000])
    return found


def write_input(folder: Path, count: int) -> Path:
    pool = texts()
    path = folder / "items.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        for index in range(count):
            handle.write(
                json.dumps({"source_id": f"s{index}", "text": pool[index % len(pool)]}, ensure_ascii=False)
            )
            handle.write("\n")
    return path


def _tree_rss(root: int) -> int:
    """Summed resident bytes of ``root`` and its descendants (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(status.parent.name)
        parents[pid] = int(fields.get("PPid", "0").strip())
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    tree, grown = {root}, True
    while grown:
        grown = False
        for pid, parent in parents.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grown = True
    return sum(rss.get(pid, 0) for pid in tree)


class PeakMemory:
    """The largest summed RSS of this process and its descendants while running."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def run(server: PostgresServer, source: Path, engine: str, stages: list[str], cpus: int) -> dict:
    from civicpulse.intake.files import import_files
    from civicpulse.runtime.store_runs import analyze_store_local
    from civicpulse.store.db import Database

    url = server.create_database(f"scale_{uuid.uuid4().hex[:8]}")
    settings = make_settings(url, stages=stages, ray_num_cpus=cpus, ray_object_store_mb=512, worker_batch=256)
    db = Database.from_settings(settings)
    db.upgrade()
    import_files(db, settings, [source])
    db.dispose()
    load_before = os.getloadavg()[0]
    with PeakMemory() as memory:
        started = time.perf_counter()
        if engine == "local":
            report = analyze_store_local(settings, "queued")
        else:
            from civicpulse.runtime.ray_engine import analyze_store_ray

            report = analyze_store_ray(settings, "queued")
        seconds = time.perf_counter() - started
    return {
        "analysed": report.analysed,
        "failed": report.failed,
        "seconds": seconds,
        "peak_mib": memory.peak / 2**20,
        "load": (load_before + os.getloadavg()[0]) / 2,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--embedded-items", type=int, default=None, help="Items of the runs with embeddings.")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray (cores of the machine).")
    args = parser.parse_args()
    console = Console(width=140)
    server = PostgresServer().start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for label, stages, count in (
                ("without embeddings", WITHOUT_EMBEDDINGS, args.items),
                ("with bundled embeddings", None, args.embedded_items or args.items),
            ):
                source = write_input(Path(folder), count)
                chosen = stages or make_settings("sqlite://").stages
                results = {
                    engine: run(server, source, engine, chosen, args.cpus) for engine in ("local", "ray")
                }
                for engine, result in results.items():
                    rate = result["analysed"] / result["seconds"]
                    rows.append((label, engine, count, result, rate))
                    console.print(f"{label} {engine}: {rate:.1f} items/s, {result}")
    finally:
        server.stop()
    console.print(
        "\n| stages | engine | items | seconds | items/s | items/s per core | peak MiB | Ray / local | load |"
    )
    console.print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    local_rate: dict[str, float] = {}
    for label, engine, count, result, rate in rows:
        if engine == "local":
            local_rate[label] = rate
        ratio = f"{rate / local_rate[label]:.0%}" if engine == "ray" else ""
        console.print(
            f"| {label} | {engine} | {count:,} | {result['seconds']:.1f} | {rate:.1f} |"
            f" {rate / args.cpus:.1f} | {result['peak_mib']:.0f} | {ratio} | {result['load']:.1f} |"
        )


if __name__ == "__main__":
    main()
