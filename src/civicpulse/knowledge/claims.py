"""The claim base: fact-checks and official statements stored from ClaimReview JSON-LD, exported
back unchanged, and linked to the official passages that support them; audited."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from civicpulse.errors import Conflict, NotFound, Unprocessable
from civicpulse.knowledge.claimreview import fields_of
from civicpulse.store import claims as stored
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import ClaimRow


def add(session: Session, obj: Any, *, actor: str, client: str | None = None) -> ClaimRow:
    """Store one ClaimReview object; ``Conflict`` when the same object is stored already."""
    values = fields_of(obj)
    existing = stored.claim_by_fingerprint(session, values.fingerprint)
    if existing is not None:
        raise Conflict(
            f"this ClaimReview is stored already as claim {existing.id}", details={"id": existing.id}
        )
    row = stored.add_claim(session, vars(values), actor=actor)
    record_audit(
        session, actor=actor, action="claim.create", target=f"claim:{row.id}", client=client, status=201
    )
    return row


@dataclass
class ImportResult:
    """What an import did: ids stored, ids already there, and the refused objects by position."""

    added: list[int] = field(default_factory=list)
    existing: list[int] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)


def import_many(session: Session, objects: Iterable[Any], *, actor: str) -> ImportResult:
    """Store every valid object; an object stored before is skipped, an invalid one refused with
    its position and reason (the others are still stored)."""
    result = ImportResult()
    for position, obj in enumerate(objects):
        try:
            values = fields_of(obj)
        except Unprocessable as exc:
            result.refused.append({"position": position, "message": exc.message, "details": exc.details})
            continue
        existing = stored.claim_by_fingerprint(session, values.fingerprint)
        if existing is not None:
            result.existing.append(existing.id)
            continue
        result.added.append(stored.add_claim(session, vars(values), actor=actor).id)
    if result.added:
        record_audit(
            session,
            actor=actor,
            action="claim.import",
            target="claims",
            status=200,
            detail={
                "added": len(result.added),
                "existing": len(result.existing),
                "refused": len(result.refused),
            },
        )
    return result


def export(session: Session) -> list[dict[str, Any]]:
    """Every claim as the ClaimReview object it was stored from, in the order stored."""
    return [row.jsonld for row in stored.list_claims(session)]


def require(session: Session, claim_id: int) -> ClaimRow:
    """The claim of ``claim_id``, or ``NotFound``."""
    row = stored.get_claim(session, claim_id)
    if row is None:
        raise NotFound(f"claim {claim_id} does not exist")
    return row


def link(
    session: Session, claim_id: int, passage_ids: Sequence[int], *, actor: str, client: str | None = None
) -> list[int]:
    """Link supporting passages to a claim (each must be a stored passage); the linked ids in order."""
    require(session, claim_id)
    unknown = sorted(set(passage_ids) - stored.existing_passages(session, passage_ids))
    if unknown:
        raise Unprocessable(
            f"passage_ids: no passage {', '.join(map(str, unknown))}", details={"passage_ids": unknown}
        )
    linked = stored.link_passages(session, claim_id, passage_ids, actor=actor)
    record_audit(
        session,
        actor=actor,
        action="claim.link",
        target=f"claim:{claim_id}",
        client=client,
        status=200,
        detail={"passages": list(passage_ids)},
    )
    return linked
