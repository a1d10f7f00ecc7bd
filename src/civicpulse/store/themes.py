"""Stored themes: runs, the themes of each run with their members, and analysts' decisions.

A theme's ``theme_id`` is stable across runs (kept when members largely overlap); the row ``id``
is per run. Decisions (rename, merge, split, dismiss) are facts of their own, applied after every
recomputation, so that analysts' work survives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, Select, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicpulse.store.tables import Base, Id, UtcDateTime, utcnow

DECISIONS = ("rename", "merge", "split", "dismiss")


class ThemeRunRow(Base):
    """One computation of themes over a slice."""

    __tablename__ = "theme_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    slice_key: Mapped[str] = mapped_column(String(300), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    items: Mapped[int] = mapped_column(Integer)
    unassigned: Mapped[int] = mapped_column(Integer)
    unassigned_share: Mapped[float] = mapped_column(Float)
    model: Mapped[str] = mapped_column(String(200))
    space: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ThemeRow(Base):
    """A theme of one run, with what it shows."""

    __tablename__ = "themes"
    __table_args__ = (Index("ix_themes_run_theme", "run_id", "theme_id", unique=True),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(Id, ForeignKey("theme_runs.id", ondelete="CASCADE"))
    theme_id: Mapped[int] = mapped_column(Id, index=True)
    is_new: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str] = mapped_column(String(300))
    senders: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ThemeMemberRow(Base):
    """A submission's theme in a run."""

    __tablename__ = "theme_members"

    run_id: Mapped[int] = mapped_column(Id, ForeignKey("theme_runs.id", ondelete="CASCADE"), primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    theme_id: Mapped[int] = mapped_column(Id)


class ThemeDecisionRow(Base):
    """An analyst's decision about a theme: rename (value), merge into target_id, split into the
    themes ``children`` (new ids, given when the decision is taken), or dismiss."""

    __tablename__ = "theme_decisions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    theme_id: Mapped[int] = mapped_column(Id, index=True)
    action: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(Text)
    target_id: Mapped[int | None] = mapped_column(Id)
    children: Mapped[list[int] | None] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def stored_theme_members(theme_id: int) -> Select[Any]:
    """The submission ids of a theme in the latest stored run that has it (none when unstored)."""
    latest = select(func.max(ThemeMemberRow.run_id)).where(ThemeMemberRow.theme_id == theme_id)
    return select(ThemeMemberRow.submission_id).where(
        ThemeMemberRow.theme_id == theme_id, ThemeMemberRow.run_id == latest.scalar_subquery()
    )


def stored_theme_ids(session: Session, theme_ids: Sequence[int]) -> set[int]:
    """Those of ``theme_ids`` that some stored run has members of."""
    if not theme_ids:
        return set()
    found = select(ThemeMemberRow.theme_id).where(ThemeMemberRow.theme_id.in_(list(theme_ids))).distinct()
    return set(session.scalars(found))
