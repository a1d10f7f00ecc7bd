"""Cases open as submissions are analysed (their topic and urgency known), and breached cases are
escalated to their head agency, inside the worker's transaction; registered with the insights'
hooks as ``workflow`` in ``civicpulse.insights`` (hooks run in name order, so after ``routing``
has given confidently routed submissions their agency)."""

from __future__ import annotations

from typing import ClassVar

from sqlalchemy.orm import Session

from civicpulse.cases.deadlines import load_policy
from civicpulse.cases.service import CaseRules, escalate_breaches, load_directory, open_cases
from civicpulse.insight.base import AnalysedBatch
from civicpulse.settings import Settings
from civicpulse.taxonomy import Taxonomy, load_taxonomy


class CaseOpener:
    """Opens the cases of newly analysed submissions; escalates breaches."""

    name: ClassVar[str] = "workflow"

    def __init__(self, settings: Settings) -> None:
        self.policy = load_policy(settings.case_deadlines_file)
        self.taxonomy: Taxonomy = load_taxonomy(settings.taxonomy_file)

    def on_analysed(self, session: Session, batch: AnalysedBatch) -> None:
        """Open a case for each submission of the batch that has none; escalate breached cases."""
        rules = CaseRules(self.policy, load_directory(session, self.taxonomy))
        open_cases(session, rules, batch.submission_ids)
        escalate_breaches(session, rules)
