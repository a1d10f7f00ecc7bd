"""REST: the case of a submission and its workflow, merge, split and notes, the overdue list, and
the agencies directory (read by everyone signed in, written by admins)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.orm import Session

from civicpulse.api.context import AppContext
from civicpulse.api.deps import Admin, Ctx, CurrentUser, ReadSession, Writer, client_address
from civicpulse.cases import service
from civicpulse.cases.deadlines import cached_policy
from civicpulse.cases.directory import Agency, KnownPlaces, check_agencies
from civicpulse.cases.models import CaseActionIn, CaseView, MergeIn, NoteIn, SplitIn
from civicpulse.domain import CaseState
from civicpulse.errors import Conflict, NotFound, Unprocessable
from civicpulse.identity import Principal
from civicpulse.store import cases as stored
from civicpulse.store.agencies import agency_in_use, delete_agency, upsert_agencies
from civicpulse.store.audit import record_audit
from civicpulse.store.tables import utcnow
from civicpulse.taxonomy import Code

router = APIRouter(tags=["cases"])

SubmissionId = Annotated[int, Path(ge=1, le=2**63 - 1)]
CaseId = Annotated[int, Path(ge=1, le=2**63 - 1)]
AgencyCode = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]


def _rules(ctx: AppContext, session: Session) -> service.CaseRules:
    return service.CaseRules(
        cached_policy(ctx.settings.case_deadlines_file), service.load_directory(session, ctx.taxonomy)
    )


@router.post("/api/v1/submissions/{submission_id}/case", response_model=CaseView)
def act_on_case(
    submission_id: SubmissionId, body: CaseActionIn, request: Request, ctx: Ctx, user: Writer
) -> CaseView:
    """One workflow step on the submission's case (opened now if it has none). A step the workflow
    does not allow from the case's state is refused with 409 and the allowed actions in
    ``error.details.allowed``."""
    with ctx.db.write() as session:
        case = service.act(
            session, _rules(ctx, session), submission_id, body, user, client=client_address(request)
        )
        request.state.audited = True
        return service.view(session, case, user)


@router.get("/api/v1/submissions/{submission_id}/case", response_model=CaseView)
def read_submission_case(submission_id: SubmissionId, session: ReadSession, user: CurrentUser) -> CaseView:
    """The case handling this submission; 404 while it has none."""
    case = stored.case_of(session, submission_id)
    if case is None:
        raise NotFound(f"submission {submission_id} has no case yet")
    service.check_view(user, case)
    return service.view(session, case, user)


@router.get("/api/v1/cases", response_model=list[CaseView])
def search_cases(
    session: ReadSession,
    user: CurrentUser,
    state: CaseState | None = None,
    agency: Annotated[str | None, Query(max_length=64)] = None,
    overdue: Annotated[bool, Query(description="Only running cases past their deadline.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[CaseView]:
    """Cases the user may see, newest first (``overdue``: by agency, then deadline)."""
    scope = user.agency_scope()
    if overdue:
        rows = stored.overdue_cases(session, utcnow(), agency=agency, scope=scope)[:limit]
    else:
        rows = stored.list_cases(
            session, scope=scope, state=state.value if state else None, agency=agency, limit=limit
        )
    return [service.view(session, case, user) for case in rows]


@router.get("/api/v1/cases/{case_id}", response_model=CaseView)
def read_case(case_id: CaseId, session: ReadSession, user: CurrentUser) -> CaseView:
    """One case."""
    case = stored.get_case(session, case_id)
    if case is None:
        raise NotFound(f"case {case_id} does not exist")
    service.check_view(user, case)
    return service.view(session, case, user)


@router.post("/api/v1/cases/{case_id}/merge", response_model=CaseView)
def merge_cases(case_id: CaseId, body: MergeIn, request: Request, ctx: Ctx, user: Writer) -> CaseView:
    """Handle the cases of these submissions (a campaign, near-duplicates) as this one case."""
    with ctx.db.write() as session:
        case = service.merge(
            session,
            _rules(ctx, session),
            case_id,
            body.submissions,
            body.reason,
            user,
            client=client_address(request),
        )
        request.state.audited = True
        return service.view(session, case, user)


@router.post("/api/v1/cases/{case_id}/split", response_model=CaseView, status_code=201)
def split_case(case_id: CaseId, body: SplitIn, request: Request, ctx: Ctx, user: Writer) -> CaseView:
    """Take these submissions out of the case into a new one (returned), with the same clock."""
    with ctx.db.write() as session:
        part = service.split(
            session,
            _rules(ctx, session),
            case_id,
            body.submissions,
            body.reason,
            user,
            client=client_address(request),
        )
        request.state.audited = True
        return service.view(session, part, user)


@router.post("/api/v1/cases/{case_id}/notes", response_model=CaseView, status_code=201)
def note_case(case_id: CaseId, body: NoteIn, ctx: Ctx, user: Writer) -> CaseView:
    """Add an internal note (never shown to the citizen)."""
    with ctx.db.write() as session:
        case = service.add_note(session, case_id, body.text, user)
        return service.view(session, case, user)


@router.get("/api/v1/agencies", response_model=list[Agency], tags=["agencies"])
def list_agencies(ctx: Ctx, session: ReadSession, user: CurrentUser) -> list[Agency]:
    """The agencies directory: stored agencies, and the taxonomy's that are not stored."""
    return list(service.load_directory(session, ctx.taxonomy).agencies.values())


@router.get("/api/v1/agencies/{code}", response_model=Agency, tags=["agencies"])
def read_agency(code: AgencyCode, ctx: Ctx, session: ReadSession, user: CurrentUser) -> Agency:
    """One agency."""
    return service.load_directory(session, ctx.taxonomy).get(code)


@router.put("/api/v1/agencies/{code}", response_model=Agency, tags=["agencies"])
def put_agency(code: AgencyCode, body: Agency, request: Request, ctx: Ctx, user: Admin) -> Agency:
    """Create or replace a stored agency; its head, places and topics must exist."""
    if body.code != code:
        raise Unprocessable(f"the body's code {body.code!r} differs from the path's {code!r}")
    with ctx.db.write() as session:
        directory = service.load_directory(session, ctx.taxonomy)
        problems = check_agencies(
            [body], existing=directory.heads(), places=known_places(), topics=ctx.taxonomy.codes()
        )
        if problems:
            raise Unprocessable("; ".join(problems), details={"problems": problems})
        upsert_agencies(session, [body.model_dump(mode="json", exclude={"source"})])
        _audit(session, user, "agency.put", code, request)
    return body.model_copy(update={"source": "directory"})


@router.delete("/api/v1/agencies/{code}", status_code=204, tags=["agencies"])
def remove_agency(code: AgencyCode, request: Request, ctx: Ctx, user: Admin) -> None:
    """Remove a stored agency that no case and no other agency refers to."""
    with ctx.db.write() as session:
        reason = agency_in_use(session, code)
        if reason is not None:
            raise Conflict(f"agency {code!r} cannot be removed: {reason}")
        if not delete_agency(session, code):
            raise NotFound(f"agency {code!r} is not stored in the directory")
        _audit(session, user, "agency.delete", code, request)


def _audit(session: Session, user: Principal, action: str, code: Code, request: Request) -> None:
    record_audit(
        session, actor=user.email, action=action, target=f"agency:{code}", client=client_address(request)
    )
    request.state.audited = True


def known_places() -> KnownPlaces:
    """Province and commune codes of the gazetteer (the analysis data, read at this boundary)."""
    from civicpulse.analysis.gazetteer import gazetteer

    gaz = gazetteer()
    return KnownPlaces(
        provinces=frozenset(gaz.provinces),
        commune_province={code: unit.province_code for code, unit in gaz.communes.items()},
    )
