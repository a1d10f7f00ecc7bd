"""The query of the submission and theme lists, parsed once for the API and the dashboard.

Times are ISO 8601: a bare date (``2026-03-01``) is a whole local day (Vietnam time), so ``to``
includes that day; a datetime is an instant, taken as UTC when it has no offset; numbers
(``0.5``) are refused, and so are times outside ``domain.check_moment``'s range. Topic codes must
be in the taxonomy, places must be province codes (or exact names) of the gazetteer; text
parameters have no control characters and at most ``MAX_TEXT`` characters.

A refused value raises ``BadQuery`` (422, naming the parameter); the dashboard shows
``BadQuery.key`` translated with ``BadQuery.values``.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from starlette.requests import Request

from civicpulse.domain import CaseStatus, Channel, check_clean_text, check_moment
from civicpulse.errors import Unprocessable
from civicpulse.intake.mapping import LOCAL_TZ

MAX_TEXT = 200  # q
MAX_CODE = 100  # channel, status, topic, place
MAX_TIME = 40  # from, to
TIME_HELP = (
    "ISO 8601 date (a whole day, Vietnam time; `to` includes it) or datetime (UTC without an offset), "
    "between the years 1900 and 2199"
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_TIME = re.compile(r"\d{4}-?\d{2}-?\d{2}[T ]\S*", re.ASCII)


class BadQuery(Unprocessable):
    """A query parameter that is refused: ``param`` names it, ``key`` and ``values`` are the
    dashboard's message."""

    code = "validation_error"

    def __init__(self, param: str, reason: str, key: str, **values: Any) -> None:
        field_name = f"query.{param}"
        super().__init__(
            f"invalid input: {field_name}: {reason}",
            details={"fields": [{"field": field_name, "message": reason}]},
        )
        self.param = param
        self.key = key
        self.values = values


@dataclass(frozen=True)
class ListQuery:
    """A list's filters, checked: ``until`` is exclusive (the day after a ``to`` date)."""

    channel: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None
    topic: str | None = None
    place: str | None = None
    review: bool = False


def _length(param: str, value: str, limit: int) -> None:
    if len(value) > limit:
        raise BadQuery(param, f"String should have at most {limit} characters", "err.too_long", max=limit)


def parse_time(param: str, value: str | None, *, end: bool = False) -> datetime | None:
    """A ``from`` (``end=False``) or ``to`` (``end=True``) bound: a date is its local day's
    midnight (the next day's for ``to``), a datetime the instant itself."""
    raw = (value or "").strip()
    if not raw:
        return None
    _length(param, raw, MAX_TIME)
    try:
        if _DATE.fullmatch(raw):
            day = date.fromisoformat(raw) + timedelta(days=1 if end else 0)
            moment = datetime(day.year, day.month, day.day, tzinfo=LOCAL_TZ)
        elif _TIME.fullmatch(raw):
            moment = datetime.fromisoformat(raw)
        else:
            raise ValueError("not an ISO 8601 date (YYYY-MM-DD) or datetime")
        return check_moment(moment)
    except (ValueError, OverflowError) as exc:
        raise BadQuery(param, str(exc), "error.bad_date", value=raw) from None


def parse_text(param: str, value: str | None) -> str | None:
    """Search text: no control characters, at most ``MAX_TEXT`` characters; blank means none."""
    raw = value or ""
    _length(param, raw, MAX_TEXT)
    try:
        check_clean_text(raw)
    except ValueError as exc:
        raise BadQuery(param, str(exc), "err.control") from None
    return raw.strip() or None


def _member(param: str, value: str | None, known: Collection[str], key: str, what: str) -> str | None:
    raw = (value or "").strip()
    if not raw:
        return None
    _length(param, raw, MAX_CODE)
    if raw not in known:
        reason = f"{raw!r} is not a known {what}"
        if len(known) <= 20:
            reason += f"; known: {', '.join(known)}"
        raise BadQuery(param, reason, key, value=raw)
    return raw


def parse_channel(value: str | None) -> str | None:
    """A channel name, or none."""
    return _member("channel", value, Channel.__members__, "error.bad_channel", "channel")


def parse_status(value: str | None) -> str | None:
    """A case status, or none."""
    return _member("status", value, CaseStatus.__members__, "error.bad_status", "status")


def parse_topic(value: str | None, topics: Collection[str]) -> str | None:
    """A topic code of the taxonomy, or none."""
    return _member("topic", value, topics, "themes.bad_topic", "topic code")


def parse_place(value: str | None) -> str | None:
    """A province code of the gazetteer (an exact current province name gives its code), or none."""
    from civicpulse.analysis.gazetteer import gazetteer

    raw = (value or "").strip()
    if not raw:
        return None
    provinces = gazetteer().provinces
    by_name = {unit.name: code for code, unit in provinces.items()}
    return _member("place", by_name.get(raw, raw), provinces, "themes.bad_place", "province code")


def parse_review(value: str | bool | None) -> bool:
    """The review flag: true, 1, yes or on; false, 0, no, off or empty."""
    if isinstance(value, bool):
        return value
    raw = (value or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise BadQuery("review", "expected true or false", "err.invalid")


def check_window(since: datetime | None, until: datetime | None) -> None:
    """``from`` must come before ``to`` (a ``to`` date counts to the end of its day)."""
    if since is not None and until is not None and since >= until:
        raise BadQuery("to", "'from' must be before 'to'", "themes.bad_range")


def parse_list_query(
    *,
    channel: str | None = None,
    status: str | None = None,
    since: str | None = None,
    until: str | None = None,
    q: str | None = None,
    review: str | bool | None = None,
    topic: str | None = None,
    place: str | None = None,
    topics: Collection[str] = (),
) -> ListQuery:
    """Every filter of a list, checked in the order the form shows them."""
    query = ListQuery(
        channel=parse_channel(channel),
        status=parse_status(status),
        since=parse_time("from", since),
        until=parse_time("to", until, end=True),
        text=parse_text("q", q),
        topic=parse_topic(topic, topics),
        place=parse_place(place),
        review=parse_review(review),
    )
    check_window(query.since, query.until)
    return query


def single_query_values(request: Request) -> None:
    """Refuse a query parameter given more than once (``?agency=a&agency=b``): every API parameter
    takes one value, and picking one silently would answer another question than the one asked."""
    seen: set[str] = set()
    for key, _ in request.query_params.multi_items():
        if key in seen:
            raise BadQuery(key[:100], "give this parameter once", "error.bad_request")
        seen.add(key)
