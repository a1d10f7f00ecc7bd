"""The agencies directory: who handles cases, where, on which topics, who is above them (for
escalation), how to reach them and which days they are closed.

The taxonomy's flat agency list stays the source of topic → agency: every taxonomy agency is in the
directory as a department without jurisdiction until the directory stores an entry of the same code
(import or admin edit), which then wins. Nothing is copied, so editing the taxonomy file keeps
working as before.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from civicpulse.cases.calendar import WorkingCalendar
from civicpulse.domain import check_clean_text
from civicpulse.errors import NotFound, Unprocessable
from civicpulse.taxonomy import Code, Label, Taxonomy

PlaceCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{2,5}$")]
Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"),
    AfterValidator(check_clean_text),
]
CSV_FIELDS = (
    "code",
    "name_vi",
    "name_en",
    "kind",
    "parent",
    "provinces",
    "communes",
    "topics",
    "email",
    "days_off",
    "needs_approval",
)


class AgencyKind(StrEnum):
    """What sort of body an agency is."""

    department = "department"
    provincial_committee = "provincial_committee"
    commune_committee = "commune_committee"
    public_service_unit = "public_service_unit"


class Agency(BaseModel):
    """One agency of the directory (also the API's body and answer)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code
    name_vi: Label
    name_en: Label
    kind: AgencyKind
    parent: Code | None = Field(default=None, description="The head agency cases escalate to.")
    provinces: list[PlaceCode] = Field(default_factory=list, description="Province codes it covers.")
    communes: list[PlaceCode] = Field(default_factory=list, description="Commune codes it covers.")
    topics: list[Code] = Field(default_factory=list, description="Topic codes it handles.")
    email: Email | None = None
    days_off: list[dt.date] = Field(default_factory=list, description="Its own days off.")
    needs_approval: bool = Field(default=False, description="Answers need a second officer's approval.")
    source: str = Field(default="directory", description="'directory', or 'taxonomy' when not stored.")

    def calendar(self) -> WorkingCalendar:
        """The national working calendar less this agency's days off."""
        return WorkingCalendar(self.days_off)


@dataclass(frozen=True)
class KnownPlaces:
    """The place codes an agency may name: provinces, and each commune's province (given by the
    caller from the gazetteer, which this layer does not import)."""

    provinces: frozenset[str]
    commune_province: Mapping[str, str]


class Directory:
    """Stored agencies over the taxonomy's, by code."""

    def __init__(self, agencies: Iterable[Agency]) -> None:
        self.agencies = {agency.code: agency for agency in agencies}

    @classmethod
    def merged(cls, stored: Iterable[Agency], taxonomy: Taxonomy | None) -> Directory:
        """``stored`` agencies, plus the taxonomy's agencies that are not stored."""
        by_code = {agency.code: agency for agency in stored}
        if taxonomy is not None:
            topics: dict[str, list[str]] = {}
            for topic in taxonomy.topics:
                topics.setdefault(topic.agency, []).append(topic.code)
            for entry in taxonomy.agencies:
                by_code.setdefault(
                    entry.code,
                    Agency(
                        code=entry.code,
                        name_vi=entry.name_vi,
                        name_en=entry.name_en,
                        kind=AgencyKind.department,
                        topics=topics.get(entry.code, []),
                        source="taxonomy",
                    ),
                )
        return cls(sorted(by_code.values(), key=lambda a: a.code))

    def codes(self) -> list[str]:
        """Every agency code, sorted."""
        return list(self.agencies)

    def heads(self) -> dict[str, str | None]:
        """Each agency's head agency (``None`` at the top)."""
        return {code: agency.parent for code, agency in self.agencies.items()}

    def get(self, code: str) -> Agency:
        """The agency of ``code``, or ``NotFound``."""
        agency = self.agencies.get(code)
        if agency is None:
            raise NotFound(f"agency {code!r} is not in the directory")
        return agency

    def require(self, code: str) -> Agency:
        """The agency of ``code``; an unknown code is bad input (422) naming a few known ones."""
        agency = self.agencies.get(code)
        if agency is None:
            known = ", ".join(self.codes()[:20])
            raise Unprocessable(f"agency {code!r} is not in the directory (known: {known})")
        return agency

    def head_of(self, code: str | None) -> str | None:
        """The agency cases of ``code`` escalate to, when there is one."""
        agency = self.agencies.get(code or "")
        return agency.parent if agency is not None else None

    def calendar(self, code: str | None) -> WorkingCalendar:
        """The working calendar of ``code`` (the national one for an unknown or no agency)."""
        agency = self.agencies.get(code or "")
        return agency.calendar() if agency is not None else WorkingCalendar()


def check_agencies(
    agencies: list[Agency],
    *,
    existing: Mapping[str, str | None] | None = None,
    places: KnownPlaces | None = None,
    topics: Iterable[str] | None = None,
) -> list[str]:
    """Problems of a set of agencies: repeated codes, a parent that is neither among them nor in
    ``existing`` (code → head agency of the directory), heads that lead back to the agency, unknown
    place or topic codes."""
    problems: list[str] = []
    codes: set[str] = set()
    for agency in agencies:
        if agency.code in codes:
            problems.append(f"agency {agency.code!r} appears more than once")
        codes.add(agency.code)
    parents = {**(existing or {}), **{a.code: a.parent for a in agencies}}
    known = set(parents)
    known_topics = set(topics) if topics is not None else None
    for agency in agencies:
        where = f"agency {agency.code!r}"
        if agency.parent is not None and agency.parent not in known:
            problems.append(f"{where}: head agency {agency.parent!r} is not in the directory")
        if _cycles(agency.code, parents):
            problems.append(f"{where}: its head agencies lead back to itself")
        if known_topics is not None:
            problems += [f"{where}: unknown topic {t!r}" for t in agency.topics if t not in known_topics]
        if places is not None:
            problems += _place_problems(agency, places)
    return problems


def _cycles(code: str, parents: Mapping[str, str | None]) -> bool:
    seen = {code}
    current = parents.get(code)
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


def _place_problems(agency: Agency, places: KnownPlaces) -> list[str]:
    where = f"agency {agency.code!r}"
    problems = [
        f"{where}: unknown province code {p!r}" for p in agency.provinces if p not in places.provinces
    ]
    for commune in agency.communes:
        province = places.commune_province.get(commune)
        if province is None:
            problems.append(f"{where}: unknown commune code {commune!r}")
        elif agency.provinces and province not in agency.provinces:
            problems.append(f"{where}: commune {commune!r} lies in province {province}, not in its provinces")
    return problems


def parse_agencies(text: str, fmt: str, *, source: str = "<string>") -> list[Agency]:
    """Agencies from TOML (``[[agencies]]`` tables) or CSV (``CSV_FIELDS`` columns, lists split on
    ``;``); every bad row is named in one ``Unprocessable``."""
    if fmt == "toml":
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise Unprocessable(f"{source} is not valid TOML: {exc}") from exc
        rows = raw.get("agencies")
        if not isinstance(rows, list) or set(raw) - {"agencies"}:
            raise Unprocessable(f"{source}: expected only [[agencies]] tables")
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        if reader.fieldnames is None or not {"code", "name_vi", "name_en", "kind"} <= set(reader.fieldnames):
            raise Unprocessable(f"{source}: CSV needs the columns {', '.join(CSV_FIELDS)}")
        rows = [_from_csv(row) for row in reader]
    else:
        raise Unprocessable(f"unknown format {fmt!r}; use toml or csv")
    agencies: list[Agency] = []
    problems: list[str] = []
    for index, row in enumerate(rows):
        try:
            agencies.append(Agency.model_validate({**row, "source": "directory"}))
        except ValidationError as exc:
            code = row.get("code") if isinstance(row, dict) else None
            detail = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or '(row)'}: {e['msg']}" for e in exc.errors()[:5]
            )
            problems.append(f"agencies[{index}] ({code!r}): {detail}")
    if problems:
        raise Unprocessable(
            f"{source} is invalid: {'; '.join(problems[:20])}", details={"problems": problems}
        )
    return agencies


def _from_csv(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key is None or value is None:
            continue
        value = value.strip()
        if key in ("provinces", "communes", "topics", "days_off"):
            out[key] = [part.strip() for part in value.split(";") if part.strip()]
        elif key == "needs_approval":
            out[key] = value.lower() in ("1", "true", "yes")
        elif value or key in ("code", "name_vi", "name_en", "kind"):
            out[key] = value
    return out


def export_agencies(agencies: Iterable[Agency], fmt: str) -> str:
    """The agencies as TOML or CSV, readable by ``parse_agencies``."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\n")
        writer.writeheader()
        for agency in agencies:
            data = agency.model_dump(mode="json", exclude={"source"})
            writer.writerow(
                {k: ";".join(v) if isinstance(v, list) else ("" if v is None else v) for k, v in data.items()}
            )
        return buffer.getvalue()
    if fmt != "toml":
        raise Unprocessable(f"unknown format {fmt!r}; use toml or csv")
    blocks = []
    for agency in agencies:
        data = agency.model_dump(mode="json", exclude={"source"}, exclude_none=True)
        lines = ["[[agencies]]"] + [f"{key} = {_toml_value(value)}" for key, value in data.items()]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string
