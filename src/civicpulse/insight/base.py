"""What an insight is: a name and, optionally, ``on_analysed(session, batch)`` for incremental work.

Insights are recomputed from stored annotations; one that must react to newly analysed
submissions (themes today; trends, alerts and claim matching next) declares the hook, and the
worker calls every registered hook after each batch without naming any of them. A new insight is
one module and one entry point in the group ``civicpulse.insights``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from civicpulse.registry import Registry


@dataclass(frozen=True)
class AnalysedBatch:
    """Submissions whose analysis was just stored, and the stages that ran on them."""

    submission_ids: tuple[int, ...]
    stages: frozenset[str]


@runtime_checkable
class OnAnalysed(Protocol):
    """An insight that keeps itself current as batches are analysed."""

    name: ClassVar[str]

    def on_analysed(self, session: Session, batch: AnalysedBatch) -> None:
        """Update the insight inside the worker's write transaction (a savepoint: a failure here
        is logged and never loses the analysis)."""
        ...


insights: Registry[object] = Registry("insight", "civicpulse.insights")
