"""The registered insights that keep themselves current as batches are analysed."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from civicpulse.analysis.embed import embedder_from_settings
from civicpulse.embeddings import Embedder
from civicpulse.insight.base import OnAnalysed, insights
from civicpulse.settings import Settings


@runtime_checkable
class UsesEmbedder(Protocol):
    """A hook that embeds text (rumour matching): the runtime hands it the configured embedder,
    built at its first use, since layers below the runtime never build one."""

    def use_embedder(self, provide: Callable[[], Embedder]) -> None: ...


def lazy_embedder(settings: Settings) -> Callable[[], Embedder]:
    """A function that builds the configured embedder at its first call and returns it after."""
    lock = threading.Lock()
    built: list[Embedder] = []

    def provide() -> Embedder:
        with lock:
            if not built:
                built.append(embedder_from_settings(settings))
            return built[0]

    return provide


def analysed_hooks(settings: Settings) -> list[OnAnalysed]:
    """Every registered insight that declares ``on_analysed``, built from settings, by name; those
    that embed text share one lazily built embedder."""
    built = [insights.get(name)(settings) for name in insights.names()]
    hooks = [insight for insight in built if isinstance(insight, OnAnalysed)]
    provide = lazy_embedder(settings)
    for hook in hooks:
        if isinstance(hook, UsesEmbedder):
            hook.use_embedder(provide)
    return hooks
