"""Diacritic restoration for Vietnamese typed without marks: a syllable trigram model and Viterbi.

Each syllable typed without marks (``duong``) has the forms seen in training as candidates
(``đường``, ``dương``, ``đương`` ...); a trigram language model with interpolated absolute
discounting picks the best sequence. Syllables that already carry marks stay as typed and serve
as context. The shipped model (``data/diacritics/trigram.npz``) was trained on the VNTC news
corpus (MIT) only; ``bench/diacritics.py --build`` rebuilds it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path

import numpy as np

from civicpulse.textkit.vietnamese import abbreviations, has_marks, is_syllable, place_tone, strip_marks

BOS, EOS, UNK, NUM = "<s>", "</s>", "<unk>", "<num>"
MAX_CANDIDATES = 12
MIN_CANDIDATE_SHARE = 0.002
_PIECE = re.compile(r"(?P<word>[^\W\d_]+)|(?P<num>\d+(?:[.,]\d+)*)|(?P<space>[ \t]+)|(?P<other>.)", re.S)


def model_path() -> Path:
    """Where the shipped model lies."""
    return Path(str(resources.files("civicpulse") / "data" / "diacritics" / "trigram.npz"))


def sequences(text: str) -> Iterator[list[str]]:
    """Lower-case training sequences: syllables and ``<num>``, broken at punctuation."""
    current: list[str] = []
    for match in _PIECE.finditer(text):
        kind = match.lastgroup
        if kind == "word":
            word = place_tone(match.group().lower())
            current.append(word if is_syllable(word) else UNK)
        elif kind == "num":
            current.append(NUM)
        elif kind == "other":
            if current:
                yield current
            current = []
    if current:
        yield current


def train(
    texts: Iterable[str],
    *,
    min_trigram: int = 2,
    min_form: int = 2,
    discounts: tuple[float, float] | None = None,
    reverse: bool = False,
) -> dict[str, np.ndarray]:
    """Count syllable n-grams in ``texts`` and return the model's arrays (see ``TrigramModel``)."""
    c1: Counter[str] = Counter()
    c2: Counter[tuple[str, str]] = Counter()
    c3: Counter[tuple[str, str, str]] = Counter()
    for text in texts:
        for seq in sequences(text):
            if reverse:
                seq.reverse()
            padded = [BOS, BOS, *seq, EOS]
            c1.update(seq)
            c2.update(pairwise(padded[1:]))
            c3.update(zip(padded, padded[1:], padded[2:], strict=False))
    vocab = [BOS, EOS, UNK, NUM, *sorted(w for w, n in c1.items() if n >= min_form and w[0] != "<")]
    index = {w: i for i, w in enumerate(vocab)}
    size = len(vocab)
    unk = index[UNK]

    def ids(gram: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(index.get(w, unk) for w in gram)

    b2: Counter[tuple[int, ...]] = Counter()
    for gram, n in c2.items():
        b2[ids(gram)] += n
    b3: Counter[tuple[int, ...]] = Counter()
    for gram, n in c3.items():
        b3[ids(gram)] += n

    def discount(counts: Counter[tuple[int, ...]]) -> float:
        n1 = sum(1 for n in counts.values() if n == 1)
        n2 = sum(1 for n in counts.values() if n == 2)
        return n1 / (n1 + 2 * n2) if n1 + n2 else 0.75

    # Kneser-Ney: the lower orders count distinct left contexts rather than occurrences.
    lower: Counter[tuple[int, ...]] = Counter()
    for _a, b, c in b3:
        lower[(b, c)] += 1
    d2, d3 = discounts or (discount(lower), discount(b3))
    continuation = np.zeros(size)
    ctx1_total, ctx1_types = np.zeros(size), np.zeros(size)
    for (b, c), n in lower.items():
        continuation[c] += 1
        ctx1_total[b] += n
        ctx1_types[b] += 1
    p1 = (continuation + 0.5) / (continuation.sum() + 0.5 * size)
    bow1 = np.where(ctx1_total > 0, d2 * ctx1_types / np.maximum(ctx1_total, 1), 1.0)

    def p2(b: int, c: int, n: int) -> float:
        return max(n - d2, 0) / ctx1_total[b] + bow1[b] * p1[c]

    ctx2_total: Counter[tuple[int, int]] = Counter()
    ctx2_types: Counter[tuple[int, int]] = Counter()
    for (a, b, _c), n in b3.items():
        ctx2_total[(a, b)] += n
        ctx2_types[(a, b)] += 1
    bi_keys = np.array(sorted(b * size + c for b, c in b2), dtype=np.uint64)
    bi_lp = np.empty(len(bi_keys))
    bi_bow = np.zeros(len(bi_keys))
    for k, key in enumerate(bi_keys.tolist()):
        b, c = divmod(key, size)
        bi_lp[k] = np.log(p2(b, c, lower[(b, c)]))
        if (b, c) in ctx2_total:
            bi_bow[k] = np.log(d3 * ctx2_types[(b, c)] / ctx2_total[(b, c)])
    kept = sorted(
        ((gram[0] * size + gram[1]) * size + gram[2], gram, n) for gram, n in b3.items() if n >= min_trigram
    )
    tri_keys = np.array([key for key, _, _ in kept], dtype=np.uint64)
    tri_lp = np.array(
        [
            np.log((max(n - d3, 0) + d3 * ctx2_types[(a, b)] * p2(b, c, lower[(b, c)])) / ctx2_total[(a, b)])
            for _, (a, b, c), n in kept
        ]
    )
    return {
        "vocab": np.array(vocab),
        "unigram": np.log(p1).astype(np.float32),
        "bow1": np.log(bow1).astype(np.float32),
        "bi_keys": bi_keys,
        "bi_lp": bi_lp.astype(np.float32),
        "bi_bow": bi_bow.astype(np.float32),
        "tri_keys": tri_keys,
        "tri_lp": tri_lp.astype(np.float32),
        "form_count": np.array([c1.get(w, 0) for w in vocab], dtype=np.int64),
    }


def save(arrays: dict[str, np.ndarray], path: Path) -> None:
    """Write the model compactly: keys as deltas, log-probabilities as float16."""
    path.parent.mkdir(parents=True, exist_ok=True)
    packed = dict(arrays)
    for name in ("bi_keys", "tri_keys"):
        keys = arrays[name].astype(np.uint64)
        packed[name] = np.diff(keys, prepend=np.uint64(0)).astype(np.uint64)
    for name in ("unigram", "bow1", "bi_lp", "bi_bow", "tri_lp"):
        packed[name] = arrays[name].astype(np.float16)
    packed["form_count"] = np.minimum(arrays["form_count"], 2**31 - 1).astype(np.int32)
    np.savez_compressed(path, **packed)


@dataclass
class TrigramModel:
    """A loaded model: vocabulary, candidates per unmarked syllable, and n-gram tables."""

    vocab: list[str]
    index: dict[str, int]
    candidates: dict[str, np.ndarray]
    unigram: np.ndarray
    bow1: np.ndarray
    bi_keys: np.ndarray
    bi_lp: np.ndarray
    bi_bow: np.ndarray
    tri_keys: np.ndarray
    tri_lp: np.ndarray

    @classmethod
    def load(cls, path: Path | None = None) -> TrigramModel:
        """Read a model written by ``save``."""
        with np.load(path or model_path(), allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
        vocab = [str(w) for w in arrays["vocab"]]
        counts = arrays["form_count"]
        by_plain: dict[str, list[int]] = {}
        for i, word in enumerate(vocab):
            if not word.startswith("<"):
                by_plain.setdefault(strip_marks(word), []).append(i)
        candidates = {}
        for plain, ids in by_plain.items():
            ids.sort(key=lambda i: -counts[i])
            floor = MIN_CANDIDATE_SHARE * sum(int(counts[i]) for i in ids)
            kept = [i for i in ids if counts[i] >= floor][:MAX_CANDIDATES]
            candidates[plain] = np.array(kept, dtype=np.int64)
        return cls(
            vocab=vocab,
            index={w: i for i, w in enumerate(vocab)},
            candidates=candidates,
            unigram=arrays["unigram"].astype(np.float64),
            bow1=arrays["bow1"].astype(np.float64),
            bi_keys=np.cumsum(arrays["bi_keys"], dtype=np.uint64),
            bi_lp=arrays["bi_lp"].astype(np.float64),
            bi_bow=arrays["bi_bow"].astype(np.float64),
            tri_keys=np.cumsum(arrays["tri_keys"], dtype=np.uint64),
            tri_lp=arrays["tri_lp"].astype(np.float64),
        )

    @staticmethod
    def _lookup(keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        return keys[pos] == query, pos

    def logprob(self, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
        """log P(c | a, b), element-wise over broadcast id arrays."""
        size = np.uint64(len(self.vocab))
        a, b, c = (np.asarray(x, dtype=np.uint64) for x in (a, b, c))
        found2, pos2 = self._lookup(self.bi_keys, b * size + c)
        backoff2 = self.bow1[b.astype(np.int64)] + self.unigram[c.astype(np.int64)]
        lp2 = np.where(found2, self.bi_lp[pos2], backoff2)
        found3, pos3 = self._lookup(self.tri_keys, (a * size + b) * size + c)
        found_ctx, pos_ctx = self._lookup(self.bi_keys, a * size + b)
        bow = np.where(found_ctx, self.bi_bow[pos_ctx], 0.0)
        return np.where(found3, self.tri_lp[pos3], bow + lp2)

    def decode(self, options: list[np.ndarray]) -> list[int]:
        """The best index into each position's candidate ids (exact trigram Viterbi)."""
        bos, eos = np.array([self.index[BOS]]), np.array([self.index[EOS]])
        steps = [bos, bos, *options, eos]
        score = np.zeros((1, 1))  # best score over (previous, current) candidates
        back: list[np.ndarray] = []
        for t in range(2, len(steps)):
            a, b, c = steps[t - 2], steps[t - 1], steps[t]
            total = score[:, :, None] + self.logprob(a[:, None, None], b[None, :, None], c[None, None, :])
            back.append(total.argmax(axis=0))
            score = total.max(axis=0)
        n = len(options)
        best = [0] * (n + 3)
        best[n + 1] = int(score[:, 0].argmax())
        for t in range(n + 2, 2, -1):
            best[t - 2] = int(back[t - 2][best[t - 1], best[t]])
        return best[2 : n + 2]

    def restore(self, text: str) -> str:
        """``text`` with marks restored on syllables typed without them."""
        pieces: list[tuple[str, str]] = [(m.lastgroup or "other", m.group()) for m in _PIECE.finditer(text)]
        out = [piece for _, piece in pieces]
        run: list[int] = []
        for k, (kind, _piece) in enumerate([*pieces, ("other", "")]):
            if kind in ("word", "num"):
                run.append(k)
            elif kind == "other":
                self._restore_run(pieces, run, out)
                run = []
        return "".join(out)

    def _restore_run(self, pieces: list[tuple[str, str]], run: list[int], out: list[str]) -> None:
        if not run:
            return
        unk, num = self.index[UNK], self.index[NUM]
        options: list[np.ndarray] = []
        chosen: list[bool] = []
        for k in run:
            kind, piece = pieces[k]
            lower = place_tone(piece.lower())
            if kind == "num":
                options.append(np.array([num]))
            elif not has_marks(lower) and lower in self.candidates:
                options.append(self.candidates[lower])
                chosen.append(True)
                continue
            else:
                options.append(np.array([self.index.get(lower, unk)]))
            chosen.append(False)
        if not any(chosen):
            return
        choice = self.decode(options)
        for k, ids, pick, decided in zip(run, options, choice, chosen, strict=True):
            if decided:
                out[k] = _with_case_of(pieces[k][1], self.vocab[int(ids[pick])])


def _with_case_of(template: str, word: str) -> str:
    if len(word) != len(template):
        return word
    return "".join(w.upper() if t.isupper() else w for t, w in zip(template, word, strict=True))


@lru_cache(maxsize=1)
def shipped_model() -> TrigramModel:
    """The packaged model, loaded once."""
    return TrigramModel.load()


@lru_cache(maxsize=1)
def syllable_inventory() -> frozenset[str]:
    """Vietnamese syllables as typed without marks (from the packaged model's vocabulary) and the
    chat abbreviations."""
    with np.load(model_path(), allow_pickle=False) as data:
        vocab, counts = data["vocab"], data["form_count"]
    syllables = {strip_marks(str(w)) for w, n in zip(vocab, counts, strict=True) if n >= 5}
    return frozenset(syllables | {strip_marks(k) for k in abbreviations().plain})


def syllable_share(text: str) -> tuple[float, int]:
    """The share of words that are Vietnamese syllables (marks ignored), and the word count."""
    words = [strip_marks(w.lower()) for w in re.findall(r"[^\W\d_]+", text)]
    if not words:
        return 0.0, 0
    inventory = syllable_inventory()
    return sum(1 for w in words if w in inventory) / len(words), len(words)


def marked_share(text: str) -> float:
    """The share of words that carry a Vietnamese mark."""
    words = re.findall(r"[^\W\d_]+", text)
    return sum(1 for w in words if has_marks(w)) / len(words) if words else 0.0


def looks_vietnamese(text: str) -> bool:
    """A quick check for Vietnamese, with or without marks, when no detector has spoken."""
    share, count = syllable_share(text)
    return count > 0 and (share >= 0.8 or (marked_share(text) >= 0.3 and share >= 0.6))


def needs_restoration(text: str, threshold: float = 0.25) -> bool:
    """Whether Vietnamese ``text`` was typed (mostly) without marks."""
    words = re.findall(r"[^\W\d_]+", text)
    return bool(words) and marked_share(text) < threshold


def restore(text: str) -> str:
    """Restore marks with the packaged model."""
    return shipped_model().restore(text)
