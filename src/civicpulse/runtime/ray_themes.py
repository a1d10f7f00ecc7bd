"""Themes over millions on Ray: fit on a sample, assign every other item in ``map_batches``.

``SampledThemes`` is the Ray engine's way from a slice to themes (``civicpulse themes --engine
ray``): the local clustering (``discover_themes``) of at most about ``themes_fit_sample`` of the
slice's items, chosen by a hash of the submission id (the same store gives the same sample); read
tasks load the other items' vectors a batch each (several at once on PostgreSQL) and ``map_batches``
puts each into its nearest theme with ``assign_to_themes``, as ``themes.service.assign_new`` does
for new submissions. A slice no larger than the sample is themed exactly as by the local engine.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Select, select

from civicpulse.insight.themes.cluster import UNASSIGNED, Clustering, ClusterParams
from civicpulse.insight.themes.discover import ThemeSet, assign_to_themes, discover_themes
from civicpulse.insight.themes.represent import ThemeItem
from civicpulse.runtime.ray_sources import IdRangeSource
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.vectors import EmbeddingRow, from_bytes

Batch = dict[str, np.ndarray]


class StoredVectors(IdRangeSource):
    """Stored vectors of one model, ``id`` and ``vector`` (float32 bytes), a batch per read."""

    row_bytes = 1600  # 384 float32

    def __init__(self, settings: Settings, model: str, batch_size: int, parallel: int) -> None:
        self.model = model
        super().__init__(settings, batch_size, parallel)

    def ids(self) -> Select[Any]:
        return select(EmbeddingRow.submission_id).where(EmbeddingRow.model == self.model)

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
    """Nearest theme of each vector of a batch (``-1``: none close enough), for the ids in
    ``wanted`` only (all when ``None``), with the driver's BLAS threads (as ``StageActor``)."""

    def __init__(
        self,
        clustering: Clustering,
        threshold: float | None,
        wanted: np.ndarray | None = None,
        blas: int | None = None,
    ) -> None:
        if blas:
            from threadpoolctl import threadpool_limits

            self.blas_limits = threadpool_limits(limits=blas, user_api="blas")
        self.clustering, self.threshold, self.wanted = clustering, threshold, wanted

    def __call__(self, batch: Batch) -> Batch:
        ids, blobs = batch["id"], batch["vector"]
        if self.wanted is not None:
            keep = np.isin(ids, self.wanted)
            ids, blobs = ids[keep], blobs[keep]
        if len(ids) == 0:
            return {"id": np.zeros(0, np.int64), "theme": np.zeros(0, np.int64)}
        vectors = np.vstack([np.frombuffer(blob, dtype=np.float32) for blob in blobs])
        return {"id": ids, "theme": assign_to_themes(self.clustering, vectors, self.threshold)}


def in_sample(submission_id: int, share: float) -> bool:
    """Whether a submission is in a sample of about ``share`` of the store (the same every run)."""
    digest = hashlib.blake2b(str(submission_id).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < share * 2**64


def assign_stored_ray(
    settings: Settings,
    clustering: Clustering,
    model: str,
    *,
    ids: Sequence[int] | None = None,
    threshold: float | None = None,
    address: str | None = None,
) -> dict[int, int]:
    """Theme index (``-1``: unassigned) of every stored vector of ``model`` (of ``ids`` when given)."""
    import ray.data

    from civicpulse.runtime.ray_engine import LIGHT_CPUS, cluster_cpus, quiet_context, ray_cluster
    from civicpulse.runtime.ray_stages import blas_threads

    found: dict[int, int] = {}
    wanted = None if ids is None else np.unique(np.asarray(ids, dtype=np.int64))
    with ray_cluster(settings, address):
        quiet_context(ordered=False)
        source = StoredVectors(
            settings, model, settings.ray_batch_size, settings.ray_read_tasks or cluster_cpus()
        )
        if source.count == 0 or (wanted is not None and len(wanted) == 0):
            return found
        dataset = source.dataset(LIGHT_CPUS)
        assigned = dataset.map_batches(
            Assigner,
            fn_constructor_args=(clustering, threshold, wanted, blas_threads()),
            batch_size=None,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=cluster_cpus()),
            num_cpus=settings.ray_actor_cpus,
        )
        for batch in assigned.iter_batches(batch_size=None, batch_format="numpy"):
            found.update(zip(batch["id"].tolist(), batch["theme"].tolist(), strict=True))
    return found


class SampledThemes:
    """The themes of a slice fitted on a sample and assigned on Ray (``themes.service.Discover``).

    ``fitted`` and ``assigned`` tell afterwards how many items each step took.
    """

    def __init__(
        self, settings: Settings, *, params: ClusterParams | None = None, address: str | None = None
    ) -> None:
        self.settings, self.params, self.address = settings, params, address
        self.fitted = 0
        self.assigned = 0

    def __call__(self, items: Sequence[ThemeItem], vectors: np.ndarray, model: str) -> ThemeSet:
        """``discover_themes`` of the sample; every other item in its nearest theme, on Ray."""
        share = min(1.0, self.settings.themes_fit_sample / max(len(items), 1))
        chosen = np.asarray([in_sample(item.id, share) for item in items], dtype=bool)
        rest = np.flatnonzero(~chosen)
        sample = [items[i] for i in np.flatnonzero(chosen)]
        fitted = discover_themes(sample, vectors[chosen], self.params, describe=False)
        self.fitted, self.assigned = len(sample), len(rest)
        if len(rest) == 0:
            return fitted
        labels = np.full(len(items), UNASSIGNED, dtype=np.int64)
        labels[chosen] = fitted.clustering.labels
        found = assign_stored_ray(
            self.settings, fitted.clustering, model, ids=[items[i].id for i in rest], address=self.address
        )
        labels[rest] = [found.get(items[i].id, UNASSIGNED) for i in rest]
        ids = np.asarray([item.id for item in items], dtype=np.int64)
        weights = np.asarray([item.weight for item in items], dtype=np.float64)
        loose = labels == UNASSIGNED
        clustering = Clustering(
            labels, fitted.clustering.centroids, fitted.clustering.mean, fitted.clustering.components
        )
        return ThemeSet(
            [],
            clustering,
            sorted(int(i) for i in ids[loose]),
            float(weights[loose].sum() / max(weights.sum(), 1e-9)),
        )
