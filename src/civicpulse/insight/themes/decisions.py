"""Analysts' decisions about themes (rename, merge, split, dismiss): stored as facts of their own,
and applied to every freshly computed partition, so that they survive recomputation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpulse.errors import NotFound, Unprocessable
from civicpulse.store.audit import record_audit
from civicpulse.store.themes import DECISIONS, ThemeDecisionRow, ThemeRow

MIN_PARTS, MAX_PARTS = 2, 5
MAX_LABEL = 300  # characters of a theme's label (the column's width)
SPLIT_SEED = 0


def decision_log(session: Session) -> list[ThemeDecisionRow]:
    """Every decision, oldest first."""
    return list(session.scalars(select(ThemeDecisionRow).order_by(ThemeDecisionRow.id)))


def latest_decisions(log: Sequence[ThemeDecisionRow]) -> dict[int, dict[str, ThemeDecisionRow]]:
    """The latest decision of each kind per theme id."""
    latest: dict[int, dict[str, ThemeDecisionRow]] = {}
    for row in log:
        latest.setdefault(row.theme_id, {})[row.action] = row
    return latest


def _split_children(session: Session) -> set[int]:
    found: set[int] = set()
    splits = select(ThemeDecisionRow.children).where(ThemeDecisionRow.action == "split")
    for children in session.scalars(splits):
        found.update(int(c) for c in children or [])
    return found


def known_theme_ids(session: Session) -> set[int]:
    """Ids of every theme computed so far or made by a split."""
    return set(session.scalars(select(ThemeRow.theme_id).distinct())) | _split_children(session)


def next_theme_id(session: Session) -> int:
    """An id no theme has had yet."""
    top = int(session.scalar(select(func.max(ThemeRow.theme_id))) or 0)
    return max([top, *_split_children(session)]) + 1


def decide(
    session: Session,
    theme_id: int,
    action: str,
    *,
    actor: str,
    value: str | None = None,
    target_id: int | None = None,
    parts: int = MIN_PARTS,
) -> ThemeDecisionRow:
    """Record an analyst's decision: ``rename`` (value), ``merge`` (into target_id), ``split``
    (into ``parts`` new themes, whose ids are given now) or ``dismiss``."""
    if action not in DECISIONS:
        raise Unprocessable(f"unknown decision {action!r}; choose one of: {', '.join(DECISIONS)}")
    known = known_theme_ids(session)
    if theme_id not in known:
        raise NotFound(f"theme {theme_id} does not exist")
    if action == "rename" and not (value and value.strip() and len(value) <= MAX_LABEL):
        raise Unprocessable(f"a rename needs a new label of 1 to {MAX_LABEL} characters")
    if action == "merge" and (target_id is None or target_id == theme_id or target_id not in known):
        raise Unprocessable("a merge needs another existing theme as target_id")
    children = None
    if action == "split":
        if not MIN_PARTS <= parts <= MAX_PARTS:
            raise Unprocessable(f"a split makes {MIN_PARTS} to {MAX_PARTS} themes, not {parts}")
        first = next_theme_id(session)
        children = list(range(first, first + parts))
    row = ThemeDecisionRow(
        theme_id=theme_id,
        action=action,
        value=value.strip() if value else None,
        target_id=target_id,
        children=children,
        actor=actor,
    )
    session.add(row)
    session.flush()
    return row


def record_decision(
    session: Session,
    theme_id: int,
    action: str,
    *,
    actor: str,
    client: str | None,
    status: int,
    value: str | None = None,
    target_id: int | None = None,
    parts: int = MIN_PARTS,
) -> ThemeDecisionRow:
    """``decide``, and its audit event in the same transaction."""
    row = decide(session, theme_id, action, actor=actor, value=value, target_id=target_id, parts=parts)
    record_audit(
        session,
        actor=actor,
        action=f"theme.{action}",
        target=f"theme:{theme_id}",
        client=client,
        status=status,
        detail={"value": row.value, "target_id": target_id, "children": row.children},
    )
    return row


@dataclass
class Partition:
    """Item positions of each theme id after the decisions, and what the decisions changed."""

    groups: dict[int, np.ndarray]
    first_seen: dict[int, datetime]
    parent: dict[int, int] = field(default_factory=dict)
    dismissed: set[int] = field(default_factory=set)


def split_rows(projected: np.ndarray, rows: np.ndarray, weights: np.ndarray, parts: int) -> list[np.ndarray]:
    """``rows`` cut into ``parts`` groups by seeded k-means on their vectors, heaviest first
    (ties by first row); fewer groups when there are too few distinct vectors."""
    from sklearn.cluster import KMeans

    rows = np.sort(rows)
    x = projected[rows]
    distinct = len(np.unique(np.round(x, 6), axis=0))
    if distinct < parts:
        return [rows]
    km = KMeans(n_clusters=parts, n_init=4, random_state=SPLIT_SEED).fit(x, sample_weight=weights[rows])
    groups = [rows[km.labels_ == k] for k in range(parts)]
    groups = [g for g in groups if len(g)]
    return sorted(groups, key=lambda g: (-float(weights[g].sum()), int(g[0])))


def apply_decisions(
    log: Sequence[ThemeDecisionRow],
    groups: dict[int, np.ndarray],
    first_seen: dict[int, datetime],
    projected: np.ndarray,
    weights: np.ndarray,
) -> Partition:
    """Replay the decisions in the order they were taken: a split re-clusters the theme's members
    (merged ones included) into its children; a merge moves members into the target (followed when
    the target was merged away itself); a dismissal hides the theme. Renames apply at display.
    Decisions about themes absent from this computation change nothing."""
    out = Partition(dict(groups), dict(first_seen))
    merged_into: dict[int, int] = {}
    for fact in log:
        tid = fact.theme_id
        if tid not in out.groups:
            continue
        if fact.action == "split" and fact.children:
            parts = split_rows(projected, out.groups[tid], weights, len(fact.children))
            if len(parts) < 2:
                continue
            del out.groups[tid]
            for child, rows in zip(fact.children, parts, strict=False):
                out.groups[child] = rows
                out.first_seen[child] = fact.created_at
                out.parent[child] = tid
        elif fact.action == "merge" and fact.target_id is not None:
            target = fact.target_id
            for _ in range(len(merged_into) + 1):  # follow earlier merges, never in a loop
                target = merged_into.get(target, target)
            if target == tid:
                continue
            rows = out.groups.pop(tid)
            merged_into[tid] = target
            if target in out.dismissed:  # merged into a dismissed theme: dismissed with it
                out.dismissed.add(tid)
                continue
            out.groups[target] = np.sort(np.concatenate([out.groups.get(target, rows[:0]), rows]))
            out.first_seen.setdefault(target, out.first_seen[tid])
        elif fact.action == "dismiss":
            out.dismissed.add(tid)
            del out.groups[tid]
    return out
