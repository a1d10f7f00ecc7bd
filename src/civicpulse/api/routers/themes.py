"""REST: the themes of a slice, and analysts' decisions about themes."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from civicpulse.api.deps import Analyst, Ctx, CurrentUser, ReadSession, client_address
from civicpulse.api.queries import MAX_CODE, MAX_TIME, TIME_HELP, parse_list_query
from civicpulse.insight.themes.decisions import MAX_LABEL, MAX_PARTS, MIN_PARTS, record_decision
from civicpulse.insight.themes.models import ThemesOut
from civicpulse.insight.themes.service import ThemeSlice, themes_view

router = APIRouter(prefix="/api/v1/themes", tags=["themes"])

ThemeId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Code = Annotated[str, Query(min_length=1, max_length=MAX_CODE)]


class DecisionIn(BaseModel):
    """An analyst's decision: rename (``value``), merge into ``target_id``, split into ``parts``
    new themes, or dismiss."""

    model_config = ConfigDict(extra="forbid")

    action: Literal["rename", "merge", "split", "dismiss"]
    value: Annotated[str, Field(min_length=1, max_length=MAX_LABEL)] | None = None
    target_id: Annotated[int, Field(ge=1, le=2**63 - 1, strict=True)] | None = None
    parts: Annotated[int, Field(ge=MIN_PARTS, le=MAX_PARTS, strict=True)] = MIN_PARTS


class DecisionOut(BaseModel):
    """A stored decision."""

    id: int
    theme_id: int
    action: str
    value: str | None
    target_id: int | None
    children: list[int] | None = None


@router.get("", response_model=ThemesOut)
def list_themes(
    session: ReadSession,
    ctx: Ctx,
    user: CurrentUser,
    since: Annotated[str | None, Query(alias="from", max_length=MAX_TIME, description=TIME_HELP)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=MAX_TIME, description=TIME_HELP)] = None,
    topic: Code | None = None,
    place: Code | None = None,
) -> ThemesOut:
    """Themes of the submissions received in [from, to), optionally of one topic and one place
    (province code or exact name). Themes with fewer distinct senders than k-anonymity are held back
    and counted in ``suppressed``; quotes are redacted text."""
    query = parse_list_query(since=since, until=until, topic=topic, place=place, topics=ctx.taxonomy.codes())
    cut = ThemeSlice(
        since=query.since,
        until=query.until,
        topic=query.topic,
        place=query.place,
        agencies=user.agency_scope(),
    )
    return themes_view(session, cut, k_anonymity=ctx.settings.k_anonymity)


@router.post("/{theme_id}/decisions", status_code=201, response_model=DecisionOut)
def decide_theme(
    theme_id: ThemeId, body: DecisionIn, request: Request, ctx: Ctx, user: Analyst
) -> DecisionOut:
    """Record a decision about a theme; it is applied to every later computation."""
    with ctx.db.write() as session:
        row = record_decision(
            session,
            theme_id,
            body.action,
            actor=user.email,
            client=client_address(request),
            status=201,
            value=body.value,
            target_id=body.target_id,
            parts=body.parts,
        )
        out = DecisionOut(
            id=row.id,
            theme_id=row.theme_id,
            action=row.action,
            value=row.value,
            target_id=row.target_id,
            children=row.children,
        )
    request.state.audited = True
    return out
