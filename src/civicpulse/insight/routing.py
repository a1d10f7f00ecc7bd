"""Automatic assignment: after each analysed batch, submissions the router is sure of get their agency.

The ``route`` stage marks an output ``auto_assign`` when its best agency reaches
``routing_auto_assign_confidence``; this hook assigns those (``store.routing.auto_assign``: a fact by
the router, a line in the history) and leaves the rest in the triage queue.
"""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy.orm import Session

from civicpulse.annotations import RouteOut
from civicpulse.insight.base import AnalysedBatch
from civicpulse.settings import Settings
from civicpulse.store.routing import auto_assign


class AutoAssign:
    """Assigns the submissions of a batch that the router is sure of."""

    name: ClassVar[str] = "routing"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_analysed(self, session: Session, batch: AnalysedBatch) -> None:
        """Assign the batch's confidently routed submissions that have no agency yet."""
        if RouteOut.stage in batch.stages:
            auto_assign(session, batch.submission_ids)
