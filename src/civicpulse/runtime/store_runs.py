"""Analysis of stored submissions by the local engine: the waiting ones, or all of them again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import func, select, update

from civicpulse.runtime.process import Runtime
from civicpulse.settings import Settings
from civicpulse.store.tables import JobRow, utcnow

Which = Literal["queued", "all"]
"""``queued``: submissions waiting for analysis; ``all``: every stored submission (re-analysis)."""


@dataclass
class StoreReport:
    """How many stored submissions a run analysed, and how many failed."""

    analysed: int = 0
    failed: int = 0


def analyze_store_local(settings: Settings, which: Which) -> StoreReport:
    """Run the worker until no job is left; ``all`` queues every submission's job again first."""
    runtime = Runtime(settings)
    try:
        with runtime.db.write() as session:
            failed_before = session.scalar(select(func.count()).where(JobRow.state == "failed")) or 0
            if which == "all":
                session.execute(
                    update(JobRow).values(
                        state="queued",
                        run_after=utcnow(),
                        attempts=0,
                        claim_token=None,
                        finished_at=None,
                        last_error=None,
                    )
                )
                failed_before = 0
        handled = runtime.worker().drain()
        with runtime.db.read() as session:
            failed = (
                session.scalar(select(func.count()).where(JobRow.state == "failed")) or 0
            ) - failed_before
        return StoreReport(analysed=handled - failed, failed=failed)
    finally:
        runtime.close()
