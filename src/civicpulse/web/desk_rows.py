"""What the official's desk shows of a submission, in plain words: urgency with its reason, topic,
place, agency, due date and status (the inbox row and the top of the submission page), and search
hits marked in an escaped excerpt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from markupsafe import Markup, escape

from civicpulse.annotations import PlacesOut, TopicOut, UrgencyOut
from civicpulse.domain import SlaState, SubmissionOut
from civicpulse.taxonomy import Taxonomy
from civicpulse.textkit.folding import folded_spans
from civicpulse.web.render import excerpt

URGENT = 0.8  # the packaged urgency policy's top band (handled within a day)
ELEVATED = 0.5
URGENCY_LEVELS = {"high": URGENT, "medium": ELEVATED}
CONTEXT_CHARS = 50


@dataclass(frozen=True)
class DeskRow:
    """One submission as the desk lists it."""

    item: SubmissionOut
    urgency: float | None
    level: str  # "high", "medium", "low" or "" (not analysed)
    reason: str
    deadline: date | None  # the urgency policy's suggested deadline
    topic: str | None
    topic_code: str | None
    topic_confidence: float | None
    place: str | None
    province_code: str | None
    agency: str | None
    due_at: datetime | None
    overdue: bool
    due_soon: bool
    status: str
    text: Markup | None

    @property
    def classes(self) -> str:
        """CSS classes of the row: ``urgent`` / ``overdue`` / ``due-soon`` where they apply."""
        names = ["urgent" if self.level == "high" else "", "overdue" if self.overdue else ""]
        names.append("due-soon" if self.due_soon else "")
        return " ".join(name for name in names if name)


def desk_row(
    item: SubmissionOut,
    taxonomy: Taxonomy,
    lang: str,
    agency_names: dict[str, str],
    query: str = "",
) -> DeskRow:
    """``item`` (already as the user may see it) in the desk's words, hits of ``query`` marked."""
    urgency = _data(item, UrgencyOut.stage)
    topic = _data(item, TopicOut.stage)
    places = _data(item, PlacesOut.stage)
    score = urgency.get("score") if isinstance(urgency.get("score"), int | float) else None
    code = item.corrections.get("topic") or (
        topic.get("code") if isinstance(topic.get("code"), str) else None
    )
    confidence = None if "topic" in item.corrections else topic.get("confidence")
    case = item.case
    sla = case.sla_state if case is not None else None
    return DeskRow(
        item=item,
        urgency=score,
        level=_level(score),
        reason=_reason(urgency, lang),
        deadline=_date(urgency.get("deadline")),
        topic=_topic_name(taxonomy, code, lang),
        topic_code=code,
        topic_confidence=confidence if isinstance(confidence, int | float) else None,
        place=_place(places, item),
        province_code=(places.get("province") or {}).get("code"),
        agency=agency_names.get(item.agency or "", item.agency),
        due_at=case.due_at if case is not None else None,
        overdue=sla == SlaState.breached,
        due_soon=sla == SlaState.warning,
        status=case.status.value if case is not None else item.status.value,
        text=marked_excerpt(_shown_text(item), query),
    )


def _data(item: SubmissionOut, stage: str) -> dict:
    annotation = item.annotations.get(stage)
    return annotation.data if annotation is not None and isinstance(annotation.data, dict) else {}


def _level(score: float | None) -> str:
    if score is None:
        return ""
    return "high" if score >= URGENT else "medium" if score >= ELEVATED else "low"


def _reason(urgency: dict, lang: str) -> str:
    reasons = urgency.get("reason") or []
    names = [r.get(lang) or r.get("en") or r.get("code") for r in reasons if isinstance(r, dict)]
    return ", ".join(str(name) for name in names if name)


def _date(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _topic_name(taxonomy: Taxonomy, code: str | None, lang: str) -> str | None:
    for topic in taxonomy.topics:
        if topic.code == code:
            return topic.name_en if lang == "en" else topic.name_vi
    return code


def _place(places: dict, item: SubmissionOut) -> str | None:
    commune, province = places.get("commune") or {}, places.get("province") or {}
    names = [unit.get("name") for unit in (commune, province) if unit.get("name")]
    if names:
        return ", ".join(names)
    return item.locality


def _shown_text(item: SubmissionOut) -> str | None:
    return item.text if item.text is not None else item.redacted_text


def marked_excerpt(text: str | None, query: str = "", limit: int = 160) -> Markup | None:
    """An excerpt of ``text`` (around the first hit of ``query``), escaped, hits in ``<mark>``."""
    if text is None:
        return None
    flat = " ".join(text.split())
    spans = folded_spans(flat, query) if query.strip() else []
    if not spans:
        return Markup(escape(excerpt(flat, limit)))
    start = max(0, spans[0][0] - CONTEXT_CHARS)
    end = min(len(flat), start + limit)
    shown = [(max(a, start), min(b, end)) for a, b in spans if a < end and b > start]
    return Markup(
        ("…" if start else "") + marked(flat[start:end], [(a - start, b - start) for a, b in shown])
    ) + ("…" if end < len(flat) else "")


def marked(text: str, spans: list[tuple[int, int]]) -> Markup:
    """``text`` escaped, each span wrapped in ``<mark>``."""
    out = Markup("")
    at = 0
    for start, end in spans:
        out += escape(text[at:start]) + Markup("<mark>") + escape(text[start:end]) + Markup("</mark>")
        at = end
    return out + escape(text[at:])


def highlighted(text: str | None, query: str) -> Markup | None:
    """The whole ``text``, escaped, with the hits of ``query`` marked."""
    if text is None:
        return None
    return marked(text, folded_spans(text, query) if query.strip() else [])
