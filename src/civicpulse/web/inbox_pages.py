"""The staff inbox (filters, cursor paging, htmx partial updates) and one submission's page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from civicpulse.api.deps import OptionalUser, ReadSession, client_address
from civicpulse.api.queries import MAX_CODE, BadQuery, parse_list_query
from civicpulse.domain import SENTIMENT_LABELS, CaseStatus, Channel, SubmissionOut
from civicpulse.errors import BadRequest, Forbidden, NotFound
from civicpulse.identity import Principal, is_analyst, may_search_raw_text, raw_text_ids, shown_to
from civicpulse.store.audit import audit_text_reads
from civicpulse.store.labels import record_corrections
from civicpulse.store.submissions import (
    SubmissionFilter,
    count_submissions,
    get_submission,
    list_submissions,
)
from civicpulse.store.tables import EventRow
from civicpulse.web.csrf import CsrfProtected
from civicpulse.web.i18n import Translator, translator
from civicpulse.web.render import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
MAX_ID = 2**63 - 1
FilterText = Annotated[str | None, Query(max_length=MAX_CODE)]


def sign_in_first(request: Request) -> Response:
    """Send an anonymous visitor to the sign-in page (htmx requests get a full-page redirect)."""
    target = "/login?next=" + quote(request.url.path + ("?" + request.url.query if request.url.query else ""))
    if request.headers.get("hx-request"):
        return Response(status_code=200, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def _is_partial(request: Request) -> bool:
    """An htmx swap (not a history restore, which needs the whole page)."""
    return bool(request.headers.get("hx-request")) and not request.headers.get("hx-history-restore-request")


@dataclass(frozen=True)
class InboxForm:
    """The filter form as typed: what the page shows back and what links carry along."""

    channel: str = ""
    status: str = ""
    date_from: str = ""
    date_to: str = ""
    q: str = ""
    review: str = ""

    def query(self, **extra: str) -> str:
        """The query string of these filters, without empty values."""
        values = {"channel": self.channel, "status": self.status, "from": self.date_from}
        values.update({"to": self.date_to, "q": self.q, "review": self.review, **extra})
        return urlencode({key: value for key, value in values.items() if value})

    def to_filter(self, t: Translator, user: Principal) -> SubmissionFilter:
        """The store filter, checked like the API's (``api.queries``): dates are whole local days,
        ``to`` included; only admins search the raw text, everyone else the redacted text."""
        with translated(t):
            query = parse_list_query(
                channel=self.channel,
                status=self.status,
                since=self.date_from,
                until=self.date_to,
                q=self.q,
                review=self.review,
            )
        return SubmissionFilter(
            channel=query.channel,
            status=query.status,
            since=query.since,
            until=query.until,
            text=query.text,
            agencies=user.agency_scope(),
            review=query.review,
            search_raw=may_search_raw_text(user),
        )


_LABELS = {
    "channel": "filter.channel",
    "status": "filter.status",
    "from": "filter.from",
    "to": "filter.to",
    "q": "filter.q",
    "review": "filter.review",
    "topic": "themes.topic",
    "place": "themes.place",
}


@contextmanager
def translated(t: Translator) -> Iterator[None]:
    """A refused filter (``BadQuery``) as a 400 with the page language's message."""
    try:
        yield
    except BadQuery as exc:
        label = t(_LABELS.get(exc.param, "filter.label"))
        raise BadRequest(t(exc.key, field=label, **exc.values)) from exc


@router.get("/")
def inbox(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    channel: FilterText = None,
    status: FilterText = None,
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    q: str | None = None,
    review: Annotated[str | None, Query(max_length=5)] = None,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Submissions newest first; an htmx request gets only the rows, pager and count."""
    if user is None:
        return sign_in_first(request)
    form = InboxForm(channel or "", status or "", date_from or "", date_to or "", q or "", review or "")
    filters = form.to_filter(translator(request), user)
    page = list_submissions(session, filters, limit=PAGE_SIZE, cursor=cursor or None)
    context = {
        "form": form,
        "items": _audited_view(request, user, page.items, via="inbox", search=filters),
        "total": count_submissions(session, filters),
        "next_url": "/?" + form.query(cursor=page.next_cursor) if page.next_cursor else None,
        "first_url": "/?" + form.query() if cursor else None,
        "channels": [c.value for c in Channel],
        "statuses": [s.value for s in CaseStatus],
        "active": "inbox",
    }
    name = "inbox_rows.html" if _is_partial(request) else "inbox.html"
    return render(request, name, context, headers={"Vary": "HX-Request"})


def _audited_view(
    request: Request,
    user: Principal,
    items: list[SubmissionOut],
    *,
    via: str,
    search: SubmissionFilter | None = None,
) -> list[SubmissionOut]:
    """The submissions as ``user`` may see them; showing raw text, or searching it, is audited."""
    shown = [shown_to(item, user) for item in items]
    raw_search = search.text if search is not None and search.search_raw else None
    actor, client = user.email, client_address(request)
    db = request.app.state.ctx.db
    audit_text_reads(db, raw_text_ids(shown), actor=actor, client=client, via=via, search=raw_search)
    return shown


def _can_see(user: Principal, agency: str | None) -> bool:
    scope = user.agency_scope()
    return scope is None or agency in scope


@router.get("/submissions/{submission_id}")
def submission_page(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    submission_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> Response:
    """One submission: text, details, attachments, analysis and history (never the contact)."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    try:
        submission = get_submission(session, submission_id)
    except NotFound as exc:
        raise NotFound(t("error.no_submission", id=submission_id)) from exc
    if not _can_see(user, submission.agency):
        raise Forbidden(t("error.other_agency"))
    events = session.scalars(
        select(EventRow).where(EventRow.submission_id == submission_id).order_by(EventRow.at, EventRow.id)
    ).all()
    history = [{"at": submission.received_at, "kind": "received", "actor": None, "detail": {}}]
    history += [{"at": e.at, "kind": e.kind, "actor": e.actor, "detail": e.detail or {}} for e in events]
    history.sort(key=lambda event: event["at"])
    lang = t.lang
    taxonomy = request.app.state.ctx.taxonomy
    context = {
        "submission": _audited_view(request, user, [submission], via="page")[0],
        "history": history,
        "active": "inbox",
        "can_correct": is_analyst(user),
        "corrections": submission.corrections,
        "topics": [
            {"code": topic.code, "name": topic.name_en if lang == "en" else topic.name_vi}
            for topic in taxonomy.topics
        ],
        "sentiments": SENTIMENT_LABELS,
    }
    return render(request, "submission.html", context)


@router.post("/submissions/{submission_id}/labels", dependencies=[CsrfProtected])
def correct_submission(
    request: Request,
    user: OptionalUser,
    submission_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    topic: Annotated[str, Form(max_length=100)] = "",
    sentiment: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Store an analyst's corrections (as facts that win over the model), then show the page again."""
    if user is None:
        return sign_in_first(request)
    if not is_analyst(user):
        raise Forbidden(translator(request)("error.403"))
    ctx = request.app.state.ctx
    chosen = {task: value for task, value in (("topic", topic), ("sentiment", sentiment)) if value}
    with ctx.db.write() as session:
        record_corrections(
            session,
            submission_id,
            chosen,
            actor=user.email,
            topic_codes=ctx.taxonomy.codes(),
            client=client_address(request),
            status=303,
        )
    request.state.audited = True
    return RedirectResponse(f"/submissions/{submission_id}", status_code=303)
