"""Group commit: concurrent intake requests share one transaction, each still gets its own answer."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Mapping
from concurrent.futures import Future

from civicpulse.domain import Accepted
from civicpulse.intake.service import IntakeRequest, accept_many
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database

log = logging.getLogger(__name__)

_Pending = tuple[IntakeRequest, Future]


class IntakeBatcher:
    """Committer threads that take whatever requests are waiting and store them together.

    A request waits for no timer: a committer takes the first waiting request and everything queued
    behind it (up to ``max_items``), so a lone request is committed at once and a burst is
    committed in a few transactions instead of one each. A failing group is retried request by
    request, so one caller's problem never fails another's submissions.
    """

    def __init__(
        self,
        db: Database,
        cipher: ContactCipher,
        *,
        agency_by_service: Mapping[str, str] | None = None,
        max_items: int = 500,
        committers: int = 1,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.agency_by_service = agency_by_service
        self.max_items = max_items
        self.committers = committers
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the committer threads."""
        for index in range(self.committers):
            thread = threading.Thread(target=self._run, name=f"civicpulse-intake-{index}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Commit what is queued, then stop."""
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def submit(self, request: IntakeRequest) -> Future[list[Accepted]]:
        """Queue a request; the future resolves once its items are durable."""
        future: Future[list[Accepted]] = Future()
        if not self._threads:
            raise RuntimeError("the intake batcher is not running")
        self._queue.put((request, future))
        return future

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            size = len(first[0].items)
            stop_after = False
            while size < self.max_items:
                try:
                    pending = self._queue.get_nowait()
                except queue.Empty:
                    break
                if pending is None:
                    stop_after = True
                    break
                group.append(pending)
                size += len(pending[0].items)
            self._commit(group)
            if stop_after:
                return

    def _commit(self, group: list[_Pending]) -> None:
        try:
            results = accept_many(
                self.db,
                self.cipher,
                [request for request, _ in group],
                agency_by_service=self.agency_by_service,
            )
        except Exception as exc:
            if len(group) > 1:
                for pending in group:
                    self._commit([pending])
                return
            log.exception("intake request failed")
            group[0][1].set_exception(exc)
            return
        for (_, future), result in zip(group, results, strict=True):
            future.set_result(result)
