"""Column mapping: which column of a file holds which field, and how a record becomes a submission.

Headers are matched by name after folding (``Nội dung`` -> ``noi_dung``), against the field names
and the Vietnamese and English names in ``ALIASES``; a column named on the command line wins.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from civicpulse.domain import Channel, SubmissionIn, check_moment
from civicpulse.intake.tabular import Row

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@dataclass(frozen=True)
class ColumnMapping:
    """Which column holds which field; ``None`` means guess from the header."""

    text: str | None = None
    source_id: str | None = None
    received_at: str | None = None
    locality: str | None = None
    channel: str | None = None
    language_hint: str | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None


# Header names (lower case, without diacritics, ``_`` for spaces) that stand for a field.
_ALIAS_WORDS = {
    "text": "content body message noi_dung phan_anh y_kien mo_ta description comment",
    "source_id": "id ma ma_so ma_phan_anh reference ref",
    "received_at": "date time datetime timestamp created_at ngay thoi_gian ngay_gui ngay_nhan ngay_tiep_nhan",
    "locality": "address dia_chi tinh tinh_thanh tinh_thanh_pho location dia_ban",
    "channel": "kenh",
    "language_hint": "language lang ngon_ngu",
    "name": "ho_ten ho_va_ten full_name ten nguoi_gui",
    "phone": "sdt so_dien_thoai dien_thoai tel telephone phone_number",
    "email": "e_mail mail thu_dien_tu",
}
ALIASES: dict[str, tuple[str, ...]] = {key: tuple(words.split()) for key, words in _ALIAS_WORDS.items()}
SUBMISSION_FIELDS = tuple(SubmissionIn.model_fields)
CONTACT_FIELDS = ("name", "phone", "email")
_STRING_FIELDS = ("source_id", "channel", "language_hint", "locality", "service_code")


def header_key(name: str) -> str:
    """A header name folded for matching: ``Nội dung`` -> ``noi_dung``."""
    folded = unicodedata.normalize("NFD", name.strip().lower().replace("đ", "d"))
    folded = "".join(c for c in folded if unicodedata.category(c) != "Mn")
    return re.sub(r"[^a-z0-9]+", "_", folded).strip("_")


class MappingError(ValueError):
    """The columns do not fit: no text column, or a named column is missing."""


def resolve_columns(mapping: ColumnMapping, columns: Sequence[str]) -> dict[str, str]:
    """Field -> column: named columns first, then exact field names, then known header names."""
    resolved: dict[str, str] = {}
    for spec in fields(mapping):
        named = getattr(mapping, spec.name)
        if named is not None:
            if named not in columns:
                raise MappingError(f"column {named!r} is not in the file; columns: {', '.join(columns)}")
            resolved[spec.name] = named
    used = set(resolved.values())
    by_key = {header_key(column): column for column in reversed(columns)}
    for target in (*SUBMISSION_FIELDS, *CONTACT_FIELDS):
        if target in resolved:
            continue
        for key in (target, *ALIASES.get(target, ())):
            column = by_key.get(key)
            if column is not None and column not in used:
                resolved[target] = column
                used.add(column)
                break
    if "text" not in resolved:
        raise MappingError(
            f"no text column among {', '.join(columns) or '(none)'}; name it with --text-column"
        )
    return resolved


# --- values ----------------------------------------------------------------------------------

_VN_TIME = re.compile(
    r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?", re.ASCII
)
_EPOCH = re.compile(r"-?\d{9,11}(\.\d+)?", re.ASCII)


def parse_time(value: Any) -> datetime:
    """ISO 8601, ``dd/mm/yyyy [HH:MM[:SS]]``, epoch seconds or a spreadsheet date; naive means Vietnam.
    A time outside the years 1900-2199 (UTC) is a ``ValueError`` (``domain.check_moment``)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = _from_epoch(float(value))
    else:
        raw = str(value).strip()
        if _EPOCH.fullmatch(raw):
            moment = _from_epoch(float(raw))
        elif match := _VN_TIME.fullmatch(raw):
            day, month, year, hour, minute, second = (int(g) if g else 0 for g in match.groups())
            moment = datetime(year, month, day, hour, minute, second)
        else:
            try:
                moment = datetime.fromisoformat(raw)
            except ValueError:
                raise ValueError(
                    f"cannot read {raw[:40]!r} as a time (ISO 8601, dd/mm/yyyy [HH:MM[:SS]] or epoch seconds)"
                ) from None
    return check_moment(moment if moment.tzinfo is not None else moment.replace(tzinfo=LOCAL_TZ))


def _from_epoch(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError(f"epoch seconds {seconds} are out of range") from exc


def _as_string(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets store 1234 as 1234.0
    return str(value).strip()


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# What a conversion returns for a blank cell (empty or only spaces): the field is left out.
_SKIP: Any = object()


def _string(value: Any) -> Any:
    if value.__class__ is str:
        return value.strip() or _SKIP
    return _as_string(value)


def _lower_string(value: Any) -> Any:
    converted = _string(value)
    return converted if converted is _SKIP else converted.lower()


def _json(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            return _SKIP
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg})") from None
    return value


def _as_is(value: Any) -> Any:
    return _SKIP if isinstance(value, str) and not value.strip() else value


class _Times:
    """``parse_time`` of non-blank cells, remembering recent text: exports repeat the same minutes."""

    LIMIT = 10_000

    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str):
            return parse_time(value)
        found = self._seen.get(value)
        if found is None:
            if not value.strip():
                return _SKIP
            if len(self._seen) >= self.LIMIT:
                self._seen.clear()
            found = self._seen[value] = parse_time(value)
        return found


# (field, column, conversion of a present value, whether it is a contact field)
_Step = tuple[str, str, Callable[[Any], Any], bool]


class RowMapper:
    """Turns a record's fields into a ``SubmissionIn``, or a readable reason why not."""

    def __init__(self, mapping: ColumnMapping, default_channel: Channel, max_text_chars: int) -> None:
        self.mapping = mapping
        self.default_channel = default_channel
        self.max_text_chars = max_text_chars
        self._plans: dict[tuple[str, ...], tuple[str, list[_Step]]] = {}
        self._times = _Times()

    def columns_for(self, keys: tuple[str, ...]) -> dict[str, str]:
        """The resolved mapping for records with these keys."""
        return resolve_columns(self.mapping, keys)

    def _plan(self, keys: tuple[str, ...]) -> tuple[str, list[_Step]]:
        """The text column and the other fields' conversions, for records with these keys (cached)."""
        found = self._plans.get(keys)
        if found is None:
            columns = self.columns_for(keys)
            steps = [
                (target, column, self._conversion(target), target in CONTACT_FIELDS)
                for target, column in columns.items()
                if target != "text"
            ]
            found = self._plans[keys] = (columns["text"], steps)
        return found

    def _conversion(self, target: str) -> Callable[[Any], Any]:
        if target == "channel":
            return _lower_string
        if target in CONTACT_FIELDS or target in _STRING_FIELDS:
            return _string
        if target == "received_at":
            return self._times
        if target in ("contact", "attachments"):
            return _json
        return _as_is

    def build(self, row: Row) -> SubmissionIn | str:
        """The validated submission, or the reason the row is refused."""
        values = row.fields
        text_column, steps = self._plan(tuple(values))
        text = values.get(text_column)
        if not (isinstance(text, str) or text is None):
            text = _as_string(text)
        data: dict[str, Any] = {"channel": self.default_channel, "text": text}
        contact: dict[str, Any] = {}
        for target, column, convert, is_contact in steps:
            value = values.get(column)
            if value is None:
                continue
            try:
                converted = convert(value)
            except ValueError as exc:
                return f"{target}: {exc}"
            if converted is _SKIP:
                continue
            if is_contact:
                contact[target] = converted
            else:
                data[target] = converted
        if contact:
            given = data.get("contact")
            data["contact"] = {**given, **contact} if isinstance(given, dict) else given or contact
        if _blank(text):
            return "text: the text is empty"
        if len(text) > self.max_text_chars:
            return f"text: String should have at most {self.max_text_chars} characters"
        try:
            return SubmissionIn.model_validate(data)
        except ValidationError as exc:
            return validation_reason(exc)


def validation_reason(exc: ValidationError) -> str:
    """Pydantic errors as one line: ``text: String should have at most 20000 characters``."""
    parts = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "row"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)
