"""Toxicity flag (clean / offensive / hate) for moderation: abusive items are set aside, never dropped.

A lexicon written for the project finds profanity, insults and slurs, also when typed without
diacritics or obfuscated ("đ.m", "vclll", "djt"); with a trained ``toxicity`` model in the model
directory, the model's probabilities decide and the lexicon's terms are still reported.
"""

from __future__ import annotations

import math
import re
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any, ClassVar

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult, texts_to_analyse
from civicpulse.analysis.features import Lexicon, model_dir, tokens
from civicpulse.analysis.training import ModelSlot
from civicpulse.annotations import ToxicityOut
from civicpulse.domain import TOXICITY_LABELS
from civicpulse.settings import Settings

LABELS = TOXICITY_LABELS
_WEIGHTS = {"strong": 2.0, "normal": 1.0}
_REPEATS = re.compile(r"([^\W\d_])\1{2,}")
_SPELLED = re.compile(r"(?<!\w)[^\W\d_](?:[\s.\-_*,]{1,2}[^\W\d_](?!\w)){1,4}")
_SEPARATORS = re.compile(r"[\s.\-_*,]")
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "$": "s"})
_LEET_WORD = re.compile(r"(?<![\w@$])[\w@$]+")


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    path = resources.files("civicpulse") / "data" / "toxicity_lexicon.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The packaged toxicity lexicon."""
    raw = _raw()
    return Lexicon(
        [
            (term, kind, _WEIGHTS[strength])
            for kind in ("offensive", "hate")
            for strength, terms in raw[kind].items()
            for term in terms
        ]
    )


def deobfuscate(text: str) -> str:
    """Undo simple disguises: repeated letters, letters spelled apart, digits for letters."""
    text = _REPEATS.sub(r"\1", text.lower())
    text = _SPELLED.sub(lambda m: _SEPARATORS.sub("", m.group()), text)
    return _LEET_WORD.sub(lambda m: _undisguise(m.group()), text)


def _undisguise(word: str) -> str:
    disguises: dict[str, str] = _raw()["obfuscations"]
    if word in disguises:
        return disguises[word]
    has_letter = any(c.isalpha() for c in word)
    if has_letter and any(c in "0134@$" for c in word) and not word[0].isdigit():
        return word.translate(_LEET)
    return word


def lexicon_scores(text: str) -> tuple[float, float, list[str]]:
    """Summed (offensive, hate) weights and the terms found."""
    clean_text = deobfuscate(text)
    words = tokens(clean_text)
    offensive = hate = 0.0
    terms: list[str] = []
    for start, end, kind, weight in lexicon().find(clean_text):
        if kind == "hate":
            hate += weight
        else:
            offensive += weight
        term = " ".join(words[start:end])
        if term not in terms:
            terms.append(term)
    return offensive, hate, terms


def assess(text: str) -> dict[str, Any]:
    """Lexicon verdict for one text: ``{label, score, terms, method}``; score 0 = clean, near 1 = abusive."""
    offensive, hate, terms = lexicon_scores(text)
    score = 1.0 - math.exp(-(offensive + 1.5 * hate))
    label = "hate" if hate else "offensive" if offensive else "clean"
    return {"label": label, "score": round(score, 4), "terms": terms, "method": "lexicon"}


class ToxicityStage(ShipsConfigOnly):
    """Output: ``{label, score, terms, method, moderation}``; ``moderation`` is true for items to set
    aside for a moderator (they stay stored and analysed)."""

    name: ClassVar[str] = "toxicity"
    output: ClassVar[type[ToxicityOut]] = ToxicityOut

    def __init__(self, settings: Settings) -> None:
        self.threshold = settings.toxicity_threshold
        self.model_slot = ModelSlot(model_dir(settings), "toxicity", set(LABELS))

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Assess every item; an item with no text fails, the others go on."""
        result = StageResult()
        texts, live = texts_to_analyse(items, result, "no text to assess")
        outputs = [assess(text) for text in texts]
        model = self.model_slot.get() if live else None
        if model is not None:
            for output, row in zip(outputs, model.predict_proba(texts), strict=True):
                probs = dict(zip(model.classes_, row, strict=True))
                output["label"] = max(probs, key=probs.__getitem__)
                output["score"] = round(1.0 - float(probs.get("clean", 0.0)), 4)
                output["method"] = "supervised"
        for item, output in zip(live, outputs, strict=True):
            moderation = output["label"] != "clean" or output["score"] >= self.threshold
            result.outputs[item.id] = ToxicityOut(**output, moderation=moderation)
        return result
