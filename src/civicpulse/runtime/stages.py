"""The stages of one process: built once from settings and wired to the store's ports.

A stage is built from plain configuration (``Settings``) plus the ports it asks for by keyword
(``signatures``, ``vector_cache``, ``routing_rules``); the store implements the ports. ``StageSet``
builds each named stage once, so the worker threads, ``POST /api/v1/analyze`` and ``civicpulse analyze``
of one process share one near-duplicate index and one set of loaded models; its stages that embed
items (topic, sentiment, route) share one embedder and its cache, so each text is embedded once.
"""

from __future__ import annotations

import inspect
import threading
from dataclasses import dataclass, fields

import numpy as np

from civicpulse.analysis.base import Stage, stages
from civicpulse.analysis.dedup import SignatureSource
from civicpulse.analysis.embed import embedder_from_settings
from civicpulse.analysis.features import UsesEmbedder
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.analysis.route import RuleSource
from civicpulse.embeddings import Embedder, VectorLookup
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


def build_stage(name: str, settings: Settings, ports: Ports, *, embedder: Embedder | None = None) -> Stage:
    """The registered stage ``name``, given the ports its constructor names; ``embedder`` goes to a
    stage that embeds items with the configured embedder (``UsesEmbedder``) in place of its own."""
    factory = stages.get(name)
    accepted = inspect.signature(factory).parameters
    wiring = {
        port.name: getattr(ports, port.name)
        for port in fields(ports)
        if port.name in accepted and getattr(ports, port.name) is not None
    }
    if embedder is not None and isinstance(factory, type) and issubclass(factory, UsesEmbedder):
        wiring["embedder"] = embedder
    return factory(settings, **wiring)


class LazyEmbedder:
    """The configured embedder, built at its first use: a stage set that never embeds loads
    nothing, and a misconfigured backend fails the items that need it, as a stage's own does."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._built: Embedder | None = None
        self._lock = threading.Lock()

    def _embedder(self) -> Embedder:
        with self._lock:
            if self._built is None:
                self._built = embedder_from_settings(self.settings)
            return self._built

    @property
    def name(self) -> str:
        """The model's name."""
        return self._embedder().name

    @property
    def dim(self) -> int:
        """The model's width."""
        return self._embedder().dim

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Passage vectors, through the shared cache."""
        return self._embedder().embed_passages(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors, through the shared cache."""
        return self._embedder().embed_queries(texts)


class StageSet:
    """Each named stage built once (models load lazily, on first use)."""

    def __init__(self, settings: Settings, ports: Ports) -> None:
        self.settings = settings
        self.ports = ports
        self._built: dict[str, Stage] = {}
        self._lock = threading.Lock()
        self._embedder = LazyEmbedder(settings) if settings.classify_with_embeddings else None

    def stage(self, name: str) -> Stage:
        """The stage ``name`` of this process."""
        with self._lock:
            if name not in self._built:
                self._built[name] = build_stage(name, self.settings, self.ports, embedder=self._embedder)
            return self._built[name]

    def pipeline(self, names: list[str] | None = None) -> Pipeline:
        """A pipeline of ``names`` (``settings.stages`` by default) over the shared stages."""
        return Pipeline([self.stage(name) for name in names or self.settings.stages])


def build_pipeline(settings: Settings, db: Database | None = None) -> Pipeline:
    """``settings.stages`` as one pipeline, wired to ``db`` when given (a one-off: a test, a CLI run)."""
    return StageSet(settings, Ports.of_store(db) if db is not None else Ports()).pipeline()
