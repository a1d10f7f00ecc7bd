"""Urgency: a 0-1 score from transparent rules and a learned model, the reasons, a suggested deadline.

The rules (categories of terms with weights, neutral phrases, and the deadline policy by score band)
live in a TOML file: the packaged ``urgency_rules.toml`` or the one named by the setting
``urgency_rules_file``. Neutral phrases ("xe máy chết máy", "cháy hàng", "gấp đôi") take their words
out of the match, so a figurative use never counts as a danger. When the rules alone do not call an
item urgent, the learned model (``urgency_model.py``) may add one more signal, "similar to urgent
reports", with the words that weighed most; it can lift an item into the first urgent band, never
into the top one, which only the rules set. The setting ``urgency_learned`` (on by default) turns
the model off for an office that wants its written rules alone. The deadline counts from the time
the citizen sent the item (its ``received_at``), not from the time it is analysed; the policy is a
configurable default, not a legal deadline.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import ClassVar
from zoneinfo import ZoneInfo

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult, analysis_text
from civicpulse.analysis.features import Lexicon, fold_ascii, tokens
from civicpulse.analysis.urgency_model import packaged_model
from civicpulse.annotations import EmbedOut, UrgencyOut, UrgencyReason
from civicpulse.errors import CivicPulseError
from civicpulse.settings import Settings

LOCAL_TIME = ZoneInfo("Asia/Ho_Chi_Minh")
NEUTRAL = ""
"""The category code of neutral phrases: matched to take their words out, never a reason."""
_DATE = re.compile(
    r"\b(?:truoc|han chot|han|den|by|before|deadline)\s*(?:ngay|la|:)?\s*"
    r"(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2,4}))?"
)
_TOMORROW = re.compile(r"\b(?:ngay mai|sang mai|chieu mai|toi mai|tomorrow)\b")


class InvalidUrgencyRules(CivicPulseError):
    """The urgency rules file is missing or malformed."""

    status, code = 500, "invalid_urgency_rules"


@dataclass(frozen=True)
class Category:
    """A kind of urgency signal with its weight and names."""

    code: str
    weight: float
    vi: str
    en: str


LEARNED = Category("similar_to_urgent", 0.0, "Giống các phản ánh khẩn cấp", "Similar to urgent reports")
"""The learned model's reason; its terms are the words of the text that weighed most towards urgent."""


@dataclass(frozen=True)
class Band:
    """Deadline policy for scores of at least ``min_score``."""

    min_score: float
    days: int
    working_days: bool


@dataclass(frozen=True)
class UrgencyRules:
    """Categories, their term lexicon and the deadline policy (highest band first)."""

    categories: dict[str, Category]
    lexicon: Lexicon
    policy: tuple[Band, ...]


def load_rules(path: Path | None = None) -> UrgencyRules:
    """Rules from ``path``, or the packaged defaults."""
    try:
        if path is None:
            text = (resources.files("civicpulse") / "data" / "urgency_rules.toml").read_text(encoding="utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
        raw = tomllib.loads(text)
        categories = {
            c["code"]: Category(c["code"], float(c["weight"]), c["vi"], c["en"]) for c in raw["category"]
        }
        entries = [(term, c["code"], float(c["weight"])) for c in raw["category"] for term in c["terms"]]
        entries += [(term, NEUTRAL, 0.0) for term in raw.get("neutral", {}).get("terms", [])]
        policy = sorted(
            (Band(float(p["min_score"]), int(p["days"]), bool(p["working_days"])) for p in raw["policy"]),
            key=lambda band: -band.min_score,
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidUrgencyRules(f"urgency rules {path or 'packaged'} are invalid: {exc!r}") from exc
    if not policy or policy[-1].min_score > 0:
        raise InvalidUrgencyRules("urgency rules need a [[policy]] band with min_score = 0")
    return UrgencyRules(categories, Lexicon(entries), tuple(policy))


def add_days(start: dt.date, days: int, *, working: bool) -> dt.date:
    """``start`` plus ``days`` calendar days, or working days (Monday to Friday)."""
    if not working:
        return start + dt.timedelta(days=days)
    current, left = start, days
    while left > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def mentioned_deadline(text: str, today: dt.date) -> dt.date | None:
    """The earliest future date the text sets as a deadline ("trước ngày 15/8", "ngày mai")."""
    folded = fold_ascii(text)
    dates = []
    if _TOMORROW.search(folded):
        dates.append(today + dt.timedelta(days=1))
    for match in _DATE.finditer(folded):
        day, month, year = int(match[1]), int(match[2]), match[3]
        full_year = today.year if year is None else int(year) + (2000 if len(year) == 2 else 0)
        try:
            date = dt.date(full_year, month, day)
        except ValueError:
            continue
        if year is None and date < today:
            date = date.replace(year=today.year + 1)
        if date >= today:
            dates.append(date)
    return min(dates) if dates else None


def _today() -> dt.date:
    return dt.datetime.now(LOCAL_TIME).date()


class UrgencyStage(ShipsConfigOnly):
    """Output: ``{score, reason: [{code, vi, en, terms}], reason_text, deadline, deadline_basis}``.

    The learned model is used as ``settings.urgency_learned`` says, unless ``learned`` is given."""

    name: ClassVar[str] = "urgency"
    output: ClassVar[type[UrgencyOut]] = UrgencyOut

    def __init__(
        self, settings: Settings, today: Callable[[], dt.date] = _today, *, learned: bool | None = None
    ) -> None:
        self.rules_file = settings.urgency_rules_file
        self.today = today
        self.learned = settings.urgency_learned if learned is None else learned
        self.rules_: UrgencyRules | None = None

    def assess(
        self, text: str, today: dt.date, vector: Sequence[float] | None = None, embedder: str | None = None
    ) -> UrgencyOut:
        """Urgency of one text sent on ``today`` (deadlines count from that day); ``vector``: the text's
        embedding by ``embedder`` when the ``embed`` stage ran."""
        if self.rules_ is None:
            self.rules_ = load_rules(self.rules_file)
        rules = self.rules_
        words = tokens(text)
        found: dict[str, list[str]] = {}
        for start, end, code, _weight in rules.lexicon.find(text):
            if code == NEUTRAL:
                continue
            term = " ".join(words[start:end])
            found.setdefault(code, [])
            if term not in found[code]:
                found[code].append(term)
        remaining = 1.0
        for code in found:
            remaining *= 1.0 - rules.categories[code].weight
        score = round(1.0 - remaining, 4)
        ordered = sorted(found, key=lambda code: -rules.categories[code].weight)
        reason = [
            UrgencyReason(code=c, vi=rules.categories[c].vi, en=rules.categories[c].en, terms=found[c])
            for c in ordered
        ]
        if self.learned:
            model = packaged_model()
            lifted = lift(score, model.assess(text, vector, embedder), rules.policy)
            if lifted > score:
                score = lifted
                terms = model.pieces.telling_words(text)
                reason.append(UrgencyReason(code=LEARNED.code, vi=LEARNED.vi, en=LEARNED.en, terms=terms))
        band = next(b for b in rules.policy if score >= b.min_score)
        deadline = add_days(today, band.days, working=band.working_days)
        unit = "working day(s)" if band.working_days else "day(s)"
        basis = f"policy: score >= {band.min_score} -> {band.days} {unit}"
        stated = mentioned_deadline(text, today)
        if stated is not None and stated < deadline:
            deadline, basis = stated, "date stated in the text"
        return UrgencyOut(
            score=score,
            reason=reason,
            reason_text="; ".join(f"{r.vi} ({r.en})" for r in reason),
            deadline=deadline.isoformat(),
            deadline_basis=basis,
        )

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Assess every item, its deadline from the day it was sent (today when unknown); an item with
        no text fails, the others go on."""
        result = StageResult()
        today = self.today()
        for item in items:
            text = analysis_text(item).strip()
            if not text:
                result.failures[item.id] = "no text to assess"
                continue
            embedded = item.output(EmbedOut)
            vector, embedder = (embedded.vector, embedded.model) if embedded else (None, None)
            result.outputs[item.id] = self.assess(text, sent_on(item, today), vector, embedder)
        return result


def lift(score: float, added: float, policy: tuple[Band, ...]) -> float:
    """The rules' ``score`` joined with the learned signal ``added`` (as one more category) when the
    rules alone fall short of the first urgent band (``policy``: highest first) and the two together
    reach it; the result stays below the band above that one, which only the rules reach. Otherwise
    ``score`` unchanged: the model decides whether an item is urgent, never how much below that."""
    if added <= 0.0 or len(policy) < 2 or score >= policy[-2].min_score:
        return score
    joined = 1.0 - (1.0 - score) * (1.0 - added)
    if joined < policy[-2].min_score:
        return score
    ceiling = policy[-3].min_score - 0.01 if len(policy) > 2 else 1.0
    return round(min(joined, ceiling), 4)


def sent_on(item: AnalysisItem, today: dt.date) -> dt.date:
    """The day (Viet Nam time) the citizen sent ``item``; ``today`` when the time is unknown."""
    if item.received_at is None:
        return today
    moment = item.received_at if item.received_at.tzinfo else item.received_at.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TIME).date()
