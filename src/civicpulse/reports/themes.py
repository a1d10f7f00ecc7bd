"""Top and new themes of a report, with verbatim quotes of redacted text.

A period of at most ``live_limit`` submissions is themed now by ``insight.themes.themes_view``
(read only). A larger one reads the latest stored run over the whole store (kept current by the
workers): its themes are ranked by their members received in the period, in SQL, analysts' renames
and dismissals apply, and quotes are excerpts of members' redacted text. Themes of fewer distinct
senders than k are held back and counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from civicpulse.insight.themes.decisions import decision_log, latest_decisions
from civicpulse.insight.themes.service import ThemeSlice, themes_view
from civicpulse.reports.period import Period
from civicpulse.reports.volumes import sender_of, submission_province
from civicpulse.store.tables import AnnotationRow, SubmissionRow
from civicpulse.store.themes import ThemeMemberRow, ThemeRow, ThemeRunRow

TOP = 5
QUOTES = 3
QUOTE_CHARS = 240
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s")


@dataclass(frozen=True)
class ReportTheme:
    """A theme as a report shows it."""

    label: str
    senders: int
    items: int
    is_new: bool
    keywords: list[str]
    quotes: list[str]


@dataclass(frozen=True)
class ReportThemes:
    """The top themes and the new ones; ``source`` says how they were found."""

    source: Literal["live", "stored", "none"]
    top: list[ReportTheme] = field(default_factory=list)
    new: list[ReportTheme] = field(default_factory=list)
    suppressed: int = 0


def _count(session: Session, period: Period) -> int:
    """Submissions of the period in every province: what theming it live would read."""
    query = select(func.count()).where(
        SubmissionRow.received_at >= period.since, SubmissionRow.received_at < period.until
    )
    return int(session.scalar(query) or 0)


def report_themes(
    session: Session, period: Period, province: str | None, *, k_anonymity: int, live_limit: int
) -> ReportThemes:
    """Themes of the period, live when it is small enough, else from the latest stored run."""
    if _count(session, period) <= live_limit:
        return _live(session, period, province, k_anonymity)
    return _stored(session, period, province, k_anonymity)


def _live(session: Session, period: Period, province: str | None, k: int) -> ReportThemes:
    view = themes_view(
        session, ThemeSlice(since=period.since, until=period.until, place=province), k_anonymity=k
    )
    themes = [
        ReportTheme(
            label=theme.label,
            senders=theme.senders,
            items=theme.members,
            is_new=theme.is_new,
            keywords=theme.keywords[:6],
            quotes=[quote.text for quote in theme.quotes[:QUOTES]],
        )
        for theme in view.themes
    ]
    return ReportThemes("live", themes[:TOP], [t for t in themes if t.is_new][:TOP], view.suppressed)


def _stored(session: Session, period: Period, province: str | None, k: int) -> ReportThemes:
    run_id = session.scalar(
        select(ThemeRunRow.id)
        .where(ThemeRunRow.slice_key == ThemeSlice().key())
        .order_by(ThemeRunRow.id.desc())
        .limit(1)
    )
    if run_id is None:
        return ReportThemes("none")
    in_period = (
        select(
            ThemeMemberRow.theme_id,
            func.count().label("items"),
            func.count(distinct(sender_of(session))).label("senders"),
        )
        .join(SubmissionRow, SubmissionRow.id == ThemeMemberRow.submission_id)
        .where(
            ThemeMemberRow.run_id == run_id,
            SubmissionRow.received_at >= period.since,
            SubmissionRow.received_at < period.until,
        )
    )
    if province is not None:
        code, places, on = submission_province()
        in_period = in_period.join(places, on).where(code == province)
    counts = session.execute(in_period.group_by(ThemeMemberRow.theme_id)).all()
    facts = latest_decisions(decision_log(session))
    rows = {row.theme_id: row for row in session.scalars(select(ThemeRow).where(ThemeRow.run_id == run_id))}
    first_seen = dict(
        session.execute(
            select(ThemeRow.theme_id, func.min(ThemeRunRow.created_at))
            .join(ThemeRunRow, ThemeRunRow.id == ThemeRow.run_id)
            .where(ThemeRow.theme_id.in_(list(rows)))
            .group_by(ThemeRow.theme_id)
        ).all()
    )
    shown: list[tuple[int, int, int]] = []
    suppressed = 0
    for theme_id, items, senders in sorted(counts, key=lambda c: (-c[1], c[0])):
        if theme_id not in rows or "dismiss" in facts.get(theme_id, {}):
            continue
        if senders < k:
            suppressed += 1
            continue
        shown.append((theme_id, int(items), int(senders)))

    def is_new(theme_id: int) -> bool:
        seen = first_seen.get(theme_id)
        return seen is not None and seen >= period.since

    top_ids = [theme_id for theme_id, _, _ in shown[:TOP]]
    new_ids = [theme_id for theme_id, _, _ in shown if is_new(theme_id)][:TOP]
    themes: dict[int, ReportTheme] = {}
    for theme_id, items, senders in shown:
        if theme_id not in top_ids and theme_id not in new_ids:
            continue
        row = rows[theme_id]
        rename = facts.get(theme_id, {}).get("rename")
        themes[theme_id] = ReportTheme(
            label=rename.value if rename is not None and rename.value else row.label,
            senders=senders,
            items=items,
            is_new=is_new(theme_id),
            keywords=[str(k).replace("_", " ") for k in (row.detail or {}).get("keywords", [])[:6]],
            quotes=_quotes(session, run_id, theme_id, period, province),
        )
    top = [themes[theme_id] for theme_id in top_ids]
    new = [themes[theme_id] for theme_id in new_ids]
    return ReportThemes("stored", top, new, suppressed)


def _quotes(session: Session, run_id: int, theme_id: int, period: Period, province: str | None) -> list[str]:
    """Excerpts of the redacted text of a few members received in the period."""
    redacted = AnnotationRow.data["redacted_text"].as_string()
    query = (
        select(redacted)
        .select_from(ThemeMemberRow)
        .join(SubmissionRow, SubmissionRow.id == ThemeMemberRow.submission_id)
        .join(
            AnnotationRow,
            (AnnotationRow.submission_id == ThemeMemberRow.submission_id) & (AnnotationRow.stage == "pii"),
        )
        .where(
            ThemeMemberRow.run_id == run_id,
            ThemeMemberRow.theme_id == theme_id,
            SubmissionRow.received_at >= period.since,
            SubmissionRow.received_at < period.until,
        )
    )
    if province is not None:
        code, places, on = submission_province()
        query = query.join(places, on).where(code == province)
    texts = session.scalars(query.order_by(ThemeMemberRow.submission_id).limit(QUOTES)).all()
    return [quote for text in texts if text and (quote := excerpt(text))]


def excerpt(text: str, limit: int = QUOTE_CHARS) -> str:
    """The first sentence of ``text`` (verbatim), cut at a word within ``limit`` characters."""
    text = text.strip()
    first = _SENTENCE_END.split(text, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    cut = first[:limit]
    return cut[: cut.rfind(" ")] if " " in cut else cut
