"""Shared text features for the classifiers: which text to read, folding, TF-IDF and embeddings."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly
from civicpulse.annotations import EmbedOut
from civicpulse.embeddings import Embedder
from civicpulse.settings import Settings
from civicpulse.textkit.placeholders import without_placeholders
from civicpulse.textkit.vietnamese import has_marks, is_syllable, strip_marks

_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-cased NFC text with PII placeholders removed and whitespace collapsed."""
    text = without_placeholders(unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text.lower()).strip()


def fold_ascii(text: str) -> str:
    """``fold`` without Vietnamese marks (đ written d): matches text typed without diacritics."""
    return strip_marks(fold(text))


def item_vector(item: AnalysisItem) -> np.ndarray | None:
    """The vector the ``embed`` stage left on the item, if it ran."""
    embedded = item.output(EmbedOut)
    if embedded is None or embedded.vector is None:
        return None
    return np.asarray(embedded.vector, dtype=np.float32)


def passage_vectors(
    items: Sequence[AnalysisItem], texts: Sequence[str], embedder: Embedder | None
) -> np.ndarray | None:
    """One passage vector per item: the embed stage's when present, else computed now.

    ``None`` when no embedder is configured and some item has no vector.
    """
    found = [item_vector(item) for item in items]
    missing = [i for i, vector in enumerate(found) if vector is None]
    if missing and embedder is None:
        return None
    if missing:
        computed = np.asarray(embedder.embed_passages([texts[i] for i in missing]), dtype=np.float32)  # type: ignore[union-attr]
        for row, i in enumerate(missing):
            found[i] = computed[row]
    return np.vstack([np.asarray(v, dtype=np.float32) for v in found]) if found else None


def softmax(scores: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of ``scores / temperature``."""
    scaled = np.asarray(scores, dtype=np.float64) / max(temperature, 1e-6)
    scaled -= scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


def model_dir(settings: Settings) -> Path:
    """Where trained models live: ``settings.model_dir``, else ``var/models`` beside the database."""
    if settings.model_dir:
        return Path(settings.model_dir)
    database = settings.sqlite_path
    return (database.parent if database else Path("var")) / "models"


def embedder_for(settings: Settings) -> Embedder | None:
    """The configured embedder, or ``None`` when classifiers run on words only."""
    if not settings.classify_with_embeddings:
        return None
    from civicpulse.analysis.embed import embedder_from_settings

    return embedder_from_settings(settings)


CONFIGURED: Any = object()  # "build the configured embedder on first use" (``None``: words only)


class UsesEmbedder(ShipsConfigOnly):
    """For stages given an embedder, or none (words only), or ``CONFIGURED`` (built when first needed).

    A given embedder is not shipped with a pickled stage: the other process builds the configured one.
    """

    settings: Settings
    embedder_: Embedder | None
    words_only: bool

    def _use(self, embedder: Any) -> None:
        self.words_only = embedder is None
        self.embedder_ = None if embedder is CONFIGURED else embedder

    def _embedder(self) -> Embedder | None:
        if self.embedder_ is None and not self.words_only:
            self.embedder_ = embedder_for(self.settings)
        return self.embedder_


_TOKEN = re.compile(r"[\w*']+")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (letters, digits, ``*`` and ``'``) of ``fold(text)``."""
    return _TOKEN.findall(fold(text))


class Lexicon:
    """Multi-word terms matched on tokens: with diacritics as written, and without diacritics for
    terms of two or more words, so that one-syllable words that differ only by marks ("tệ" / "tê")
    are not confused. In text typed without any diacritics, a one-word term shaped like a
    Vietnamese syllable ("ngu", which may be "ngủ") is not trusted either. A term written with a
    leading ``=`` ("=sâu mọt", whose unmarked form is also "sau một") matches only as written, and
    not at all in text typed without diacritics.
    """

    def __init__(self, entries: list[tuple[str, str, float]]) -> None:
        self.marked: dict[str, list[tuple[tuple[str, ...], str, float]]] = {}
        self.plain: dict[str, list[tuple[tuple[str, ...], str, float]]] = {}
        self.exact: set[tuple[str, ...]] = set()
        for term, category, weight in entries:
            exact = term.startswith("=")
            words = tuple(tokens(term.removeprefix("=")))
            if not words:
                continue
            self.marked.setdefault(words[0], []).append((words, category, weight))
            if exact:
                self.exact.add(words)
            elif len(words) > 1:
                ascii_words = tuple(strip_marks(w) for w in words)
                self.plain.setdefault(ascii_words[0], []).append((ascii_words, category, weight))

    def find(self, text: str) -> list[tuple[int, int, str, float]]:
        """``(start, end, category, weight)`` token spans of the longest terms found, left to right."""
        words = tokens(text)
        plain = [strip_marks(w) for w in words]
        unmarked = not has_marks(text)
        found = []
        i = 0
        while i < len(words):
            best: tuple[int, str, float] | None = None
            for seq, index in ((words, self.marked), (plain, self.plain)):
                for term, category, weight in index.get(seq[i], ()):
                    n = len(term)
                    if unmarked and ((n == 1 and is_syllable(term[0])) or term in self.exact):
                        continue
                    if tuple(seq[i : i + n]) == term and (best is None or n > best[0]):
                        best = (n, category, weight)
            if best is None:
                i += 1
                continue
            found.append((i, i + best[0], best[1], best[2]))
            i += best[0]
        return found
