"""REST: routing rules (admins write, analysts read), the triage queue, and assignments as facts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from civicpulse.analysis.routing import check_rule, descriptions
from civicpulse.annotations import RouteChoice
from civicpulse.api.deps import Admin, Analyst, Ctx, ReadSession, client_address
from civicpulse.store.routing import (
    Code,
    Rule,
    RuleIn,
    add_rule,
    delete_rule,
    list_rules,
    record_assignment,
    triage_queue,
    update_rule,
)
from civicpulse.taxonomy import Taxonomy

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])

RuleId = Annotated[int, Path(ge=1, le=2**63 - 1)]


class RuleOut(BaseModel):
    """A stored rule and what it says in plain words (``vi``, ``en``)."""

    id: int
    position: int
    topic: str | None
    province: str | None
    commune: str | None
    channel: str | None
    agency: str
    active: bool
    description: dict[str, str]


class WaitingOut(BaseModel):
    """A submission the router was not sure enough of, with its proposals."""

    submission_id: int
    agency: str | None
    confidence: float
    alternatives: list[RouteChoice]


class AssignmentIn(BaseModel):
    """A person's move: assign a submission to an agency, move it, or set the router right."""

    model_config = ConfigDict(extra="forbid")

    submission_id: Annotated[int, Field(ge=1, le=2**63 - 1, strict=True)]
    agency: Code
    kind: Literal["assigned", "reassigned", "corrected"] = "assigned"
    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


class AssignmentOut(BaseModel):
    """A stored assignment fact."""

    id: int
    submission_id: int
    agency: str
    previous: str | None
    kind: str
    actor: str


def _out(rule: Rule, taxonomy: Taxonomy) -> RuleOut:
    return RuleOut(**vars(rule), description=descriptions(rule, taxonomy))


@router.get("/rules", response_model=list[RuleOut])
def read_rules(session: ReadSession, ctx: Ctx, user: Analyst) -> list[RuleOut]:
    """Every rule in the order they are tried (the first that matches a submission wins)."""
    return [_out(rule, ctx.taxonomy) for rule in list_rules(session)]


@router.post("/rules", status_code=201, response_model=RuleOut)
def create_rule(body: RuleIn, ctx: Ctx, user: Admin) -> RuleOut:
    """Add a rule (last unless it names a position); unknown codes are refused with 422."""
    check_rule(body, ctx.taxonomy)
    with ctx.db.write() as session:
        rule = add_rule(session, body, actor=user.email)
    return _out(rule, ctx.taxonomy)


@router.put("/rules/{rule_id}", response_model=RuleOut)
def replace_rule(rule_id: RuleId, body: RuleIn, ctx: Ctx, user: Admin) -> RuleOut:
    """Replace a rule's conditions, agency and state (and position, when given)."""
    check_rule(body, ctx.taxonomy)
    with ctx.db.write() as session:
        rule = update_rule(session, rule_id, body, actor=user.email)
    return _out(rule, ctx.taxonomy)


@router.delete("/rules/{rule_id}", status_code=204)
def remove_rule(rule_id: RuleId, ctx: Ctx, user: Admin) -> Response:
    """Delete a rule."""
    with ctx.db.write() as session:
        delete_rule(session, rule_id)
    return Response(status_code=204)


@router.get("/triage", response_model=list[WaitingOut])
def read_triage(
    session: ReadSession,
    user: Analyst,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> list[WaitingOut]:
    """Routed submissions without an agency, oldest first (page with ``after`` = the last id)."""
    return [
        WaitingOut(
            submission_id=w.submission_id,
            agency=w.routed.agency,
            confidence=w.routed.confidence,
            alternatives=w.routed.alternatives,
        )
        for w in triage_queue(session, limit=limit, after=after)
    ]


@router.post("/assignments", status_code=201, response_model=AssignmentOut)
def assign(body: AssignmentIn, request: Request, ctx: Ctx, user: Analyst) -> AssignmentOut:
    """Assign a submission to an agency; the move is kept as a fact the router learns from."""
    with ctx.db.write() as session:
        fact = record_assignment(
            session,
            body.submission_id,
            body.agency,
            actor=user.email,
            kind=body.kind,
            agencies=[a.code for a in ctx.taxonomy.agencies],
            reason=body.reason,
            client=client_address(request),
            status=201,
        )
        out = AssignmentOut(
            id=fact.id,
            submission_id=fact.submission_id,
            agency=fact.agency,
            previous=fact.previous,
            kind=fact.kind,
            actor=fact.actor,
        )
    request.state.audited = True
    return out
