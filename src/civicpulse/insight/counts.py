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

from sqlalchemy import select
from sqlalchemy.orm import Session

from civicpulse.insight.base import AnalysedBatch
from civicpulse.insight.campaigns import CampaignRules, campaign_for_group, detect_campaigns
from civicpulse.settings import Settings
from civicpulse.store.counts import (
    analysed_ids,
    clear,
    facts_of_campaign,
    hourly_cutoff,
    mark_campaign,
    prune_hours,
    read_facts,
    replace_facts,
    stored_facts,
)
from civicpulse.store.neardup import NearDuplicateRow


class CountsInsight:
    """The ``counts`` insight: its hook updates the trend counts after each analysed batch."""

    name: ClassVar[str] = "counts"

    def __init__(self, settings: Settings) -> None:
        self.rules = CampaignRules.from_settings(settings)

    def on_analysed(self, session: Session, batch: AnalysedBatch) -> None:
        """Count the batch in and re-evaluate the campaigns it touches."""
        update_counts(session, batch.submission_ids, self.rules)


def update_counts(session: Session, submission_ids: Sequence[int], rules: CampaignRules) -> None:
    """Count these (newly analysed or re-analysed) submissions in."""
    cutoff = hourly_cutoff()
    replace_facts(session, read_facts(session, submission_ids), cutoff)
    groups = set(
        session.scalars(
            select(NearDuplicateRow.group_id).where(NearDuplicateRow.submission_id.in_(list(submission_ids)))
        )
    )
    for group in sorted(groups):
        campaign = campaign_for_group(session, group, rules)
        if campaign is None:
            members = list(
                session.scalars(
                    select(NearDuplicateRow.submission_id).where(NearDuplicateRow.group_id == group)
                )
            )
            mark_campaign(session, facts_of_campaign(session, group, members), None, None, cutoff)
        else:
            facts = facts_of_campaign(session, campaign.group_id, campaign.member_ids)
            mark_campaign(session, facts, campaign.group_id, min(campaign.member_ids), cutoff)
    prune_hours(session, cutoff)


def rebuild_counts(session: Session, rules: CampaignRules, chunk: int = 5_000) -> int:
    """Recompute every count from the stored annotations; returns how many submissions count."""
    clear(session)
    cutoff = hourly_cutoff()
    total, after = 0, 0
    while ids := analysed_ids(session, after, chunk):
        replace_facts(session, read_facts(session, ids), cutoff)
        total, after = total + len(ids), ids[-1]
    for campaign in detect_campaigns(session, rules=rules):
        facts = stored_facts(session, campaign.member_ids)
        mark_campaign(session, facts, campaign.group_id, min(campaign.member_ids), cutoff)
    return total
