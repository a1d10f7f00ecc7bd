"""``Runtime``: what one process holds to analyse: one store (one engine pool), one set of stages
(one near-duplicate index, models loaded once), the insights' hooks and the worker threads.

``civicpulse serve`` builds one and shares it between its workers and ``POST /api/v1/analyze``;
``civicpulse worker`` builds one too.
"""

from __future__ import annotations

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.analysis.summary import summarize
from civicpulse.annotations import DedupOut, output_of
from civicpulse.domain import AnalysisOut
from civicpulse.errors import Unprocessable
from civicpulse.insight.campaigns import CampaignRules, campaign_for_group
from civicpulse.runtime.hooks import analysed_hooks
from civicpulse.runtime.stages import Ports, StageSet
from civicpulse.runtime.worker import Worker, WorkerPool
from civicpulse.settings import Settings
from civicpulse.store.db import Database


class Runtime:
    """The per-process set of store, stages, hooks and workers."""

    def __init__(self, settings: Settings, db: Database | None = None) -> None:
        self.settings = settings
        self.db = db if db is not None else Database.from_settings(settings)
        self.stages = StageSet(settings, Ports.of_store(self.db))
        self.hooks = analysed_hooks(settings)
        self.pool: WorkerPool | None = None

    def pipeline(self) -> Pipeline:
        """The workers' pipeline (``settings.stages``)."""
        return self.stages.pipeline()

    def worker(self) -> Worker:
        """A worker over the shared stages and hooks."""
        return Worker(self.db, self.pipeline(), self.settings, self.hooks)

    def start_workers(self, threads: int | None = None) -> None:
        """Start ``threads`` worker threads (``settings.worker_threads`` by default)."""
        count = self.settings.worker_threads if threads is None else threads
        if count <= 0 or self.pool is not None:
            return
        self.pool = WorkerPool([self.worker() for _ in range(count)])
        self.pool.start()

    def stop_workers(self) -> None:
        """Stop the worker threads after their current batch."""
        if self.pool is not None:
            self.pool.stop()
            self.pool = None

    def analyze_text(self, text: str, language: str | None, locality: str | None) -> AnalysisOut:
        """What the stages of ``settings.analyze_stages`` make of one text; nothing is stored."""
        names = self.settings.analyze_stages or self.settings.stages
        item = AnalysisItem(id=0, text=text, language_hint=language, locality=locality)
        result = self.stages.pipeline(names).run([item])
        if 0 in result.failures:
            raise Unprocessable(f"the text could not be analysed: {result.failures[0]}")
        summary = summarize(result.outputs[0], text)
        dedup = output_of(result.outputs[0], DedupOut)
        if dedup is not None and dedup.group is not None and dedup.group > 0:
            with self.db.read() as session:
                found = campaign_for_group(session, dedup.group, CampaignRules.from_settings(self.settings))
            if found is not None:
                summary = summary.model_copy(update={"campaign": found.as_dict()})
        return summary

    def close(self) -> None:
        """Stop the workers and close the store's connections."""
        self.stop_workers()
        self.db.dispose()
