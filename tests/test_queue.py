"""The durable analysis queue on real SQLite and PostgreSQL: leases, fences, retries, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import ClassVar

from sqlalchemy import func, select

from civicpulse.analysis.base import AnalysisItem, StageResult, stages
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.annotations import StageOutput
from civicpulse.domain import SubmissionIn
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.jobs import claim_jobs, fail_job, finish_job, queue_counts
from civicpulse.store.submissions import accept_submissions
from civicpulse.store.tables import AnnotationRow, EventRow, JobRow, SubmissionRow, utcnow


@stages.register("always_fails")
class AlwaysFails:
    """A stage whose model is never available: every batch raises."""

    name: ClassVar[str] = "always_fails"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Fail the whole batch."""
        raise RuntimeError("model unavailable")


class TagOut(StageOutput):
    """``tag``: which worker analysed the item."""

    stage: ClassVar[str] = "tag"
    by: str


class Tagging:
    """A stage that records which worker analysed an item; it can be held to play a slow worker."""

    name: ClassVar[str] = "tag"
    output: ClassVar[type[TagOut]] = TagOut

    def __init__(self, tag: str, hold: threading.Event | None = None) -> None:
        self.tag = tag
        self.hold = hold
        self.entered = threading.Event()

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Tag every item, after waiting for ``hold`` when one is given."""
        self.entered.set()
        if self.hold is not None:
            assert self.hold.wait(30), "the test never released the held worker"
        return StageResult(outputs={item.id: TagOut(by=self.tag) for item in items})


def submit(db: Database, settings: Settings, count: int, prefix: str = "q") -> list[int]:
    """Store ``count`` submissions (each queues one job); returns their ids."""
    items = [
        SubmissionIn(text=f"Phản ánh số {i} về đường ngập", source_id=f"{prefix}-{i}") for i in range(count)
    ]
    with db.write() as session:
        accepted = accept_submissions(session, items, ContactCipher(settings.fernet_key))
    return [a.id for a in accepted]


def job_of(db: Database, submission_id: int) -> JobRow:
    """The job row of one submission."""
    with db.read() as session:
        return session.scalars(select(JobRow).where(JobRow.submission_id == submission_id)).one()


def rows_for(db: Database, table: type, submission_id: int) -> list:
    """Every row of ``table`` (annotations or events) for one submission."""
    with db.read() as session:
        return list(session.scalars(select(table).where(table.submission_id == submission_id)))


def test_claim_takes_each_due_job_once_and_finish_marks_it_done(db: Database, settings: Settings) -> None:
    ids = submit(db, settings, 3)
    with db.write() as session:
        first = claim_jobs(session, limit=2, lease_seconds=60)
    with db.write() as session:
        second = claim_jobs(session, limit=2, lease_seconds=60)
        third = claim_jobs(session, limit=2, lease_seconds=60)
    assert len(first) == 2 and len(second) == 1 and third == []
    assert sorted(j.submission_id for j in first + second) == sorted(ids)
    assert all(j.attempts == 1 for j in first + second)
    assert first[0].claim_token == first[1].claim_token != second[0].claim_token
    with db.read() as session:
        assert queue_counts(session) == {"running": 3}
    with db.write() as session:
        assert all(finish_job(session, job) for job in first)
    with db.read() as session:
        assert queue_counts(session) == {"running": 1, "done": 2}
        states = dict(session.execute(select(SubmissionRow.id, SubmissionRow.analysis_state)).all())
    assert states == {
        first[0].submission_id: "done",
        first[1].submission_id: "done",
        second[0].submission_id: "pending",
    }
    with db.write() as session:  # a finished job is not finished twice, nor claimed again
        assert finish_job(session, first[0]) is False
        assert claim_jobs(session, limit=10, lease_seconds=60) == []


def test_a_dead_workers_job_is_reclaimed_after_the_lease_and_finished_once(
    db: Database, settings: Settings
) -> None:
    (sid,) = submit(db, settings, 1)
    with db.write() as session:  # a worker claims it, then dies
        (dead,) = claim_jobs(session, limit=5, lease_seconds=0.3)
    rescuer = Worker(
        db, Pipeline([Tagging("rescuer")]), settings.model_copy(update={"job_lease_seconds": 0.3})
    )
    assert rescuer.run_once() == 0  # within the lease nobody else may take it
    threading.Event().wait(0.4)
    assert rescuer.run_once() == 1
    assert rescuer.run_once() == 0
    job = job_of(db, sid)
    assert (job.state, job.attempts) == ("done", 2)
    with db.write() as session:  # the late original worker is fenced off
        assert finish_job(session, dead) is False
    assert job_of(db, sid).claim_token != dead.claim_token
    assert [a.data for a in rows_for(db, AnnotationRow, sid)] == [{"by": "rescuer"}]
    assert [e.kind for e in rows_for(db, EventRow, sid)] == ["analysed"]


def test_a_slow_worker_that_outlives_its_lease_stores_nothing(db: Database, settings: Settings) -> None:
    (sid,) = submit(db, settings, 1)
    short = settings.model_copy(update={"job_lease_seconds": 0.3})
    release = threading.Event()
    slow_stage = Tagging("slow", hold=release)
    slow = Worker(db, Pipeline([slow_stage]), short)
    handled: list[int] = []
    thread = threading.Thread(target=lambda: handled.append(slow.run_once()))
    thread.start()
    try:
        assert slow_stage.entered.wait(10), "the slow worker never claimed the job"
        threading.Event().wait(0.5)  # its lease runs out while it is still analysing
        assert Worker(db, Pipeline([Tagging("fast")]), short).run_once() == 1
    finally:
        release.set()
        thread.join(30)
    assert handled == [1]  # the slow worker ran to its end ...
    assert [a.data for a in rows_for(db, AnnotationRow, sid)] == [{"by": "fast"}]  # ... and stored nothing
    assert len(rows_for(db, EventRow, sid)) == 1
    assert job_of(db, sid).state == "done"


def test_backoff_doubles_between_tries(db: Database, settings: Settings) -> None:
    submit(db, settings, 1)
    t0 = utcnow()
    with db.write() as session:
        (job,) = claim_jobs(session, limit=1, lease_seconds=60, now=t0)
        state = fail_job(session, job, "boom", max_attempts=5, retry_base_seconds=10, now=t0)
    assert state == "queued"
    with db.write() as session:
        assert claim_jobs(session, limit=1, lease_seconds=60, now=t0 + timedelta(seconds=9.9)) == []
        (again,) = claim_jobs(session, limit=1, lease_seconds=60, now=t0 + timedelta(seconds=10))
    assert again.attempts == 2
    t1 = t0 + timedelta(seconds=10)
    with db.write() as session:
        fail_job(session, again, "boom", max_attempts=5, retry_base_seconds=10, now=t1)
        assert claim_jobs(session, limit=1, lease_seconds=60, now=t1 + timedelta(seconds=19.9)) == []
        assert len(claim_jobs(session, limit=1, lease_seconds=60, now=t1 + timedelta(seconds=20))) == 1


def test_a_failing_stage_is_retried_then_failed_with_its_reason(db: Database, settings: Settings) -> None:
    (sid,) = submit(db, settings, 1)
    failing = settings.model_copy(
        update={"stages": ["always_fails"], "job_max_attempts": 3, "job_retry_base_seconds": 0.05}
    )
    worker = Worker(db, build_pipeline(failing, db), failing)
    tries = 0
    stop = threading.Event()
    while job_of(db, sid).state != "failed" and tries < 200:
        tries += worker.run_once()
        stop.wait(0.02)
    job = job_of(db, sid)
    assert (job.state, job.attempts, tries) == ("failed", 3, 3)
    assert job.last_error == "always_fails: RuntimeError: model unavailable"
    assert job.finished_at is not None
    with db.read() as session:
        assert session.get(SubmissionRow, sid).analysis_state == "failed"
        assert queue_counts(session) == {"failed": 1}
    assert rows_for(db, AnnotationRow, sid) == [] and rows_for(db, EventRow, sid) == []
    assert worker.run_once() == 0  # a failed job stays failed


def test_concurrent_claimers_never_share_a_job(db: Database, settings: Settings) -> None:
    total, claimers, per_claim, rounds = 400, 4, 3, 40  # 4 x 3 x 40 > 400: the queue drains
    submit(db, settings, total)
    in_step = threading.Barrier(claimers)
    taken: list[list[int]] = [[] for _ in range(claimers)]
    errors: list[BaseException] = []

    def claim_in_rounds(index: int) -> None:
        try:
            for _ in range(rounds):
                in_step.wait(30)  # every round, all claimers hit the queue at the same moment
                with db.write() as session:
                    jobs = claim_jobs(session, limit=per_claim, lease_seconds=600)
                taken[index].extend(job.id for job in jobs)
        except BaseException as exc:
            errors.append(exc)
            in_step.abort()

    threads = [threading.Thread(target=claim_in_rounds, args=(i,)) for i in range(claimers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    every = [job_id for ids in taken for job_id in ids]
    assert len(every) == total and len(set(every)) == total  # disjoint and complete
    assert all(taken)  # every claimer got work
    with db.read() as session:
        assert session.scalar(select(func.max(JobRow.attempts))) == 1
        assert queue_counts(session) == {"running": total}
