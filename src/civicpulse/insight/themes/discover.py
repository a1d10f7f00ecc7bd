"""``discover_themes``: the pure core (no database) from items and their vectors to themes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from civicpulse.errors import Unprocessable
from civicpulse.insight.themes.cluster import UNASSIGNED, Clustering, ClusterParams, cluster
from civicpulse.insight.themes.represent import (
    Quote,
    Theme,
    ThemeItem,
    growth,
    mean_urgency,
    nearest_first,
    place_counts,
    quotes_for,
    shares,
    summary_for,
    trend,
    typed_excerpt,
)
from civicpulse.insight.themes.words import PHRASE_SAMPLE, content_words, ctfidf, label_of, phrase_label

# Keywords come from the words of the members nearest each centroid, each cut short: word
# segmentation is the slow part of describing themes. 50 x 300 characters described 2,000 VNTC
# articles in 1.5 CPU-seconds instead of 8 (100 x 800), with the same leading keywords.
KEYWORD_SAMPLE = 50
KEYWORD_CHARS = 300
KEYWORDS = 10
EXCERPTS = 20  # members listed with an excerpt under "see members"


@dataclass
class ThemeSet:
    """The themes of a slice, the clustering behind them, and what stayed unassigned."""

    themes: list[Theme]
    clustering: Clustering
    unassigned_ids: list[int]
    unassigned_share: float


def discover_themes(
    items: Sequence[ThemeItem],
    vectors: np.ndarray,
    params: ClusterParams | None = None,
    *,
    describe: bool = True,
) -> ThemeSet:
    """Themes of ``items`` (one vector row each), on their analysed texts (restored where marks
    were restored). ``describe=False`` skips words, quotes and figures."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) != len(items):
        raise Unprocessable(f"{len(items)} items need as many vector rows, got shape {vectors.shape}")
    ids = np.asarray([item.id for item in items], dtype=np.int64)
    if len(set(ids.tolist())) != len(ids):
        raise Unprocessable("item ids must be unique")
    if not items:
        empty = Clustering(np.zeros(0, np.int64), np.zeros((0, 0), np.float32), np.zeros(0, np.float32), None)
        return ThemeSet([], empty, [], 0.0)
    weights = np.asarray([item.weight for item in items], dtype=np.float64)
    languages = [item.language for item in items]
    clustering = cluster(vectors, ids, weights, params, languages, [item.analysed_text for item in items])
    labels = clustering.labels
    loose = labels == UNASSIGNED
    share = float(weights[loose].sum() / max(weights.sum(), 1e-9))
    unassigned = sorted(int(i) for i in ids[loose])
    if not describe:
        return ThemeSet([], clustering, unassigned, share)
    projected = clustering.project(vectors)
    groups = {t: np.flatnonzero(labels == t) for t in range(len(clustering.centroids))}
    described = describe_groups(items, projected, groups)
    themes = [described[t] for t in groups]
    return ThemeSet(themes, clustering, unassigned, share)


def describe_groups(
    items: Sequence[ThemeItem], projected: np.ndarray, groups: Mapping[int, np.ndarray]
) -> dict[int, Theme]:
    """A described ``Theme`` for each group of item positions (keywords by class-based TF-IDF
    across the groups, so they are told apart); ``projected`` rows are unit vectors in the
    clustering's space. Keywords, the label and the summary come from the analysed texts (a label
    is found verbatim in a member's restored text, or its text as typed), quotes and excerpts from
    the texts as typed. Empty groups are left out."""
    ids = [item.id for item in items]
    orders: dict[int, list[int]] = {}
    docs, doc_weights = {}, {}
    for t, rows in groups.items():
        if len(rows) == 0:
            continue
        weights = np.asarray([items[r].weight for r in rows], dtype=np.float32)
        centroid = (projected[rows] * weights[:, None]).sum(axis=0)
        centroid = centroid / max(float(np.linalg.norm(centroid)), 1e-9)
        orders[t] = nearest_first(projected[rows], centroid, [ids[r] for r in rows])
        near = [rows[i] for i in orders[t][:KEYWORD_SAMPLE]]
        docs[t] = [content_words(items[r].analysed_text[:KEYWORD_CHARS]) for r in near]
        doc_weights[t] = [items[r].weight for r in near]
    ranked = ctfidf(docs, doc_weights)
    end = max((item.received_at for item in items if item.received_at), default=None)
    themes: dict[int, Theme] = {}
    for t in orders:
        members = [items[r] for r in groups[t]]
        top = dict(ranked[t][:KEYWORDS])
        keywords = list(top)
        w = [m.weight for m in members]
        near = [items[groups[t][i]].analysed_text[:KEYWORD_CHARS] for i in orders[t][:PHRASE_SAMPLE]]
        counts, with_place = place_counts(members)
        themes[t] = Theme(
            index=t,
            member_ids=sorted(m.id for m in members),
            keywords=keywords,
            label=phrase_label(near, top) or label_of(keywords),
            quotes=quotes_for(members, orders[t], top),
            summary=summary_for(members, orders[t][:20], top),
            senders=len({m.sender_key() for m in members}),
            weight=round(float(sum(w)), 3),
            sentiment=shares([m.sentiment for m in members], w),
            places=shares([m.province for m in members], w),
            trend=trend(members),
            place_counts=counts,
            with_place=with_place,
            urgency=mean_urgency(members),
            growth=growth(members, end),
            excerpts=[Quote(members[i].id, typed_excerpt(members[i], top)) for i in orders[t][:EXCERPTS]],
        )
    return themes


def assign_to_themes(
    clustering: Clustering, vectors: np.ndarray, threshold: float | None = None
) -> np.ndarray:
    """Nearest theme of each new vector, ``-1`` when its cosine is below ``threshold``."""
    if len(clustering.centroids) == 0 or len(vectors) == 0:
        return np.full(len(vectors), UNASSIGNED, dtype=np.int64)
    limit = ClusterParams().assign_threshold if threshold is None else threshold
    sims = clustering.project(vectors) @ clustering.centroids.T
    best = np.argmax(sims, axis=1)
    return np.where(sims[np.arange(len(best)), best] >= limit, best, UNASSIGNED).astype(np.int64)
