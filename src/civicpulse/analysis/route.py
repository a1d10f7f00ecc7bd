"""The ``route`` stage: the three agencies most likely to handle each submission, and why.

Per item, in this order, without repeating an agency:

1. the first active stored rule that matches the item's topic (the ``topic`` stage's best code),
   province and commune (the ``places`` stage's) and channel, in the rules' order; its confidence
   is the topic's confidence when the rule names a topic (a rule is only as sure as the topic it
   rests on), else 1;
2. the learned router (``agency`` model in the model directory, trained by
   ``civicpulse train --task agency`` from analysts' and officers' assignments), best first;
3. without a trained router: the taxonomy's agency of each of the topic's alternatives, with the
   summed confidence of the topics that agency handles.

``auto_assign`` is set when the best agency's confidence reaches
``routing_auto_assign_confidence``; the others wait in the triage queue. Rules and channels come
through the ``routing_rules`` port (the store implements it); without it only 2 and 3 apply.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, Protocol

from civicpulse.analysis.base import AnalysisItem, StageResult, analysis_text
from civicpulse.analysis.features import CONFIGURED, UsesEmbedder, model_dir, passage_vectors
from civicpulse.analysis.routing import TASK, TOP, Facts, RuleLike, descriptions, first_match, top_agencies
from civicpulse.analysis.training import ModelSlot
from civicpulse.annotations import PlacesOut, RouteChoice, RouteOut, TopicOut
from civicpulse.embeddings import Embedder
from civicpulse.settings import Settings
from civicpulse.taxonomy import Taxonomy, load_taxonomy

log = logging.getLogger(__name__)


class StoredRule(RuleLike, Protocol):
    """A rule as the store keeps it: with its id."""

    @property
    def id(self) -> int: ...


class RuleSource(Protocol):
    """The routing rules and the submissions' channels (the store implements it)."""

    def active_rules(self) -> Sequence[StoredRule]:
        """The active rules, in the order they are tried."""
        ...

    def channels(self, submission_ids: Iterable[int]) -> Mapping[int, str]:
        """The channel of each stored submission among ``submission_ids``."""
        ...


class RouteStage(UsesEmbedder):
    """Proposes the top 3 agencies of each item with their confidence and reason."""

    name: ClassVar[str] = "route"
    output: ClassVar[type[RouteOut]] = RouteOut

    def __init__(
        self,
        settings: Settings,
        routing_rules: RuleSource | None = None,
        embedder: Embedder | None = CONFIGURED,
    ) -> None:
        self.settings = settings
        self.threshold = settings.routing_auto_assign_confidence
        self.routing_rules = routing_rules
        self._use(embedder)
        self.taxonomy_: Taxonomy | None = None
        self.model_: ModelSlot | None = None

    def _stored(self, ids: list[int]) -> tuple[Sequence[StoredRule], Mapping[int, str]]:
        if self.routing_rules is None:
            return [], {}
        try:
            stored = [i for i in ids if i >= 1]
            return self.routing_rules.active_rules(), (self.routing_rules.channels(stored) if stored else {})
        except Exception as exc:  # the store is unreachable or not migrated: route without rules
            log.warning("route: stored rules could not be read (%s); routing without them", exc)
            return [], {}

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Route every item; the ranking of an item without any signal is empty."""
        result = StageResult()
        if not items:
            return result
        if self.taxonomy_ is None:
            self.taxonomy_ = load_taxonomy(self.settings.taxonomy_file)
        if self.model_ is None:
            self.model_ = ModelSlot(model_dir(self.settings), TASK)
        rules, channels = self._stored([item.id for item in items])
        learned = self._learned(items)
        for item, ranked in zip(items, learned, strict=True):
            choices = self._choices(item, rules, channels.get(item.id), ranked)
            best = choices[0] if choices else None
            result.outputs[item.id] = RouteOut(
                agency=best.agency if best else None,
                confidence=best.confidence if best else 0.0,
                alternatives=choices,
                auto_assign=best is not None and best.confidence >= self.threshold,
            )
        return result

    def _learned(self, items: list[AnalysisItem]) -> list[list[tuple[str, float]] | None]:
        """The router's ranking of each item, or ``None`` per item while no router is trained."""
        model = self.model_.get() if self.model_ is not None else None
        if model is None:
            return [None] * len(items)
        texts = [analysis_text(item) for item in items]
        vectors = passage_vectors(items, texts, self._embedder()) if model.embedding else None
        return list(top_agencies(model.predict_proba(texts, vectors), model.classes_, top=TOP))

    def _choices(
        self,
        item: AnalysisItem,
        rules: Sequence[StoredRule],
        channel: str | None,
        learned: list[tuple[str, float]] | None,
    ) -> list[RouteChoice]:
        taxonomy = self.taxonomy_
        assert taxonomy is not None
        topic = item.output(TopicOut)
        places = item.output(PlacesOut)
        facts = Facts(
            topic=topic.code if topic else None,
            province=places.province.code if places and places.province else None,
            commune=places.commune.code if places and places.commune else None,
            channel=channel,
        )
        choices: list[RouteChoice] = []
        rule = first_match(rules, facts)
        if rule is not None:
            sure = topic.confidence if rule.topic is not None and topic is not None else 1.0
            choices.append(
                RouteChoice(
                    agency=rule.agency,
                    confidence=round(sure, 4),
                    reason="rule",
                    rule_id=rule.id,
                    description=descriptions(rule, taxonomy),
                )
            )
        if learned is not None:
            ranked = [RouteChoice(agency=a, confidence=p, reason="model") for a, p in learned]
        else:
            ranked = _by_topic(topic, taxonomy)
        for choice in ranked:
            if len(choices) < TOP and all(choice.agency != c.agency for c in choices):
                choices.append(choice)
        return choices


def _by_topic(topic: TopicOut | None, taxonomy: Taxonomy) -> list[RouteChoice]:
    """The taxonomy's agency of each of the topic's alternatives, with their summed confidence."""
    if topic is None:
        return []
    handler = taxonomy.agency_by_service()
    summed: dict[str, float] = {}
    for alternative in topic.alternatives or []:
        if (agency := handler.get(alternative.code)) is not None:
            summed[agency] = summed.get(agency, 0.0) + alternative.confidence
    if not summed and (agency := handler.get(topic.code)) is not None:
        summed[agency] = topic.confidence
    ordered = sorted(summed.items(), key=lambda pair: -pair[1])
    return [RouteChoice(agency=a, confidence=round(min(p, 1.0), 4), reason="taxonomy") for a, p in ordered]
