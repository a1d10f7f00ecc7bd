"""The ``dedup`` stage: near-identical submissions join one group (MinHash LSH).

Each item's redacted text is folded (lower case, Vietnamese marks and punctuation dropped, PII
placeholders kept as tokens) and cut into word shingles (pairs of words by default); its MinHash
signature (datasketch) is looked up in an LSH index of the signatures seen so far, and candidates
are kept when their estimated Jaccard similarity reaches ``dedup_threshold``. A changed word,
other punctuation, an added greeting or signature line, or text typed without diacritics still
match; texts shorter than ``dedup_min_words`` words get no signature (too little to tell a copy
from a coincidence). Defaults (2-word shingles, 128 permutations, threshold 0.6) are those that
measured best in ``bench/dedup.py``.

Output per item (``DedupOut``):

- ``duplicate_of``: the earliest (lowest id) earlier submission it nearly duplicates, or ``None``
  (for a text that is not a submission, the earliest of all);
- ``group``: the group it joins: the oldest group among its matches, else its own id;
- ``similarity``: the highest estimated Jaccard similarity to a match, or ``None``;
- ``linked_groups``: other groups its matches belong to (two workers that started a group for
  near-duplicates at the same moment); campaign detection unites them;
- ``signature`` (private): the MinHash signature, which ``runtime`` saves with the group.

The index lives in the stage (one per process: ``runtime`` builds the stages once and the worker
threads and ``POST /api/v1/analyze`` share them); it is loaded lazily from ``signatures`` (a port
the store implements) and refreshed before each batch with the rows other processes wrote since
(a window re-read with overlap, so late commits are not missed). Without a port it works in
memory only. Items with an id
below 1 are texts that are not stored submissions (the analyze endpoint): they are compared with
the index but never added to it.
"""

from __future__ import annotations

import logging
import re
import threading
import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar, Protocol

import numpy as np

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult, analysis_text
from civicpulse.annotations import DedupOut
from civicpulse.settings import Settings
from civicpulse.textkit.vietnamese import strip_marks

log = logging.getLogger(__name__)

SEED = 1
REREAD = timedelta(seconds=60)
"""How far back each refresh re-reads stored rows, to catch rows committed late by other workers."""

_TOKEN = re.compile(r"\[[a-z_]+\]|[^\W_]+")


def fold_tokens(text: str) -> list[str]:
    """Words of ``text`` for comparison: lower case, no Vietnamese marks, no punctuation;
    placeholders such as ``[PERSON]`` stay one token."""
    return _TOKEN.findall(strip_marks(text).lower())


def shingles(tokens: Sequence[str], width: int) -> list[bytes]:
    """Overlapping runs of ``width`` tokens (one run when the text is shorter)."""
    if len(tokens) <= width:
        return [" ".join(tokens).encode()]
    return [" ".join(tokens[i : i + width]).encode() for i in range(len(tokens) - width + 1)]


class Signer:
    """MinHash signatures of texts (datasketch, affine32 scheme, fixed seed: stable across runs)."""

    def __init__(self, num_perm: int, shingle: int, min_words: int) -> None:
        from datasketch import MinHash

        if num_perm < 16 or shingle < 1:
            raise ValueError("dedup needs num_perm >= 16 and shingle >= 1")
        self.num_perm, self.shingle, self.min_words = num_perm, shingle, min_words
        self._template = MinHash(num_perm=num_perm, seed=SEED, scheme="affine32")

    @property
    def scheme(self) -> str:
        """Names how signatures are made; only signatures of one scheme are ever compared."""
        return f"w{self.shingle}-p{self.num_perm}"

    def sign(self, text: str) -> np.ndarray | None:
        """The uint32 signature of ``text``, or ``None`` when it is too short to compare."""
        from datasketch import MinHash

        tokens = fold_tokens(text)
        if len(tokens) < self.min_words:
            return None
        minhash = MinHash(
            num_perm=self.num_perm,
            seed=SEED,
            hashfunc=zlib.crc32,
            permutations=self._template.permutations,
            scheme="affine32",
        )
        minhash.update_batch(shingles(tokens, self.shingle))
        return np.asarray(minhash.hashvalues, dtype=np.uint32)


class BandIndex:
    """LSH banding over signatures, compact: one sorted uint64 array of band keys plus a small
    dictionary of recent inserts that is merged into it now and then.

    ``datasketch.MinHashLSH`` keeps a Python set and a bytes key per band and item (about 5 KB per
    item at 128 permutations, measured); this holds 12 bytes per band and item for the same
    banding (``b`` bands of ``r`` rows, chosen by datasketch for the threshold).
    """

    def __init__(self, num_perm: int, threshold: float) -> None:
        from datasketch import MinHashLSH

        params = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self.b, self.r = params.b, params.r
        rng = np.random.default_rng(SEED)
        self._multipliers = rng.integers(1, 2**63, size=(self.b, self.r), dtype=np.uint64) | np.uint64(1)
        self._keys = np.zeros(0, dtype=np.uint64)  # sorted
        self._rows = np.zeros(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}
        self._recent_items = 0

    def band_keys(self, signature: np.ndarray) -> np.ndarray:
        """One 64-bit key per band (equal bands give equal keys; each band hashes differently)."""
        bands = signature[: self.b * self.r].reshape(self.b, self.r).astype(np.uint64)
        with np.errstate(over="ignore"):
            return (bands * self._multipliers).sum(axis=1, dtype=np.uint64)

    def insert(self, row: int, keys: np.ndarray) -> None:
        """Add the bands of matrix row ``row``."""
        for key in keys.tolist():
            self._recent.setdefault(key, []).append(row)
        self._recent_items += 1
        if self._recent_items >= max(4096, len(self._keys) // (4 * self.b)):
            self._merge()

    def query(self, keys: np.ndarray) -> set[int]:
        """Rows that share at least one band with ``keys``."""
        found: set[int] = set()
        lo = np.searchsorted(self._keys, keys, side="left")
        hi = np.searchsorted(self._keys, keys, side="right")
        for start, end in zip(lo.tolist(), hi.tolist(), strict=True):
            if end > start:
                found.update(self._rows[start:end].tolist())
        for key in keys.tolist():
            found.update(self._recent.get(key, ()))
        return found

    def _merge(self) -> None:
        pairs = [(key, row) for key, rows in self._recent.items() for row in rows]
        new_keys = np.fromiter((k for k, _ in pairs), dtype=np.uint64, count=len(pairs))
        new_rows = np.fromiter((r for _, r in pairs), dtype=np.int32, count=len(pairs))
        order = np.argsort(new_keys, kind="stable")
        new_keys, new_rows = new_keys[order], new_rows[order]
        at = np.searchsorted(self._keys, new_keys, side="right")
        self._keys = np.insert(self._keys, at, new_keys)
        self._rows = np.insert(self._rows, at, new_rows)
        self._recent.clear()
        self._recent_items = 0


class NearDupIndex:
    """Signatures by submission id, their groups, and an LSH index over them."""

    def __init__(self, num_perm: int, threshold: float) -> None:
        self.num_perm, self.threshold = num_perm, threshold
        self.bands = BandIndex(num_perm, threshold)
        self.rows: dict[int, int] = {}  # submission id -> row
        self._matrix = np.zeros((1024, num_perm), dtype=np.uint32)
        self._ids = np.zeros(1024, dtype=np.int64)
        self._groups = np.zeros(1024, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.rows)

    def group(self, submission_id: int) -> int | None:
        """The group of an indexed submission."""
        row = self.rows.get(submission_id)
        return None if row is None else int(self._groups[row])

    def add(self, submission_id: int, signature: np.ndarray, group: int) -> None:
        """Index a signature (again: its group is updated, the signature kept)."""
        row = self.rows.get(submission_id)
        if row is not None:
            self._groups[row] = group
            return
        row = len(self.rows)
        if row == len(self._ids):
            self._matrix = np.concatenate([self._matrix, np.zeros_like(self._matrix)])
            self._ids = np.concatenate([self._ids, np.zeros_like(self._ids)])
            self._groups = np.concatenate([self._groups, np.zeros_like(self._groups)])
        self._matrix[row], self._ids[row], self._groups[row] = signature, submission_id, group
        self.rows[submission_id] = row
        self.bands.insert(row, self.bands.band_keys(signature))

    def matches(self, signature: np.ndarray) -> dict[int, tuple[float, int]]:
        """Indexed ids whose estimated Jaccard similarity reaches the threshold: (similarity, group)."""
        candidates = self.bands.query(self.bands.band_keys(signature))
        if not candidates:
            return {}
        rows = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        similarity = (self._matrix[rows] == signature).mean(axis=1)
        keep = similarity >= self.threshold
        return {
            int(i): (float(s), int(g))
            for i, s, g in zip(self._ids[rows][keep], similarity[keep], self._groups[rows][keep], strict=True)
        }


class SignatureSource(Protocol):
    """Signatures stored by earlier batches and other processes (the store implements it)."""

    def signatures_since(
        self, scheme: str, since: datetime | None, skip: Iterable[int]
    ) -> Iterable[tuple[int, np.ndarray, int]]:
        """``(submission id, signature, group)`` written at or after ``since`` (all when ``None``),
        except the ids in ``skip``; may raise when the store cannot answer."""
        ...


class DedupStage(ShipsConfigOnly):
    """Finds each item's near-duplicates among earlier submissions and the group it joins."""

    name: ClassVar[str] = "dedup"
    output: ClassVar[type[DedupOut]] = DedupOut

    def __init__(self, settings: Settings, signatures: SignatureSource | None = None) -> None:
        self.threshold = settings.dedup_threshold
        self.num_perm = settings.dedup_num_perm
        self.shingle = settings.dedup_shingle
        self.min_words = settings.dedup_min_words
        self.signatures = signatures
        self.signer_: Signer | None = None
        self.index_: NearDupIndex | None = None
        self.loaded_until_: datetime | None = None
        self._lock = threading.Lock()

    def _signer(self) -> Signer:
        if self.signer_ is None:
            self.signer_ = Signer(self.num_perm, self.shingle, self.min_words)
        return self.signer_

    def _refresh(self, index: NearDupIndex) -> None:
        """Add the signatures stored since the last refresh (all of them the first time)."""
        if self.signatures is None:
            return
        started = datetime.now(UTC)
        since = None if self.loaded_until_ is None else self.loaded_until_ - REREAD
        try:
            for submission_id, signature, group in self.signatures.signatures_since(
                self._signer().scheme, since, index.rows
            ):
                if len(signature) == self.num_perm:
                    index.add(submission_id, signature, group)
        except Exception as exc:  # the store is unreachable or not migrated: go on in memory
            log.warning("dedup: stored signatures could not be read (%s); using memory only", exc)
            return
        self.loaded_until_ = started

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Sign every item, then match it against the index and the items before it in the batch."""
        result = StageResult()
        signer = self._signer()
        signed: list[tuple[AnalysisItem, np.ndarray | None]] = []
        for item in sorted(items, key=lambda i: i.id):
            try:
                signed.append((item, signer.sign(analysis_text(item))))
            except Exception as exc:  # failures are data: one bad item must not sink the batch
                result.failures[item.id] = f"{type(exc).__name__}: {exc}"
        with self._lock:
            if self.index_ is None:
                self.index_ = NearDupIndex(self.num_perm, self.threshold)
            self._refresh(self.index_)
            for item, signature in signed:
                result.outputs[item.id] = self._match(self.index_, item.id, signature, signer.scheme)
        return result

    def _match(
        self, index: NearDupIndex, item_id: int, signature: np.ndarray | None, scheme: str
    ) -> DedupOut:
        if signature is None:
            return DedupOut(scheme=scheme)
        found = {sid: match for sid, match in index.matches(signature).items() if sid != item_id}
        earlier = [sid for sid in found if sid < item_id or item_id < 1]  # a probe is newer
        groups = [group for _, group in found.values()]
        if (own := index.group(item_id)) is not None:  # re-analysis keeps the group it had
            groups.append(own)
        group = min(groups) if groups else item_id
        if item_id >= 1:
            index.add(item_id, signature, group)
        return DedupOut(
            duplicate_of=min(earlier) if earlier else None,
            group=group if item_id >= 1 or found else None,
            similarity=round(max(sim for sim, _ in found.values()), 3) if found else None,
            linked_groups=sorted(set(groups) - {group}),
            scheme=scheme,
            signature=[int(v) for v in signature],
        )
