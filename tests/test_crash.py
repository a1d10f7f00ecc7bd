"""Crash test: kill -9 the server and a worker mid-load; nothing accepted is lost or applied twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from civicpulse.store.db import Database
from civicpulse.store.jobs import queue_counts
from civicpulse.store.tables import AnnotationRow, EventRow, SubmissionRow
from tests.conftest import TEST_SECRET
from tests.pg import free_port

pytestmark = pytest.mark.slow

TOTAL = 2_000
CLIENTS = 20
KILL_AFTER = 700
CIVICPULSE = Path(sys.executable).parent / "civicpulse"
ADMIN = "admin@example.org"


def source_id(index: int) -> str:
    """The unique external id of submission ``index``."""
    return f"crash-{index:05d}"


@dataclass
class Processes:
    """The service's processes (server and one separate worker), each in its own process group."""

    env: dict[str, str]
    port: int
    logs: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return f"http://127.0.0.1:{self.port}"

    def run(self, *args: str) -> str:
        """Run a short ``civicpulse`` command and return its stdout."""
        done = subprocess.run(
            [str(CIVICPULSE), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"civicpulse {args[0]} failed:\n{done.stderr}"
        return done.stdout

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """Start a long-running ``civicpulse`` command; its output goes to ``logs/name-N.log``."""
        log = (self.logs / f"{name}-{len(self.started)}.log").open("wb")
        process = subprocess.Popen(
            [str(CIVICPULSE), *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def start_service(self) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
        """Start the server (with its worker threads) and a separate worker; wait until serving."""
        server = self.spawn("serve", "serve", "--port", str(self.port))
        worker = self.spawn("worker", "worker", "--threads", "1")
        deadline = time.monotonic() + 45
        while time.monotonic() < deadline:
            assert server.poll() is None, f"the server exited; see {self.logs}"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return server, worker
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the server did not become ready; see {self.logs}")

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """``kill -9`` the process group of ``process``, and reap it."""
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop_all(self) -> None:
        """Stop whatever still runs (test teardown)."""
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(3)
            except subprocess.TimeoutExpired:
                self.kill(process)


@pytest.fixture
def service(db_url: str, tmp_path: Path) -> Iterator[Processes]:
    """An initialised store and the environment to run the service on it (nothing started yet)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICPULSE_")}
    env.update(
        CIVICPULSE_DATABASE_URL=db_url,
        CIVICPULSE_SECRET_KEY=TEST_SECRET,
        CIVICPULSE_JOB_LEASE_SECONDS="3",
        CIVICPULSE_WORKER_THREADS="2",
        CIVICPULSE_WORKER_POLL_SECONDS="0.2",
        CIVICPULSE_LANGUAGES='["vi", "en"]',
        CIVICPULSE_STAGES='["language", "normalize", "pii"]',  # the queue is under test, not the models
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = Processes(env=env, port=free_port(), logs=logs)
    processes.run("init", "--admin-email", ADMIN, "--admin-password", "crash-test-password")
    yield processes
    processes.stop_all()
    for log in sorted(logs.iterdir()):  # shown by pytest when the test failed
        print(f"===== {log.name} (last lines) =====")
        print("\n".join(log.read_text(errors="replace").splitlines()[-40:]))


@dataclass
class Outcome:
    """What the clients saw, per source id: whether the 2xx said duplicate, and whether it was retried."""

    duplicate: dict[str, bool] = field(default_factory=dict)
    stored_as: dict[str, int] = field(default_factory=dict)
    retried: set[str] = field(default_factory=set)
    other_statuses: list[tuple[str, int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def send_all(url: str, token: str, indexes: list[int], outcome: Outcome, deadline: float) -> None:
    """Post each submission until it gets a 2xx; connection errors (a dead server) are retried."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for index in indexes:
            sid = source_id(index)
            body = {"text": f"Đường số {index} ở phường Bến Nghé bị ngập sau mưa lớn", "source_id": sid}
            while time.monotonic() < deadline:
                try:
                    response = client.post("/api/v1/submissions", json=body)
                except httpx.TransportError:
                    with outcome.lock:
                        outcome.retried.add(sid)
                    time.sleep(0.1)
                    continue
                if response.is_success:
                    with outcome.lock:
                        outcome.duplicate[sid] = response.json()["duplicate"]
                        outcome.stored_as[sid] = response.json()["id"]
                    break
                with outcome.lock:
                    outcome.other_statuses.append((sid, response.status_code, response.text[:200]))
                    outcome.retried.add(sid)
                time.sleep(0.1)


def resend_duplicates_of_earlier_ids(url: str, token: str, outcome: Outcome, sids: list[str]) -> None:
    """Ids stored before the crash, sent again after it, come back as duplicates of the same row."""
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for sid in sids:
            body = {"text": "lần gửi lại sau sự cố", "source_id": sid}
            response = client.post("/api/v1/submissions", json=body)
            assert response.status_code == 200, response.text
            assert response.json()["duplicate"] is True
            assert response.json()["id"] == outcome.stored_as[sid]


def stored_source_ids(db: Database) -> set[str]:
    """Source ids of every stored submission."""
    with db.read() as session:
        return set(session.scalars(select(SubmissionRow.source_id)))


def wait_for_empty_queue(db: Database, total: int, timeout: float) -> dict[str, int]:
    """Poll until every job is done (or the time is up); returns the last queue counts."""
    deadline = time.monotonic() + timeout
    while True:
        with db.read() as session:
            counts = queue_counts(session)
        if counts == {"done": total} or time.monotonic() > deadline:
            return counts
        time.sleep(0.5)


def test_kill_9_mid_load_loses_nothing_and_applies_nothing_twice(service: Processes, db_url: str) -> None:
    token = service.run("token", "create", "--user", ADMIN, "--name", "crash").strip()
    server, worker = service.start_service()
    outcome = Outcome()
    deadline = time.monotonic() + 75
    clients = [
        threading.Thread(
            target=send_all, args=(service.url, token, list(range(n, TOTAL, CLIENTS)), outcome, deadline)
        )
        for n in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    while len(outcome.duplicate) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.01)
    service.kill(server)
    service.kill(worker)
    db = Database(db_url)
    try:
        stored_before_restart = stored_source_ids(db)
        accepted_at_kill = len(outcome.duplicate)
        service.start_service()
        for thread in clients:
            thread.join(max(1.0, deadline - time.monotonic()))
        with db.read() as session:
            queue_after_clients = queue_counts(session)
        print(
            f"2xx before the kill: {accepted_at_kill}; stored at the kill: {len(stored_before_restart)}; "
            f"retried ids: {len(outcome.retried)}; duplicates: {sum(outcome.duplicate.values())}; "
            f"queue when the clients finished: {queue_after_clients}"
        )
        assert KILL_AFTER <= accepted_at_kill < TOTAL, "the kill did not land mid-load"
        assert len(outcome.duplicate) == TOTAL, f"only {len(outcome.duplicate)} ids got a 2xx in time"
        assert outcome.retried, "no client saw the crash"
        assert outcome.other_statuses == []  # never a 5xx (nor any other refusal)
        for sid, duplicate in outcome.duplicate.items():
            # A retry of an id stored before the kill says duplicate; nothing else does.
            expected = sid in outcome.retried and sid in stored_before_restart
            assert duplicate is expected, sid
        resend_duplicates_of_earlier_ids(service.url, token, outcome, sorted(stored_before_restart)[:100])

        counts = wait_for_empty_queue(db, TOTAL, timeout=60)
        assert counts == {"done": TOTAL}, counts  # nothing queued, running or failed
        with db.read() as session:
            per_source = session.execute(
                select(SubmissionRow.source_id, func.count()).group_by(SubmissionRow.source_id)
            ).all()
            annotations = session.execute(
                select(AnnotationRow.submission_id, func.count())
                .where(AnnotationRow.stage == "language")
                .group_by(AnnotationRow.submission_id)
            ).all()
            analysed = session.execute(
                select(EventRow.submission_id, func.count())
                .where(EventRow.kind == "analysed")
                .group_by(EventRow.submission_id)
            ).all()
            states = set(session.scalars(select(SubmissionRow.analysis_state).distinct()))
        assert {sid for sid, _ in per_source} == set(outcome.duplicate)  # nothing lost, nothing extra
        assert all(count == 1 for _, count in per_source)  # stored exactly once
        assert len(annotations) == TOTAL and all(count == 1 for _, count in annotations)
        assert len(analysed) == TOTAL and all(count == 1 for _, count in analysed)  # applied exactly once
        assert states == {"done"}
    finally:
        db.dispose()
