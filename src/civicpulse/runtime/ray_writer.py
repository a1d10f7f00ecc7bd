"""The last step of a Ray run: JSON lines for files, or the store for stored submissions.

``StoreWriter`` writes each batch in one transaction, the way the worker does: annotations (an
upsert keyed by submission and stage, versioned by the run's start), private outputs through
``runtime.savers``, the jobs and analysis state, one ``analysed`` event per submission and run,
then the insights' hooks. Replaying a batch (a retried task, a rerun after a crash) leaves the
store as one write would have.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civicpulse.analysis.summary import summarize
from civicpulse.annotations import PiiOut
from civicpulse.insight.base import AnalysedBatch
from civicpulse.runtime.hooks import analysed_hooks
from civicpulse.runtime.ray_stages import Batch, unpack
from civicpulse.runtime.savers import save_private
from civicpulse.settings import Settings
from civicpulse.store.bulk import upsert_annotations
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.search_text import store_folded_redaction
from civicpulse.store.tables import EventRow, JobRow, SubmissionRow

log = logging.getLogger(__name__)


def json_lines(batch: Batch) -> Batch:
    """Each row as the JSON line ``civicpulse analyze`` writes for it."""
    lines, outcomes = [], []
    for row in range(len(batch["key"])):
        line: dict[str, object] = {"file": batch["file"][row], "record": int(batch["record"][row])}
        if batch["rejected"][row]:
            line |= {"line": int(batch["line"][row]), "error": batch["rejected"][row]}
            outcomes.append("rejected")
            lines.append(json.dumps(line, ensure_ascii=False))
            continue
        item = unpack(batch["item"][row])
        if batch["failure"][row]:
            line |= {"source_id": item.source_id, "error": batch["failure"][row]}
            outcomes.append("failed")
        else:
            public = summarize(item.annotations, item.text)
            line |= {"source_id": item.source_id, "analysis": public.model_dump(mode="json")}
            outcomes.append("analysed")
        lines.append(json.dumps(line, ensure_ascii=False))
    return {"line": np.array(lines, dtype=object), "outcome": np.array(outcomes, dtype=object)}


class StoreWriter:
    """Writes analysed batches back to the store; returns one row per item with its outcome."""

    def __init__(self, settings: Settings, stage_names: tuple[str, ...], version: datetime) -> None:
        self.db = Database.from_settings(settings)
        self.cipher = ContactCipher(settings.fernet_key)
        self.hooks = analysed_hooks(settings)
        self.stage_names = frozenset(stage_names)
        self.version = version

    def __call__(self, batch: Batch) -> Batch:
        """Store one batch in one transaction."""
        analysed: list[int] = []
        failed: dict[int, str] = {}
        annotations: list[tuple[int, str, dict]] = []
        with self.db.write() as session:
            for blob, failure, key in zip(batch["item"], batch["failure"], batch["key"], strict=True):
                if failure:
                    failed[int(key)] = failure
                    continue
                item = unpack(blob)
                for stage, output in item.annotations.items():
                    save_private(session, self.cipher, item.id, output)
                    if isinstance(output, PiiOut):
                        store_folded_redaction(session, item.id, output.redacted_text)
                    annotations.append((item.id, stage, output.stored()))
                analysed.append(item.id)
            upsert_annotations(session, annotations, self.version)
            self._finish(session, analysed, failed)
            if analysed:
                self._tell_insights(session, AnalysedBatch(tuple(analysed), self.stage_names))
        outcomes = ["failed" if failure else "analysed" for failure in batch["failure"]]
        return {"key": batch["key"], "outcome": np.array(outcomes, dtype=object)}

    def _finish(self, session: Session, analysed: list[int], failed: dict[int, str]) -> None:
        """Jobs done (or failed), the analysis state, and one ``analysed`` event per submission."""
        for state, ids in (("done", analysed), ("failed", list(failed))):
            if not ids:
                continue
            session.execute(
                update(JobRow)
                .where(JobRow.submission_id.in_(ids), JobRow.state.in_(("queued", "running")))
                .values(state=state, finished_at=self.version, claim_token=None, last_error=None)
                .execution_options(synchronize_session=False)
            )
            session.execute(
                update(SubmissionRow)
                .where(SubmissionRow.id.in_(ids))
                .values(analysis_state=state, updated_at=self.version)
                .execution_options(synchronize_session=False)
            )
        for sid, reason in failed.items():
            log.warning("submission %s failed: %s", sid, reason)
        if not analysed:
            return
        seen = set(
            session.scalars(
                select(EventRow.submission_id).where(
                    EventRow.submission_id.in_(analysed),
                    EventRow.kind == "analysed",
                    EventRow.at == self.version,
                )
            )
        )
        detail = {"stages": sorted(self.stage_names), "engine": "ray"}
        session.add_all(
            EventRow(submission_id=sid, at=self.version, kind="analysed", detail=detail)
            for sid in analysed
            if sid not in seen
        )

    def _tell_insights(self, session: Session, batch: AnalysedBatch) -> None:
        """Each hook in a savepoint of its own, as the worker does."""
        for hook in self.hooks:
            try:
                with session.begin_nested():
                    hook.on_analysed(session, batch)
            except Exception:
                log.exception("insight %s failed on %d submissions", hook.name, len(batch.submission_ids))
