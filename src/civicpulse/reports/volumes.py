"""Volumes of a report in SQL: submissions and distinct senders per topic, province, channel and
time bucket, for the period and the one before it, in one pass over a materialised slice.

A submission's topic is the analyst's latest correction, else the model's; its province is the
``places`` stage's; an anonymous submission counts as a sender of its own (as themes count them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    String,
    and_,
    case,
    cast,
    collate,
    distinct,
    func,
    literal,
    literal_column,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from civicpulse.reports.period import Period
from civicpulse.store.tables import AnnotationRow, LabelRow, SubmissionRow

DIMENSIONS = ("total", "topic", "province", "channel", "bucket")
MAX_BUCKETS = 62
WORK_MEM = "128MB"


@dataclass(frozen=True)
class Cell:
    """Submissions and distinct senders of one group in one period."""

    items: int = 0
    senders: int = 0


@dataclass(frozen=True)
class Volumes:
    """``cells[(dimension, key)] = (this period, previous period)``; ``bucket_days`` is the width
    of a time bucket (1, 7 or 30 days) and ``buckets`` how many the period holds."""

    cells: dict[tuple[str, str | None], tuple[Cell, Cell]]
    bucket_days: int
    buckets: int

    def of(self, dimension: str) -> dict[str | None, tuple[Cell, Cell]]:
        """The groups of one dimension."""
        return {key: pair for (dim, key), pair in self.cells.items() if dim == dimension}


def bucket_width(days: int) -> int:
    """Days per time bucket: days up to ``MAX_BUCKETS`` days, then weeks, then 30-day months."""
    for width in (1, 7, 30):
        if -(-days // width) <= MAX_BUCKETS:
            return width
    return 31


def submission_topic() -> tuple[ColumnElement[Any], list[Any]]:
    """The topic expression and the outer joins it needs (latest analyst label, else the model)."""
    topic_ann = aliased(AnnotationRow)
    latest = (
        select(LabelRow.submission_id, func.max(LabelRow.id).label("id"))
        .where(LabelRow.task == "topic")
        .group_by(LabelRow.submission_id)
        .subquery()
    )
    label = aliased(LabelRow)
    joins = [
        (topic_ann, and_(topic_ann.submission_id == SubmissionRow.id, topic_ann.stage == "topic")),
        (latest, latest.c.submission_id == SubmissionRow.id),
        (label, label.id == latest.c.id),
    ]
    return func.coalesce(label.value, topic_ann.data["code"].as_string()), joins


def submission_province() -> tuple[ColumnElement[Any], Any, ColumnElement[bool]]:
    """The province code expression, the annotation it reads and its join condition."""
    places = aliased(AnnotationRow)
    on = and_(places.submission_id == SubmissionRow.id, places.stage == "places")
    return places.data[("province", "code")].as_string(), places, on


def sender_of(session: Session) -> ColumnElement[Any]:
    """Who sent a submission: its sender key, or the submission itself when anonymous (compared
    byte by byte on PostgreSQL: counting distinct senders needs no language's collation)."""
    sender = func.coalesce(SubmissionRow.sender_key, literal("#").concat(cast(SubmissionRow.id, String)))
    return collate(sender, "C") if session.get_bind().dialect.name == "postgresql" else sender


def tune(session: Session) -> None:
    """On PostgreSQL, give this read transaction's large sorts memory and skip JIT compilation
    (seconds of compiling for a query that runs once)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))


def _bucket(period: Period, width: int, count: int) -> ColumnElement[Any]:
    def arms(since: datetime) -> Any:
        return case(
            *[(SubmissionRow.received_at < since + timedelta(days=width * (i + 1)), i) for i in range(count)],
            else_=count - 1,
        )

    return case(
        (SubmissionRow.received_at >= period.since, arms(period.since)), else_=arms(period.previous().since)
    )


def volumes(session: Session, period: Period, province: str | None = None) -> Volumes:
    """Counts of the period and the previous one, per topic, province, channel and time bucket."""
    previous = period.previous()
    width = bucket_width(period.days)
    count = -(-period.days // width)
    topic, topic_joins = submission_topic()
    province_code, places, places_on = submission_province()
    query = select(
        case((SubmissionRow.received_at >= period.since, 1), else_=0).label("current"),
        _bucket(period, width, count).label("bucket"),
        sender_of(session).label("sender"),
        topic.label("topic"),
        province_code.label("province"),
        SubmissionRow.channel.label("channel"),
    ).select_from(SubmissionRow)
    for target, on in topic_joins:
        query = query.outerjoin(target, on)
    query = query.outerjoin(places, places_on).where(
        SubmissionRow.received_at >= previous.since, SubmissionRow.received_at < period.until
    )
    if province is not None:
        query = query.where(province_code == province)
    base = query.cte("report_base").prefix_with("MATERIALIZED")

    def arm(dimension: str, key: Any) -> Any:
        keys: Sequence[Any] = (base.c.current,) if key is None else (base.c.current, key)
        return select(
            literal_column(f"'{dimension}'").label("dimension"),
            base.c.current,
            (cast(key, String) if key is not None else cast(literal_column("NULL"), String)).label("key"),
            func.count().label("items"),
            func.count(distinct(base.c.sender)).label("senders"),
        ).group_by(*keys)

    arms = [
        arm("total", None),
        arm("topic", base.c.topic),
        arm("province", base.c.province),
        arm("channel", base.c.channel),
        arm("bucket", base.c.bucket),
    ]
    cells: dict[tuple[str, str | None], list[Cell]] = {}
    for dimension, current, key, items, senders in session.execute(union_all(*arms)):
        pair = cells.setdefault((dimension, key), [Cell(), Cell()])
        pair[0 if current else 1] = Cell(int(items), int(senders))
    cells.setdefault(("total", None), [Cell(), Cell()])
    return Volumes({k: (v[0], v[1]) for k, v in cells.items()}, width, count)
