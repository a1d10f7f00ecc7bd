"""``civicpulse trends rebuild --engine ray``: the trend counts rebuilt as a distributed aggregation.

The driver empties the trend tables. Read tasks turn batches of analysed submissions into facts
(``store.counts.read_facts``, in parallel on PostgreSQL); writer actors store each batch of facts
and turn it into partial sums per period and cell and per period, cell and sender; a Ray Data
``groupby`` adds the partial sums up; writer actors store each total in place of its row (a
retried write changes nothing). The driver then counts campaigns once, as the local rebuild
does, so the tables end equal to ``insight.counts.rebuild_counts``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
from sqlalchemy import Select, select

from civicpulse.insight.campaigns import CampaignRules
from civicpulse.insight.counts import mark_campaigns
from civicpulse.runtime.ray_sources import IdRangeSource
from civicpulse.settings import Settings
from civicpulse.store.counts import (
    KEYS,
    Deltas,
    Fact,
    clear,
    hourly_cutoff,
    put_facts,
    put_totals,
    read_facts,
)
from civicpulse.store.db import Database
from civicpulse.store.tables import SubmissionRow

FACT_SCHEMA = pa.schema(
    {
        "submission_id": pa.int64(),
        "day": pa.string(),
        "hour": pa.string(),
        "topic": pa.string(),
        "province": pa.string(),
        "channel": pa.string(),
        "sentiment": pa.string(),
        "sender": pa.string(),
    }
)
GROUP = [*KEYS, "sender"]
"""Keys of the aggregation; ``sender`` is empty on the rows of a period and cell (senders never are)."""

Batch = dict[str, np.ndarray]


def _analysed(*extra: Any) -> Any:
    return select(*extra).where(SubmissionRow.analysis_state == "done")


class AnalysedFacts(IdRangeSource):
    """Facts of the analysed submissions, a batch per read (one read at a time on SQLite)."""

    row_bytes = 200

    def ids(self) -> Select[Any]:
        return _analysed(SubmissionRow.id)

    def reader(self, start: int, end: int) -> Callable[[], Iterator[pa.Table]]:
        return _FactRange(self.settings, start, end, self.batch_size)


class _FactRange:
    """Facts of the analysed submissions with ``start <= id < end``, as blocks of one batch."""

    def __init__(self, settings: Settings, start: int, end: int, batch_size: int) -> None:
        self.settings, self.start, self.end, self.batch_size = settings, start, end, batch_size

    def __call__(self) -> Iterator[pa.Table]:
        db = Database.from_settings(self.settings)
        try:
            after = self.start - 1
            while True:
                with db.read() as session:
                    ids = list(
                        session.scalars(
                            _analysed(SubmissionRow.id)
                            .where(SubmissionRow.id > after, SubmissionRow.id < self.end)
                            .order_by(SubmissionRow.id)
                            .limit(self.batch_size)
                        )
                    )
                    if not ids:
                        return
                    facts = read_facts(session, ids)
                after = ids[-1]
                columns = {name: [getattr(f, name) for f in facts] for name in FACT_SCHEMA.names}
                yield pa.table(columns, schema=FACT_SCHEMA)
        finally:
            db.dispose()


class FactWriter:
    """Stores a batch of facts and returns its partial sums (one row per key of ``GROUP``)."""

    def __init__(self, settings: Settings, cutoff: str) -> None:
        self.db = Database.from_settings(settings)
        self.cutoff = cutoff

    def __call__(self, batch: Batch) -> Batch:
        facts = [
            Fact(int(sid), *(str(batch[name][row]) for name in FACT_SCHEMA.names[1:]))
            for row, sid in enumerate(batch["submission_id"])
        ]
        with self.db.write() as session:
            put_facts(session, facts)
        deltas = Deltas(self.cutoff)
        for fact in facts:
            deltas.add(fact, +1)
        rows = [(*key, "", n, deltas.counted[key]) for key, n in deltas.counts.items()]
        rows += [(*key, n, 0) for key, n in deltas.senders.items()]
        names = [*GROUP, "submissions", "counted"]
        return {name: np.array([row[i] for row in rows], dtype=object if i < len(GROUP) else np.int64)
                for i, name in enumerate(names)}  # fmt: skip


class TotalWriter:
    """Stores aggregated totals: period-and-cell rows as counts, the others as sender rows."""

    def __init__(self, settings: Settings) -> None:
        self.db = Database.from_settings(settings)

    def __call__(self, batch: Batch) -> Batch:
        counts, senders = [], []
        for row in range(len(batch["unit"])):
            key = {name: str(batch[name][row]) for name in KEYS}
            sender = str(batch["sender"][row])
            if sender:
                senders.append(key | {"sender": sender, "items": int(batch["sum(submissions)"][row])})
            else:
                counts.append(
                    key
                    | {
                        "submissions": int(batch["sum(submissions)"][row]),
                        "counted": int(batch["sum(counted)"][row]),
                    }
                )
        with self.db.write() as session:
            put_totals(session, counts, senders)
        return {"rows": np.array([len(counts) + len(senders)], dtype=np.int64)}


def rebuild_counts_ray(settings: Settings, rules: CampaignRules, *, address: str | None = None) -> int:
    """``insight.counts.rebuild_counts`` on Ray; returns how many submissions count."""
    from ray.data import ActorPoolStrategy

    from civicpulse.runtime.ray_engine import LIGHT_CPUS, cluster_cpus, quiet_context, ray_cluster

    cutoff = hourly_cutoff()
    db = Database.from_settings(settings)
    try:
        with db.write() as session:
            clear(session)
        with ray_cluster(settings, address):
            quiet_context(ordered=False)
            source = AnalysedFacts(
                settings, settings.ray_batch_size, settings.ray_read_tasks or cluster_cpus()
            )
            if source.count:
                writers = 1 if db.dialect == "sqlite" else settings.ray_writers
                pool = {
                    "compute": ActorPoolStrategy(size=writers),
                    "num_cpus": LIGHT_CPUS,
                }
                dataset = source.dataset(LIGHT_CPUS)
                sums = dataset.map_batches(
                    FactWriter,
                    fn_constructor_args=(settings, cutoff),
                    batch_size=None,
                    batch_format="numpy",
                    **pool,
                )
                totals = sums.groupby(GROUP).sum(["submissions", "counted"])
                written = totals.map_batches(
                    TotalWriter,
                    fn_constructor_args=(settings,),
                    batch_size=4096,
                    batch_format="numpy",
                    **pool,
                )
                written.materialize()
        with db.write() as session:
            mark_campaigns(session, rules, cutoff)
        return source.count
    finally:
        db.dispose()
