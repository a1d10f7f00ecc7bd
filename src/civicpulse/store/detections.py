"""Stored spike detections and overview snapshots: per window (its last day) the warnings of every
series, each series current until the counts hook notes a change on one of the days its detection
read; and the overview's figures per window and province, current until a change on any day they
read.

A series is ``(topic, province)``, ``ALL`` (the empty string) standing for every value, as in
``insight.warnings``. The counts hook calls :func:`note_changes` with the ``(day, topic,
province)`` cells it changed; a detection reader keeps the rows whose ``seen`` equals ``changes``
and recomputes the others (and series new to the window, which the hook adds as changed).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, literal, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from civicpulse.store.tables import OverviewSnapshotRow, SpikeDetectionRow, SpikeDetectionRunRow, utcnow

ALL = ""
KEPT_WINDOWS = 4
OPENED = ""
"""The ``basis`` of a detection registered but not computed yet."""

SeriesKey = tuple[str, str]


@dataclass(frozen=True)
class Window:
    """A stored detection's days: warnings starting ``first_day`` to ``last_day``, counts read from
    ``reads_from``, under ``basis``."""

    first_day: str
    last_day: str
    reads_from: str
    basis: str


@dataclass(frozen=True)
class StoredSeries:
    """One series of a stored detection."""

    changes: int
    seen: int
    warnings: list[dict[str, Any]]

    @property
    def current(self) -> bool:
        return self.changes == self.seen


def series_of(topic: str, province: str) -> list[SeriesKey]:
    """The series a cell counts in: its topic, its province, and both (unknown values ``ALL``)."""
    found: list[SeriesKey] = []
    if topic != ALL:
        found.append((topic, ALL))
    if province != ALL:
        found.append((ALL, province))
    if topic != ALL and province != ALL:
        found.append((topic, province))
    return found


def stored_window(session: Session, last_day: str) -> Window | None:
    """The stored detection ending on ``last_day``, if any."""
    row = session.get(SpikeDetectionRunRow, last_day)
    return None if row is None else Window(row.first_day, row.last_day, row.reads_from, row.basis)


def stored_series(session: Session, last_day: str) -> dict[SeriesKey, StoredSeries]:
    """Every series of the detection ending on ``last_day``."""
    rows = session.execute(
        select(
            SpikeDetectionRow.topic,
            SpikeDetectionRow.province,
            SpikeDetectionRow.changes,
            SpikeDetectionRow.seen,
            SpikeDetectionRow.warnings,
        ).where(SpikeDetectionRow.last_day == last_day)
    ).all()
    return {(t, p): StoredSeries(changes, seen, list(w or [])) for t, p, changes, seen, w in rows}


def start_window(session: Session, window: Window) -> None:
    """Replace any detection ending on the same day by an empty one; keep the ``KEPT_WINDOWS``
    most recently detected windows."""
    session.execute(delete(SpikeDetectionRow).where(SpikeDetectionRow.last_day == window.last_day))
    session.execute(delete(SpikeDetectionRunRow).where(SpikeDetectionRunRow.last_day == window.last_day))
    session.add(SpikeDetectionRunRow(**vars(window), detected_at=utcnow()))
    session.flush()
    old = list(
        session.scalars(
            select(SpikeDetectionRunRow.last_day)
            .order_by(SpikeDetectionRunRow.detected_at.desc(), SpikeDetectionRunRow.last_day.desc())
            .offset(KEPT_WINDOWS)
        )
    )
    if old:
        session.execute(delete(SpikeDetectionRow).where(SpikeDetectionRow.last_day.in_(old)))
        session.execute(delete(SpikeDetectionRunRow).where(SpikeDetectionRunRow.last_day.in_(old)))


def finish_window(session: Session, window: Window) -> None:
    """Mark the window's detection as computed under its ``basis``."""
    session.execute(
        update(SpikeDetectionRunRow)
        .where(SpikeDetectionRunRow.last_day == window.last_day)
        .values(basis=window.basis, detected_at=utcnow())
    )


def _insert(session: Session) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SpikeDetectionRow)


def put_series(
    session: Session, last_day: str, found: dict[SeriesKey, tuple[int, list[dict[str, Any]]]]
) -> None:
    """Store each series' warnings as computed after ``seen`` changes: ``{key: (seen, warnings)}``.
    A change noted meanwhile keeps the row's ``changes`` ahead of ``seen`` (so it stays due)."""
    if not found:
        return
    stmt = _insert(session)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["last_day", "topic", "province"],
            set_={"seen": stmt.excluded.seen, "warnings": stmt.excluded.warnings},
        ),
        [
            {"last_day": last_day, "topic": t, "province": p, "changes": seen, "seen": seen, "warnings": w}
            for (t, p), (seen, w) in sorted(found.items())
        ],
    )


def note_changes(session: Session, cells: Iterable[tuple[str, str, str]]) -> None:
    """Mark the series of these changed ``(day, topic, province)`` cells as due in every stored
    detection that read the day, and the overview snapshots that read it as out of date (one small
    query and nothing else when all the days are later: the usual case of new submissions)."""
    cells = set(cells)
    if not cells:
        return
    days = {day for day, _, _ in cells}
    earliest = min(days)
    windows = session.execute(
        union_all(
            select(literal("run"), SpikeDetectionRunRow.last_day, SpikeDetectionRunRow.reads_from).where(
                SpikeDetectionRunRow.last_day >= earliest
            ),
            select(literal("overview"), OverviewSnapshotRow.last_day, OverviewSnapshotRow.reads_from)
            .where(OverviewSnapshotRow.last_day >= earliest)
            .distinct(),
        )
    ).all()
    read = {
        (kind, last_day)
        for kind, last_day, reads_from in windows
        if any(reads_from <= d <= last_day for d in days)
    }
    outdated = sorted(last_day for kind, last_day in read if kind == "overview")
    if outdated:
        session.execute(
            update(OverviewSnapshotRow)
            .where(OverviewSnapshotRow.last_day.in_(outdated))
            .values(changes=OverviewSnapshotRow.changes + 1)
        )
    runs = {last_day: reads_from for kind, last_day, reads_from in windows if kind == "run"}
    rows = sorted(
        {
            (last_day, topic, province)
            for last_day, reads_from in runs.items()
            for day, cell_topic, cell_province in cells
            if reads_from <= day <= last_day
            for topic, province in series_of(cell_topic, cell_province)
        }
    )
    if not rows:
        return
    stmt = _insert(session)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["last_day", "topic", "province"],
            set_={"changes": SpikeDetectionRow.changes + 1},
        ),
        [
            {"last_day": d, "topic": t, "province": p, "changes": 1, "seen": 0, "warnings": []}
            for d, t, p in rows
        ],
    )


def open_snapshot(session: Session, last_day: str, province: str, reads_from: str) -> int:
    """Make sure the overview snapshot of ``last_day`` and ``province`` exists (so that the counts
    hook marks it from now on) and return its ``changes``; keeps the ``KEPT_WINDOWS`` latest days."""
    row = session.get(OverviewSnapshotRow, (last_day, province))
    if row is None or row.reads_from != reads_from:
        if row is not None:
            session.delete(row)
            session.flush()
        row = OverviewSnapshotRow(
            last_day=last_day, province=province, reads_from=reads_from, basis="", changes=0, seen=-1, data={}
        )
        session.add(row)
        session.flush()
    kept = list(
        session.scalars(
            select(OverviewSnapshotRow.last_day)
            .distinct()
            .order_by(OverviewSnapshotRow.last_day.desc())
            .limit(KEPT_WINDOWS)
        )
    )
    session.execute(delete(OverviewSnapshotRow).where(OverviewSnapshotRow.last_day < min(kept)))
    return row.changes


def current_snapshot(session: Session, last_day: str, province: str, basis: str) -> dict[str, Any] | None:
    """The stored overview of ``last_day`` and ``province`` if made under ``basis`` and current."""
    row = session.get(OverviewSnapshotRow, (last_day, province))
    if row is None or row.basis != basis or row.seen != row.changes:
        return None
    return dict(row.data)


def put_snapshot(
    session: Session, last_day: str, province: str, basis: str, seen: int, data: dict[str, Any]
) -> None:
    """Store an overview computed after ``seen`` changes (a change noted since keeps it out of date)."""
    session.execute(
        update(OverviewSnapshotRow)
        .where(OverviewSnapshotRow.last_day == last_day, OverviewSnapshotRow.province == province)
        .values(basis=basis, seen=seen, data=data)
    )


def clear_detections(session: Session) -> None:
    """Forget every stored detection and overview snapshot (the counts are rebuilt)."""
    for table in (SpikeDetectionRow, SpikeDetectionRunRow, OverviewSnapshotRow):
        session.execute(delete(table))


def due_keys(stored: dict[SeriesKey, StoredSeries]) -> Sequence[SeriesKey]:
    """The series whose stored warnings are out of date."""
    return sorted(key for key, row in stored.items() if not row.current)
