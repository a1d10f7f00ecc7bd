"""Coordinated campaigns: large near-duplicate groups sent by many senders in a short time.

Derived from the stored near-duplicate groups each time it is asked (never hand-maintained): a
group is a campaign when some window of ``window`` (a sliding 72 hours by default) holds at least
``min_size`` of its members from at least ``min_senders`` distinct senders.

Distinct senders are distinct ``sender_key`` values (a keyed hash of the e-mail or phone).
Submissions without one are counted as ONE sender per channel: anonymous copies on a web form may
well come from one person, so they never inflate the count (the figure is a lower bound).

Analyses count a campaign once: ``count_once`` gives the members of one campaign found in a list
weights that add up to 1, ``representatives`` keeps one id per campaign.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from civicpulse.settings import Settings
from civicpulse.store.neardup import GroupMember, group_members, group_of, group_sizes, split_links


def _default(name: str) -> Any:
    """The default of a setting, written once in ``Settings``."""
    return Settings.model_fields[name].default


@dataclass(frozen=True)
class CampaignRules:
    """When a near-duplicate group counts as a coordinated campaign (defaults: those of the settings)."""

    min_size: int = _default("campaign_min_size")
    min_senders: int = _default("campaign_min_senders")
    window: timedelta = timedelta(hours=_default("campaign_window_hours"))

    @classmethod
    def from_settings(cls, settings: Settings) -> CampaignRules:
        """Rules from ``campaign_min_size``, ``campaign_min_senders``, ``campaign_window_hours``."""
        return cls(
            min_size=settings.campaign_min_size,
            min_senders=settings.campaign_min_senders,
            window=timedelta(hours=settings.campaign_window_hours),
        )


@dataclass(frozen=True)
class Campaign:
    """A coordinated campaign: one near-duplicate group, counted once."""

    group_id: int
    size: int
    distinct_senders: int
    first_at: datetime
    last_at: datetime
    channels: tuple[str, ...]
    sample_submission_id: int
    peak_window_size: int
    member_ids: tuple[int, ...] = field(repr=False)

    def as_dict(self) -> dict[str, Any]:
        """What reports and the API show (members are not listed)."""
        return {
            "group_id": self.group_id,
            "size": self.size,
            "distinct_senders": self.distinct_senders,
            "first_at": self.first_at.isoformat(),
            "last_at": self.last_at.isoformat(),
            "channels": list(self.channels),
            "sample_submission_id": self.sample_submission_id,
            "peak_window_size": self.peak_window_size,
        }


def sender_of(member: GroupMember) -> str:
    """Who sent a member, as far as can be told without identities."""
    return member.sender_key or f"anonymous:{member.channel}"


def evaluate(group_id: int, members: Sequence[GroupMember], rules: CampaignRules) -> Campaign | None:
    """The campaign that ``members`` (one group, oldest first) form, or ``None``."""
    if len(members) < rules.min_size:
        return None
    in_window: Counter[str] = Counter()
    start = peak = 0
    qualifies = False
    for end, member in enumerate(members):
        in_window[sender_of(member)] += 1
        while member.received_at - members[start].received_at > rules.window:
            leaving = sender_of(members[start])
            in_window[leaving] -= 1
            if not in_window[leaving]:
                del in_window[leaving]
            start += 1
        size = end - start + 1
        peak = max(peak, size)
        qualifies = qualifies or (size >= rules.min_size and len(in_window) >= rules.min_senders)
    if not qualifies:
        return None
    return Campaign(
        group_id=group_id,
        size=len(members),
        distinct_senders=len({sender_of(m) for m in members}),
        first_at=members[0].received_at,
        last_at=members[-1].received_at,
        channels=tuple(sorted({m.channel for m in members})),
        sample_submission_id=min(m.submission_id for m in members),
        peak_window_size=peak,
        member_ids=tuple(sorted(m.submission_id for m in members)),
    )


def _components(links: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Group id -> the smallest group id it is linked with (only groups that have links)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {g: find(g) for g in parent}


def detect_campaigns(
    session: Session, since: datetime | None = None, rules: CampaignRules | None = None
) -> list[Campaign]:
    """Every campaign among members received at or after ``since``, largest first."""
    rules = rules or CampaignRules()
    canonical = _components(split_links(session))
    sizes = group_sizes(session, min_size=1 if canonical else min(2, rules.min_size), since=since)
    totals: Counter[int] = Counter()
    for group, n in sizes.items():
        totals[canonical.get(group, group)] += n
    wanted = {g for g, n in totals.items() if n >= rules.min_size}
    raw = [g for g in sizes if canonical.get(g, g) in wanted]
    by_group: dict[int, list[GroupMember]] = defaultdict(list)
    for member in group_members(session, raw, since=since):  # oldest first
        by_group[canonical.get(member.group_id, member.group_id)].append(member)
    found = [c for g, members in by_group.items() if (c := evaluate(g, members, rules)) is not None]
    return sorted(found, key=lambda c: (-c.size, c.group_id))


def campaign_of(session: Session, submission_id: int, rules: CampaignRules | None = None) -> Campaign | None:
    """The campaign a submission belongs to, or ``None``."""
    group = group_of(session, submission_id)
    return None if group is None else campaign_for_group(session, group, rules)


def campaign_for_group(
    session: Session,
    group_id: int,
    rules: CampaignRules | None = None,
    links: Sequence[tuple[int, int]] | None = None,
) -> Campaign | None:
    """The campaign that a near-duplicate group (with the groups linked to it) forms, or ``None``;
    ``links``: the store's ``split_links``, when the caller has read them already."""
    rules = rules or CampaignRules()
    canonical = _components(split_links(session) if links is None else links)
    root = canonical.get(group_id, group_id)
    raw = [g for g, r in canonical.items() if r == root] or [group_id]
    return evaluate(root, group_members(session, raw), rules)


def count_once(
    session: Session, submission_ids: Sequence[int], rules: CampaignRules | None = None
) -> dict[int, float]:
    """A weight per id: 1, except members of one campaign, whose weights in this list add up to 1."""
    campaign_by_member = _membership(session, rules)
    present = Counter(campaign_by_member[i] for i in submission_ids if i in campaign_by_member)
    return {
        i: 1.0 / present[campaign_by_member[i]] if i in campaign_by_member else 1.0
        for i in dict.fromkeys(submission_ids)
    }


def representatives(
    session: Session, submission_ids: Sequence[int], rules: CampaignRules | None = None
) -> list[int]:
    """The ids in order, with only the first member of each campaign kept."""
    campaign_by_member = _membership(session, rules)
    kept: list[int] = []
    seen: set[int] = set()
    for i in dict.fromkeys(submission_ids):
        campaign = campaign_by_member.get(i)
        if campaign is None or campaign not in seen:
            kept.append(i)
            if campaign is not None:
                seen.add(campaign)
    return kept


def _membership(session: Session, rules: CampaignRules | None) -> dict[int, int]:
    return {m: c.group_id for c in detect_campaigns(session, rules=rules) for m in c.member_ids}
