"""Routing to agencies: editable rules (first match wins, told in plain words) and a learned router.

A rule names an agency and up to four conditions: the submission's topic, province, commune (codes
of the gazetteer) and channel; an empty condition matches anything. Rules are tried in their order
and the first that matches decides.

The learned router is trained on past assignments ``(text, agency)`` and ranks every agency it has
seen: the project's supervised text model (``training.train_text_model``: TF-IDF words 1-2 and
characters 2-5, plus the bundled e5 embedding when given, its weight chosen by cross-validation on
the training examples, into a calibrated linear SVM). ``civicpulse route --train`` and
``civicpulse train --task agency`` both train it here (``train_agency_router``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np

from civicpulse.analysis.training import Example, TextModel, train_text_model
from civicpulse.domain import Channel
from civicpulse.embeddings import Embedder
from civicpulse.errors import Unprocessable
from civicpulse.taxonomy import Taxonomy

TASK = "agency"
TOP = 3
LANGUAGES = ("vi", "en")


class RuleLike(Protocol):
    """What routing reads of a rule (the store's rows and the API's bodies both have it)."""

    @property
    def topic(self) -> str | None: ...
    @property
    def province(self) -> str | None: ...
    @property
    def commune(self) -> str | None: ...
    @property
    def channel(self) -> str | None: ...
    @property
    def agency(self) -> str: ...


R = TypeVar("R", bound=RuleLike)


@dataclass(frozen=True)
class Facts:
    """What rules are matched against: the item's topic, province, commune and channel."""

    topic: str | None = None
    province: str | None = None
    commune: str | None = None
    channel: str | None = None


def matches(rule: RuleLike, facts: Facts) -> bool:
    """Whether every condition the rule sets holds for ``facts``."""
    return all(
        wanted is None or wanted == found
        for wanted, found in (
            (rule.topic, facts.topic),
            (rule.province, facts.province),
            (rule.commune, facts.commune),
            (rule.channel, facts.channel),
        )
    )


def first_match(rules: Iterable[R], facts: Facts) -> R | None:
    """The first rule (in the given order) that matches, or ``None``."""
    return next((rule for rule in rules if matches(rule, facts)), None)


_WORDS = {
    "vi": {
        "all": "Mọi phản ánh",
        "topic": "chủ đề «{}»",
        "commune": "ở {}",
        "province": "ở {}",
        "channel": "gửi qua {}",
        "to": "chuyển đến {}",
        "about": "Phản ánh",
    },
    "en": {
        "all": "Every submission",
        "topic": "on «{}»",
        "commune": "in {}",
        "province": "in {}",
        "channel": "sent by {}",
        "to": "goes to {}",
        "about": "A submission",
    },
}

_CHANNELS = {
    "vi": {
        "web_form": "biểu mẫu web",
        "api": "API",
        "open311": "Open311",
        "email": "thư điện tử",
        "hotline": "đường dây nóng",
        "social_media": "mạng xã hội",
        "survey": "khảo sát",
        "file_import": "nhập tệp",
        "feed": "nguồn tin RSS",
    },
    "en": {
        "web_form": "the web form",
        "api": "the API",
        "open311": "Open311",
        "email": "e-mail",
        "hotline": "the hotline",
        "social_media": "social media",
        "survey": "a survey",
        "file_import": "file import",
        "feed": "an RSS feed",
    },
}


def describe(rule: RuleLike, taxonomy: Taxonomy, lang: str = "vi") -> str:
    """The rule in plain words, e.g. ``Phản ánh chủ đề «Y tế» ở Tỉnh Lào Cai chuyển đến Sở Y tế``."""
    if lang not in LANGUAGES:
        raise Unprocessable(f"unknown language {lang!r}; choose one of: {', '.join(LANGUAGES)}")
    words = _WORDS[lang]
    parts = []
    if rule.topic:
        parts.append(words["topic"].format(_topic_name(taxonomy, rule.topic, lang)))
    if rule.commune:
        parts.append(words["commune"].format(_place_name(rule.commune, commune=True)))
    elif rule.province:
        parts.append(words["province"].format(_place_name(rule.province, commune=False)))
    if rule.channel:
        parts.append(words["channel"].format(_CHANNELS[lang].get(rule.channel, rule.channel)))
    subject = f"{words['about']} {', '.join(parts)}" if parts else words["all"]
    return f"{subject} {words['to'].format(_agency_name(taxonomy, rule.agency, lang))}"


def descriptions(rule: RuleLike, taxonomy: Taxonomy) -> dict[str, str]:
    """The rule in plain words in every language."""
    return {lang: describe(rule, taxonomy, lang) for lang in LANGUAGES}


def check_rule(rule: RuleLike, taxonomy: Taxonomy) -> None:
    """Refuse (``Unprocessable``) a rule naming an unknown topic, place, channel or agency."""
    from civicpulse.analysis.gazetteer import gazetteer

    problems = []
    agencies = [a.code for a in taxonomy.agencies]
    if rule.agency not in agencies:
        problems.append(f"unknown agency {rule.agency!r}; known: {', '.join(agencies)}")
    if rule.topic is not None and rule.topic not in taxonomy.codes():
        problems.append(f"unknown topic {rule.topic!r}; known: {', '.join(taxonomy.codes())}")
    if rule.channel is not None and rule.channel not in {c.value for c in Channel}:
        problems.append(f"unknown channel {rule.channel!r}; known: {', '.join(c.value for c in Channel)}")
    places = gazetteer()
    if rule.province is not None and rule.province not in places.provinces:
        problems.append(f"unknown province code {rule.province!r}")
    if rule.commune is not None:
        commune = places.communes.get(rule.commune)
        if commune is None:
            problems.append(f"unknown commune code {rule.commune!r}")
        elif rule.province is not None and commune.province_code != rule.province:
            problems.append(f"commune {rule.commune!r} is not in province {rule.province!r}")
    if problems:
        raise Unprocessable("; ".join(problems))


def _topic_name(taxonomy: Taxonomy, code: str, lang: str) -> str:
    found = next((t for t in taxonomy.topics if t.code == code), None)
    if found is None:
        return code
    return found.name_en if lang == "en" else found.name_vi


def _agency_name(taxonomy: Taxonomy, code: str, lang: str) -> str:
    found = next((a for a in taxonomy.agencies if a.code == code), None)
    if found is None:
        return code
    return found.name_en if lang == "en" else found.name_vi


def _place_name(code: str, *, commune: bool) -> str:
    from civicpulse.analysis.gazetteer import gazetteer

    places = gazetteer()
    unit = (places.communes if commune else places.provinces).get(code)
    if unit is None:
        return code
    if commune and unit.province_code in places.provinces:
        return f"{unit.name}, {places.provinces[unit.province_code].name}"
    return unit.name


def train_router(
    texts: Sequence[str],
    agencies: Sequence[str],
    *,
    embedder: Embedder | None = None,
    vectors: np.ndarray | None = None,
) -> TextModel:
    """The learned router from past assignments ``(text, agency)``."""
    examples = [Example(text=t, label=a) for t, a in zip(texts, agencies, strict=True)]
    return train_agency_router(examples, embedder=embedder, vectors=vectors)


def train_agency_router(
    examples: Sequence[Example], *, embedder: Embedder | None = None, vectors: np.ndarray | None = None
) -> TextModel:
    """The learned router from labelled examples (stored vectors, ``vectors`` or ``embedder``)."""
    return train_text_model(examples, task=TASK, embedder=embedder, vectors=vectors)


def top_agencies(probs: np.ndarray, classes: Sequence[str], top: int = TOP) -> list[list[tuple[str, float]]]:
    """The ``top`` agencies and their probabilities, best first, for each row of ``probs``."""
    order = np.argsort(-probs, axis=1)[:, :top]
    return [
        [(classes[j], round(float(row[j]), 4)) for j in picks]
        for row, picks in zip(probs, order, strict=True)
    ]
