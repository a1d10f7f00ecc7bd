"""The periodic background thread the service's loops share: a round at once, then one per
interval, a failing round survived, ``wake`` and ``stop`` prompt, disabled means no thread."""

from __future__ import annotations

import threading
import time
from itertools import pairwise

import pytest

from civicpulse.periodic import Periodic
from tests.conftest import wait_until


def _threads_named(name: str) -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == name]


def test_a_round_at_once_then_every_interval() -> None:
    rounds: list[float] = []
    runner = Periodic("test-repeats", lambda: rounds.append(time.monotonic()), 0.05)
    started = time.monotonic()
    runner.start()
    runner.start()  # already running: still one thread
    try:
        assert wait_until(lambda: len(rounds) >= 4)
        assert len(_threads_named("test-repeats")) == 1
        assert _threads_named("test-repeats")[0].daemon
    finally:
        runner.stop()
    assert rounds[0] - started < 1.0
    assert all(later - earlier >= 0.04 for earlier, later in pairwise(rounds))


def test_a_failing_round_is_logged_and_survived(caplog: pytest.LogCaptureFixture) -> None:
    rounds: list[int] = []

    def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("the database went away")

    runner = Periodic("test-fails", work, 0.05, failure="test run failed")
    runner.start()
    try:
        assert wait_until(lambda: len(rounds) >= 3), "the thread died with the first round"
    finally:
        runner.stop()
    assert not _threads_named("test-fails")
    [failed] = [r for r in caplog.records if r.name == "civicpulse.periodic"]
    assert failed.getMessage() == "test run failed" and failed.exc_info is not None


def test_wake_runs_the_next_round_now_and_stop_is_prompt() -> None:
    rounds: list[float] = []
    runner = Periodic("test-wake", lambda: rounds.append(time.monotonic()), 3600)
    runner.start()
    try:
        assert wait_until(lambda: len(rounds) == 1)
        woken = time.monotonic()
        runner.wake()
        assert wait_until(lambda: len(rounds) == 2, timeout=5)
        assert rounds[1] - woken < 2
    finally:
        stopping = time.monotonic()
        runner.stop()
    assert time.monotonic() - stopping < 2 and not runner.running
    assert not _threads_named("test-wake")
    time.sleep(0.1)
    assert len(rounds) == 2


def test_long_work_ends_early_on_its_stop_event() -> None:
    steps: list[int] = []
    runner: Periodic

    def work() -> None:
        while not runner.stopping.is_set():
            steps.append(1)
            runner.stopping.wait(0.01)

    runner = Periodic("test-early", work, 3600)
    runner.start()
    assert wait_until(lambda: len(steps) >= 3)
    stopping = time.monotonic()
    runner.stop()
    assert time.monotonic() - stopping < 2 and not _threads_named("test-early")


def test_disabled_starts_no_thread_and_a_stopped_one_starts_again() -> None:
    rounds: list[int] = []
    off = Periodic("test-off", lambda: rounds.append(1), 0.01, enabled=False)
    off.start()
    time.sleep(0.1)
    assert not off.running and not rounds and not _threads_named("test-off")
    off.stop()

    again = Periodic("test-again", lambda: rounds.append(1), 3600)
    again.start()
    assert wait_until(lambda: len(rounds) == 1)
    again.stop()
    again.start()
    try:
        assert wait_until(lambda: len(rounds) == 2)
    finally:
        again.stop()
