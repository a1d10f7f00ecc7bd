"""The topic taxonomy: topics (Open311 services) and the agencies that handle them, from TOML."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from civicpulse.domain import check_clean_text
from civicpulse.errors import CivicPulseError, NotFound

DEFAULT_TAXONOMY = "taxonomy.toml"

Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")]
Label = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(check_clean_text),
]
LongLabel = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(check_clean_text),
]


class InvalidTaxonomy(CivicPulseError):
    """The taxonomy file is missing, not TOML, or breaks the schema."""

    status, code = 500, "invalid_taxonomy"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agency(_Strict):
    """A body that handles topics, e.g. ``so-yt`` (Sở Y tế)."""

    code: Code
    name_vi: Label
    name_en: Label


class Topic(_Strict):
    """One topic; its ``code`` is also its Open311 service code."""

    code: Code
    name_vi: Label
    name_en: Label
    description_vi: LongLabel
    description_en: LongLabel
    examples: Annotated[list[LongLabel], Field(min_length=1)]
    agency: Code
    keywords: list[Label] = Field(default_factory=list)


class _TaxonomyFile(_Strict):
    agencies: Annotated[list[Agency], Field(min_length=1)]
    topics: Annotated[list[Topic], Field(min_length=1)]


@dataclass(frozen=True)
class Taxonomy:
    """Topics and agencies, validated: codes are unique and every topic's agency exists."""

    topics: tuple[Topic, ...]
    agencies: tuple[Agency, ...]
    source: str

    def codes(self) -> list[str]:
        """Topic codes in file order."""
        return [t.code for t in self.topics]

    def get(self, code: str) -> Topic:
        """The topic of this code, or ``NotFound`` listing the known codes."""
        for topic in self.topics:
            if topic.code == code:
                return topic
        raise NotFound(f"unknown topic {code!r}; known topics: {', '.join(self.codes())}")

    def get_agency(self, code: str) -> Agency:
        """The agency of this code, or ``NotFound`` listing the known codes."""
        for agency in self.agencies:
            if agency.code == code:
                return agency
        known = ", ".join(a.code for a in self.agencies)
        raise NotFound(f"unknown agency {code!r}; known agencies: {known}")

    def agency_by_service(self) -> dict[str, str]:
        """Service (topic) code -> code of the agency responsible for it."""
        return {t.code: t.agency for t in self.topics}


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """The taxonomy in ``path``, or the packaged default when ``path`` is ``None``."""
    if path is None:
        resource = resources.files("civicpulse") / "data" / DEFAULT_TAXONOMY
        return parse_taxonomy(resource.read_text(encoding="utf-8"), source=f"packaged {DEFAULT_TAXONOMY}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidTaxonomy(f"taxonomy file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidTaxonomy(f"taxonomy file {path} cannot be read: {exc}") from exc
    return parse_taxonomy(text, source=str(path))


def parse_taxonomy(text: str, *, source: str = "<string>") -> Taxonomy:
    """Validate TOML text into a ``Taxonomy``; errors name ``source`` and the bad entry."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidTaxonomy(f"taxonomy {source} is not valid TOML: {exc}") from exc
    try:
        parsed = _TaxonomyFile.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(_describe(error, raw) for error in exc.errors()[:10])
        raise InvalidTaxonomy(f"taxonomy {source} is invalid: {problems}") from exc
    problems = [
        *_duplicates("agencies", (a.code for a in parsed.agencies)),
        *_duplicates("topics", (t.code for t in parsed.topics)),
    ]
    known = {a.code for a in parsed.agencies}
    for index, topic in enumerate(parsed.topics):
        if topic.agency not in known:
            problems.append(
                f"topics[{index}] ({topic.code!r}): agency {topic.agency!r} is not one of the "
                f"[[agencies]] ({', '.join(sorted(known))})"
            )
    if problems:
        raise InvalidTaxonomy(f"taxonomy {source} is invalid: {'; '.join(problems)}")
    return Taxonomy(topics=tuple(parsed.topics), agencies=tuple(parsed.agencies), source=source)


def _duplicates(table: str, codes: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    problems = []
    for index, code in enumerate(codes):
        if code in seen:
            problems.append(f"{table}[{index}]: code {code!r} appears more than once")
        seen.add(code)
    return problems


def _describe(error: Any, raw: dict[str, Any]) -> str:
    """``topics[3] ('health').name_vi: Field required`` from a pydantic error."""
    loc = list(error.get("loc", ()))
    where = ""
    if len(loc) >= 2 and isinstance(loc[1], int):
        table, index = loc[0], loc[1]
        where = f"{table}[{index}]"
        entry = raw.get(table, [])
        if isinstance(entry, list) and index < len(entry) and isinstance(entry[index], dict):
            code = entry[index].get("code")
            if isinstance(code, str):
                where += f" ({code!r})"
        loc = loc[2:]
    elif loc:
        where, loc = str(loc[0]), loc[1:]
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else f".{part}"
    message = error.get("msg", "invalid")
    if error.get("type") == "extra_forbidden":
        message = "unknown field"
    return f"{where or '(top level)'}: {message}"
