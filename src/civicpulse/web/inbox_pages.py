"""The official's desk: the inbox as a work queue (filters, sorts, saved views, export, cursor
paging, htmx partial updates) and one submission's page, read like a case."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Annotated
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.analysis.gazetteer import gazetteer
from civicpulse.api.deps import OptionalUser, ReadSession, client_address
from civicpulse.api.queries import MAX_CODE, BadQuery, parse_list_query
from civicpulse.api.routers.answers import rules_of
from civicpulse.cases.answers import agency_name
from civicpulse.domain import SENTIMENT_LABELS, CaseStatus, Channel, SubmissionOut
from civicpulse.errors import BadRequest, Forbidden, NotFound, Unprocessable
from civicpulse.identity import Principal, is_analyst, may_search_raw_text, raw_text_ids, shown_to
from civicpulse.insight.campaigns import CampaignRules
from civicpulse.store.audit import audit_text_reads
from civicpulse.store.labels import record_corrections
from civicpulse.store.saved_views import delete_view, list_views, save_view
from civicpulse.store.submissions import (
    Due,
    Sort,
    SubmissionFilter,
    count_submissions,
    get_submission,
    list_submissions,
)
from civicpulse.store.tables import EventRow
from civicpulse.web.csrf import CsrfProtected
from civicpulse.web.desk_export import FORMATS, export_bytes
from civicpulse.web.desk_rows import URGENCY_LEVELS, DeskRow, desk_row
from civicpulse.web.i18n import Translator, translator
from civicpulse.web.render import render
from civicpulse.web.submission_view import case_summary, province_paths

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


SORTS = (Sort.received.value, Sort.urgency.value, Sort.due.value)
DUES = tuple(d.value for d in Due)
EXPORT_LIMIT = 10_000
VIEW_NAME = 100


@dataclass(frozen=True)
class InboxForm:
    """The filter form as typed: what the page shows back and what links carry along."""

    channel: str = ""
    status: str = ""
    date_from: str = ""
    date_to: str = ""
    q: str = ""
    review: str = ""
    topic: str = ""
    place: str = ""
    agency: str = ""
    urgency: str = ""
    due: str = ""
    sort: str = ""
    theme: str = ""

    def query(self, **extra: str) -> str:
        """The query string of these filters, without empty values."""
        values = {"channel": self.channel, "status": self.status, "from": self.date_from}
        values.update({"to": self.date_to, "q": self.q, "review": self.review, "topic": self.topic})
        values.update({"place": self.place, "agency": self.agency, "urgency": self.urgency, "due": self.due})
        values.update({"sort": self.sort, "theme": self.theme, **extra})
        return urlencode({key: value for key, value in values.items() if value})

    @property
    def order(self) -> Sort:
        """The chosen sort (newest received first when none)."""
        return Sort(self.sort) if self.sort else Sort.received

    def to_filter(self, t: Translator, user: Principal, topics: Collection[str]) -> SubmissionFilter:
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
                topic=self.topic,
                place=self.place,
                topics=topics,
            )
            _choice("sort", self.sort, SORTS)
            _choice("urgency", self.urgency, tuple(URGENCY_LEVELS))
            _choice("due", self.due, DUES)
            _choice("agency", self.agency, None)
            theme = _theme_id(t, self.theme)
        return SubmissionFilter(
            channel=query.channel,
            status=query.status,
            since=query.since,
            until=query.until,
            text=query.text,
            agencies=user.agency_scope(),
            review=query.review,
            search_raw=may_search_raw_text(user),
            topic=query.topic,
            province=query.place,
            agency=self.agency.strip() or None,
            min_urgency=URGENCY_LEVELS.get(self.urgency),
            due=Due(self.due) if self.due else None,
            theme=theme,
        )


def _theme_id(t: Translator, value: str) -> int | None:
    """The theme filter's id, or a 400 naming the field."""
    if not value.strip():
        return None
    if not value.strip().isdigit() or len(value.strip()) > 18:
        raise BadRequest(t("desk.bad_theme", value=value[:40]))
    return int(value.strip())


def _choice(param: str, value: str, allowed: tuple[str, ...] | None) -> None:
    """Refuse a value outside ``allowed`` (or, for free codes, one with control characters)."""
    if not value:
        return
    if len(value) > MAX_CODE or (allowed is not None and value not in allowed):
        raise BadQuery(param, f"expected one of {', '.join(allowed or ())}", "err.invalid")
    if allowed is None and not value.isprintable():
        raise BadQuery(param, "control characters are not allowed", "err.invalid")


_LABELS = {
    "channel": "filter.channel",
    "status": "filter.status",
    "from": "filter.from",
    "to": "filter.to",
    "q": "filter.q",
    "review": "filter.review",
    "topic": "themes.topic",
    "place": "themes.place",
    "sort": "desk.sort",
    "urgency": "desk.urgency",
    "due": "desk.due",
    "agency": "desk.agency",
}


@contextmanager
def translated(t: Translator) -> Iterator[None]:
    """A refused filter (``BadQuery``) as a 400 with the page language's message."""
    try:
        yield
    except BadQuery as exc:
        label = t(_LABELS.get(exc.param, "filter.label"))
        raise BadRequest(t(exc.key, field=label, **exc.values)) from exc


Code = Annotated[str | None, Query(max_length=MAX_CODE)]


def _inbox_form(
    channel: FilterText = None,
    status: FilterText = None,
    date_from: Annotated[str | None, Query(alias="from")] = None,
    date_to: Annotated[str | None, Query(alias="to")] = None,
    q: str | None = None,
    review: Annotated[str | None, Query(max_length=5)] = None,
    topic: Code = None,
    place: Code = None,
    agency: Code = None,
    urgency: Code = None,
    due: Code = None,
    sort: Code = None,
    theme: Code = None,
) -> InboxForm:
    values = (channel, status, date_from, date_to, q, review, topic, place, agency, urgency, due, sort, theme)
    return InboxForm(*(value or "" for value in values))


FormQuery = Annotated[InboxForm, Depends(_inbox_form)]


def _agency_names(request: Request, session: Session, lang: str) -> dict[str, str]:
    directory = rules_of(request.app.state.ctx, session).directory
    return {code: agency_name(directory, code, lang) or code for code in directory.codes()}


def _desk_rows(
    request: Request,
    session: Session,
    user: Principal,
    items: list[SubmissionOut],
    filters: SubmissionFilter,
    via: str,
) -> list[DeskRow]:
    """The submissions as ``user`` may see them (reads of raw text audited), in the desk's words."""
    t = translator(request)
    shown = _audited_view(request, user, items, via=via, search=filters)
    names = _agency_names(request, session, t.lang)
    taxonomy = request.app.state.ctx.taxonomy
    return [desk_row(item, taxonomy, t.lang, names, filters.text or "") for item in shown]


@router.get("/")
def inbox(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    form: FormQuery,
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> Response:
    """The work queue: newest received first, or most urgent, or soonest due; an htmx request gets
    only the rows, pager and count."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    taxonomy = request.app.state.ctx.taxonomy
    filters = form.to_filter(t, user, taxonomy.codes())
    page = list_submissions(session, filters, limit=PAGE_SIZE, cursor=cursor or None, sort=form.order)
    names = _agency_names(request, session, t.lang)
    context = {
        "form": form,
        "rows": _desk_rows(request, session, user, page.items, filters, via="inbox"),
        "total": count_submissions(session, filters),
        "next_url": "/?" + form.query(cursor=page.next_cursor) if page.next_cursor else None,
        "first_url": "/?" + form.query() if cursor else None,
        "export_query": form.query(),
        "options": _options(t),
        "topics": [
            (topic.code, topic.name_en if t.lang == "en" else topic.name_vi) for topic in taxonomy.topics
        ],
        "provinces": sorted(
            ((c, u.name) for c, u in gazetteer().provinces.items()), key=lambda pair: pair[1]
        ),
        "agencies": sorted(names.items(), key=lambda pair: pair[1]),
        "views": list_views(session, user.id),
        "active": "inbox",
    }
    name = "inbox_rows.html" if _is_partial(request) else "inbox.html"
    return render(request, name, context, headers={"Vary": "HX-Request"})


def _options(t: Translator) -> dict[str, list[tuple[str, str]]]:
    """The choices of the fixed filters, as ``(value, shown)`` pairs in the page's language."""
    pairs = {
        "sort": [(value, f"desk.sort.{value}") for value in SORTS],
        "urgency": [(value, f"desk.urgency.{value}") for value in URGENCY_LEVELS],
        "due": [(value, f"desk.due.{value}") for value in DUES],
        "status": [(s.value, f"status.{s.value}") for s in CaseStatus],
        "channel": [(c.value, f"channel.{c.value}") for c in Channel],
    }
    return {name: [(value, t(key)) for value, key in choices] for name, choices in pairs.items()}


@router.get("/inbox/export")
def export_inbox(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    form: FormQuery,
    format: Annotated[str, Query(max_length=8)] = "csv",
) -> Response:
    """The filtered list (at most ``EXPORT_LIMIT`` rows, in the page's order) as CSV or XLSX."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    if format not in FORMATS:
        raise BadRequest(t("err.invalid", field="format"))
    filters = form.to_filter(t, user, request.app.state.ctx.taxonomy.codes())
    items: list[SubmissionOut] = []
    cursor: str | None = None
    while len(items) < EXPORT_LIMIT:
        page = list_submissions(session, filters, limit=500, cursor=cursor, sort=form.order)
        items += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    rows = _desk_rows(request, session, user, items[:EXPORT_LIMIT], filters, via="export")
    filename = f"civicpulse-inbox.{format}"
    return Response(
        export_bytes(rows, format),
        media_type=FORMATS[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/inbox/views", dependencies=[CsrfProtected])
def save_inbox_view(
    request: Request,
    user: OptionalUser,
    name: Annotated[str, Form(max_length=VIEW_NAME)] = "",
    query: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Store the current filters and sort under a name of the user's; then show that view."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    label = " ".join(name.split())
    if not label or not label.isprintable():
        raise Unprocessable(t("desk.view_name_needed"))
    form = _form_of_query(query)
    form.to_filter(t, user, request.app.state.ctx.taxonomy.codes())  # a view must load without error
    with request.app.state.ctx.db.write() as session:
        save_view(session, user.id, label, form.query())
    return RedirectResponse("/?" + form.query(), status_code=303)


@router.post("/inbox/views/{view_id}/delete", dependencies=[CsrfProtected])
def delete_inbox_view(
    request: Request, user: OptionalUser, view_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> Response:
    """Remove one of the user's saved views."""
    if user is None:
        return sign_in_first(request)
    with request.app.state.ctx.db.write() as session:
        try:
            delete_view(session, user.id, view_id)
        except NotFound as exc:
            raise NotFound(translator(request)("desk.no_view")) from exc
    return RedirectResponse("/", status_code=303)


def _form_of_query(query: str) -> InboxForm:
    """The inbox form a query string describes (unknown keys dropped, one value each)."""
    values = dict(parse_qsl(query.lstrip("?"), keep_blank_values=False))
    names = {"from": "date_from", "to": "date_to"}
    known = {f.name for f in fields(InboxForm)}
    return InboxForm(**{names.get(k, k): v for k, v in values.items() if names.get(k, k) in known})


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
    """One submission read like a case: what, where, how urgent and why, topic, due date, who
    handles it, near-duplicates and campaign; attachments, corrections; stage outputs folded away."""
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
    ctx = request.app.state.ctx
    shown = _audited_view(request, user, [submission], via="page")[0]
    names = _agency_names(request, session, lang)
    context = {
        "submission": shown,
        "row": desk_row(shown, ctx.taxonomy, lang, names),
        "summary": case_summary(session, shown, CampaignRules.from_settings(ctx.settings), t("desk.marker")),
        "map_paths": province_paths(),
        "history": history,
        "active": "inbox",
        "can_correct": is_analyst(user),
        "corrections": submission.corrections,
        "topics": [
            {"code": topic.code, "name": topic.name_en if lang == "en" else topic.name_vi}
            for topic in ctx.taxonomy.topics
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
