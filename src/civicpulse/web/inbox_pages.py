"""The staff inbox (filters, cursor paging, htmx partial updates) and one submission's page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from civicpulse.api.deps import OptionalUser, ReadSession, client_address
from civicpulse.domain import SENTIMENT_LABELS, CaseStatus, Channel, check_clean_text
from civicpulse.errors import BadRequest, Forbidden, NotFound
from civicpulse.identity import Principal, is_analyst, may_search_raw_text, shown_to
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
from civicpulse.web.render import DISPLAY_TZ, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 25
MAX_ID = 2**63 - 1
FilterText = Annotated[str | None, Query(max_length=200)]


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
        """The store filter; dates are whole local days, ``to`` included; only admins search the
        raw text, everyone else the redacted text."""
        if self.channel and self.channel not in Channel.__members__:
            raise BadRequest(t("error.bad_channel", value=self.channel))
        if self.status and self.status not in CaseStatus.__members__:
            raise BadRequest(t("error.bad_status", value=self.status))
        try:
            check_clean_text(self.q)
        except ValueError as exc:
            raise BadRequest(t("err.control", field=t("filter.q"))) from exc
        since = local_day(self.date_from, t)
        until = local_day(self.date_to, t)
        return SubmissionFilter(
            channel=self.channel or None,
            status=self.status or None,
            since=since,
            until=until + timedelta(days=1) if until else None,
            text=self.q.strip() or None,
            agencies=user.agency_scope(),
            review=bool(self.review),
            search_raw=may_search_raw_text(user),
        )


def local_day(value: str, t: Translator) -> datetime | None:
    """Midnight (Vietnam time) of a ``YYYY-MM-DD`` day."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise BadRequest(t("error.bad_date", value=value)) from exc
    return datetime(day.year, day.month, day.day, tzinfo=DISPLAY_TZ)


@router.get("/")
def inbox(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    channel: FilterText = None,
    status: FilterText = None,
    date_from: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=20)] = None,
    q: FilterText = None,
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
        "items": [shown_to(item, user) for item in page.items],
        "total": count_submissions(session, filters),
        "next_url": "/?" + form.query(cursor=page.next_cursor) if page.next_cursor else None,
        "first_url": "/?" + form.query() if cursor else None,
        "channels": [c.value for c in Channel],
        "statuses": [s.value for s in CaseStatus],
        "active": "inbox",
    }
    name = "inbox_rows.html" if _is_partial(request) else "inbox.html"
    return render(request, name, context, headers={"Vary": "HX-Request"})


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
        "submission": shown_to(submission, user),
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
