"""Themes over millions on Ray: fit on a sample, assign every stored vector in ``map_batches``.

The driver fits the clustering on at most ``themes_fit_sample`` stored vectors (a sample chosen
by a hash of the submission id, so the same store gives the same sample); read tasks load the
vectors in id ranges (in parallel on PostgreSQL); ``map_batches`` puts each into its nearest theme
with ``insight.themes.discover.assign_to_themes``, as ``themes.service.assign_new`` does for new
submissions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Select, func, select

from civicpulse.insight.themes.cluster import Clustering, ClusterParams, cluster
from civicpulse.insight.themes.discover import assign_to_themes
from civicpulse.runtime.ray_sources import IdRangeSource
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.vectors import EmbeddingRow, from_bytes, load_vectors

Batch = dict[str, np.ndarray]


class StoredVectors(IdRangeSource):
    """Stored vectors of one model, ``id`` and ``vector`` (float32 bytes), in submission id ranges."""

    row_bytes = 1600  # 384 float32

    def __init__(self, settings: Settings, model: str, batch_size: int, ranges: int) -> None:
        self.model = model
        super().__init__(settings, batch_size, ranges)

    def bounds(self) -> Select[Any]:
        return select(
            func.min(EmbeddingRow.submission_id), func.max(EmbeddingRow.submission_id), func.count()
        ).where(EmbeddingRow.model == self.model)

    def reader(self, start: int, end: int) -> Callable[[], Iterator[pa.Table]]:
        return _VectorRange(self, start, end)


@dataclass(frozen=True)
class _VectorRange:
    source: StoredVectors
    start: int
    end: int

    def __call__(self) -> Iterator[pa.Table]:
        db = Database.from_settings(self.source.settings)
        try:
            after = self.start - 1
            while True:
                with db.read() as session:
                    rows = session.execute(
                        select(EmbeddingRow.submission_id, EmbeddingRow.dim, EmbeddingRow.vector)
                        .where(
                            EmbeddingRow.model == self.source.model,
                            EmbeddingRow.submission_id > after,
                            EmbeddingRow.submission_id < self.end,
                        )
                        .order_by(EmbeddingRow.submission_id)
                        .limit(self.source.batch_size)
                    ).all()
                if not rows:
                    return
                after = rows[-1].submission_id
                yield pa.table(
                    {
                        "id": pa.array([r.submission_id for r in rows], pa.int64()),
                        "vector": pa.array(
                            [from_bytes(r.vector, r.dim).tobytes() for r in rows], pa.binary()
                        ),
                    }
                )
        finally:
            db.dispose()


class Assigner:
    """Nearest theme of each vector of a batch (``-1``: none close enough)."""

    def __init__(self, clustering: Clustering, threshold: float | None) -> None:
        self.clustering, self.threshold = clustering, threshold

    def __call__(self, batch: Batch) -> Batch:
        vectors = np.vstack([np.frombuffer(blob, dtype=np.float32) for blob in batch["vector"]])
        return {"id": batch["id"], "theme": assign_to_themes(self.clustering, vectors, self.threshold)}


def in_sample(submission_id: int, share: float) -> bool:
    """Whether a submission is in a sample of about ``share`` of the store (the same every run)."""
    digest = hashlib.blake2b(str(submission_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < share * 2**64


def fit_on_sample(settings: Settings, model: str, params: ClusterParams | None = None) -> Clustering:
    """The clustering of at most about ``settings.themes_fit_sample`` stored vectors of ``model``."""
    db = Database.from_settings(settings)
    try:
        with db.read() as session:
            count = session.scalar(select(func.count()).where(EmbeddingRow.model == model)) or 0
            share = min(1.0, settings.themes_fit_sample / max(count, 1))
            chosen = list(
                session.scalars(select(EmbeddingRow.submission_id).where(EmbeddingRow.model == model))
            )
            ids, vectors = load_vectors(session, model, [i for i in chosen if in_sample(i, share)])
    finally:
        db.dispose()
    return cluster(vectors, ids, None, params)


def assign_stored_ray(
    settings: Settings,
    clustering: Clustering,
    model: str,
    *,
    threshold: float | None = None,
    address: str | None = None,
) -> dict[int, int]:
    """Theme index (``-1``: unassigned) of every stored vector of ``model``."""
    import ray.data

    from civicpulse.runtime.ray_engine import LIGHT_CPUS, cluster_cpus, quiet_context, ray_cluster

    found: dict[int, int] = {}
    with ray_cluster(settings, address):
        quiet_context(ordered=False)
        source = StoredVectors(
            settings, model, settings.ray_batch_size, settings.ray_read_tasks or cluster_cpus()
        )
        if source.count == 0:
            return found
        dataset = ray.data.read_datasource(source, override_num_blocks=source.ranges, num_cpus=LIGHT_CPUS)
        assigned = dataset.map_batches(
            Assigner,
            fn_constructor_args=(clustering, threshold),
            batch_size=None,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=cluster_cpus()),
            num_cpus=settings.ray_actor_cpus,
        )
        for batch in assigned.iter_batches(batch_size=None, batch_format="numpy"):
            found.update(zip(batch["id"].tolist(), batch["theme"].tolist(), strict=True))
    return found
