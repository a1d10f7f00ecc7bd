"""Themes of a slice of the store: read, compute, keep ids stable, apply decisions, store, assign.

- ``themes_view`` computes the themes of a slice from stored annotations and vectors (read only);
  ids come from the latest stored run of the slice (Jaccard of members >= ``MATCH_JACCARD``),
  analysts' decisions are applied, and themes with fewer than ``k_anonymity`` senders are held back.
- ``refresh_themes`` does the same and stores the run (members, centroids, projection), so that
  ``assign_new`` can put new submissions into the stored themes as they arrive.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpulse.insight.base import AnalysedBatch
from civicpulse.insight.themes.cluster import UNASSIGNED, Clustering, ClusterParams
from civicpulse.insight.themes.decisions import apply_decisions, decision_log, latest_decisions, next_theme_id
from civicpulse.insight.themes.discover import ThemeSet, assign_to_themes, describe_groups, discover_themes
from civicpulse.insight.themes.generated import generate
from civicpulse.insight.themes.models import GeneratedText, QuoteOut, ThemeOut, ThemesOut
from civicpulse.insight.themes.represent import Theme, ThemeItem
from civicpulse.insight.themes.slices import ThemeSlice, load_slice
from civicpulse.llm import ChatClient
from civicpulse.settings import Settings
from civicpulse.store.tables import utcnow
from civicpulse.store.themes import ThemeMemberRow, ThemeRow, ThemeRunRow, stored_theme_ids
from civicpulse.store.vectors import load_vectors

MATCH_JACCARD = 0.5
NEW_FOR = timedelta(days=7)

Discover = Callable[[Sequence[ThemeItem], np.ndarray, str], ThemeSet]
"""Another way from a slice's items, vectors and their model to undescribed themes (the Ray
engine's fit on a sample); by default ``discover_themes`` of every item."""


def _previous_run(session: Session, key: str) -> ThemeRunRow | None:
    return session.scalars(
        select(ThemeRunRow).where(ThemeRunRow.slice_key == key).order_by(ThemeRunRow.id.desc()).limit(1)
    ).first()


def _members_of(session: Session, run_id: int) -> dict[int, set[int]]:
    members: dict[int, set[int]] = {}
    for sid, tid in session.execute(
        select(ThemeMemberRow.submission_id, ThemeMemberRow.theme_id).where(ThemeMemberRow.run_id == run_id)
    ):
        members.setdefault(tid, set()).add(sid)
    return members


def match_ids(previous: dict[int, set[int]], current: Sequence[set[int]]) -> list[int | None]:
    """The previous theme id each current member set continues (Jaccard >= 0.5, one to one)."""
    pairs = []
    for i, members in enumerate(current):
        for tid, old in previous.items():
            union = len(members | old)
            score = len(members & old) / union if union else 0.0
            if score >= MATCH_JACCARD:
                pairs.append((score, i, tid))
    matched: list[int | None] = [None] * len(current)
    taken: set[int] = set()
    for _score, i, tid in sorted(pairs, key=lambda p: (-p[0], p[1], p[2])):
        if matched[i] is None and tid not in taken:
            matched[i] = tid
            taken.add(tid)
    return matched


def _first_seen(session: Session, theme_ids: Sequence[int]) -> dict[int, datetime]:
    if not theme_ids:
        return {}
    rows = session.execute(
        select(ThemeRow.theme_id, func.min(ThemeRunRow.created_at))
        .join(ThemeRunRow, ThemeRunRow.id == ThemeRow.run_id)
        .where(ThemeRow.theme_id.in_(list(theme_ids)))
        .group_by(ThemeRow.theme_id)
    )
    return {int(tid): at for tid, at in rows}


@dataclass
class _Computed:
    cut: ThemeSlice
    items: list[ThemeItem]
    projected: np.ndarray
    found: ThemeSet
    model: str
    without_vector: int
    theme_ids: list[int]
    first_seen: dict[int, datetime]
    previous: ThemeRunRow | None


def _compute(
    session: Session,
    cut: ThemeSlice,
    params: ClusterParams | None,
    now: datetime,
    discover: Discover | None = None,
) -> _Computed:
    items, vectors, model, without = load_slice(session, cut)
    if discover is not None:
        found = discover(items, vectors, model)
    else:
        found = discover_themes(items, vectors, params, describe=False)
    projected = found.clustering.project(vectors) if items else np.zeros((0, 0), np.float32)
    previous = _previous_run(session, cut.key())
    old = _members_of(session, previous.id) if previous else {}
    matched = match_ids(old, [{items[r].id for r in rows} for rows in _raw_groups(found)])
    next_id = next_theme_id(session)
    theme_ids: list[int] = []
    for tid in matched:
        if tid is None:
            tid, next_id = next_id, next_id + 1
        theme_ids.append(tid)
    seen = _first_seen(session, [t for t in matched if t is not None])
    first_seen = {tid: seen.get(tid, now) for tid in theme_ids}
    return _Computed(cut, items, projected, found, model, without, theme_ids, first_seen, previous)


def _raw_groups(found: ThemeSet) -> list[np.ndarray]:
    """Item positions of each theme as clustered (before analysts' decisions)."""
    labels = found.clustering.labels
    return [np.flatnonzero(labels == t) for t in range(len(found.clustering.centroids))]


def _same_partition(a: dict[int, np.ndarray], b: dict[int, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def _view(
    session: Session,
    c: _Computed,
    k_anonymity: int,
    now: datetime,
    raw_described: tuple[dict[int, np.ndarray], dict[int, Theme]] | None = None,
) -> ThemesOut:
    """The view of a computation; ``raw_described`` (groups before decisions, and their themes)
    is reused when no decision changed the partition, since describing is the slow part."""
    log = decision_log(session)
    facts = latest_decisions(log)
    weights = np.asarray([item.weight for item in c.items], dtype=np.float64)
    groups = dict(zip(c.theme_ids, _raw_groups(c.found), strict=True))
    part = apply_decisions(log, groups, c.first_seen, c.projected, weights)
    if raw_described is not None and _same_partition(raw_described[0], part.groups):
        described = raw_described[1]
    else:
        described = describe_groups(c.items, c.projected, part.groups)
    written = _generated(session, list(described))
    stored = stored_theme_ids(session, list(described))
    shown: list[ThemeOut] = []
    suppressed = 0
    for tid, theme in sorted(described.items(), key=lambda kv: (-kv[1].attention, -kv[1].weight, kv[0])):
        if theme.senders < k_anonymity:
            suppressed += 1
            continue
        rename = facts.get(tid, {}).get("rename")
        first = part.first_seen[tid]
        shown.append(
            ThemeOut(
                id=tid,
                label=rename.value if rename and rename.value else theme.label,
                renamed=rename is not None,
                split_from=part.parent.get(tid),
                is_new=first > now - NEW_FOR,
                first_seen=first,
                keywords=[k.replace("_", " ") for k in theme.keywords],
                quotes=[QuoteOut(submission_id=q.submission_id, text=q.text) for q in theme.quotes],
                summary=[QuoteOut(submission_id=q.submission_id, text=q.text) for q in theme.summary],
                senders=theme.senders,
                weight=theme.weight,
                members=len(theme.member_ids),
                member_ids=theme.member_ids,
                sentiment=theme.sentiment,
                places=theme.places,
                place_counts=theme.place_counts,
                with_place=theme.with_place,
                trend=theme.trend,
                urgency=theme.urgency,
                growth=theme.growth,
                attention=theme.attention,
                excerpts=[QuoteOut(submission_id=q.submission_id, text=q.text) for q in theme.excerpts],
                stored=tid in stored,
                generated=GeneratedText.model_validate(written[tid]) if tid in written else None,
            )
        )
    return ThemesOut(
        since=c.cut.since,
        until=c.cut.until,
        topic=c.cut.topic,
        place=c.cut.place,
        items=len(c.items),
        without_vector=c.without_vector,
        unassigned=len(c.found.unassigned_ids),
        unassigned_share=round(c.found.unassigned_share, 4),
        suppressed=suppressed,
        dismissed=len(part.dismissed),
        k_anonymity=k_anonymity,
        themes=shown,
    )


def themes_view(
    session: Session,
    cut: ThemeSlice,
    *,
    k_anonymity: int,
    params: ClusterParams | None = None,
    now: datetime | None = None,
    discover: Discover | None = None,
) -> ThemesOut:
    """The themes of a slice, computed now (nothing is stored)."""
    now = now or utcnow()
    return _view(session, _compute(session, cut, params, now, discover), k_anonymity, now)


def refresh_themes(
    session: Session,
    cut: ThemeSlice,
    *,
    k_anonymity: int,
    params: ClusterParams | None = None,
    now: datetime | None = None,
    llm: ChatClient | None = None,
    discover: Discover | None = None,
) -> tuple[int, ThemesOut]:
    """Compute the themes of a slice and store them as a new run; ``(run id, view)``. With a chat
    model, each theme shown (k senders or more) that has none yet gets a generated label and cited
    summary, kept while the theme keeps its id."""
    now = now or utcnow()
    c = _compute(session, cut, params, now, discover)
    run = ThemeRunRow(
        slice_key=cut.key(),
        created_at=now,
        items=len(c.items),
        unassigned=len(c.found.unassigned_ids),
        unassigned_share=c.found.unassigned_share,
        model=c.model,
        space=_space(c.found.clustering, c.theme_ids),
    )
    session.add(run)
    session.flush()
    raw = dict(zip(c.theme_ids, _raw_groups(c.found), strict=True))
    described = describe_groups(c.items, c.projected, raw)
    earlier = _generated(session, list(described), run_id=c.previous.id) if c.previous else {}
    for tid, theme in described.items():
        detail: dict[str, Any] = {"keywords": theme.keywords, "first_seen": c.first_seen[tid].isoformat()}
        written = earlier.get(tid)
        if written is None and llm is not None and theme.senders >= k_anonymity:
            made = generate(llm, theme, [c.items[r] for r in raw[tid]])
            written = made.model_dump() if made else None
        if written is not None:
            detail["generated"] = written
        session.add(
            ThemeRow(
                run_id=run.id,
                theme_id=tid,
                is_new=c.first_seen[tid] > now - NEW_FOR,
                label=theme.label[:300],
                senders=theme.senders,
                weight=theme.weight,
                detail=detail,
            )
        )
        session.add_all(
            ThemeMemberRow(run_id=run.id, submission_id=sid, theme_id=tid) for sid in theme.member_ids
        )
    session.flush()
    return run.id, _view(session, c, k_anonymity, now, (raw, described))


def _generated(session: Session, theme_ids: Sequence[int], run_id: int | None = None) -> dict[int, dict]:
    """The latest generated text of each theme (of one run when ``run_id`` is given)."""
    query = select(ThemeRow.theme_id, ThemeRow.detail).where(ThemeRow.theme_id.in_(list(theme_ids)))
    if run_id is not None:
        query = query.where(ThemeRow.run_id == run_id)
    found: dict[int, dict] = {}
    for tid, detail in session.execute(query.order_by(ThemeRow.id.desc())):
        if tid not in found and isinstance(detail, dict) and detail.get("generated"):
            found[int(tid)] = detail["generated"]
    return found


def _encode(array: np.ndarray | None) -> dict[str, Any] | None:
    if array is None:
        return None
    data = np.ascontiguousarray(array, dtype="<f4")
    return {"shape": list(data.shape), "data": base64.b64encode(data.tobytes()).decode()}


def _decode(blob: dict[str, Any] | None) -> np.ndarray | None:
    if blob is None:
        return None
    return np.frombuffer(base64.b64decode(blob["data"]), dtype="<f4").reshape(blob["shape"]).copy()


def _space(clustering: Clustering, theme_ids: Sequence[int]) -> dict[str, Any]:
    return {
        "mean": _encode(clustering.mean),
        "components": _encode(clustering.components),
        "centroids": _encode(clustering.centroids),
        "theme_ids": list(theme_ids),
    }


def assign_new(
    session: Session, submission_ids: Sequence[int], threshold: float | None = None
) -> dict[int, int]:
    """Put new submissions into the themes of the latest stored run over the whole store (the run
    ``civicpulse themes`` stores without filters); ``{submission id: theme id}`` for those close
    enough to a theme (the others wait for the next run)."""
    run = _previous_run(session, ThemeSlice().key())
    if run is None or not submission_ids:
        return {}
    space = run.space
    mean, centroids = _decode(space["mean"]), _decode(space["centroids"])
    if mean is None or centroids is None or len(centroids) == 0:
        return {}
    clustering = Clustering(np.zeros(0, np.int64), centroids, mean, _decode(space.get("components")))
    candidates = set(submission_ids)
    present = set(
        session.scalars(
            select(ThemeMemberRow.submission_id).where(
                ThemeMemberRow.run_id == run.id, ThemeMemberRow.submission_id.in_(list(candidates))
            )
        )
    )
    ids, vectors = load_vectors(session, run.model, sorted(candidates - present))
    if len(ids) == 0:
        return {}
    nearest = assign_to_themes(clustering, vectors, threshold)
    assigned: dict[int, int] = {}
    for sid, t in zip(ids.tolist(), nearest.tolist(), strict=True):
        if t != UNASSIGNED:
            assigned[int(sid)] = int(space["theme_ids"][t])
            session.add(ThemeMemberRow(run_id=run.id, submission_id=int(sid), theme_id=assigned[int(sid)]))
    session.flush()
    return assigned


class ThemesInsight:
    """The themes insight's hook: each analysed batch joins the stored whole-store themes."""

    name: ClassVar[str] = "themes"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def on_analysed(self, session: Session, batch: AnalysedBatch) -> None:
        """Place the batch's submissions (those that got a vector) into the latest stored themes."""
        if "embed" in batch.stages:
            assign_new(session, batch.submission_ids)
