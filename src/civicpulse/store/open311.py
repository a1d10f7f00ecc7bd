"""Queries of Open311 GeoReport v2: the publicly listed service requests.

Only submissions that came in through Open311 are listed publicly; the filters arrive already
parsed (``civicpulse.intake.open311.RequestQuery``). A request's public address is the place the
``places`` stage resolved, never the string the citizen typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.annotations import PlacesOut, parse_stored
from civicpulse.domain import Channel
from civicpulse.errors import NotFound
from civicpulse.store.tables import (
    AgencyRow,
    AnnotationRow,
    CaseMemberRow,
    CaseRow,
    CaseUpdateRow,
    SubmissionRow,
)

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


def resolved_addresses(session: Session, submission_ids: list[int]) -> dict[int, str]:
    """The public address of each request whose place was resolved: its commune and province names
    (``places`` stage); requests without a resolved place are left out."""
    if not submission_ids:
        return {}
    rows = session.execute(
        select(AnnotationRow.submission_id, AnnotationRow.data).where(
            AnnotationRow.submission_id.in_(submission_ids), AnnotationRow.stage == PlacesOut.stage
        )
    )
    addresses: dict[int, str] = {}
    for submission_id, data in rows:
        places = parse_stored(PlacesOut.stage, data)
        if isinstance(places, PlacesOut):
            names = [unit.name for unit in (places.commune, places.province) if unit is not None]
            if names:
                addresses[submission_id] = ", ".join(names)
    return addresses


@dataclass(frozen=True)
class RequestCase:
    """What a request's case adds to it publicly: the deadline and the agency's directory name."""

    due_at: datetime | None
    agency_name: str | None


def request_cases(session: Session, submission_ids: list[int]) -> dict[int, RequestCase]:
    """The case facts of each request that a case handles."""
    if not submission_ids:
        return {}
    rows = session.execute(
        select(CaseMemberRow.submission_id, CaseRow.due_at, AgencyRow.name_vi)
        .join(CaseRow, CaseRow.id == CaseMemberRow.case_id)
        .outerjoin(AgencyRow, AgencyRow.code == CaseRow.agency)
        .where(CaseMemberRow.submission_id.in_(submission_ids))
    )
    return {submission_id: RequestCase(due_at, name) for submission_id, due_at, name in rows}


@dataclass(frozen=True)
class RequestUpdate:
    """A public update of one listed request (GeoReport's ``servicerequestupdates``)."""

    update_id: str
    service_request_id: str
    status: str
    description: str
    updated_at: datetime


def find_updates(
    session: Session, since: datetime | None, until: datetime | None, limit: int = MAX_REQUESTS
) -> list[RequestUpdate]:
    """Updates of publicly listed requests made in ``[since, until]``, oldest first, at most ``limit``."""
    statement = (
        select(CaseUpdateRow, SubmissionRow.tracking_code)
        .join(CaseMemberRow, CaseMemberRow.case_id == CaseUpdateRow.case_id)
        .join(SubmissionRow, SubmissionRow.id == CaseMemberRow.submission_id)
        .where(SubmissionRow.channel.in_(PUBLIC_CHANNELS))
    )
    if since is not None:
        statement = statement.where(CaseUpdateRow.created_at >= since)
    if until is not None:
        statement = statement.where(CaseUpdateRow.created_at <= until)
    statement = statement.order_by(CaseUpdateRow.created_at, CaseUpdateRow.id, SubmissionRow.id).limit(limit)
    return [
        RequestUpdate(f"{row.id}-{code}", code, row.status, row.description, row.created_at)
        for row, code in session.execute(statement)
    ]
