"""``Periodic``: a daemon thread that runs some work at once, then every ``interval`` seconds (or
sooner when woken) until stopped. The service's background loops (feeds, answer mail, alerts, the
overview) are all one of these."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Runs ``work`` in a daemon thread named ``name``: at ``start``, then every ``interval``
    seconds. A round that raises is logged as ``failure`` and the next round tries again.

    ``start`` does nothing when not ``enabled`` or already started; ``stop`` returns once the round
    under way has finished or after ``timeout`` seconds; ``wake`` starts the next round now. Work
    that can end early watches ``stopping``."""

    def __init__(
        self,
        name: str,
        work: Callable[[], object],
        interval: float,
        *,
        enabled: bool = True,
        failure: str | None = None,
    ) -> None:
        self.name, self.work, self.interval, self.enabled = name, work, interval, enabled
        self.failure = failure or f"{name} failed"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> threading.Event:
        """Set once ``stop`` is called: long work checks it between steps."""
        return self._stop

    @property
    def running(self) -> bool:
        """Whether the thread was started and not stopped."""
        return self._thread is not None

    def start(self) -> None:
        """Begin running in the background (only when enabled and not running already)."""
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._wake.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the next round now instead of at the end of the interval."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end and wait for it at most ``timeout`` seconds."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.work()
            except Exception:  # the thread outlives a failing round; the next one tries again
                log.exception("%s", self.failure)
            self._wake.wait(self.interval)
