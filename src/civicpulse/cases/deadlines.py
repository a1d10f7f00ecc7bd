"""Deadlines by case type and topic (TOML), and the clock a period sets: when it warns (75 % of the
time used) and when it is due."""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from civicpulse.cases.calendar import WorkingCalendar, end_of_day, local_date, start_of_day
from civicpulse.errors import CivicPulseError

WARNING_SHARE = 0.75
DEFAULT_DEADLINES = "deadlines.toml"


class CaseType(StrEnum):
    """What the citizen's letter is in law; it sets the deadlines."""

    complaint = "complaint"
    denunciation = "denunciation"
    petition = "petition"
    request = "request"


class InvalidDeadlines(CivicPulseError):
    """The deadlines file is missing, not TOML, or breaks the schema."""

    status, code = 500, "invalid_deadlines"


class Period(BaseModel):
    """``days`` working days, or calendar days ending on a working day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days: Annotated[int, Field(ge=1, le=366)]
    working: bool = True

    def describe(self) -> str:
        """``10 working days`` / ``30 days``."""
        return f"{self.days} working days" if self.working else f"{self.days} days"


class TypeDeadlines(BaseModel):
    """The periods of one case type."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    accept: Period
    answer: Period
    answer_complex: Period


class TopicDeadlines(BaseModel):
    """A topic's case type, and periods of its own where set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: CaseType
    accept: Period | None = None
    answer: Period | None = None
    answer_complex: Period | None = None


class _DeadlinesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    urgent_min_score: Annotated[float, Field(ge=0, le=1)] = 0.5
    default_type: CaseType = CaseType.petition
    types: dict[CaseType, TypeDeadlines]
    topics: dict[str, TopicDeadlines] = Field(default_factory=dict)


@dataclass(frozen=True)
class Clock:
    """A running deadline: it starts, warns and falls due."""

    start: dt.datetime
    warn_at: dt.datetime
    due_at: dt.datetime


def clock(start: dt.datetime, period: Period, calendar: WorkingCalendar) -> Clock:
    """The clock of ``period`` from ``start``. The day of ``start`` is not counted (the period runs
    from the next day); the deadline is the end of its last day, Viet Nam time. Working periods warn
    once 75 % of their working time has passed; calendar periods at 75 % of their span."""
    first = local_date(start)
    if period.working:
        due = end_of_day(calendar.add_working_days(first, period.days))
        share = WARNING_SHARE * period.days
        whole = math.floor(share)
        fraction = share - whole
        if fraction == 0:
            warn = end_of_day(calendar.add_working_days(first, whole))
        else:
            warn = start_of_day(calendar.add_working_days(first, whole + 1)) + dt.timedelta(days=fraction)
        return Clock(start, warn, due)
    nominal = first + dt.timedelta(days=period.days)
    due = end_of_day(calendar.next_working_day(nominal))
    begin = end_of_day(first)
    warn = begin + (end_of_day(nominal) - begin) * WARNING_SHARE
    return Clock(start, warn, due)


def capped(found: Clock, latest: dt.datetime | None) -> Clock:
    """``found`` brought forward to ``latest`` when that is sooner (urgency); it then warns at 75 %
    of the shortened span."""
    if latest is None or latest >= found.due_at:
        return found
    warn = found.start + max(latest - found.start, dt.timedelta()) * WARNING_SHARE
    return Clock(found.start, min(warn, latest), latest)


@dataclass(frozen=True)
class DeadlinePolicy:
    """Case types, their periods, and what topics override."""

    types: dict[CaseType, TypeDeadlines]
    topics: dict[str, TopicDeadlines] = field(default_factory=dict)
    default_type: CaseType = CaseType.petition
    urgent_min_score: float = 0.5
    source: str = "<default>"

    def type_of(self, topic: str | None) -> CaseType:
        """The case type of a topic (``default_type`` for others and for none)."""
        entry = self.topics.get(topic or "")
        return entry.type if entry is not None else self.default_type

    def period(self, case_type: CaseType, topic: str | None, phase: str) -> Period:
        """The period of ``phase`` (``accept``, ``answer``, ``answer_complex``): the topic's own when
        it sets one for this type, else the type's."""
        entry = self.topics.get(topic or "")
        own = getattr(entry, phase) if entry is not None and entry.type == case_type else None
        return own if own is not None else getattr(self.types[case_type], phase)


def load_policy(path: Path | None = None) -> DeadlinePolicy:
    """The policy in ``path``, or the packaged default."""
    if path is None:
        text = (resources.files("civicpulse.cases") / DEFAULT_DEADLINES).read_text(encoding="utf-8")
        return parse_policy(text, source=f"packaged {DEFAULT_DEADLINES}")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidDeadlines(f"deadlines file {path} cannot be read: {exc}") from exc
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str = "<string>") -> DeadlinePolicy:
    """Validate TOML text into a ``DeadlinePolicy``; every case type must have its periods."""
    try:
        raw: dict[str, Any] = tomllib.loads(text)
        parsed = _DeadlinesFile.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidDeadlines(f"deadlines {source} is not valid TOML: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10])
        raise InvalidDeadlines(f"deadlines {source} are invalid: {problems}") from exc
    missing = [t.value for t in CaseType if t not in parsed.types]
    if missing:
        raise InvalidDeadlines(f"deadlines {source} lack [types.{missing[0]}]")
    return DeadlinePolicy(
        types=dict(parsed.types),
        topics=dict(parsed.topics),
        default_type=parsed.default_type,
        urgent_min_score=parsed.urgent_min_score,
        source=source,
    )


@lru_cache(maxsize=8)
def cached_policy(path: Path | None) -> DeadlinePolicy:
    """``load_policy(path)``, read once per process."""
    return load_policy(path)
