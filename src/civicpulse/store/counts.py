"""Counts over time in SQL: per-submission facts, counts per period and cell, distinct senders.

A fact is what the trends know of one analysed submission: its local (Vietnam) day and hour, its
topic (the analyst's latest correction, else the model's), province (``places`` stage), channel,
sentiment (latest correction, else the model's) and sender (its ``sender_key``, or ``#<id>`` when
anonymous: an anonymous submission is a sender of its own, as the reports count them). Counts are
kept at the finest cell (topic × province × channel × sentiment) per day, and per hour for the last
``HOURLY_DAYS`` days; any coarser figure is a sum of cells, and distinct senders at any level an
exact ``COUNT(DISTINCT sender)`` over ``trend_senders``. Every change is applied as a delta, so the
tables stay equal to a ``GROUP BY`` over the facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import String, bindparam, case, cast, delete, distinct, func, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from civicpulse.store.db import among
from civicpulse.store.detections import clear_detections
from civicpulse.store.tables import (
    AnnotationRow,
    LabelRow,
    SubmissionRow,
    TrendCountRow,
    TrendFactRow,
    TrendSenderRow,
    utcnow,
)

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REBUILD_WORK_MEM = "64MB"
HOURLY_DAYS = 14
UNKNOWN = ""
CELL = ("topic", "province", "channel", "sentiment")
_CHUNK = 500


@dataclass(frozen=True)
class Fact:
    """One submission as counted."""

    submission_id: int
    day: str
    hour: str
    topic: str
    province: str
    channel: str
    sentiment: str
    sender: str
    counted: bool = True
    campaign: int | None = None

    def cell(self) -> tuple[str, str, str, str]:
        return (self.topic, self.province, self.channel, self.sentiment)


def local_day(moment: datetime) -> str:
    """The Vietnam-time day of an instant, ``YYYY-MM-DD``."""
    return moment.astimezone(LOCAL_TZ).date().isoformat()


def local_hour(moment: datetime) -> str:
    """The Vietnam-time hour of an instant, ``YYYY-MM-DDTHH``."""
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H")


def hourly_cutoff(now: datetime | None = None) -> str:
    """The first hour kept in hourly counts."""
    return local_hour((now or utcnow()) - timedelta(days=HOURLY_DAYS))


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def read_facts(session: Session, submission_ids: Sequence[int]) -> list[Fact]:
    """The facts of these submissions, from the submissions, annotations and corrections."""
    facts: list[Fact] = []
    for ids in _chunks(sorted(set(submission_ids))):
        rows = session.execute(
            select(
                SubmissionRow.id, SubmissionRow.received_at, SubmissionRow.channel, SubmissionRow.sender_key
            ).where(among(session, SubmissionRow.id, ids))
        ).all()
        stages: dict[tuple[int, str], dict[str, Any]] = {
            (sid, stage): data or {}
            for sid, stage, data in session.execute(
                select(AnnotationRow.submission_id, AnnotationRow.stage, AnnotationRow.data).where(
                    among(session, AnnotationRow.submission_id, ids),
                    AnnotationRow.stage.in_(("topic", "places", "sentiment")),
                )
            ).all()
        }
        labels: dict[tuple[int, str], str] = {}
        for sid, task, value in session.execute(
            select(LabelRow.submission_id, LabelRow.task, LabelRow.value)
            .where(among(session, LabelRow.submission_id, ids), LabelRow.task.in_(("topic", "sentiment")))
            .order_by(LabelRow.id)
        ).all():
            labels[(sid, task)] = value
        for sid, received_at, channel, sender_key in rows:
            province = (stages.get((sid, "places"), {}).get("province") or {}).get("code")
            facts.append(
                Fact(
                    submission_id=sid,
                    day=local_day(received_at),
                    hour=local_hour(received_at),
                    topic=labels.get((sid, "topic")) or stages.get((sid, "topic"), {}).get("code") or UNKNOWN,
                    province=province or UNKNOWN,
                    channel=channel,
                    sentiment=labels.get((sid, "sentiment"))
                    or stages.get((sid, "sentiment"), {}).get("label")
                    or UNKNOWN,
                    sender=sender_key or f"#{sid}",
                )
            )
    return facts


def stored_facts(session: Session, submission_ids: Sequence[int]) -> list[Fact]:
    """The facts already stored for these submissions."""
    found: list[Fact] = []
    for ids in _chunks(sorted(set(submission_ids))):
        found.extend(
            Fact(*row)
            for row in session.execute(
                select(*FACT_COLUMNS).where(among(session, TrendFactRow.submission_id, ids))
            )
        )
    return found


FACT_COLUMNS = tuple(getattr(TrendFactRow, name) for name in Fact.__dataclass_fields__)

Cells = set[tuple[str, str, str]]
"""``(day, topic, province)`` of changed facts: what a stored spike detection needs to know."""


class Deltas:
    """Changes to counts and sender sets, applied together."""

    def __init__(self, cutoff: str) -> None:
        self.cutoff = cutoff
        self.counts: Counter[tuple[str, ...]] = Counter()
        self.counted: Counter[tuple[str, ...]] = Counter()
        self.senders: Counter[tuple[str, ...]] = Counter()

    def _periods(self, fact: Fact) -> list[tuple[str, str]]:
        periods = [("day", fact.day)]
        if fact.hour >= self.cutoff:
            periods.append(("hour", fact.hour))
        return periods

    def add(self, fact: Fact, sign: int) -> None:
        """Count a fact in (+1) or out (-1)."""
        for unit, period in self._periods(fact):
            key = (unit, period, *fact.cell())
            self.counts[key] += sign
            self.counted[key] += sign * int(fact.counted)
            self.senders[(*key, fact.sender)] += sign

    def recount(self, fact: Fact, counted: bool) -> None:
        """A fact's ``counted`` flag changes to ``counted``."""
        if counted != fact.counted:
            for unit, period in self._periods(fact):
                self.counted[(unit, period, *fact.cell())] += 1 if counted else -1


def _insert(session: Session, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


KEYS = ("unit", "period", *CELL)


def apply(session: Session, deltas: Deltas) -> None:
    """Add the deltas to the counts and sender sets; drop cells and senders that reach zero."""
    keys = set(deltas.counts) | set(deltas.counted)
    rows = [
        {
            **dict(zip(KEYS, key, strict=True)),
            "submissions": deltas.counts[key],
            "counted": deltas.counted[key],
        }
        for key in sorted(keys)
        if deltas.counts[key] or deltas.counted[key]
    ]
    if rows:
        stmt = _insert(session, TrendCountRow)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=list(KEYS),
                set_={
                    "submissions": TrendCountRow.submissions + stmt.excluded.submissions,
                    "counted": TrendCountRow.counted + stmt.excluded.counted,
                },
            ),
            rows,
        )
    senders = [
        {**dict(zip((*KEYS, "sender"), key, strict=True)), "items": n}
        for key, n in sorted(deltas.senders.items())
        if n
    ]
    if senders:
        stmt = _insert(session, TrendSenderRow)
        session.execute(
            stmt.on_conflict_do_update(
                index_elements=[*KEYS, "sender"],
                set_={"items": TrendSenderRow.items + stmt.excluded["items"]},
            ),
            senders,
        )
    _drop_empty(session, TrendCountRow, KEYS, "submissions", [k for k, n in deltas.counts.items() if n < 0])
    _drop_empty(
        session, TrendSenderRow, (*KEYS, "sender"), "items", [k for k, n in deltas.senders.items() if n < 0]
    )


def _drop_empty(
    session: Session, table: Any, keys: Sequence[str], value: str, shrunk: list[tuple[str, ...]]
) -> None:
    """Delete the rows of these keys (those a delta lowered) that reached zero."""
    if shrunk:
        columns = table.__table__.c
        session.execute(
            table.__table__.delete().where(
                *(columns[k] == bindparam(f"k_{k}") for k in keys), columns[value] <= 0
            ),
            [{f"k_{k}": v for k, v in zip(keys, key, strict=True)} for key in sorted(shrunk)],
        )


def replace_facts(session: Session, facts: Sequence[Fact], cutoff: str) -> Cells:
    """Store these facts, counting out any earlier facts of the same submissions (re-analysis);
    returns the cells of the old and new facts."""
    deltas = Deltas(cutoff)
    old = stored_facts(session, [f.submission_id for f in facts])
    kept = {f.submission_id: f for f in old}
    for fact in old:
        deltas.add(fact, -1)
    if old:
        for ids in _chunks([f.submission_id for f in old]):
            session.execute(delete(TrendFactRow).where(among(session, TrendFactRow.submission_id, ids)))
    new = [replace(f, counted=kept[f.submission_id].counted, campaign=kept[f.submission_id].campaign)
           if f.submission_id in kept else f for f in facts]  # fmt: skip
    for fact in new:
        deltas.add(fact, +1)
    if new:
        session.execute(TrendFactRow.__table__.insert(), [vars(f) for f in new])
    apply(session, deltas)
    return {(f.day, f.topic, f.province) for f in (*old, *new)}


def facts_of_campaign(session: Session, campaign: int, member_ids: Sequence[int]) -> list[Fact]:
    """Facts marked as part of ``campaign`` or among its members."""
    found = {f.submission_id: f for f in stored_facts(session, member_ids)}
    for row in session.execute(select(*FACT_COLUMNS).where(TrendFactRow.campaign == campaign)):
        found.setdefault(row[0], Fact(*row))
    return list(found.values())


def mark_campaign(
    session: Session, facts: Sequence[Fact], campaign: int | None, first: int | None, cutoff: str
) -> Cells:
    """Mark facts as members of ``campaign`` (counted only for its first member ``first``), or,
    with ``campaign=None``, as no campaign's (each counted); returns the cells of the facts changed."""
    deltas = Deltas(cutoff)
    changed: Cells = set()
    for fact in facts:
        counted = campaign is None or fact.submission_id == first
        member_of = None if campaign is None else campaign
        if counted == fact.counted and member_of == fact.campaign:
            continue
        deltas.recount(fact, counted)
        changed.add((fact.day, fact.topic, fact.province))
        session.execute(
            update(TrendFactRow)
            .where(TrendFactRow.submission_id == fact.submission_id)
            .values(counted=counted, campaign=member_of)
        )
    apply(session, deltas)
    return changed


def prune_hours(session: Session, cutoff: str) -> None:
    """Drop hourly counts before ``cutoff``."""
    session.execute(delete(TrendCountRow).where(TrendCountRow.unit == "hour", TrendCountRow.period < cutoff))
    session.execute(
        delete(TrendSenderRow).where(TrendSenderRow.unit == "hour", TrendSenderRow.period < cutoff)
    )


def clear(session: Session) -> None:
    """Empty the trend tables and the spike detections stored over them (before a rebuild; on
    PostgreSQL by ``TRUNCATE``, which holds readers of these tables until the rebuild commits)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "TRUNCATE trend_senders, trend_counts, trend_facts, spike_detections, spike_detection_runs, "
                "overview_snapshots"
            )
        )
        return
    for table in (TrendSenderRow, TrendCountRow, TrendFactRow):
        session.execute(delete(table))
    clear_detections(session)


def _local(session: Session, moment: Any, unit: str) -> Any:
    """The Vietnam-time day or hour of a stored instant, in the database's own SQL (Vietnam keeps
    UTC+7 all year, so SQLite's fixed offset equals ``LOCAL_TZ``)."""
    if session.get_bind().dialect.name == "postgresql":
        shape = "YYYY-MM-DD" if unit == "day" else 'YYYY-MM-DD"T"HH24'
        return func.to_char(func.timezone(LOCAL_TZ.key, moment), shape)
    return func.strftime("%Y-%m-%d" if unit == "day" else "%Y-%m-%dT%H", moment, "+7 hours")


def _latest_label(task: str) -> Any:
    """``(submission_id, value)`` of each submission's latest correction of ``task``."""
    latest = (
        select(func.max(LabelRow.id).label("id"))
        .where(LabelRow.task == task)
        .group_by(LabelRow.submission_id)
        .subquery()
    )
    return select(LabelRow.submission_id, LabelRow.value).join(latest, LabelRow.id == latest.c.id).subquery()


def insert_all_facts(session: Session) -> int:
    """Store the facts of every analysed submission in one ``INSERT ... SELECT`` (into empty
    tables, before a rebuild derives the counts): the same facts ``read_facts`` gives, each counted
    and of no campaign. Returns how many were stored."""
    stages = {name: aliased(AnnotationRow, name=f"a_{name}") for name in ("topic", "places", "sentiment")}
    topic_label, sentiment_label = _latest_label("topic"), _latest_label("sentiment")

    def known(*values: Any) -> Any:
        return func.coalesce(*(func.nullif(v, UNKNOWN) for v in values), UNKNOWN)

    query = select(
        SubmissionRow.id,
        _local(session, SubmissionRow.received_at, "day"),
        _local(session, SubmissionRow.received_at, "hour"),
        known(topic_label.c.value, stages["topic"].data["code"].as_string()),
        known(stages["places"].data[("province", "code")].as_string()),
        SubmissionRow.channel,
        known(sentiment_label.c.value, stages["sentiment"].data["label"].as_string()),
        func.coalesce(
            func.nullif(SubmissionRow.sender_key, ""), literal("#") + cast(SubmissionRow.id, String)
        ),
        literal(True),
    ).where(SubmissionRow.analysis_state == "done")
    for name, row in stages.items():
        query = query.outerjoin(row, (row.submission_id == SubmissionRow.id) & (row.stage == name))
    for label in (topic_label, sentiment_label):
        query = query.outerjoin(label, label.c.submission_id == SubmissionRow.id)
    columns = [
        "submission_id",
        "day",
        "hour",
        "topic",
        "province",
        "channel",
        "sentiment",
        "sender",
        "counted",
    ]
    session.execute(TrendFactRow.__table__.insert().from_select(columns, query))
    return int(session.scalar(select(func.count()).select_from(TrendFactRow)) or 0)


@contextmanager
def bulk_loading(session: Session) -> Iterator[None]:
    """Fill the emptied trend tables faster: the facts' secondary indexes are dropped and made again
    at the end (one sort each instead of a million scattered inserts), and on PostgreSQL the
    transaction's joins and groupings get ``REBUILD_WORK_MEM`` (the default 4 MB spills to disk)."""
    indexes = sorted(TrendFactRow.__table__.indexes, key=lambda index: str(index.name))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'"))
    for index in indexes:
        index.drop(connection)
    yield
    for index in indexes:
        index.create(connection)


def mark_members(session: Session, members: Sequence[tuple[int, int, bool]]) -> None:
    """Mark stored facts ``(submission_id, campaign, counted)`` as campaign members, in bulk."""
    table = TrendFactRow.__table__
    for start in range(0, len(members), _CHUNK * 10):
        session.execute(
            table.update()
            .where(table.c.submission_id == bindparam("sid"))
            .values(campaign=bindparam("group"), counted=bindparam("first")),
            [
                {"sid": sid, "group": group, "first": first}
                for sid, group, first in members[start : start + _CHUNK * 10]
            ],
        )


def derive_counts(session: Session, cutoff: str) -> None:
    """Fill the empty counts and sender sets from the stored facts, one ``GROUP BY`` each (hours
    from ``cutoff``)."""
    fact = TrendFactRow
    cell = (fact.topic, fact.province, fact.channel, fact.sentiment)
    counted = func.sum(case((fact.counted.is_(True), 1), else_=0))
    for unit, period, where in (("day", fact.day, []), ("hour", fact.hour, [fact.hour >= cutoff])):
        session.execute(
            TrendCountRow.__table__.insert().from_select(
                [*KEYS, "submissions", "counted"],
                select(literal(unit), period, *cell, func.count(), counted)
                .where(*where)
                .group_by(period, *cell),
            )
        )
        session.execute(
            TrendSenderRow.__table__.insert().from_select(
                [*KEYS, "sender", "items"],
                select(literal(unit), period, *cell, fact.sender, func.count())
                .where(*where)
                .group_by(period, *cell, fact.sender),
            )
        )


def analysed_ids(session: Session, after: int = 0, limit: int = 5_000) -> list[int]:
    """Ids of analysed submissions after ``after``, in order."""
    return list(
        session.scalars(
            select(SubmissionRow.id)
            .where(SubmissionRow.analysis_state == "done", SubmissionRow.id > after)
            .order_by(SubmissionRow.id)
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class Slice:
    """Which cells a figure sums: ``None`` is every value (the level above)."""

    topic: str | None = None
    province: str | None = None
    channel: str | None = None
    sentiment: str | None = None

    def where(self, table: Any) -> list[Any]:
        return [getattr(table, name) == value for name in CELL if (value := getattr(self, name)) is not None]


@dataclass(frozen=True)
class Point:
    """One period of a series: submissions, campaign-once submissions, distinct senders."""

    period: str
    submissions: int
    counted: int
    senders: int


def series(session: Session, unit: str, cut: Slice, first: str | None, last: str | None) -> list[Point]:
    """The periods ``first`` to ``last`` (inclusive, ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH``) of a slice
    that have submissions."""

    def bounds(table: Any) -> list[Any]:
        found = [table.unit == unit, *cut.where(table)]
        if first is not None:
            found.append(table.period >= first)
        if last is not None:
            found.append(table.period <= last)
        return found

    counts = session.execute(
        select(TrendCountRow.period, func.sum(TrendCountRow.submissions), func.sum(TrendCountRow.counted))
        .where(*bounds(TrendCountRow))
        .group_by(TrendCountRow.period)
    ).all()
    senders = dict(
        session.execute(
            select(TrendSenderRow.period, func.count(distinct(TrendSenderRow.sender)))
            .where(*bounds(TrendSenderRow))
            .group_by(TrendSenderRow.period)
        ).all()
    )
    points = [Point(period, int(n), int(c), int(senders.get(period, 0))) for period, n, c in counts]
    return sorted(points, key=lambda p: p.period)


def daily_cells(session: Session, first: str, last: str) -> list[tuple[str, str, str, int]]:
    """``(day, topic, province, submissions)`` of the days ``first`` to ``last``."""
    rows = session.execute(
        select(
            TrendCountRow.period,
            TrendCountRow.topic,
            TrendCountRow.province,
            func.sum(TrendCountRow.submissions),
        )
        .where(TrendCountRow.unit == "day", TrendCountRow.period >= first, TrendCountRow.period <= last)
        .group_by(TrendCountRow.period, TrendCountRow.topic, TrendCountRow.province)
    ).all()
    return [(d, t, p, int(n)) for d, t, p, n in rows]


def distinct_senders(session: Session, cut: Slice, first: str, last: str) -> int:
    """Distinct senders of a slice over the days ``first`` to ``last``."""
    return int(
        session.scalar(
            select(func.count(distinct(TrendSenderRow.sender))).where(
                TrendSenderRow.unit == "day",
                TrendSenderRow.period >= first,
                TrendSenderRow.period <= last,
                *cut.where(TrendSenderRow),
            )
        )
        or 0
    )


def facts_between(session: Session, cut: Slice, first: str, last: str) -> list[Fact]:
    """The facts of a slice on the days ``first`` to ``last``."""
    rows = session.execute(
        select(*FACT_COLUMNS)
        .where(TrendFactRow.day >= first, TrendFactRow.day <= last, *cut.where(TrendFactRow))
        .order_by(TrendFactRow.submission_id)
    )
    return [Fact(*row) for row in rows]


def day_text(day: date) -> str:
    """A day as the facts store it."""
    return day.isoformat()


def put_facts(session: Session, facts: Sequence[Fact]) -> None:
    """Store these facts in place of any earlier ones of the same submissions (a replayed write
    leaves one row each)."""
    for ids in _chunks([f.submission_id for f in facts]):
        session.execute(delete(TrendFactRow).where(TrendFactRow.submission_id.in_(ids)))
    if facts:
        session.execute(TrendFactRow.__table__.insert(), [vars(f) for f in facts])


def put_totals(session: Session, counts: Sequence[dict[str, Any]], senders: Sequence[dict[str, Any]]) -> None:
    """Store final totals (``KEYS`` with ``submissions`` and ``counted``; ``KEYS``, ``sender`` and
    ``items``), each replacing the row of its key: writing the same totals twice changes nothing."""
    for table, rows, keys, values in (
        (TrendCountRow, counts, list(KEYS), ("submissions", "counted")),
        (TrendSenderRow, senders, [*KEYS, "sender"], ("items",)),
    ):
        if rows:
            stmt = _insert(session, table)
            session.execute(
                stmt.on_conflict_do_update(index_elements=keys, set_={v: stmt.excluded[v] for v in values}),
                list(rows),
            )
