"""The registered insights that keep themselves current as batches are analysed."""

from __future__ import annotations

from civicpulse.insight.base import OnAnalysed, insights
from civicpulse.settings import Settings


def analysed_hooks(settings: Settings) -> list[OnAnalysed]:
    """Every registered insight that declares ``on_analysed``, built from settings, by name."""
    built = [insights.get(name)(settings) for name in insights.names()]
    return [insight for insight in built if isinstance(insight, OnAnalysed)]
