"""The dashboard's situation report: the same report as the API, for signed-in analysts."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from civicpulse.api.deps import OptionalUser, ReadSession
from civicpulse.api.routers.reports import Day, situation_response
from civicpulse.errors import Forbidden
from civicpulse.identity import is_analyst
from civicpulse.web.i18n import translator
from civicpulse.web.inbox_pages import sign_in_first, translated

router = APIRouter(include_in_schema=False)


@router.get("/reports/situation")
def situation_page(
    request: Request,
    session: ReadSession,
    user: OptionalUser,
    since: Annotated[Day, Query(alias="from")] = None,
    until: Annotated[Day, Query(alias="to")] = None,
    province: Annotated[str | None, Query(max_length=100)] = None,
    fmt: Annotated[Literal["html", "pdf"], Query(alias="format")] = "pdf",
) -> Response:
    """The report in the page's language; anonymous visitors sign in first, only analysts and
    admins get it."""
    if user is None:
        return sign_in_first(request)
    t = translator(request)
    if not is_analyst(user):
        raise Forbidden(t("error.403"))
    with translated(t):
        return situation_response(
            session,
            request.app.state.ctx,
            since=since,
            until=until,
            province=province or None,
            fmt=fmt,
            lang=t.lang,
        )
