"""The retrieval core: Vietnamese-aware BM25 (bm25s) and embeddings, fused and reranked; pure (no store).

``HybridIndex`` is the one entry point: ``add``/``remove`` documents, ``search`` a query. Tokens
(tokens.py), BM25 fields (bm25.py), pair features (features.py) and the shipped reranker
(rerank.py, models/reranker.json) are its parts.
"""

from civicpulse.retrieval.config import RetrievalConfig
from civicpulse.retrieval.index import Doc, Hit, HybridIndex

__all__ = ["Doc", "Hit", "HybridIndex", "RetrievalConfig"]
