"""Vietnamese word segmentation with underthesea's CRF model (shipped in its wheel, offline).

Syllables of one word are joined by ``_`` ("thành phố" -> "thành_phố"), the form that word-level
features (TF-IDF, keyword rules) expect. Results are cached by text, since campaigns and
re-analysis bring the same texts again.
"""

from __future__ import annotations

from functools import lru_cache

CACHE_SIZE = 8192


@lru_cache(maxsize=CACHE_SIZE)
def _segment(text: str) -> tuple[str, ...]:
    from underthesea import word_tokenize

    # the text is already normalised (NFC, tone placement), so underthesea need not do it again
    words = word_tokenize(text, use_token_normalize=False)
    return tuple(word.replace(" ", "_") for word in words)


def segment(text: str) -> list[str]:
    """Word segments of ``text``, punctuation as tokens of its own."""
    if not text.strip():
        return []
    return list(_segment(text))
