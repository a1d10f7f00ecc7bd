"""Counts over time, kept current as batches are analysed and rebuildable from scratch.

Each analysed batch becomes facts (``store.counts``) whose deltas are added to the daily (and,
for the last 14 days, hourly) counts and sender sets. Campaigns are counted once: after the
facts are stored, each near-duplicate group the batch touched is re-evaluated
(``insight.campaigns.campaign_for_group``); a campaign's first member stays counted, its other
members move out of the ``counted`` figure (``submissions`` keeps them all), and members of a
group that stops being a campaign are counted again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civicpulse.insight.base import AnalysedBatch
from civicpulse.insight.campaigns import CampaignRules, campaign_for_group, detect_campaigns
from civicpulse.settings import Settings
from civicpulse.store.counts import (
    bulk_loading,
    clear,
    derive_counts,
    facts_of_campaign,
    hourly_cutoff,
    insert_all_facts,
    mark_campaign,
    mark_members,
    prune_hours,
    read_facts,
    replace_facts,
    stored_facts,
)
from civicpulse.store.db import among
from civicpulse.store.detections import note_changes
from civicpulse.store.neardup import NearDuplicateRow, split_links
from civicpulse.store.tables import TrendFactRow


class CountsInsight:
    """The ``counts`` insight: its hook updates the trend counts after each analysed batch."""

    name: ClassVar[str] = "counts"

    def __init__(self, settings: Settings) -> None:
        self.rules = CampaignRules.from_settings(settings)

    def on_analysed(self, session: Session, batch: AnalysedBatch) -> None:
        """Count the batch in and re-evaluate the campaigns it touches."""
        update_counts(session, batch.submission_ids, self.rules)


def update_counts(session: Session, submission_ids: Sequence[int], rules: CampaignRules) -> None:
    """Count these (newly analysed or re-analysed) submissions in, and note the changed days in
    the stored spike detections."""
    cutoff = hourly_cutoff()
    changed = replace_facts(session, read_facts(session, submission_ids), cutoff)
    links = split_links(session)
    for group in campaign_candidates(session, submission_ids, min(2, rules.min_size), links):
        campaign = campaign_for_group(session, group, rules, links)
        if campaign is None:
            members = list(
                session.scalars(
                    select(NearDuplicateRow.submission_id).where(NearDuplicateRow.group_id == group)
                )
            )
            changed |= mark_campaign(session, facts_of_campaign(session, group, members), None, None, cutoff)
        else:
            facts = facts_of_campaign(session, campaign.group_id, campaign.member_ids)
            changed |= mark_campaign(session, facts, campaign.group_id, min(campaign.member_ids), cutoff)
    note_changes(session, changed)
    prune_hours(session, cutoff)


def campaign_candidates(
    session: Session, submission_ids: Sequence[int], min_size: int, links: Sequence[tuple[int, int]]
) -> list[int]:
    """The near-duplicate groups of these submissions that may form, or have formed, a campaign:
    those of at least ``min_size`` members, those with ``links`` (the store's ``split_links``),
    those whose facts are marked. A lone submission's group (most of them) is none of these and
    needs no campaign check."""
    groups = set(
        session.scalars(
            select(NearDuplicateRow.group_id).where(
                among(session, NearDuplicateRow.submission_id, submission_ids)
            )
        )
    )
    if not groups:
        return []
    wanted = set(
        session.scalars(
            select(NearDuplicateRow.group_id)
            .where(among(session, NearDuplicateRow.group_id, groups))
            .group_by(NearDuplicateRow.group_id)
            .having(func.count() >= min_size)
        )
    )
    linked = {g for pair in links for g in pair}
    marked = set(
        session.scalars(
            select(TrendFactRow.campaign).where(among(session, TrendFactRow.campaign, groups)).distinct()
        )
    )
    return sorted(g for g in groups if g in wanted or g in linked or g in marked)


def rebuild_counts(session: Session, rules: CampaignRules) -> int:
    """Recompute every count from the stored annotations, set-based (facts by one ``INSERT ...
    SELECT`` while their secondary indexes are set aside, campaigns marked in bulk, counts by one
    ``GROUP BY`` each); returns how many submissions count."""
    clear(session)
    with bulk_loading(session):
        total = insert_all_facts(session)
        members = [
            (sid, campaign.group_id, sid == min(campaign.member_ids))
            for campaign in detect_campaigns(session, rules=rules)
            for sid in campaign.member_ids
        ]
        mark_members(session, members)
        derive_counts(session, hourly_cutoff())
    return total


def mark_campaigns(session: Session, rules: CampaignRules, cutoff: str) -> None:
    """Count each campaign's stored facts once (its first member), as after a rebuild."""
    changed: set[tuple[str, str, str]] = set()
    for campaign in detect_campaigns(session, rules=rules):
        facts = stored_facts(session, campaign.member_ids)
        changed |= mark_campaign(session, facts, campaign.group_id, min(campaign.member_ids), cutoff)
    note_changes(session, changed)
