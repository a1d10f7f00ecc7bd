"""The Ray engine: the same stages and savers as the local engine, as a Ray Data pipeline.

Read (a batch per read from the store, or files) -> one ``map_batches`` per stage group (models in
actors, loaded once per actor when it starts; ``dedup`` in one actor that sees the items in order)
-> write (the store, through the worker's savers, or JSON lines in input order). ``address`` joins
a running cluster (``auto``: the one ``ray start`` made on this machine); without it a local Ray is
started for the run and stopped after it. Ray is imported here only, on use: nothing else in
CivicPulse needs it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from civicpulse.intake.mapping import ColumnMapping
from civicpulse.runtime.batch import AnalyzeReport
from civicpulse.runtime.store_runs import StoreReport
from civicpulse.settings import Settings
from civicpulse.store.tables import utcnow

if TYPE_CHECKING:
    from ray.data import Dataset

    from civicpulse.runtime.ray_sources import SubmissionSource
    from civicpulse.runtime.ray_stages import StageGroup
    from civicpulse.runtime.store_runs import Which


LIGHT_CPUS = 0.1
"""CPUs reserved for reads, writes and the ordered stage: mostly waiting on I/O or cheap."""

WORKER_NICENESS = "RAY_worker_niceness"
"""Ray starts its workers at nice 15 unless this is set: on a machine doing anything else (the
database, a web server) the stages then get a sliver of the CPU. A Ray we start runs them at 0."""


@contextmanager
def ray_cluster(settings: Settings, address: str | None = None) -> Iterator[None]:
    """Ray for one run: joins ``address`` (or ``settings.ray_address``), else starts a local Ray;
    one already initialised in this process (a test session's) is used as it is."""
    import ray

    if ray.is_initialized():
        yield
        return
    target = address or settings.ray_address
    os.environ.setdefault(WORKER_NICENESS, "0")
    if target:
        ray.init(address=target, log_to_driver=False)
    else:
        ray.init(
            num_cpus=settings.ray_num_cpus,
            object_store_memory=settings.ray_object_store_mb * 2**20,
            include_dashboard=False,
            log_to_driver=False,
        )
    try:
        yield
    finally:
        ray.shutdown()


def cluster_cpus() -> int:
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def quiet_context(ordered: bool) -> None:
    """Ray Data options of a run: items keep their order where a stage needs it; no Ray bars."""
    from ray.data import DataContext

    logging.getLogger("ray.data").setLevel(logging.WARNING)
    context = DataContext.get_current()
    context.execution_options.preserve_order = ordered
    context.enable_progress_bars = False
    context.print_on_execution_start = False


def _set_context(names: list[str]) -> None:
    """The Ray Data options of a run over the stages ``names``. A dataset keeps the options of the
    moment it is read: set them before the read."""
    from civicpulse.runtime.ray_stages import stage_groups

    quiet_context(any(group.ordered for group in stage_groups(names)))


def _analysis(dataset: Dataset, settings: Settings, names: list[str], *, with_store: bool) -> Dataset:
    """``dataset`` through every stage group of ``names``."""
    from ray.data import ActorPoolStrategy

    from civicpulse.runtime.ray_stages import StageActor, blas_threads, stage_groups

    cpus = cluster_cpus()
    actors = settings.ray_actors or cpus
    groups = stage_groups(names)
    blas = blas_threads()
    for group in groups:
        dataset = dataset.map_batches(
            StageActor,
            fn_constructor_args=(settings, group.names, with_store, blas),
            batch_size=None,
            batch_format="numpy",
            zero_copy_batch=True,
            compute=ActorPoolStrategy(size=1)
            if group.ordered
            else ActorPoolStrategy(min_size=1, max_size=actors),
            num_cpus=_actor_cpus(group, settings),
        )
    return dataset


def _actor_cpus(group: StageGroup, settings: Settings) -> float:
    """CPUs Ray reserves for each actor of ``group``."""
    return LIGHT_CPUS if group.ordered else settings.ray_actor_cpus


def _stored_items(source: SubmissionSource, settings: Settings) -> Dataset:
    """The submissions to analyse. On PostgreSQL each batch is read by the actor of the first stage
    group that takes it: with that step's CPUs and no limit of its own, Ray Data fuses the read into
    the step (no read processes, no extra copy of the items). SQLite: one read at a time."""
    from civicpulse.runtime.ray_stages import stage_groups

    if source.sqlite:
        return source.dataset(LIGHT_CPUS)
    return source.dataset(_actor_cpus(stage_groups(settings.stages)[0], settings), in_next_step=True)


def _progress(console: Console | None) -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=console or Console(stderr=True), transient=False)


def analyze_files_ray(
    settings: Settings,
    paths: list[Path],
    output: TextIO,
    *,
    mapping: ColumnMapping,
    batch_size: int = 256,
    address: str | None = None,
    console: Console | None = None,
) -> AnalyzeReport:
    """``runtime.batch.analyze_files`` on Ray: the same JSON lines, in the same order."""
    report = AnalyzeReport()
    with ray_cluster(settings, address), _progress(console) as progress:
        dataset = file_lines(settings, paths, mapping, batch_size)
        task = progress.add_task("records", total=None)
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            for line, outcome in zip(batch["line"], batch["outcome"], strict=True):
                output.write(line + "\n")
                setattr(report, outcome, getattr(report, outcome) + 1)
            progress.advance(task, len(batch["line"]))
    return report


def file_lines(settings: Settings, paths: list[Path], mapping: ColumnMapping, batch_size: int) -> Dataset:
    """The records of ``paths`` through the stages, as the JSON lines of ``civicpulse analyze``."""
    import ray.data

    from civicpulse.runtime.ray_sources import FileSource
    from civicpulse.runtime.ray_writer import json_lines

    _set_context(settings.stages)
    dataset = ray.data.read_datasource(
        FileSource(settings, paths, mapping, batch_size), override_num_blocks=len(paths), num_cpus=LIGHT_CPUS
    )
    dataset = _analysis(dataset, settings, settings.stages, with_store=False)
    return dataset.map_batches(
        json_lines, batch_size=None, batch_format="numpy", zero_copy_batch=True, num_cpus=LIGHT_CPUS
    )


def stored_analysis(settings: Settings, source: SubmissionSource, version: datetime) -> Dataset:
    """The submissions of ``source`` through the stages and the writers: one outcome per item."""
    from ray.data import ActorPoolStrategy

    from civicpulse.runtime.ray_writer import StoreWriter

    _set_context(settings.stages)
    dataset = _analysis(_stored_items(source, settings), settings, settings.stages, with_store=True)
    return dataset.map_batches(
        StoreWriter,
        fn_constructor_args=(settings, tuple(settings.stages), version),
        batch_size=None,
        batch_format="numpy",
        zero_copy_batch=True,
        compute=ActorPoolStrategy(size=1 if source.sqlite else settings.ray_writers),
        num_cpus=LIGHT_CPUS,
    )


def analyze_store_ray(
    settings: Settings,
    which: Which,
    *,
    address: str | None = None,
    console: Console | None = None,
) -> StoreReport:
    """Analyse stored submissions on Ray (``queued``: those waiting; ``all``: re-analysis) and write
    the results back as the worker does."""
    from civicpulse.runtime.ray_sources import SubmissionSource

    report = StoreReport()
    version = utcnow()
    with ray_cluster(settings, address), _progress(console) as progress:
        cpus = cluster_cpus()
        source = SubmissionSource(settings, which, settings.ray_batch_size, settings.ray_read_tasks or cpus)
        task = progress.add_task("submissions", total=source.count)
        if source.count == 0:
            return report
        for batch in stored_analysis(settings, source, version).iter_batches(
            batch_size=None, batch_format="numpy"
        ):
            outcomes: Any = batch["outcome"]
            done = int((outcomes == "analysed").sum())
            report.analysed += done
            report.failed += len(outcomes) - done
            progress.advance(task, len(outcomes))
    return report
