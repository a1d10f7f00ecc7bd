"""schema.org ClaimReview JSON-LD: validation, the fields the claim base keeps, and the export.

An object is checked with the pydantic models below (unknown properties are allowed and kept) and
stored whole, so that export gives back exactly what was imported. ``genre`` tells an official
statement (``official-statement``) from a fact-check (``fact-check``, the default).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from civicpulse.errors import Unprocessable

SCHEMA_CONTEXTS = ("https://schema.org", "http://schema.org", "https://schema.org/", "http://schema.org/")
FACT_CHECK, OFFICIAL_STATEMENT = "fact-check", "official-statement"
KINDS = (FACT_CHECK, OFFICIAL_STATEMENT)


class _Open(BaseModel):
    """A JSON-LD node: the properties checked here, any other kept as given."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _web_url(value: str) -> str:
    if not value.startswith(("https://", "http://")) or len(value) > 2000 or " " in value:
        raise ValueError("must be an http(s) URL of at most 2000 characters")
    return value


def _date(value: str) -> str:
    try:
        (dt.datetime if "T" in value else dt.date).fromisoformat(value)
    except ValueError:
        raise ValueError("must be an ISO 8601 date or date-time") from None
    return value


class Party(_Open):
    """The author of a review or claim: an ``Organization`` or a ``Person`` with a name."""

    type: Literal["Organization", "Person"] = Field(alias="@type")
    name: str = Field(min_length=1, max_length=500)
    url: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _web_url(value)


def work_url(value: Any) -> str:
    """The URL of a ``CreativeWork`` node, or of a bare URL string."""
    if isinstance(value, str):
        return _web_url(value)
    if isinstance(value, Mapping) and isinstance(value.get("url"), str):
        return _web_url(value["url"])
    raise ValueError("must be a URL or a CreativeWork with a url")


def work_urls(value: Any) -> list[str]:
    """The URLs of one work or a list of works."""
    items = value if isinstance(value, list) else [value]
    urls = []
    for index, item in enumerate(items):
        try:
            urls.append(work_url(item))
        except ValueError as exc:
            raise ValueError(f"item {index}: {exc}") from None
    return urls


class Rating(_Open):
    """The verdict: ``alternateName`` is the rating in words ("Sai", "False", "Đúng" ...)."""

    type: Literal["Rating"] = Field(alias="@type")
    alternateName: str = Field(min_length=1, max_length=200)
    ratingValue: int | float | str | None = None
    bestRating: int | float | str | None = None
    worstRating: int | float | str | None = None


class ClaimNode(_Open):
    """The claim reviewed: a ``Claim`` with where it appeared."""

    type: Literal["Claim"] = Field(alias="@type")
    appearance: Any = None
    firstAppearance: Any = None
    author: Party | None = None
    datePublished: str | None = None

    @field_validator("appearance")
    @classmethod
    def _appearance(cls, value: Any) -> Any:
        if value is not None:
            work_urls(value)
        return value

    @field_validator("firstAppearance")
    @classmethod
    def _first(cls, value: Any) -> Any:
        if value is not None:
            work_url(value)
        return value

    @field_validator("datePublished")
    @classmethod
    def _published(cls, value: str | None) -> str | None:
        return None if value is None else _date(value)


class ClaimReview(_Open):
    """One schema.org ClaimReview."""

    context: str | list[Any] | dict[str, Any] = Field(alias="@context")
    type: Literal["ClaimReview"] = Field(alias="@type")
    claimReviewed: str = Field(min_length=1, max_length=5000)
    reviewRating: Rating
    author: Party
    url: str | None = None
    datePublished: str | None = None
    inLanguage: str | None = Field(default=None, min_length=2, max_length=16)
    itemReviewed: ClaimNode | None = None
    genre: Literal["fact-check", "official-statement"] | None = None

    @field_validator("context")
    @classmethod
    def _schema_org(cls, value: Any) -> Any:
        names = value if isinstance(value, list) else [value]
        if not any(isinstance(name, str) and name in SCHEMA_CONTEXTS for name in names):
            raise ValueError("must name https://schema.org")
        return value

    @field_validator("claimReviewed")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _web_url(value)

    @field_validator("datePublished")
    @classmethod
    def _published(cls, value: str | None) -> str | None:
        return None if value is None else _date(value)


@dataclass(frozen=True)
class ClaimFields:
    """What the claim base keeps beside the whole object."""

    kind: str
    claim_reviewed: str
    rating: str
    url: str | None
    author: str
    date_published: str | None
    language: str | None
    appearances: list[str]
    first_appearance: str | None
    jsonld: dict[str, Any]
    fingerprint: str


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if not str(part).startswith(("function-", "union[")))


def validate(obj: Any) -> ClaimReview:
    """``obj`` as a ClaimReview, or ``Unprocessable`` naming each wrong field."""
    if not isinstance(obj, Mapping):
        raise Unprocessable("a ClaimReview must be a JSON object")
    try:
        return ClaimReview.model_validate(dict(obj))
    except ValidationError as exc:
        fields = [{"field": _field_name(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        raise Unprocessable(f"invalid ClaimReview: {summary}", details={"fields": fields}) from None


def fingerprint(obj: Mapping[str, Any]) -> str:
    """The hash of the object's canonical JSON: the same object has the same fingerprint."""
    canonical = json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def fields_of(obj: Mapping[str, Any]) -> ClaimFields:
    """Validate ``obj`` and take out the claim base's fields; the object itself is kept as given."""
    review = validate(obj)
    item = review.itemReviewed
    appearance = item.appearance if item is not None else None
    first = item.firstAppearance if item is not None else None
    original = json.loads(json.dumps(dict(obj)))
    return ClaimFields(
        kind=review.genre or FACT_CHECK,
        claim_reviewed=review.claimReviewed.strip(),
        rating=review.reviewRating.alternateName,
        url=review.url,
        author=review.author.name,
        date_published=review.datePublished,
        language=review.inLanguage,
        appearances=[] if appearance is None else work_urls(appearance),
        first_appearance=None if first is None else work_url(first),
        jsonld=original,
        fingerprint=fingerprint(original),
    )


def build(
    *,
    claim: str,
    rating: str,
    author: str,
    kind: str = FACT_CHECK,
    url: str | None = None,
    date_published: str | None = None,
    language: str | None = None,
    appearances: list[str] | None = None,
) -> dict[str, Any]:
    """A ClaimReview object from the dashboard's form (checked like any import)."""
    obj: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "claimReviewed": claim,
        "reviewRating": {"@type": "Rating", "alternateName": rating},
        "author": {"@type": "Organization", "name": author},
        "genre": kind,
    }
    if url:
        obj["url"] = url
    if date_published:
        obj["datePublished"] = date_published
    if language:
        obj["inLanguage"] = language
    if appearances:
        obj["itemReviewed"] = {
            "@type": "Claim",
            "appearance": [{"@type": "CreativeWork", "url": link} for link in appearances],
            "firstAppearance": {"@type": "CreativeWork", "url": appearances[0]},
        }
    validate(obj)
    return obj


def read_file(text: str) -> list[Any]:
    """The objects of a ClaimReview file: a JSON-LD list (as the export writes) or one object."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unprocessable(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    return data if isinstance(data, list) else [data]
