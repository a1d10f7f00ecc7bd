"""The one door into the store: validated submissions in, accepted ids and tracking codes out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from civicpulse.domain import Accepted, SubmissionIn
from civicpulse.store.audit import AuditEvent, record_audits
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.submissions import accept_submissions


@dataclass(frozen=True)
class IntakeRequest:
    """One caller's submissions, with who sent them for the audit log."""

    items: Sequence[SubmissionIn]
    actor: str
    client: str | None
    action: str = "submission.create"


def accept_many(
    db: Database,
    cipher: ContactCipher,
    requests: Sequence[IntakeRequest],
    *,
    agency_by_service: Mapping[str, str] | None = None,
) -> list[list[Accepted]]:
    """Store several callers' submissions in ONE transaction, with one audit event per caller.

    When this returns, every accepted item is durable and queued for analysis; when it raises,
    nothing of any request was stored.
    """
    items = [item for request in requests for item in request.items]
    if not items:
        return [[] for _ in requests]
    with db.write() as session:
        results = accept_submissions(session, items, cipher, default_agency=agency_by_service)
        per_request: list[list[Accepted]] = []
        events: list[AuditEvent] = []
        start = 0
        for request in requests:
            mine = results[start : start + len(request.items)]
            start += len(request.items)
            per_request.append(mine)
            new = sum(not r.duplicate for r in mine)
            events.append(
                AuditEvent(
                    actor=request.actor,
                    action=request.action,
                    target=_target(mine),
                    client=request.client,
                    status=201 if new else 200,
                    detail={"received": len(mine), "new": new},
                )
            )
        record_audits(session, events)
    return per_request


def accept(
    db: Database,
    cipher: ContactCipher,
    items: Sequence[SubmissionIn],
    *,
    actor: str,
    client: str | None,
    action: str = "submission.create",
    agency_by_service: Mapping[str, str] | None = None,
) -> list[Accepted]:
    """Store one caller's items and their analysis jobs in one transaction, with one audit event."""
    request = IntakeRequest(items=items, actor=actor, client=client, action=action)
    return accept_many(db, cipher, [request], agency_by_service=agency_by_service)[0]


def _target(results: Sequence[Accepted]) -> str:
    if len(results) == 1:
        return f"submission:{results[0].id}"
    return f"submissions:{len(results)}"
