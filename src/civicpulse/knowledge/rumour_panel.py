"""The rumour panel: claims now circulating, how many distinct people repeat them, where, since
when and their daily trend; every count of people under ``k_anonymity`` is suppressed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from civicpulse.knowledge.rumours import spreading
from civicpulse.settings import Settings
from civicpulse.store import claims as stored
from civicpulse.store.counts import LOCAL_TZ
from civicpulse.store.tables import utcnow

TREND_DAYS = 14


@dataclass(frozen=True)
class Count:
    """A number of people, or ``None`` when fewer than k (shown as "< k")."""

    value: int | None

    @classmethod
    def of(cls, people: int, k: int) -> Count:
        return cls(people if people >= k else None)


@dataclass(frozen=True)
class PanelRow:
    """One circulating claim."""

    claim_id: int
    claim: str
    rating: str
    kind: str
    people: Count
    submissions: int
    first_seen: datetime
    last_seen: datetime
    provinces: list[tuple[str, Count]]
    trend: list[tuple[date, Count]]
    spreading: bool


def _local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


def panel(
    session: Session, settings: Settings, *, days: int = 30, now: datetime | None = None
) -> list[PanelRow]:
    """Claims with rumour signals in the last ``days`` days, most people first."""
    now = now or utcnow()
    since = now - timedelta(days=days)
    k = settings.k_anonymity
    rows = stored.circulating(session, since)
    ids = [row.claim_id for row in rows]
    claims = stored.claims_by_ids(session, ids)
    provinces = stored.people_by_province(session, ids, since)
    times = stored.signal_times(session, ids, now - timedelta(days=TREND_DAYS))
    fast = {row.claim_id for row in spreading(session, settings, now)}
    today = _local_day(now)
    trend_days = [today - timedelta(days=offset) for offset in range(TREND_DAYS - 1, -1, -1)]
    found = []
    for row in rows:
        claim = claims.get(row.claim_id)
        if claim is None:
            continue
        per_day: dict[date, set[str]] = {day: set() for day in trend_days}
        for at, sender in times[row.claim_id]:
            per_day.setdefault(_local_day(at), set()).add(sender)
        places = sorted(provinces[row.claim_id].items(), key=lambda item: (-item[1], item[0]))
        found.append(
            PanelRow(
                claim_id=row.claim_id,
                claim=claim.claim_reviewed,
                rating=claim.rating,
                kind=claim.kind,
                people=Count.of(row.people, k),
                submissions=row.submissions,
                first_seen=row.first_seen,
                last_seen=row.last_seen,
                provinces=[(province, Count.of(people, k)) for province, people in places if province],
                trend=[(day, Count.of(len(per_day[day]), k)) for day in trend_days],
                spreading=row.claim_id in fast,
            )
        )
    return found
