"""Each agency's record over a period, in SQL over the cases layer's tables: cases received,
answered (on time or late), open past their deadline, the median days from receipt to answer and
the distinct senders behind them (for k-anonymity).

The cases layer (``store.cases``) has queries for one case or the overdue list, not aggregates per
agency over a period, so they are written here over its tables (``cases``, ``case_members``).
Citizens' satisfaction comes from their answers to "Did this solve your problem?"
(``store.answers.satisfaction``), given in the period to the agency that published the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from civicpulse.reports.period import Period
from civicpulse.reports.volumes import sender_of
from civicpulse.store.answers import satisfaction
from civicpulse.store.cases import RUNNING
from civicpulse.store.tables import AnnotationRow, CaseMemberRow, CaseRow, SubmissionRow


@dataclass(frozen=True)
class AgencyRecord:
    """One agency's figures for the period."""

    agency: str
    received: int
    answered: int
    on_time: int
    overdue: int
    median_days: float | None
    senders: int
    satisfaction: float | None = None
    feedback: int = 0  # how many citizens answered; the share is shown only from k answers on


def days_between(dialect: str, later: Any, earlier: Any) -> ColumnElement[Any]:
    """``later - earlier`` in days, as a number, on SQLite or PostgreSQL."""
    if dialect == "postgresql":
        return func.extract("epoch", later - earlier) / 86400.0
    return func.julianday(later) - func.julianday(earlier)


def _in(column: Any, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.since, column < period.until)


def agency_records(
    session: Session, period: Period, province: str | None = None, *, now: datetime
) -> list[AgencyRecord]:
    """The record of every agency with a case received, answered or overdue in the period; a case
    is in ``province`` when one of its submissions is."""
    cutoff = min(period.until, now)
    received = _in(CaseRow.clock_start, period)
    answered = _in(CaseRow.answered_at, period)
    deadline = func.coalesce(CaseRow.answer_due_at, CaseRow.due_at)
    on_time = and_(answered, or_(deadline.is_(None), CaseRow.answered_at <= deadline))
    overdue = and_(CaseRow.state.in_(RUNNING), CaseRow.due_at < cutoff)
    relevant = and_(CaseRow.agency.is_not(None), or_(received, answered, overdue))
    if province is not None:
        places = aliased(AnnotationRow)
        in_province = (
            select(CaseMemberRow.submission_id)
            .join(places, and_(places.submission_id == CaseMemberRow.submission_id, places.stage == "places"))
            .where(
                CaseMemberRow.case_id == CaseRow.id, places.data[("province", "code")].as_string() == province
            )
        )
        relevant = and_(relevant, in_province.exists())

    def flag(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    counts = session.execute(
        select(CaseRow.agency, flag(received), flag(answered), flag(on_time), flag(overdue))
        .where(relevant)
        .group_by(CaseRow.agency)
    ).all()
    shown = select(CaseRow.id, CaseRow.agency).where(relevant).subquery()
    senders = dict(
        session.execute(
            select(shown.c.agency, func.count(distinct(sender_of(session))))
            .select_from(shown)
            .join(CaseMemberRow, CaseMemberRow.case_id == shown.c.id)
            .join(SubmissionRow, SubmissionRow.id == CaseMemberRow.submission_id)
            .group_by(shown.c.agency)
        ).all()
    )
    medians = _median_days(session, and_(relevant, answered))
    feedback = satisfaction(session, since=period.since, until=period.until)
    return [
        AgencyRecord(
            agency=agency,
            received=int(r or 0),
            answered=int(a or 0),
            on_time=int(t or 0),
            overdue=int(o or 0),
            median_days=medians.get(agency),
            senders=int(senders.get(agency, 0)),
            satisfaction=feedback[agency].share if agency in feedback else None,
            feedback=feedback[agency].solved + feedback[agency].not_solved if agency in feedback else 0,
        )
        for agency, r, a, t, o in sorted(counts, key=lambda row: row[0])
    ]


def _median_days(session: Session, where: ColumnElement[bool]) -> dict[str, float]:
    """The median days from receipt to answer per agency (window functions, both databases)."""
    days = days_between(session.get_bind().dialect.name, CaseRow.answered_at, CaseRow.clock_start)
    ranked = (
        select(
            CaseRow.agency.label("agency"),
            days.label("days"),
            func.row_number().over(partition_by=CaseRow.agency, order_by=days).label("rank"),
            func.count().over(partition_by=CaseRow.agency).label("n"),
        )
        .where(where)
        .subquery()
    )
    middle = and_(2 * ranked.c.rank >= ranked.c.n, 2 * ranked.c.rank <= ranked.c.n + 2)
    rows = session.execute(
        select(ranked.c.agency, func.avg(ranked.c.days)).where(middle).group_by(ranked.c.agency)
    )
    return {agency: float(value) for agency, value in rows if value is not None}
