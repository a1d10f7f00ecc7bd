"""Queries of Open311 GeoReport v2: the publicly listed service requests.

Only submissions that came in through Open311 are listed publicly; the filters arrive already
parsed (``civicpulse.intake.open311.RequestQuery``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.domain import Channel
from civicpulse.errors import NotFound
from civicpulse.store.tables import SubmissionRow

MAX_REQUESTS = 1000
PUBLIC_CHANNELS = (Channel.open311.value,)


@dataclass(frozen=True)
class RequestFilter:
    """Which public requests to list; ``ids``, when given, override every other filter."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()  # stored status values
    since: datetime | None = None
    until: datetime | None = None


def find_requests(session: Session, query: RequestFilter, limit: int = MAX_REQUESTS) -> list[SubmissionRow]:
    """Public service requests matching the filters, newest first, at most ``limit``."""
    statement = select(SubmissionRow).where(SubmissionRow.channel.in_(PUBLIC_CHANNELS))
    if query.ids:  # per the spec, ids override every other filter
        statement = statement.where(SubmissionRow.tracking_code.in_(query.ids))
    else:
        if query.since is not None:
            statement = statement.where(SubmissionRow.received_at >= query.since)
        if query.until is not None:
            statement = statement.where(SubmissionRow.received_at <= query.until)
        if query.service_codes:
            statement = statement.where(SubmissionRow.service_code.in_(query.service_codes))
        if query.statuses:
            statement = statement.where(SubmissionRow.status.in_(query.statuses))
    statement = statement.order_by(SubmissionRow.received_at.desc(), SubmissionRow.id.desc())
    return list(session.scalars(statement.limit(limit)))


def public_request_row(session: Session, code: str) -> SubmissionRow:
    """The publicly listed submission with this tracking code, or ``NotFound``."""
    row = session.scalar(
        select(SubmissionRow).where(
            SubmissionRow.tracking_code == code.strip().upper(),
            SubmissionRow.channel.in_(PUBLIC_CHANNELS),
        )
    )
    if row is None:
        raise NotFound(f"service request {code!r} does not exist")
    return row
