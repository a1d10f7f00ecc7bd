"""An official document's metadata: issuer, number, type, dates, URL, language, title; validated.

Types are stored as codes (``nghi_dinh`` ...) and given in any of their spellings: the code, the
Vietnamese name with or without marks, or the English one. Dates are ISO (2024-07-01) or written the
Vietnamese way (01/07/2024)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError, field_validator, model_validator

from civicpulse.domain import Strict
from civicpulse.errors import Unprocessable
from civicpulse.textkit.folding import fold

DOCUMENT_TYPES: dict[str, tuple[str, str]] = {
    "luat": ("Luật", "Law"),
    "nghi_dinh": ("Nghị định", "Decree"),
    "thong_tu": ("Thông tư", "Circular"),
    "quyet_dinh": ("Quyết định", "Decision"),
    "nghi_quyet": ("Nghị quyết", "Resolution"),
    "chi_thi": ("Chỉ thị", "Directive"),
    "cong_van": ("Công văn", "Official letter"),
    "thong_bao": ("Thông báo", "Notice"),
    "ke_hoach": ("Kế hoạch", "Plan"),
    "huong_dan": ("Hướng dẫn", "Guidance"),
    "thu_tuc": ("Thủ tục hành chính", "Administrative procedure"),
    "faq": ("Hỏi đáp", "FAQ"),
    "other": ("Văn bản khác", "Other"),
}
"""Each type's code and its names in Vietnamese and English."""

LANGUAGES = ("vi", "en")
# the abbreviation in a Vietnamese document number ("15/2024/NĐ-CP") names its type
_NUMBER_TYPES = {
    "ND": "nghi_dinh",
    "TT": "thong_tu",
    "QD": "quyet_dinh",
    "NQ": "nghi_quyet",
    "CT": "chi_thi",
    "TB": "thong_bao",
    "KH": "ke_hoach",
    "HD": "huong_dan",
    "QH": "luat",
}
_NUMBER_ABBREVIATION = re.compile(r"/([A-Z]{2})(?:-|$)")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


def _key(value: str) -> str:
    return fold(re.sub(r"[_-]+", " ", value))


_TYPE_NAMES = {_key(name): code for code, names in DOCUMENT_TYPES.items() for name in (code, *names)} | {
    "hoi dap": "faq",
    "faqs": "faq",
    "thu tuc": "thu_tuc",
    "procedure": "thu_tuc",
    "khac": "other",
}


def document_type(value: str) -> str:
    """The code of a type given in any of its spellings; ``ValueError`` naming the known ones."""
    code = _TYPE_NAMES.get(_key(value))
    if code is None:
        known = ", ".join(names[0] for names in DOCUMENT_TYPES.values())
        raise ValueError(f"unknown document type {value!r}; known types: {known}")
    return code


def type_label(code: str, lang: str = "vi") -> str:
    """A type's name in ``lang``."""
    names = DOCUMENT_TYPES.get(code, DOCUMENT_TYPES["other"])
    return names[1] if lang == "en" else names[0]


def type_from_number(number: str | None) -> str | None:
    """The type a Vietnamese document number names ("15/2024/NĐ-CP" → ``nghi_dinh``), if it does."""
    if not number:
        return None
    found = _NUMBER_ABBREVIATION.search(_key(number).upper().replace(" ", "-"))
    return _NUMBER_TYPES.get(found.group(1)) if found else None


def read_date(value: Any) -> Any:
    """A date written ISO (2024-07-01) or day first (01/07/2024); other values are left to pydantic."""
    if isinstance(value, datetime):
        raise ValueError("give a date without a time")
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text:
        return None
    found = _DMY.match(text)
    try:
        if found:
            day, month, year = (int(part) for part in found.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a date; write 2024-07-01 or 01/07/2024") from exc


def _blank_to_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


def _line(limit: int) -> Any:
    """One line of text of at most ``limit`` characters, spaces folded; blank is ``None``."""

    def clean(value: str | None) -> str | None:
        if value is None:
            return None
        if any(ord(char) < 32 and char != "\t" for char in value):
            raise ValueError("control characters are not allowed")
        if len(value) > limit:
            raise ValueError(f"at most {limit} characters")
        return " ".join(value.split()) or None

    return Annotated[str | None, BeforeValidator(_blank_to_none), AfterValidator(clean)]


def _url(value: str | None) -> str | None:
    if value is not None and not _URL.match(value):
        raise ValueError("give an http:// or https:// address")
    return value


Day = Annotated[date | None, BeforeValidator(read_date)]


class DocumentMeta(Strict):
    """What is known about a document besides its text; every field may be left out."""

    title: _line(500) = None
    issuer: _line(300) = None
    number: _line(100) = None
    doc_type: Annotated[str | None, BeforeValidator(_blank_to_none)] = Field(
        default=None, description="Nghị định, Thông tư, Quyết định, Công văn, Thông báo, FAQ ... (or a code)"
    )
    issued_on: Day = None
    effective_on: Day = None
    expires_on: Day = None
    url: Annotated[_line(2000), AfterValidator(_url)] = None
    language: Annotated[str | None, BeforeValidator(_blank_to_none)] = None
    supersedes: Annotated[
        Annotated[int, Field(ge=1, le=2**63 - 1)] | None, BeforeValidator(_blank_to_none)
    ] = None

    @field_validator("doc_type")
    @classmethod
    def _known_type(cls, value: str | None) -> str | None:
        return None if value is None else document_type(value)

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.strip().lower() not in LANGUAGES:
            raise ValueError(f"must be one of: {', '.join(LANGUAGES)}")
        return value.strip().lower()

    @model_validator(mode="after")
    def _dates_in_order(self) -> DocumentMeta:
        if self.issued_on and self.effective_on and self.effective_on < self.issued_on:
            raise ValueError("effective_on: the document cannot take effect before it is issued")
        start = self.effective_on or self.issued_on
        if self.expires_on and start and self.expires_on <= start:
            raise ValueError("expires_on: must come after the document takes effect")
        return self


def read_meta(values: dict[str, Any]) -> DocumentMeta:
    """Validated metadata from loose values (a form, the command line); 422 naming each bad field."""
    try:
        return DocumentMeta.model_validate(values)
    except ValidationError as exc:
        fields = [{"field": _field(error), "message": _message(error)} for error in exc.errors()]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        raise Unprocessable(f"invalid document metadata: {summary}", details={"fields": fields}) from exc


def _raw(error: Any) -> str:
    return str(error.get("msg", "invalid")).removeprefix("Value error, ")


def _field(error: Any) -> str:
    """The field named by the error's place, or by its message ("expires_on: ...") for a check of several."""
    return ".".join(str(part) for part in error["loc"]) or _raw(error).partition(": ")[0]


def _message(error: Any) -> str:
    return _raw(error) if error["loc"] else _raw(error).partition(": ")[2]
