"""The stage list as Ray Data steps: groups of stages run by actors that load their models once.

Rows travel between steps as ``key`` (the item id the pipeline sees), ``chunk`` (the batch the
item belongs to), ``item`` (the pickled ``AnalysisItem``, earlier stages' outputs included; empty
for a refused record) and ``failure`` (why the item stopped; empty while it goes on); other columns pass
through untouched. A stage whose output depends on the items before it (``dedup``: its
near-duplicate index) runs in one actor that sees the items in order; the others run in pools.
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import Any

import numpy as np

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.runtime.stages import Ports, StageSet
from civicpulse.settings import Settings
from civicpulse.store.db import Database

ORDERED_STAGES = frozenset({"dedup"})
"""Stages whose output depends on the items analysed before (one actor, items in order)."""

Batch = dict[str, np.ndarray]

WARM_UP = (
    "Đường Lê Lợi, phường Bến Thành, quận 1 bị ngập nước sau cơn mưa, đề nghị xử lý gấp.",
    "duong nguyen trai phuong 2 quan 5 bi ngap nuoc sau mua lon, de nghi xu ly",
    "The street light on Main Street has been broken for two weeks; please repair it.",
)
"""Texts a stage actor analyses once when it starts (Vietnamese with and without marks, English)."""


@dataclass(frozen=True)
class StageGroup:
    """Consecutive stages run by one kind of actor; ``ordered``: one actor, items in order."""

    names: tuple[str, ...]
    ordered: bool


def stage_groups(names: list[str]) -> list[StageGroup]:
    """``names`` cut into groups: each ordered stage alone, the stages between them together."""
    groups: list[StageGroup] = []
    pending: list[str] = []
    for name in names:
        if name in ORDERED_STAGES:
            if pending:
                groups.append(StageGroup(tuple(pending), ordered=False))
                pending = []
            groups.append(StageGroup((name,), ordered=True))
        else:
            pending.append(name)
    if pending:
        groups.append(StageGroup(tuple(pending), ordered=False))
    return groups


def pack(item: AnalysisItem) -> bytes:
    """An item as the bytes of an ``item`` cell."""
    return pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(blob: bytes) -> AnalysisItem:
    """The item of an ``item`` cell (written by ``pack`` in this run)."""
    return pickle.loads(blob)


def blas_threads() -> int | None:
    """BLAS threads of this process (the local engine's); ``None`` when no BLAS is loaded."""
    from threadpoolctl import threadpool_info

    counts = [info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"]
    return max(counts) if counts else None


class StageActor:
    """Runs one group of stages over Ray Data batches; its stages (and models) are built once.

    ``blas``: BLAS threads to use, those of the driver. A float product's last bits depend on how
    many threads share it (OpenBLAS splits the sums), and Ray gives an actor of under one CPU one
    thread: with the driver's count, the stages give the local engine's scores to the last bit.
    """

    def __init__(
        self, settings: Settings, names: tuple[str, ...], with_store: bool, blas: int | None
    ) -> None:
        if blas:
            from threadpoolctl import threadpool_limits

            self.blas_limits = threadpool_limits(limits=blas, user_api="blas")
        self.db = Database.from_settings(settings) if with_store else None
        ports = Ports.of_store(self.db) if self.db is not None else Ports()
        self.pipeline = StageSet(settings, ports).pipeline(list(names))
        warm_up(self.pipeline)

    def __call__(self, batch: Batch) -> Batch:
        """Run the stages over the live items of ``batch``, one chunk at a time."""
        items_column = list(batch["item"])
        failures = list(batch["failure"])
        chunks: dict[int, list[int]] = {}
        for row, (blob, failure) in enumerate(zip(items_column, failures, strict=True)):
            if blob and not failure:
                chunks.setdefault(int(batch["chunk"][row]), []).append(row)
        for rows in chunks.values():
            items = [unpack(items_column[row]) for row in rows]
            result = self.pipeline.run(items)
            for row, item in zip(rows, items, strict=True):
                if item.id in result.failures:
                    failures[row] = result.failures[item.id]
                else:
                    items_column[row] = pack(item)
        return {**batch, "item": _column(items_column), "failure": _column(failures)}


def warm_up(pipeline: Pipeline) -> None:
    """Run ``pipeline`` once over ``WARM_UP`` so that its models load while the reads start, not in
    the first batch. The items' ids are below 1: ``dedup`` compares them but never indexes them,
    and nothing is stored; a stage that fails here fails the same way on the items later."""
    pipeline.run([AnalysisItem(id=-number, text=text) for number, text in enumerate(WARM_UP)])


def _column(values: list[Any]) -> np.ndarray:
    """A column of Python objects (bytes or text) as Ray Data takes it."""
    column = np.empty(len(values), dtype=object)
    column[:] = values
    return column
