"""Rumour matching: each analysed submission's check-worthy sentences against the claim base.

The ``rumours`` insight hook splits the redacted text (``pii`` stage) into sentences, keeps those
with a claim's shape (figures, names, "nghe nói", "sắp", "will" ...), and searches them in a
``HybridIndex`` of the stored claims (its order is kept; claims in the other language are added by
e5 cosine), and ``rumour_model`` says how likely each candidate is repeated. A sentence scoring at
least ``rumour_show_threshold`` makes a rumour signal for an official to look at; at least
``rumour_certain_threshold``, a certain one. Both defaults are chosen by cross-validation on the
train halves of CheckThat! 2020 and of a Vietnamese set written for the project
(``bench/rumour_thresholds.py``). Claims spreading fast raise alerts through ``rumour`` alert
rules. The index needs an embedder: the runtime hands one over through ``use_embedder`` (the
knowledge layer never builds one), and without it the index is lexical only.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import numpy as np
from sqlalchemy.orm import Session

from civicpulse.embeddings.base import Embedder
from civicpulse.insight.base import AnalysedBatch
from civicpulse.insight.themes.represent import sentences
from civicpulse.knowledge.rumour_model import (
    Candidate,
    MatchModels,
    coverage,
    feature_rows,
    language_of,
    number_agreement,
    shipped,
)
from civicpulse.retrieval import Doc, HybridIndex, RetrievalConfig
from civicpulse.settings import Settings
from civicpulse.store import claims as stored
from civicpulse.store.counts import read_facts
from civicpulse.store.submissions import redacted_texts
from civicpulse.store.tables import RumourSignalRow, utcnow
from civicpulse.textkit.folding import fold
from civicpulse.textkit.placeholders import without_placeholders
from civicpulse.textkit.vietnamese import has_marks

MIN_WORDS = 4
MAX_SENTENCES = 30
CANDIDATES = 5
_CUES = re.compile(
    r"\d|%|nghe nói|nghe đồn|tin đồn|đồn rằng|nghe đâu|sắp|sẽ|chuẩn bị|bắt đầu|từ ngày|kể từ|"
    r"cấm|phạt|miễn phí|bắt buộc|thu hồi|tăng|giảm|hủy|huỷ|chính thức|thông báo|có phải|có đúng|"
    r"thật không|đúng không|đồn|lan truyền|trên mạng|có tin|chữa khỏi|"
    r"(?:người ta|hàng xóm|mọi người|có người|ai cũng) (?:nói|bảo)|"
    r"\b(?:will|going to|banned?|free|fines?|fined|rumou?rs?|heard|says?|said|claims?|new law|from|"
    r"is it true|true that)\b",
    re.IGNORECASE,
)
_UNMARKED_CUES = re.compile(
    r"\b(?:nghe noi|nghe don|tin don|don rang|nghe dau|sap|chuan bi|bat dau|tu ngay|ke tu|bi cam|bi phat|"
    r"mien phi|bat buoc|thu hoi|chinh thuc|thong bao|co phai|co dung|that (?:khong|ko|k)|lan truyen|"
    r"tren mang|chua khoi|(?:nguoi ta|hang xom|moi nguoi|co nguoi) (?:noi|bao)|"
    r"(?:dung|phai) (?:khong|ko|k))\b"
)
"""The Vietnamese cues of a sentence typed without marks (those that stay unambiguous without them)."""
_WORD_AFTER_WORD = re.compile(r"(?<=\w\s)\w+")


def _has_name(sentence: str) -> bool:
    """Whether a capitalised word follows another word (a person, a place, a body)."""
    return any(word[0].isupper() for word in _WORD_AFTER_WORD.findall(sentence))


def check_worthy(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the sentences of ``text`` shaped like a claim: enough words, and a
    figure, a name past the first word, or a cue of hearsay, change or rule (with marks or without)."""
    kept = []
    for start, end in sentences(text):
        sentence = text[start:end]
        if len(without_placeholders(sentence).split()) < MIN_WORDS:
            continue
        unmarked = not has_marks(sentence) and _UNMARKED_CUES.search(fold(sentence))
        if _CUES.search(sentence) or unmarked or _has_name(sentence):
            kept.append((start, end))
    return kept[:MAX_SENTENCES]


def _published(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


BACKGROUND = Path(__file__).with_name("background.txt")
NEAREST = 5
CROSS_CANDIDATES = 2


def background() -> dict[str, list[str]]:
    """The everyday sentences of ``background.txt`` by language."""
    found: dict[str, list[str]] = {}
    for line in BACKGROUND.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            language, _, sentence = line.partition("\t")
            found.setdefault(language, []).append(sentence)
    return found


def _nearest_mean(matrix: np.ndarray, vector: np.ndarray) -> float:
    similarities = matrix @ vector
    return float(np.sort(similarities)[-NEAREST:].mean())


@dataclass(frozen=True)
class Scored:
    """A candidate claim of a sentence: its features, whether it is in the other language, and
    its place in the ``HybridIndex``'s list (``None`` for a cross-language candidate found by
    cosine alone)."""

    claim_id: int
    cross: bool
    place: int | None
    features: dict[str, float]


def _monotone(scores: list[float]) -> list[float]:
    """Each score capped by those before it, so the index's order is kept."""
    capped, ceiling = [], 1.0
    for score in scores:
        ceiling = min(ceiling, score)
        capped.append(ceiling)
    return capped


def rank(candidates: Sequence[Scored], models: MatchModels, *, dense: bool) -> list[tuple[int, float]]:
    """``(claim id, probability)`` best first: same-language candidates keep the index's order."""
    same = [c for c in candidates if not c.cross]
    capped = _monotone([models.same(dense).score(c.features) for c in same])
    pairs = [(c.claim_id, s) for c, s in zip(same, capped, strict=True)]
    pairs += [(c.claim_id, models.cross_score(c.features)) for c in candidates if c.cross]
    return sorted(pairs, key=lambda item: -item[1])


class ClaimIndex:
    """The claim base: a ``HybridIndex`` orders the candidates of a sentence, ``rumour_model``
    decides how likely each is repeated by it.

    Candidates in the sentence's language keep the index's order (their scores are capped by the
    score of the candidates before them); claims in the other language, which BM25 cannot see, are
    added by e5 cosine and scored by the cross-language model. Cosines compare texts the way e5
    compares paraphrases: claims, sentences and background are all embedded as ``query:`` texts.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        candidates: int = CANDIDATES,
        models: MatchModels | None = None,
    ) -> None:
        self.embedder = embedder
        self.index = HybridIndex(embedder, RetrievalConfig(profile="claims"))
        self.models = models
        self.candidates = candidates
        self.texts: dict[int, str] = {}
        self.languages: dict[int, str] = {}
        self.vectors: dict[int, np.ndarray] = {}
        self.baselines: dict[int, dict[str, float]] = {}
        self.versions: dict[int, datetime] = {}
        self.lock = threading.Lock()
        self.reference: dict[str, np.ndarray] = {}
        self._by_language: dict[str, tuple[list[int], np.ndarray]] | None = None
        if embedder is not None:
            self.reference = {lang: embedder.embed_queries(texts) for lang, texts in background().items()}

    def add(self, claims: Sequence[tuple[int, str, date | None]]) -> None:
        """Index ``(id, text, published)`` claims (an indexed id is replaced)."""
        if not claims:
            return
        self.index.add([Doc(id=str(cid), text=text, published=published) for cid, text, published in claims])
        for cid, text, _ in claims:
            self.texts[cid] = text
            self.languages[cid] = language_of(text)
        self._embed([cid for cid, _, _ in claims])

    def remove(self, ids: Sequence[int]) -> None:
        """Drop claims from the index."""
        self.index.remove(str(cid) for cid in ids)
        for cid in ids:
            self.texts.pop(cid, None)
            self.languages.pop(cid, None)
            self.vectors.pop(cid, None)
            self.baselines.pop(cid, None)
        self._by_language = None

    def sync(self, session: Session) -> None:
        """Add new and changed claims of the store, drop removed ones."""
        current = stored.claim_versions(session)
        with self.lock:
            gone = [cid for cid in self.versions if cid not in current]
            changed = [cid for cid, at in current.items() if self.versions.get(cid) != at]
            if gone:
                self.remove(gone)
            if changed:
                rows = stored.claims_by_ids(session, changed)
                self.add(
                    [
                        (cid, rows[cid].claim_reviewed, _published(rows[cid].date_published))
                        for cid in changed
                        if cid in rows
                    ]
                )
            self.versions = current

    def _embed(self, ids: Sequence[int]) -> None:
        """The vectors and background levels of these claims."""
        self._by_language = None
        if self.embedder is None or not ids:
            return
        vectors = self.embedder.embed_queries([self.texts[cid] for cid in ids])
        for cid, vector in zip(ids, vectors, strict=True):
            self.vectors[cid] = vector
            self.baselines[cid] = {
                lang: _nearest_mean(matrix, vector) for lang, matrix in self.reference.items()
            }

    def _language_matrix(self, language: str) -> tuple[list[int], np.ndarray] | None:
        if self._by_language is None:
            grouped: dict[str, list[int]] = {}
            for cid in sorted(self.vectors):
                grouped.setdefault(self.languages[cid], []).append(cid)
            self._by_language = {
                lang: (ids, np.vstack([self.vectors[cid] for cid in ids])) for lang, ids in grouped.items()
            }
        return self._by_language.get(language)

    def _candidate(
        self,
        query: str,
        language: str,
        vector: np.ndarray | None,
        claim_id: int,
        probability: float,
        rank: int,
    ) -> Candidate:
        claim = self.texts[claim_id]
        terms, pairs = coverage(query, claim)
        shared, missing = number_agreement(query, claim)
        cosine = claim_margin = query_margin = None
        if vector is not None and claim_id in self.vectors:
            cosine = float(self.vectors[claim_id] @ vector)
            claim_margin = cosine - self.baselines[claim_id][language]
            query_margin = cosine - _nearest_mean(self.reference[self.languages[claim_id]], vector)
        return Candidate(
            probability,
            rank,
            cosine,
            claim_margin,
            query_margin,
            terms,
            pairs,
            shared,
            missing,
            vietnamese=language == "vi",
        )

    def scored(self, queries: Sequence[str]) -> list[list[Scored]]:
        """The candidates of each query with their features: the index's, then the other
        language's closest claims by cosine."""
        if not queries or len(self.index) == 0:
            return [[] for _ in queries]
        found = self.index.search_many(queries, self.candidates)
        vectors = self.embedder.embed_queries(list(queries)) if self.embedder is not None else None
        out = []
        for i, (query, hits) in enumerate(zip(queries, found, strict=True)):
            vector = None if vectors is None else vectors[i]
            language = language_of(query)
            same = [(int(hit.id), hit.score, rank) for rank, hit in enumerate(hits)]
            same = [item for item in same if self.languages[item[0]] == language]
            cross = self._cross(vector, language, [int(hit.id) for hit in hits])
            same_c = [self._candidate(query, language, vector, cid, p, rank) for cid, p, rank in same]
            cross_c = [
                self._candidate(query, language, vector, cid, 0.0, rank) for rank, cid in enumerate(cross)
            ]
            out.append(
                [
                    Scored(cid, False, rank, row)
                    for (cid, _, rank), row in zip(same, feature_rows(same_c), strict=True)
                ]
                + [
                    Scored(cid, True, None, row)
                    for cid, row in zip(cross, feature_rows(cross_c), strict=True)
                ]
            )
        return out

    def _cross(self, vector: np.ndarray | None, language: str, hits: list[int]) -> list[int]:
        """Claims not in ``language``: those among the index's hits, then the closest by cosine."""
        chosen = [cid for cid in hits if self.languages[cid] != language]
        if vector is None:
            return chosen
        for lang in sorted({*self.languages.values()} - {language}):
            found = self._language_matrix(lang)
            if found is None:
                continue
            ids, matrix = found
            similarities = matrix @ vector
            top = np.argsort(-similarities, kind="stable")[:CROSS_CANDIDATES]
            chosen += [ids[row] for row in top if ids[row] not in chosen]
        return chosen

    def score(self, candidates: Sequence[Scored]) -> list[tuple[int, float]]:
        """``(claim id, probability)`` of the candidates, best first."""
        return rank(candidates, self.models or shipped(), dense=self.embedder is not None)

    def best(self, queries: Sequence[str]) -> list[list[tuple[int, float]]]:
        """The candidate claims of each query, ``[(claim id, score), ...]`` best first."""
        return [self.score(candidates) for candidates in self.scored(queries)]


@dataclass(frozen=True)
class Thresholds:
    """Scores from which a match is shown to an official, and from which it is certain."""

    show: float
    certain: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Thresholds:
        return cls(show=settings.rumour_show_threshold, certain=settings.rumour_certain_threshold)

    def level(self, score: float) -> str | None:
        if score >= self.certain:
            return stored.CERTAIN
        return stored.SHOW if score >= self.show else None


@dataclass(frozen=True)
class Match:
    """A sentence of a text (``start``/``end``) matching a claim."""

    claim_id: int
    score: float
    level: str
    start: int
    end: int


def match_text(index: ClaimIndex, text: str, thresholds: Thresholds) -> list[Match]:
    """The claims ``text``'s check-worthy sentences match, one (the best sentence) per claim."""
    spans = check_worthy(text)
    found: dict[int, Match] = {}
    for (start, end), hits in zip(spans, index.best([text[s:e] for s, e in spans]), strict=True):
        for claim_id, score in hits:
            level = thresholds.level(score)
            if level is not None and (claim_id not in found or score > found[claim_id].score):
                found[claim_id] = Match(claim_id, score, level, start, end)
    return sorted(found.values(), key=lambda m: (-m.score, m.claim_id))


def record_matches(
    session: Session, index: ClaimIndex, thresholds: Thresholds, submission_ids: Sequence[int]
) -> list[RumourSignalRow]:
    """Match the redacted texts of these submissions and store their rumour signals."""
    texts = redacted_texts(session, submission_ids)
    if not texts:
        return []
    index.sync(session)
    facts = {fact.submission_id: fact for fact in read_facts(session, list(texts))}
    received = stored.received_times(session, list(texts))
    saved = []
    for submission_id, text in sorted(texts.items()):
        fact = facts.get(submission_id)
        for match in match_text(index, text, thresholds):
            signal = RumourSignalRow(
                submission_id=submission_id,
                claim_id=match.claim_id,
                score=match.score,
                level=match.level,
                start=match.start,
                end=match.end,
                sender=fact.sender if fact else f"#{submission_id}",
                province=fact.province if fact else "",
                received_at=received[submission_id],
                created_at=utcnow(),
            )
            saved.append(stored.save_signal(session, signal))
    return saved


@dataclass(frozen=True)
class Spreading:
    """A claim repeated by many more people in the last window than in the one before."""

    claim_id: int
    people: int
    before: int


def spreading(session: Session, settings: Settings, now: datetime | None = None) -> list[Spreading]:
    """Claims repeated by at least ``rumour_alert_people`` people (and ``k_anonymity``) in the last
    ``rumour_alert_hours``, at least twice as many as in the window before."""
    now = now or utcnow()
    window = timedelta(hours=settings.rumour_alert_hours)
    recent = {row.claim_id: row.people for row in stored.circulating(session, now - window)}
    earlier = {row.claim_id: row.people for row in stored.circulating(session, now - 2 * window)}
    floor = max(settings.rumour_alert_people, settings.k_anonymity)
    found = []
    for claim_id, people in recent.items():
        before = earlier.get(claim_id, 0) - people
        if people >= floor and people >= 2 * max(before, 0):
            found.append(Spreading(claim_id, people, max(before, 0)))
    return found


class RumourMatcher:
    """The ``rumours`` insight hook: rumour signals for each analysed batch."""

    name: ClassVar[str] = "rumours"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.thresholds = Thresholds.from_settings(settings)
        self.provide: Callable[[], Embedder] | None = None
        self.index_: ClaimIndex | None = None
        self.lock = threading.Lock()

    def use_embedder(self, provide: Callable[[], Embedder]) -> None:
        """Take the runtime's embedder (built at first use)."""
        self.provide = provide

    def index(self) -> ClaimIndex:
        """The claim index, built at first use."""
        with self.lock:
            if self.index_ is None:
                self.index_ = ClaimIndex(self.provide() if self.provide is not None else None)
            return self.index_

    def on_analysed(self, session: Session, batch: AnalysedBatch) -> None:
        """Store the batch's rumour signals (``rumour`` alert rules watch them, insight/alerts.py)."""
        if not self.settings.rumour_matching or not stored.has_claims(session):
            return
        record_matches(session, self.index(), self.thresholds, batch.submission_ids)
