"""Routing rules and assignment facts; the ``route`` stage's rule source (``StoredRules``).

Rules are data: admins edit them (API, ``civicpulse routing rules import``), and the ``route`` stage
reads the active ones before each batch. Every assignment of a submission to an agency is a fact of
its own (``routing_facts``: who, when, ``assigned`` / ``reassigned`` / ``corrected``, and whether
the router did it); the latest fact by a person per submission is what ``civicpulse train --task
agency`` learns from. Callers check a rule's codes (``analysis.routing.check_rule``) before storing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpulse.annotations import PiiOut, RouteOut, parse_stored, stored_redacted_text
from civicpulse.errors import NotFound, Unprocessable
from civicpulse.store.audit import record_audit
from civicpulse.store.db import Database
from civicpulse.store.tables import (
    AnnotationRow,
    EventRow,
    RoutingFactRow,
    RoutingRuleRow,
    SubmissionRow,
    utcnow,
)

KINDS = ("assigned", "reassigned", "corrected")
ROUTER = "router"
"""The actor of automatic assignments."""

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")]
PlaceCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9]{2,5}$")]


class RuleIn(BaseModel):
    """A rule as written by an admin: conditions left out match anything."""

    model_config = ConfigDict(extra="forbid")

    position: Annotated[int, Field(ge=0, le=1_000_000, strict=True)] | None = Field(
        default=None, description="Rules are tried by position (then id); the last one when left out."
    )
    topic: Code | None = None
    province: PlaceCode | None = None
    commune: PlaceCode | None = None
    channel: Code | None = None
    agency: Code
    active: bool = Field(default=True, strict=True)


@dataclass(frozen=True)
class Rule:
    """A stored rule."""

    id: int
    position: int
    topic: str | None
    province: str | None
    commune: str | None
    channel: str | None
    agency: str
    active: bool

    @classmethod
    def of(cls, row: RoutingRuleRow) -> Rule:
        return cls(
            id=row.id,
            position=row.position,
            topic=row.topic,
            province=row.province,
            commune=row.commune,
            channel=row.channel,
            agency=row.agency,
            active=row.active,
        )


def list_rules(session: Session, *, active_only: bool = False) -> list[Rule]:
    """The rules in the order they are tried."""
    query = select(RoutingRuleRow).order_by(RoutingRuleRow.position, RoutingRuleRow.id)
    if active_only:
        query = query.where(RoutingRuleRow.active.is_(True))
    return [Rule.of(row) for row in session.scalars(query)]


def _next_position(session: Session) -> int:
    last = session.scalar(select(func.max(RoutingRuleRow.position)))
    return 0 if last is None else last + 10


def add_rule(session: Session, rule: RuleIn, *, actor: str) -> Rule:
    """Store a new rule (last in order unless it names a position)."""
    now = utcnow()
    row = RoutingRuleRow(
        position=_next_position(session) if rule.position is None else rule.position,
        **rule.model_dump(exclude={"position"}),
        actor=actor,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    return Rule.of(row)


def update_rule(session: Session, rule_id: int, rule: RuleIn, *, actor: str) -> Rule:
    """Replace a rule's conditions, agency and state (its position too when given)."""
    row = session.get(RoutingRuleRow, rule_id)
    if row is None:
        raise NotFound(f"routing rule {rule_id} does not exist")
    for key, value in rule.model_dump(exclude={"position"}).items():
        setattr(row, key, value)
    if rule.position is not None:
        row.position = rule.position
    row.actor, row.updated_at = actor, utcnow()
    session.flush()
    return Rule.of(row)


def delete_rule(session: Session, rule_id: int) -> None:
    """Remove a rule."""
    row = session.get(RoutingRuleRow, rule_id)
    if row is None:
        raise NotFound(f"routing rule {rule_id} does not exist")
    session.delete(row)
    session.flush()


def replace_rules(session: Session, rules: Sequence[RuleIn], *, actor: str) -> list[Rule]:
    """Replace every rule by ``rules``, in their order (an import of the whole table)."""
    for row in session.scalars(select(RoutingRuleRow)):
        session.delete(row)
    session.flush()
    return [add_rule(session, rule, actor=actor) for rule in rules]


class StoredRules:
    """The ``route`` stage's rule source (``analysis.route.RuleSource``) over this store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def active_rules(self) -> list[Rule]:
        """The active rules in order."""
        with self.db.read() as session:
            return list_rules(session, active_only=True)

    def channels(self, submission_ids: Iterable[int]) -> dict[int, str]:
        """The channel of each stored submission among ``submission_ids``."""
        ids = list(submission_ids)
        if not ids:
            return {}
        with self.db.read() as session:
            rows = session.execute(
                select(SubmissionRow.id, SubmissionRow.channel).where(SubmissionRow.id.in_(ids))
            )
            return {row.id: row.channel for row in rows}


def record_assignment(
    session: Session,
    submission_id: int,
    agency: str,
    *,
    actor: str,
    kind: Literal["assigned", "reassigned", "corrected"] = "assigned",
    agencies: Iterable[str] | None = None,
    reason: str | None = None,
    automatic: bool = False,
    client: str | None = None,
    status: int | None = None,
) -> RoutingFactRow:
    """Assign a submission to ``agency`` and keep the move as a fact, with a line in its history;
    a person's move is audited. ``agencies``, when given, are the codes ``agency`` must be one of."""
    if kind not in KINDS:
        raise Unprocessable(f"unknown kind {kind!r}; choose one of: {', '.join(KINDS)}")
    known = None if agencies is None else tuple(agencies)
    if known is not None and agency not in known:
        raise Unprocessable(f"unknown agency {agency!r}; choose one of: {', '.join(known)}")
    submission = session.get(SubmissionRow, submission_id)
    if submission is None:
        raise NotFound(f"submission {submission_id} does not exist")
    now = utcnow()
    fact = RoutingFactRow(
        submission_id=submission_id,
        agency=agency,
        previous=submission.agency,
        kind=kind,
        automatic=automatic,
        actor=actor,
        reason=reason,
        created_at=now,
    )
    session.add(fact)
    submission.agency, submission.updated_at = agency, now
    detail = {"agency": agency, "previous": fact.previous, "kind": kind, "automatic": automatic}
    session.add(EventRow(submission_id=submission_id, at=now, kind=kind, actor=actor, detail=detail))
    if not automatic:
        record_audit(
            session,
            actor=actor,
            action=f"routing.{kind}",
            target=f"submission:{submission_id}",
            client=client,
            status=status,
            detail=detail | ({"reason": reason} if reason else {}),
        )
    session.flush()
    return fact


def auto_assign(session: Session, submission_ids: Iterable[int]) -> list[int]:
    """Assign each of ``submission_ids`` that has no agency yet to the best agency of its ``route``
    output when that output is sure enough (``auto_assign``); the ids assigned. The others wait in
    the triage queue."""
    ids = list(submission_ids)
    if not ids:
        return []
    rows = session.execute(
        select(AnnotationRow.submission_id, AnnotationRow.data)
        .join(SubmissionRow, SubmissionRow.id == AnnotationRow.submission_id)
        .where(
            AnnotationRow.stage == RouteOut.stage,
            AnnotationRow.submission_id.in_(ids),
            SubmissionRow.agency.is_(None),
        )
    ).all()
    assigned = []
    for submission_id, data in rows:
        routed = parse_stored(RouteOut.stage, data)
        if isinstance(routed, RouteOut) and routed.auto_assign and routed.agency:
            record_assignment(session, submission_id, routed.agency, actor=ROUTER, automatic=True)
            assigned.append(submission_id)
    return assigned


@dataclass(frozen=True)
class Waiting:
    """A routed submission waiting for a person: its proposals, best first."""

    submission_id: int
    routed: RouteOut


def triage_queue(session: Session, *, limit: int = 50, after: int = 0) -> list[Waiting]:
    """Routed submissions without an agency (the router was not sure enough), oldest first."""
    rows = session.execute(
        select(AnnotationRow.submission_id, AnnotationRow.data)
        .join(SubmissionRow, SubmissionRow.id == AnnotationRow.submission_id)
        .where(
            AnnotationRow.stage == RouteOut.stage,
            SubmissionRow.agency.is_(None),
            SubmissionRow.id > after,
        )
        .order_by(SubmissionRow.id)
        .limit(limit)
    ).all()
    found = [(sid, parse_stored(RouteOut.stage, data)) for sid, data in rows]
    return [Waiting(sid, routed) for sid, routed in found if isinstance(routed, RouteOut)]


def assignment_texts(session: Session) -> list[tuple[str, str]]:
    """``(redacted text, agency)`` of the latest assignment by a person of each submission: what the
    learned router is trained on (redacted only: a model file must never carry personal data)."""
    latest = (
        select(func.max(RoutingFactRow.id))
        .where(RoutingFactRow.automatic.is_(False))
        .group_by(RoutingFactRow.submission_id)
    )
    rows = session.execute(
        select(RoutingFactRow.agency, AnnotationRow.data)
        .join(
            AnnotationRow,
            (AnnotationRow.submission_id == RoutingFactRow.submission_id)
            & (AnnotationRow.stage == PiiOut.stage),
        )
        .where(RoutingFactRow.id.in_(latest))
        .order_by(RoutingFactRow.submission_id)
    )
    return [(text, agency) for agency, data in rows if (text := stored_redacted_text(data)) is not None]
