"""The one door into the store: validated submissions in, accepted ids and tracking codes out."""

from __future__ import annotations

from collections.abc import Sequence

from civicpulse.domain import Accepted, SubmissionIn
from civicpulse.store.audit import record_audit
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.submissions import accept_submissions


def accept(
    db: Database,
    cipher: ContactCipher,
    items: Sequence[SubmissionIn],
    *,
    actor: str,
    client: str | None,
    action: str = "submission.create",
    agency_by_service: dict[str, str] | None = None,
) -> list[Accepted]:
    """Store the items and their analysis jobs in one transaction, with one audit event.

    When this returns, every accepted item is durable and queued for analysis; when it raises,
    nothing of the batch was stored.
    """
    if not items:
        return []
    with db.write() as session:
        results = accept_submissions(session, items, cipher, default_agency=agency_by_service)
        new = sum(not r.duplicate for r in results)
        record_audit(
            session,
            actor=actor,
            action=action,
            target=_target(results),
            client=client,
            status=201 if new else 200,
            detail={"received": len(results), "new": new},
        )
    return results


def _target(results: Sequence[Accepted]) -> str:
    if len(results) == 1:
        return f"submission:{results[0].id}"
    return f"submissions:{len(results)}"
