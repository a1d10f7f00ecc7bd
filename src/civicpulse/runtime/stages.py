"""The stages of one process: built once from settings and wired to the store's ports.

A stage is built from plain configuration (``Settings``) plus the ports it asks for by keyword
(``signatures``, ``vector_cache``, ``routing_rules``); the store implements the ports. ``StageSet``
builds each named stage once, so the worker threads, ``POST /api/v1/analyze`` and ``civicpulse analyze``
of one process share one near-duplicate index and one set of loaded models.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, fields

from civicpulse.analysis.base import Stage, stages
from civicpulse.analysis.dedup import SignatureSource
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.analysis.route import RuleSource
from civicpulse.embeddings import VectorLookup
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.neardup import StoredSignatures
from civicpulse.store.routing import StoredRules
from civicpulse.store.vectors import StoredVectors


@dataclass(frozen=True)
class Ports:
    """What stages may need from outside; ``None`` where there is no store (analysis of files)."""

    signatures: SignatureSource | None = None
    vector_cache: VectorLookup | None = None
    routing_rules: RuleSource | None = None

    @classmethod
    def of_store(cls, db: Database) -> Ports:
        """Ports over a store (its tables must exist: run ``db.upgrade()`` first)."""
        return cls(
            signatures=StoredSignatures(db), vector_cache=StoredVectors(db), routing_rules=StoredRules(db)
        )


def build_stage(name: str, settings: Settings, ports: Ports) -> Stage:
    """The registered stage ``name``, given the ports its constructor names."""
    factory = stages.get(name)
    accepted = inspect.signature(factory).parameters
    wiring = {
        port.name: getattr(ports, port.name)
        for port in fields(ports)
        if port.name in accepted and getattr(ports, port.name) is not None
    }
    return factory(settings, **wiring)


class StageSet:
    """Each named stage built once (models load lazily, on first use)."""

    def __init__(self, settings: Settings, ports: Ports) -> None:
        self.settings = settings
        self.ports = ports
        self._built: dict[str, Stage] = {}
        self._lock = threading.Lock()

    def stage(self, name: str) -> Stage:
        """The stage ``name`` of this process."""
        with self._lock:
            if name not in self._built:
                self._built[name] = build_stage(name, self.settings, self.ports)
            return self._built[name]

    def pipeline(self, names: list[str] | None = None) -> Pipeline:
        """A pipeline of ``names`` (``settings.stages`` by default) over the shared stages."""
        return Pipeline([self.stage(name) for name in names or self.settings.stages])


def build_pipeline(settings: Settings, db: Database | None = None) -> Pipeline:
    """``settings.stages`` as one pipeline, wired to ``db`` when given (a one-off: a test, a CLI run)."""
    return StageSet(settings, Ports.of_store(db) if db is not None else Ports()).pipeline()
