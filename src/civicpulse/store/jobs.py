"""The durable analysis queue: claim with a lease, finish with a fence, retry with backoff."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from civicpulse.store.tables import JobRow, SubmissionRow, utcnow


@dataclass(frozen=True)
class ClaimedJob:
    """A job this worker holds until it finishes it or its lease runs out."""

    id: int
    submission_id: int
    attempts: int
    claim_token: str


def claim_jobs(
    session: Session, *, limit: int, lease_seconds: float, now: datetime | None = None
) -> list[ClaimedJob]:
    """Take up to ``limit`` runnable jobs: queued ones that are due, or running ones whose lease expired.

    One ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`` statement, so
    that concurrent workers on PostgreSQL never take the same job; SQLite serialises writers.
    """
    now = now or utcnow()
    stale = now - timedelta(seconds=lease_seconds)
    token = secrets.token_hex(16)
    candidates = (
        select(JobRow.id)
        .where(
            or_(
                and_(JobRow.state == "queued", JobRow.run_after <= now),
                and_(JobRow.state == "running", JobRow.locked_at < stale),
            )
        )
        .order_by(JobRow.run_after, JobRow.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    statement = (
        update(JobRow)
        .where(JobRow.id.in_(candidates.scalar_subquery()))
        .values(state="running", claim_token=token, locked_at=now, attempts=JobRow.attempts + 1)
        .returning(JobRow.id, JobRow.submission_id, JobRow.attempts)
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(statement).all()
    return [ClaimedJob(r.id, r.submission_id, r.attempts, token) for r in rows]


def finish_job(session: Session, job: ClaimedJob, *, now: datetime | None = None) -> bool:
    """Mark the job done if this worker still holds it; ``False`` means someone else took it over."""
    now = now or utcnow()
    result = session.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.claim_token == job.claim_token, JobRow.state == "running")
        .values(state="done", finished_at=now, last_error=None)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    _set_analysis_state(session, job.submission_id, "done", now)
    return True


def fail_job(
    session: Session,
    job: ClaimedJob,
    reason: str,
    *,
    max_attempts: int,
    retry_base_seconds: float,
    now: datetime | None = None,
) -> str:
    """Queue the job again after a backoff, or mark it failed after the last try; returns the state."""
    now = now or utcnow()
    final = job.attempts >= max_attempts
    state = "failed" if final else "queued"
    delay = retry_base_seconds * (2 ** (job.attempts - 1))
    result = session.execute(
        update(JobRow)
        .where(JobRow.id == job.id, JobRow.claim_token == job.claim_token)
        .values(
            state=state,
            last_error=reason[:2000],
            run_after=now + timedelta(seconds=delay),
            finished_at=now if final else None,
            claim_token=None,
        )
        .execution_options(synchronize_session=False)
    )
    if final and result.rowcount == 1:
        _set_analysis_state(session, job.submission_id, "failed", now)
    return state


def _set_analysis_state(session: Session, submission_id: int, state: str, now: datetime) -> None:
    session.execute(
        update(SubmissionRow)
        .where(SubmissionRow.id == submission_id)
        .values(analysis_state=state, updated_at=now)
        .execution_options(synchronize_session=False)
    )


def queue_counts(session: Session) -> dict[str, int]:
    """How many jobs are in each state."""
    rows = session.execute(select(JobRow.state, func.count()).group_by(JobRow.state)).all()
    return {state: count for state, count in rows}
