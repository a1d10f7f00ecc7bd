"""Embeddings stored with their submission: float32 bytes, the model name and the text's hash.

One vector per submission (the latest model's). Works the same on SQLite and PostgreSQL; pgvector
is not used (Debian here does not ship it), the in-process index reads these rows instead.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from civicpulse.store.db import Database
from civicpulse.store.tables import Base, Id, UtcDateTime, utcnow

log = logging.getLogger(__name__)

_IN_CHUNK = 500  # ids per IN (...) clause


class EmbeddingRow(Base):
    """The embedding of one submission's analysed (redacted) text."""

    __tablename__ = "embeddings"
    __table_args__ = (Index("ix_embeddings_model_hash", "model", "content_hash"),)

    submission_id: Mapped[int] = mapped_column(
        Id, ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(200))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


def to_bytes(vector: np.ndarray | Sequence[float]) -> bytes:
    """Little-endian float32 bytes of a 1-d vector."""
    array = np.asarray(vector, dtype="<f4")
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"an embedding must be a non-empty 1-d vector, got shape {array.shape}")
    return array.tobytes()


def from_bytes(blob: bytes, dim: int) -> np.ndarray:
    """The float32 vector stored in ``blob``."""
    array = np.frombuffer(blob, dtype="<f4")
    if array.size != dim:
        raise ValueError(f"stored embedding has {array.size} values, its row says {dim}")
    return array.astype(np.float32)


def save_vectors(
    session: Session,
    model: str,
    rows: Iterable[tuple[int, np.ndarray | Sequence[float], str]],
) -> int:
    """Store ``(submission_id, vector, content_hash)`` rows for ``model``; a submission's earlier
    vector is replaced. Returns how many rows were written."""
    pending: dict[int, tuple[bytes, str]] = {
        int(sid): (to_bytes(vector), digest) for sid, vector, digest in rows
    }
    if not pending:
        return 0
    existing = {
        row.submission_id: row
        for chunk in _chunks(list(pending))
        for row in session.scalars(select(EmbeddingRow).where(EmbeddingRow.submission_id.in_(chunk)))
    }
    now = utcnow()
    for sid, (blob, digest) in pending.items():
        row, dim = existing.get(sid), len(blob) // 4
        if row is None:
            session.add(
                EmbeddingRow(
                    submission_id=sid, model=model, dim=dim, vector=blob, content_hash=digest, created_at=now
                )
            )
        else:
            row.model, row.dim, row.vector, row.content_hash, row.created_at = model, dim, blob, digest, now
    session.flush()
    return len(pending)


def load_vectors(
    session: Session, model: str, ids: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(submission ids, float32 matrix)`` of ``model``'s vectors, all of them or those of ``ids``,
    ordered by submission id."""
    query = select(EmbeddingRow.submission_id, EmbeddingRow.dim, EmbeddingRow.vector).where(
        EmbeddingRow.model == model
    )
    if ids is None:
        rows = session.execute(query.order_by(EmbeddingRow.submission_id)).all()
    else:
        rows = [
            row
            for chunk in _chunks(sorted({int(i) for i in ids}))
            for row in session.execute(query.where(EmbeddingRow.submission_id.in_(chunk))).all()
        ]
        rows.sort(key=lambda row: row.submission_id)
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    dims = {row.dim for row in rows}
    if len(dims) != 1:
        raise ValueError(f"model {model!r} has vectors of several widths: {sorted(dims)}")
    matrix = np.vstack([from_bytes(row.vector, row.dim) for row in rows])
    return np.asarray([row.submission_id for row in rows], dtype=np.int64), matrix


def vectors_by_hash(session: Session, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
    """Stored vectors of ``model`` by content hash, for those of ``hashes`` that have one."""
    found: dict[str, np.ndarray] = {}
    for chunk in _chunks(list(dict.fromkeys(hashes))):
        rows = session.execute(
            select(EmbeddingRow.content_hash, EmbeddingRow.dim, EmbeddingRow.vector).where(
                EmbeddingRow.model == model, EmbeddingRow.content_hash.in_(chunk)
            )
        ).all()
        for row in rows:
            found.setdefault(row.content_hash, from_bytes(row.vector, row.dim))
    return found


def stored_models(session: Session) -> dict[str, int]:
    """Model name -> number of stored vectors."""
    rows = session.execute(select(EmbeddingRow.model, func.count()).group_by(EmbeddingRow.model)).all()
    return {model: int(count) for model, count in rows}


def _chunks(values: list, size: int = _IN_CHUNK) -> list[list]:
    return [values[start : start + size] for start in range(0, len(values), size)]


class StoredVectors:
    """The embed stage's vector cache (``embeddings.cache.VectorLookup``): passage vectors already
    in the ``embeddings`` table, by content hash. A store that cannot answer (not migrated,
    unreachable) is logged once and then skipped: a cache never breaks analysis."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.enabled = True

    def get_many(self, model: str, hashes: list[str]) -> dict[str, np.ndarray]:
        """Stored vectors of ``model`` for those of ``hashes`` that have one."""
        if not self.enabled or not hashes:
            return {}
        try:
            with self.db.read() as session:
                return vectors_by_hash(session, model, hashes)
        except SQLAlchemyError as exc:
            log.warning("embedding store cache disabled: %s", exc)
            self.enabled = False
            return {}
