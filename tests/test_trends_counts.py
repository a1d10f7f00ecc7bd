"""Counts over time: kept incrementally, they equal a plain GROUP BY over the annotations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import String, Table, cast, delete, distinct, func, inspect, literal, select, update
from sqlalchemy.orm import Session, aliased

from civicpulse.insight.campaigns import CampaignRules
from civicpulse.insight.counts import rebuild_counts, update_counts
from civicpulse.store.counts import Slice, series
from civicpulse.store.db import Database
from civicpulse.store.tables import (
    AnnotationRow,
    SubmissionRow,
    TrendCountRow,
    TrendFactRow,
    TrendSenderRow,
)

NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
TOPICS = ["environment", "traffic", "land"]
PROVINCES = ["01", "79", None]
SENDERS = ["a", "b", "c", "d", None]

item = st.fixed_dictionaries(
    {
        "hours_ago": st.integers(0, 24 * 20),  # some inside the hourly window, some before it
        "topic": st.sampled_from(TOPICS),
        "province": st.sampled_from(PROVINCES),
        "channel": st.sampled_from(["web_form", "email"]),
        "sentiment": st.sampled_from(["negative", "neutral", None]),
        "sender": st.sampled_from(SENDERS),
    }
)
operation = st.one_of(
    st.tuples(st.just("add"), st.lists(item, min_size=1, max_size=6)),
    st.tuples(st.just("retopic"), st.integers(0, 100), st.sampled_from(TOPICS)),
)


def add(session: Session, items: list[dict[str, Any]]) -> list[int]:
    ids = []
    for spec in items:
        row = SubmissionRow(
            tracking_code=uuid.uuid4().hex[:16],
            dedup_key=uuid.uuid4().hex,
            content_hash=uuid.uuid4().hex,
            channel=spec["channel"],
            text="x",
            received_at=NOW - timedelta(hours=spec["hours_ago"], minutes=7),
            analysis_state="done",
            sender_key=spec["sender"],
        )
        session.add(row)
        session.flush()
        session.add(AnnotationRow(submission_id=row.id, stage="topic", data={"code": spec["topic"]}))
        places = {"province": {"code": spec["province"], "name": "x"}} if spec["province"] else {}
        session.add(AnnotationRow(submission_id=row.id, stage="places", data=places))
        if spec["sentiment"]:
            session.add(
                AnnotationRow(submission_id=row.id, stage="sentiment", data={"label": spec["sentiment"]})
            )
        ids.append(row.id)
    return ids


def local(session: Session, moment: Any, hour: bool) -> Any:
    """The Vietnam-time day (or hour) of a timestamp, written in each database's own SQL."""
    if session.get_bind().dialect.name == "postgresql":
        shape = 'YYYY-MM-DD"T"HH24' if hour else "YYYY-MM-DD"
        return func.to_char(func.timezone("Asia/Ho_Chi_Minh", moment), shape)
    return func.strftime("%Y-%m-%dT%H" if hour else "%Y-%m-%d", moment, "+7 hours")


def plain_group_by(session: Session, unit: str, by: tuple[str, ...]) -> dict[tuple, tuple[int, int]]:
    """(submissions, distinct senders) grouped by period and ``by``, straight from the annotations."""
    topic, places, sentiment = aliased(AnnotationRow), aliased(AnnotationRow), aliased(AnnotationRow)
    columns = {
        "topic": topic.data["code"].as_string(),
        "province": func.coalesce(places.data[("province", "code")].as_string(), ""),
        "channel": SubmissionRow.channel,
        "sentiment": func.coalesce(sentiment.data["label"].as_string(), ""),
    }
    period = local(session, SubmissionRow.received_at, unit == "hour")
    sender = func.coalesce(SubmissionRow.sender_key, literal("#").concat(cast(SubmissionRow.id, String)))
    keys = [period, *(columns[name] for name in by)]
    query = (
        select(*keys, func.count(), func.count(distinct(sender)))
        .select_from(SubmissionRow)
        .join(topic, (topic.submission_id == SubmissionRow.id) & (topic.stage == "topic"))
        .join(places, (places.submission_id == SubmissionRow.id) & (places.stage == "places"))
        .outerjoin(
            sentiment, (sentiment.submission_id == SubmissionRow.id) & (sentiment.stage == "sentiment")
        )
        .group_by(*keys)
    )
    if unit == "hour":
        query = query.where(SubmissionRow.received_at >= NOW - timedelta(days=14) + timedelta(hours=1))
    return {tuple(row[:-2]): (row[-2], row[-1]) for row in session.execute(query).all()}


def kept_counts(session: Session, unit: str, by: tuple[str, ...]) -> dict[tuple, tuple[int, int]]:
    """The same figures from the maintained tables."""

    def cols(table: Table | Any) -> list[Any]:
        return [table.period, *(getattr(table, name) for name in by)]

    counts = session.execute(
        select(*cols(TrendCountRow), func.sum(TrendCountRow.submissions))
        .where(TrendCountRow.unit == unit)
        .group_by(*cols(TrendCountRow))
    ).all()
    senders = dict(
        (tuple(r[:-1]), r[-1])
        for r in session.execute(
            select(*cols(TrendSenderRow), func.count(distinct(TrendSenderRow.sender)))
            .where(TrendSenderRow.unit == unit)
            .group_by(*cols(TrendSenderRow))
        ).all()
    )
    found = {tuple(r[:-1]): (int(r[-1]), int(senders[tuple(r[:-1])])) for r in counts}
    if unit == "hour":  # hours at the edge of the 14 days depend on the clock: compare whole hours after it
        edge = min(found, default=None)
        found.pop(edge, None) if edge and edge[0] < (NOW - timedelta(days=14)).isoformat() else None
    return found


def reset(db: Database) -> None:
    with db.write() as session:
        for table in (TrendSenderRow, TrendCountRow, TrendFactRow, AnnotationRow, SubmissionRow):
            session.execute(delete(table))


LEVELS = [("topic", "province", "channel", "sentiment"), ("topic",), ("province",), ()]


@hsettings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, min_size=1, max_size=8))
def test_counts_equal_a_plain_group_by_after_random_inserts(db: Database, operations: list) -> None:
    reset(db)
    rules = CampaignRules()
    ids: list[int] = []
    for op in operations:
        with db.write() as session:
            if op[0] == "add":
                batch = add(session, op[1])
                ids.extend(batch)
            elif ids:  # an analyst's re-analysis gives one submission another topic
                batch = [ids[op[1] % len(ids)]]
                session.execute(
                    update(AnnotationRow)
                    .where(AnnotationRow.submission_id == batch[0], AnnotationRow.stage == "topic")
                    .values(data={"code": op[2]})
                )
            else:
                continue
            update_counts(session, batch, rules)
    with db.read() as session:
        for by in LEVELS:
            assert kept_counts(session, "day", by) == plain_group_by(session, "day", by)
            hourly = plain_group_by(session, "hour", by)
            kept = kept_counts(session, "hour", by)
            assert {k: v for k, v in kept.items() if k in hourly} == hourly and set(hourly) <= set(kept)
        # a level's figure is the sum of its parts
        total = sum(p.submissions for p in series(session, "day", Slice(), None, None))
        parts = sum(p.submissions for t in TOPICS for p in series(session, "day", Slice(topic=t), None, None))
        assert total == parts == len(ids)
    with db.write() as session:
        before = kept_counts(session, "day", LEVELS[0])
        assert rebuild_counts(session, rules) == len(ids)
        assert kept_counts(session, "day", LEVELS[0]) == before


def test_a_campaign_is_counted_once_as_it_grows(settings: Any, db: Database) -> None:
    from tests.test_campaigns import _analyse, _copies

    members = _analyse(db, settings, _copies(12, every=timedelta(hours=3)))  # the worker's hooks count it
    with db.read() as session:
        points = series(session, "day", Slice(), None, None)
    assert sum(p.submissions for p in points) == 12 and sum(p.senders for p in points) == 12
    assert sum(p.counted for p in points) == 1  # the campaign's first member only
    with db.write() as session:
        assert rebuild_counts(session, CampaignRules()) == len(members)
        assert sum(p.counted for p in series(session, "day", Slice(), None, None)) == 1


def test_a_rebuild_leaves_the_facts_indexed_as_declared(db: Database) -> None:
    reset(db)
    with db.write() as session:
        add(session, [{"hours_ago": 5, "topic": "land", "province": "79", "channel": "email",
                       "sentiment": None, "sender": "a"}])  # fmt: skip
        assert rebuild_counts(session, CampaignRules()) == 1
    declared = {index.name for index in TrendFactRow.__table__.indexes}
    assert len(declared) == 4
    assert {index["name"] for index in inspect(db.engine).get_indexes("trend_facts")} == declared
