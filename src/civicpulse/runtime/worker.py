"""Workers: claim analysis jobs, run the pipeline, store annotations and finish jobs atomically."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.annotations import PiiOut, StageOutput
from civicpulse.insight.base import AnalysedBatch, OnAnalysed
from civicpulse.runtime.hooks import analysed_hooks
from civicpulse.runtime.savers import save_private
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.jobs import ClaimedJob, claim_jobs, fail_job, finish_job
from civicpulse.store.search_text import store_folded_redaction
from civicpulse.store.tables import AnnotationRow, EventRow, SubmissionRow, utcnow

log = logging.getLogger(__name__)


# What the stages read of a stored submission (the worker's and the Ray engine's reads)
ITEM_COLUMNS = (
    SubmissionRow.id,
    SubmissionRow.text,
    SubmissionRow.language_hint,
    SubmissionRow.locality,
    SubmissionRow.source_id,
    SubmissionRow.attachments,
    SubmissionRow.received_at,
)


def stored_item(row: Row[Any]) -> AnalysisItem:
    """The analysis item of a row of ``ITEM_COLUMNS``."""
    return AnalysisItem(
        id=row.id,
        text=row.text,
        language_hint=row.language_hint,
        locality=row.locality,
        source_id=row.source_id,
        attachment_names=tuple(a.get("filename", "") for a in row.attachments or ()),
        received_at=row.received_at,
    )


class Worker:
    """Processes analysis jobs in batches until stopped; after each batch it calls the insights'
    ``on_analysed`` hooks (the registered ones when ``hooks`` is not given)."""

    def __init__(
        self,
        db: Database,
        pipeline: Pipeline,
        settings: Settings,
        hooks: Sequence[OnAnalysed] | None = None,
    ) -> None:
        self.db = db
        self.pipeline = pipeline
        self.settings = settings
        self.hooks = list(analysed_hooks(settings) if hooks is None else hooks)
        self.cipher = ContactCipher(settings.fernet_key)
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask the loop to end after the current batch."""
        self._stop.set()

    def run_once(self) -> int:
        """Claim and process one batch; returns how many jobs it handled."""
        with self.db.write() as session:
            jobs = claim_jobs(
                session,
                limit=self.settings.worker_batch,
                lease_seconds=self.settings.job_lease_seconds,
            )
        if not jobs:
            return 0
        with self.db.read() as session:
            rows = session.execute(
                select(*ITEM_COLUMNS).where(SubmissionRow.id.in_([job.submission_id for job in jobs]))
            ).all()
        items = [stored_item(r) for r in rows]
        result = self.pipeline.run(items)
        by_submission = {job.submission_id: job for job in jobs}
        stored: list[int] = []
        with self.db.write() as session:
            for submission_id, job in by_submission.items():
                if submission_id in result.outputs:
                    if self._store(session, job, result.outputs[submission_id]):
                        stored.append(submission_id)
                else:
                    reason = result.failures.get(submission_id, "submission not found")
                    state = fail_job(
                        session,
                        job,
                        reason,
                        max_attempts=self.settings.job_max_attempts,
                        retry_base_seconds=self.settings.job_retry_base_seconds,
                    )
                    log.warning("job %s %s: %s", job.id, state, reason)
            if stored:
                self._tell_insights(
                    session, AnalysedBatch(tuple(stored), frozenset(self.pipeline.stage_names))
                )
        return len(jobs)

    def _tell_insights(self, session: Session, batch: AnalysedBatch) -> None:
        """Each insight's hook in a savepoint of its own: a failing insight never loses the
        analysis (its next full run catches up)."""
        for hook in self.hooks:
            try:
                with session.begin_nested():
                    hook.on_analysed(session, batch)
            except Exception:
                log.exception("insight %s failed on %d submissions", hook.name, len(batch.submission_ids))

    def _store(self, session: Session, job: ClaimedJob, outputs: dict[str, StageOutput]) -> bool:
        """Write annotations only while this worker still holds the job (exactly once); whether
        they were written."""
        with session.begin_nested():
            if not finish_job(session, job):
                return False
            now = utcnow()
            for stage, output in outputs.items():
                save_private(session, self.cipher, job.submission_id, output)
                data = output.stored()
                existing = session.scalar(
                    select(AnnotationRow).where(
                        AnnotationRow.submission_id == job.submission_id,
                        AnnotationRow.stage == stage,
                    )
                )
                if existing is None:
                    session.add(
                        AnnotationRow(submission_id=job.submission_id, stage=stage, data=data, created_at=now)
                    )
                else:  # a re-analysis replaces the stage's earlier output
                    existing.data, existing.created_at = data, now
                if isinstance(output, PiiOut):
                    store_folded_redaction(session, job.submission_id, output.redacted_text)
            session.add(
                EventRow(
                    submission_id=job.submission_id,
                    at=now,
                    kind="analysed",
                    detail={"stages": sorted(outputs)},
                )
            )
        return True

    def run_forever(self) -> None:
        """Poll for jobs until ``stop()``; errors in one batch never end the loop."""
        while not self._stop.is_set():
            try:
                handled = self.run_once()
            except Exception:
                log.exception("worker batch failed; the jobs will be retried after their lease")
                handled = 0
            if handled == 0:
                self._stop.wait(self.settings.worker_poll_seconds)

    def drain(self) -> int:
        """Process until no runnable job is left; returns how many were handled."""
        total = 0
        while handled := self.run_once():
            total += handled
        return total


class WorkerPool:
    """A few worker threads sharing one pipeline (inside ``civicpulse serve``)."""

    def __init__(self, workers: Sequence[Worker]) -> None:
        self._workers = list(workers)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one thread per worker."""
        for index, worker in enumerate(self._workers):
            thread = threading.Thread(
                target=worker.run_forever, name=f"civicpulse-worker-{index}", daemon=True
            )
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the threads after their current batch."""
        for worker in self._workers:
            worker.stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
