"""Workers: claim analysis jobs, run the pipeline, store annotations and finish jobs atomically."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.dedup import save_stage_signature
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher, save_found_pii
from civicpulse.store.db import Database
from civicpulse.store.jobs import ClaimedJob, claim_jobs, fail_job, finish_job
from civicpulse.store.tables import AnnotationRow, EventRow, SubmissionRow, utcnow
from civicpulse.store.vectors import save_vectors

log = logging.getLogger(__name__)

PrivateStore = Callable[[Session, ContactCipher, int, dict[str, Any]], None]


def _store_found_pii(session: Session, cipher: ContactCipher, submission_id: int, output: dict) -> None:
    save_found_pii(session, cipher, submission_id, output["_found"])


def _store_vector(session: Session, cipher: ContactCipher, submission_id: int, output: dict) -> None:
    save_vectors(session, output["model"], [(submission_id, output["_vector"], output["content_hash"])])


# Where private stage outputs go instead of the annotations table (the store gets the whole output).
PRIVATE_OUTPUTS: dict[str, PrivateStore] = {
    "_found": _store_found_pii,
    "_vector": _store_vector,
    "_minhash": save_stage_signature,
}


class Worker:
    """Processes analysis jobs in batches until stopped."""

    def __init__(self, db: Database, pipeline: Pipeline, settings: Settings) -> None:
        self.db = db
        self.pipeline = pipeline
        self.settings = settings
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
                select(
                    SubmissionRow.id,
                    SubmissionRow.text,
                    SubmissionRow.language_hint,
                    SubmissionRow.locality,
                ).where(SubmissionRow.id.in_([job.submission_id for job in jobs]))
            ).all()
        items = [
            AnalysisItem(id=r.id, text=r.text, language_hint=r.language_hint, locality=r.locality)
            for r in rows
        ]
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
            self._join_themes(session, stored)
        return len(jobs)

    def _join_themes(self, session: Session, submission_ids: list[int]) -> None:
        """Put the batch into the stored themes as it arrives; a failure here never loses the
        analysis (the next theme run places the submissions anyway)."""
        if not submission_ids or "embed" not in self.pipeline.stage_names:
            return
        from civicpulse.insight.themes.service import assign_new

        try:
            with session.begin_nested():
                assign_new(session, submission_ids)
        except Exception:
            log.exception("assigning %d submissions to themes failed", len(submission_ids))

    def _store(self, session: Session, job: ClaimedJob, outputs: dict[str, dict]) -> bool:
        """Write annotations only while this worker still holds the job (exactly once); whether
        they were written."""
        with session.begin_nested():
            if not finish_job(session, job):
                return False
            now = utcnow()
            for stage, output in outputs.items():
                kept = self.pipeline.storable(stage, output)
                data = self._keep_private(session, job.submission_id, stage, kept)
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
            session.add(
                EventRow(
                    submission_id=job.submission_id,
                    at=now,
                    kind="analysed",
                    detail={"stages": sorted(outputs)},
                )
            )
        return True

    def _keep_private(self, session: Session, submission_id: int, stage: str, output: dict) -> dict:
        """Hand private keys (``_found``, ...) to their stores; return what annotations may hold."""
        public = {}
        for key, value in output.items():
            if not key.startswith("_"):
                public[key] = value
            elif key in PRIVATE_OUTPUTS:
                PRIVATE_OUTPUTS[key](session, self.cipher, submission_id, output)
            else:
                log.warning("stage %s: private output %s has no store and is dropped", stage, key)
        return public

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
    """A few worker threads inside ``civicpulse serve``."""

    def __init__(self, db: Database, settings: Settings, threads: int | None = None) -> None:
        self.db = db
        self.settings = settings
        self.size = settings.worker_threads if threads is None else threads
        self._workers: list[Worker] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Build one pipeline (stage models load once) and start the threads."""
        if self.size <= 0:
            return
        pipeline = Pipeline.from_settings(self.settings)
        for index in range(self.size):
            worker = Worker(self.db, pipeline, self.settings)
            thread = threading.Thread(
                target=worker.run_forever, name=f"civicpulse-worker-{index}", daemon=True
            )
            self._workers.append(worker)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the threads after their current batch."""
        for worker in self._workers:
            worker.stop()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
