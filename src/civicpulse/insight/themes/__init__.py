"""Themes: what people raise in a slice of submissions (clusters, labels, quotes, summaries).

``discover_themes`` is the pure core (items and vectors in, themes out); ``service`` reads a slice
from the store, keeps theme ids stable across runs and applies analysts' decisions.
"""

from civicpulse.insight.themes.cluster import UNASSIGNED, Clustering, ClusterParams
from civicpulse.insight.themes.discover import ThemeSet, assign_to_themes, discover_themes
from civicpulse.insight.themes.represent import Quote, Theme, ThemeItem

__all__ = [
    "UNASSIGNED",
    "ClusterParams",
    "Clustering",
    "Quote",
    "Theme",
    "ThemeItem",
    "ThemeSet",
    "assign_to_themes",
    "discover_themes",
]
