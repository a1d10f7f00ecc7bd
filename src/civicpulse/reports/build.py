"""A situation report as data ready to render: every figure already suppressed below k senders,
labelled and formatted in the report's language, with its charts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup
from sqlalchemy.orm import Session

from civicpulse.cases.directory import Agency
from civicpulse.cases.service import load_directory
from civicpulse.reports.agencies import AgencyRecord, agency_records
from civicpulse.reports.catalogue import Strings
from civicpulse.reports.charts import Bar, bar_chart, line_chart
from civicpulse.reports.period import Period
from civicpulse.reports.themes import ReportThemes, report_themes
from civicpulse.reports.volumes import Cell, Volumes, tune, volumes
from civicpulse.store.tables import utcnow
from civicpulse.taxonomy import Taxonomy

MAX_ROWS = 15


@dataclass(frozen=True)
class ReportOptions:
    """What a report covers and how it is written."""

    period: Period
    province: str | None = None
    lang: str = "vi"
    k_anonymity: int = 5
    live_theme_limit: int = 20_000


@dataclass(frozen=True)
class Row:
    """One group of a volume table, formatted; ``hidden`` when suppressed in this period."""

    label: str
    current: str
    previous: str
    change: str
    hidden: bool = False


@dataclass(frozen=True)
class Breakdown:
    """A volume table and its chart."""

    title: str
    rows: list[Row]
    chart: Markup


@dataclass(frozen=True)
class AgencyRow:
    """One agency's record, formatted."""

    name: str
    received: str
    on_time: str
    overdue: str
    median_days: str
    satisfaction: str
    hidden: bool = False


@dataclass(frozen=True)
class SituationReport:
    """Everything the template shows."""

    t: Strings
    options: ReportOptions
    province_name: str | None
    generated_at: datetime
    total: Row
    senders: Row
    breakdowns: list[Breakdown]
    trend_unit: str
    trend: Markup
    themes: ReportThemes
    agencies: list[AgencyRow] = field(default_factory=list)

    @property
    def hidden(self) -> str:
        """How a suppressed figure reads."""
        return f"< {self.options.k_anonymity}"


def build_report(
    session: Session,
    options: ReportOptions,
    *,
    taxonomy: Taxonomy,
    province_names: Mapping[str, str],
    now: datetime | None = None,
) -> SituationReport:
    """Aggregate the store for ``options`` (SQL) and shape the report."""
    now = now or utcnow()
    t = Strings(options.lang)
    k = options.k_anonymity
    hidden = f"< {k}"
    tune(session)
    found = volumes(session, options.period, options.province)
    topics = {topic.code: topic.name_en if t.lang == "en" else topic.name_vi for topic in taxonomy.topics}
    breakdowns = [
        _breakdown(
            t("by_topic"), found, "topic", lambda c: topics.get(c or "", c) or t("unknown_topic"), t, k
        ),
        _breakdown(
            t("by_province"),
            found,
            "province",
            lambda c: province_names.get(c or "", c) or t("unknown_province"),
            t,
            k,
        ),
        _breakdown(t("by_channel"), found, "channel", t.channel, t, k),
    ]
    total_now, total_before = found.cells[("total", None)]
    directory = load_directory(session, taxonomy)
    records = agency_records(session, options.period, options.province, now=now)
    return SituationReport(
        t=t,
        options=options,
        province_name=province_names.get(options.province) if options.province else None,
        generated_at=now,
        total=_row(t("total"), total_now, total_before, t, k, _items),
        senders=_row(t("senders"), total_now, total_before, t, k, _senders),
        breakdowns=breakdowns,
        trend_unit=t(f"unit.{found.bucket_days}"),
        trend=_trend(found, options.period, t, k),
        themes=report_themes(
            session, options.period, options.province, k_anonymity=k, live_limit=options.live_theme_limit
        ),
        agencies=[_agency_row(record, directory.agencies, t, k, hidden) for record in records],
    )


def shown(cell: Cell, k: int) -> bool:
    """Whether a group's figure may be shown: none at all, or k distinct senders or more."""
    return cell.items == 0 or cell.senders >= k


def _items(cell: Cell) -> int:
    return cell.items


def _senders(cell: Cell) -> int:
    return cell.senders


def _row(
    label: str, now: Cell, before: Cell, t: Strings, k: int, value: Callable[[Cell], int] = _items
) -> Row:
    show_now, show_before = shown(now, k), shown(before, k)
    hidden = f"< {k}"
    return Row(
        label=label,
        current=t.number(value(now)) if show_now else hidden,
        previous=t.number(value(before)) if show_before else hidden,
        change=t.change(value(now), value(before)) if show_now and show_before else "—",
        hidden=not show_now,
    )


def _breakdown(
    title: str, found: Volumes, dimension: str, name: Callable[[str | None], str], t: Strings, k: int
) -> Breakdown:
    groups = found.of(dimension)

    def order(item: tuple[str | None, tuple[Cell, Cell]]) -> tuple[bool, bool, int, str]:
        key, (now, _) = item
        visible = shown(now, k)
        return (not visible, key is None, -now.items if visible else 0, name(key))

    ordered = sorted(groups.items(), key=order)[:MAX_ROWS]
    rows = [_row(name(key), now, before, t, k) for key, (now, before) in ordered]
    bars = [
        Bar(
            name(key),
            now.items if shown(now, k) else None,
            before.items if shown(before, k) else None,
        )
        for key, (now, before) in ordered
    ]
    return Breakdown(title, rows, bar_chart(bars, title=title, hidden=f"< {k}"))


def _trend(found: Volumes, period: Period, t: Strings, k: int) -> Markup:
    series = found.of("bucket")
    labels, current, previous = [], [], []
    for i in range(found.buckets):
        labels.append(t.day(period.start + timedelta(days=i * found.bucket_days)))
        now, before = series.get(str(i), (Cell(), Cell()))
        current.append(now.items if shown(now, k) else None)
        previous.append(before.items if shown(before, k) else None)
    return line_chart(labels, current, previous, title=t("trend"))


def _agency_row(
    record: AgencyRecord, agencies: Mapping[str, Agency], t: Strings, k: int, hidden: str
) -> AgencyRow:
    agency = agencies.get(record.agency)
    name = (agency.name_en if t.lang == "en" else agency.name_vi) if agency is not None else record.agency
    if record.senders < k:
        return AgencyRow(name, hidden, hidden, hidden, hidden, hidden, hidden=True)
    on_time = t.number(record.on_time)
    if record.answered:
        on_time += f" / {t.number(record.answered)} ({t.number(record.on_time / record.answered * 100)} %)"
    return AgencyRow(
        name=name,
        received=t.number(record.received),
        on_time=on_time,
        overdue=t.number(record.overdue),
        median_days=t.number(record.median_days, 1) if record.median_days is not None else t("no_data"),
        satisfaction=t.number(record.satisfaction * 100) + " %"
        if record.satisfaction is not None and record.feedback >= k
        else t("no_data"),
    )
