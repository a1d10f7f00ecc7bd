"""The Ray engine: the same lines as the local engine on files, exactly-once writes to the store
when an actor is killed mid-run (PostgreSQL), the local engine's re-analysis (SQLite and
PostgreSQL), trend counts, and themes fitted on a sample with the rest assigned on Ray."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import psycopg
import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from civicpulse.cli import app
from civicpulse.insight.campaigns import CampaignRules
from civicpulse.insight.counts import rebuild_counts
from civicpulse.intake.files import import_files
from civicpulse.intake.mapping import ColumnMapping
from civicpulse.runtime.batch import analyze_files
from civicpulse.runtime.store_runs import analyze_store_local
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.neardup import NearDuplicateRow
from civicpulse.store.tables import (
    AnnotationRow,
    EventRow,
    JobRow,
    SubmissionRow,
    TrendCountRow,
    TrendFactRow,
    TrendSenderRow,
)
from civicpulse.store.vectors import EmbeddingRow, load_vectors, save_vectors
from tests.conftest import make_settings
from tests.pg import PostgresServer

ray = pytest.importorskip("ray")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUICK_STAGES = ["language", "normalize", "pii", "places", "dedup", "topic", "sentiment", "urgency", "route"]


@pytest.fixture(scope="session")
def local_ray() -> Iterator[None]:
    """One small local Ray for the session: 2 CPUs, a small object store, no dashboard, workers at
    the priority of the local engine they are compared with."""
    logs = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    os.environ.setdefault("RAY_worker_niceness", "0")
    ray.init(
        num_cpus=2,
        object_store_memory=150 * 2**20,
        include_dashboard=False,
        log_to_driver=False,
        _temp_dir=logs,
    )
    yield
    ray.shutdown()


def _records(count: int) -> list[dict]:
    """``count`` records from the bundled examples (Vietnamese, English, some near-duplicates)."""
    rows = []
    for name in (
        "vietnamese_submissions.jsonl",
        "cfpb_sample.jsonl",
        "polis_american-assembly.bowling-green.jsonl",
    ):
        for line in (EXAMPLES / name).read_text(encoding="utf-8").splitlines():
            value = json.loads(line)
            rows.append(
                {"source_id": f"r{len(rows)}", "text": value["text"], "locality": value.get("locality")}
            )
    return [rows[i % len(rows)] | {"source_id": f"r{i}"} for i in range(count)]


def _write(path: Path, records: list[dict], *, bad_lines: tuple[int, ...] = ()) -> Path:
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    for at in bad_lines:
        lines.insert(at, "[not an object]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_files_give_the_local_engine_lines(local_ray: None, tmp_path: Path) -> None:
    from civicpulse.runtime.ray_engine import analyze_files_ray

    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}")
    first = _write(tmp_path / "first.jsonl", _records(700), bad_lines=(3, 300))
    second = _write(tmp_path / "second.jsonl", _records(1000)[700:])
    local, remote = io.StringIO(), io.StringIO()
    mapping = ColumnMapping()
    by_local = analyze_files(settings, [first, second], local, mapping=mapping, batch_size=128)
    by_ray = analyze_files_ray(settings, [first, second], remote, mapping=mapping, batch_size=128)
    assert (by_ray.analysed, by_ray.rejected, by_ray.failed) == (
        by_local.analysed,
        by_local.rejected,
        by_local.failed,
    )
    assert by_ray.analysed + by_ray.failed == 1000 and by_ray.rejected == 2
    assert remote.getvalue() == local.getvalue()
    lines = [json.loads(line) for line in remote.getvalue().splitlines()]
    assert [(line["file"], line["line"]) for line in lines if "line" in line] == [
        ("first.jsonl", 4),
        ("first.jsonl", 301),
    ]


def test_cli_engine_ray_writes_the_same_file(
    local_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _write(tmp_path / "in.jsonl", _records(120))
    monkeypatch.setenv("CIVICPULSE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("CIVICPULSE_SECRET_KEY", "test-secret-key-0123456789abcdef")
    runner = CliRunner()
    for engine in ("local", "ray"):
        result = runner.invoke(
            app, ["analyze", str(source), "--engine", engine, "--output", str(tmp_path / engine)]
        )
        assert result.exit_code == 0, result.output
    assert (tmp_path / "ray").read_text(encoding="utf-8") == (tmp_path / "local").read_text(encoding="utf-8")
    refused = runner.invoke(app, ["analyze", str(source), "--engine", "spark"])
    assert refused.exit_code == 2 and "local or ray" in " ".join(refused.output.replace("│", " ").split())


def _stored(tmp_path: Path, settings: Settings, count: int) -> Database:
    db = Database.from_settings(settings)
    db.upgrade()
    report = import_files(db, settings, [_write(tmp_path / "stored.jsonl", _records(count))])
    assert report.files[0].stored == count
    return db


def test_stored_items_come_in_blocks_of_one_batch(local_ray: None, db_url: str, tmp_path: Path) -> None:
    """Each read gives one batch, in id order: Ray Data would otherwise merge a range's batches into
    one block, and each step downstream (stage actors, writers) would take whole ranges."""
    from civicpulse.runtime.ray_engine import quiet_context
    from civicpulse.runtime.ray_sources import SubmissionSource

    settings = make_settings(db_url, stages=QUICK_STAGES)
    db = _stored(tmp_path, settings, 40)
    with db.write() as session:
        ids = list(session.scalars(select(SubmissionRow.id).order_by(SubmissionRow.id)))
        done = ids[5:9]
        session.execute(update(JobRow).where(JobRow.submission_id.in_(done)).values(state="done"))
    quiet_context(ordered=True)
    source = SubmissionSource(settings, "queued", 7, 3)
    batches = source.dataset(0.1).iter_batches(batch_size=None, batch_format="numpy")
    blocks = [batch["key"].tolist() for batch in batches]
    waiting = [sid for sid in ids if sid not in done]
    assert [len(block) for block in blocks] == [7, 7, 7, 7, 7, 1]
    assert [sid for block in blocks for sid in block] == waiting
    db.dispose()


def test_runs_with_dedup_keep_the_items_in_order(local_ray: None, tmp_path: Path) -> None:
    """A dataset keeps the Ray Data options of the moment it was read: both runs set ``preserve_order``
    (which the ordered ``dedup`` actor needs) before the read, also in a process where it was off."""
    from ray.data import DataContext

    from civicpulse.runtime.ray_engine import file_lines, stored_analysis
    from civicpulse.runtime.ray_sources import SubmissionSource
    from civicpulse.store.tables import utcnow

    settings = make_settings(f"sqlite:///{tmp_path / 'order.db'}", stages=QUICK_STAGES)
    DataContext.get_current().execution_options.preserve_order = False
    lines = file_lines(settings, [_write(tmp_path / "in.jsonl", _records(5))], ColumnMapping(), 2)
    assert lines.context.execution_options.preserve_order
    db = _stored(tmp_path, settings, 5)
    DataContext.get_current().execution_options.preserve_order = False
    stored = stored_analysis(settings, SubmissionSource(settings, "queued", 2, 2), utcnow())
    assert stored.context.execution_options.preserve_order
    db.dispose()


def test_stage_actor_loads_its_models_when_it_starts(tmp_path: Path) -> None:
    """The models load while the reads start, not in the first batch; the warm-up leaves no item
    in the near-duplicate index."""
    from civicpulse.runtime.ray_stages import StageActor

    settings = make_settings(f"sqlite:///{tmp_path / 'unused.db'}", stages=QUICK_STAGES)
    language, dedup = StageActor(settings, ("language", "dedup"), False, None).pipeline.stages
    assert language.detector_ is not None  # type: ignore[attr-defined]
    assert dedup.index_ is not None and len(dedup.index_) == 0  # type: ignore[attr-defined]


def _annotations_per_item(db: Database) -> dict[tuple[int, str], int]:
    with db.read() as session:
        rows = session.execute(
            select(AnnotationRow.submission_id, AnnotationRow.stage, func.count()).group_by(
                AnnotationRow.submission_id, AnnotationRow.stage
            )
        ).all()
    return {(sid, stage): n for sid, stage, n in rows}


def _kill_one_stage_actor(db: Database, killed: list[int]) -> None:
    """Once some results are stored, SIGKILL one model actor process (not the ordered one)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with db.read() as session:
            if (session.scalar(select(func.count()).select_from(AnnotationRow)) or 0) > 0:
                break
        time.sleep(0.2)
    actors = [pid for pid, command in _processes() if "StageActor" in command]
    if actors:
        os.kill(actors[-1], signal.SIGKILL)
        killed.append(actors[-1])


def _processes() -> list[tuple[int, str]]:
    """Process ids and command lines of this machine (Ray names its actor processes by class)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            found.append(
                (int(entry.parent.name), entry.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            )
        except OSError:
            continue
    return found


def test_postgres_run_survives_a_killed_actor_exactly_once(
    local_ray: None, pg_server: PostgresServer, tmp_path: Path
) -> None:
    from civicpulse.runtime.ray_engine import analyze_store_ray

    url = pg_server.create_database(f"t_ray_{os.getpid()}_{int(time.time())}")
    settings = make_settings(url, stages=QUICK_STAGES, ray_batch_size=50)  # 20 batches
    db = _stored(tmp_path, settings, 1000)
    killed: list[int] = []
    killer = threading.Thread(target=_kill_one_stage_actor, args=(db, killed))
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    killer.start()
    report = analyze_store_ray(settings, "queued")
    elapsed = time.perf_counter() - started
    killer.join()
    assert killed, "no model actor was found to kill"
    assert (report.analysed, report.failed) == (1000, 0)
    counts = _annotations_per_item(db)
    assert len(counts) == 1000 * len(QUICK_STAGES) and set(counts.values()) == {1}
    with db.read() as session:
        assert set(session.scalars(select(JobRow.state))) == {"done"}
        assert set(session.scalars(select(SubmissionRow.analysis_state))) == {"done"}
        events = session.execute(
            select(EventRow.submission_id, func.count())
            .where(EventRow.kind == "analysed")
            .group_by(EventRow.submission_id)
        ).all()
    assert len(events) == 1000 and {n for _, n in events} == {1}
    cpus = len(os.sched_getaffinity(0))
    print(f"1,000 items on Ray with a killed actor: {elapsed:.1f} s, load {load_before:.1f} before the run")
    if load_before < cpus / 2:  # the time target is for a machine that does nothing else
        assert elapsed < 60
    again = analyze_store_ray(settings, "all")
    assert again.analysed == 1000 and set(_annotations_per_item(db).values()) == {1}
    db.dispose()


def _twin(settings: Settings, pg_server: PostgresServer) -> Settings:
    """``settings`` on a copy of its store as it is now (SQLite's backup, or a PostgreSQL database
    made from it as template)."""
    url = settings.database_url
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        copy = path.with_name(f"twin-{path.name}")
        with sqlite3.connect(path) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        return settings.model_copy(update={"database_url": f"sqlite:///{copy}"})
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(
        f"host=127.0.0.1 port={pg_server.port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "twin_{name}" TEMPLATE "{name}"')
    return settings.model_copy(update={"database_url": pg_server.url(f"twin_{name}")})


def _analysis_of(settings: Settings) -> tuple[dict, dict, dict, int]:
    """Annotations, vectors, near-duplicate groups and ``analysed`` events of a store."""
    db = Database.from_settings(settings)
    with db.read() as session:
        annotations = {(a.submission_id, a.stage): a.data for a in session.scalars(select(AnnotationRow))}
        vectors = {e.submission_id: e.vector for e in session.scalars(select(EmbeddingRow))}
        groups = {
            row.submission_id: (row.group_id, row.duplicate_of, row.linked_groups)
            for row in session.scalars(select(NearDuplicateRow))
        }
        events = session.scalar(select(func.count()).where(EventRow.kind == "analysed")) or 0
    db.dispose()
    return annotations, vectors, groups, events


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_reanalysis_on_ray_matches_the_local_engine(
    local_ray: None, backend: str, pg_server: PostgresServer, tmp_path: Path
) -> None:
    """Both engines re-analyse the same stored state (a twin of the store after a first analysis)
    and leave the same annotations, vectors and near-duplicate groups."""
    from civicpulse.runtime.ray_engine import analyze_store_ray

    url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if backend == "sqlite"
        else pg_server.create_database(f"t_ray_again_{os.getpid()}_{int(time.time())}")
    )
    settings = make_settings(url, ray_batch_size=40, ray_read_tasks=3)
    _stored(tmp_path, settings, 200).dispose()
    assert analyze_store_local(settings, "queued").analysed == 200
    twin = _twin(settings, pg_server)
    assert analyze_store_local(settings, "all").analysed == 200
    report = analyze_store_ray(twin, "all")
    assert (report.analysed, report.failed) == (200, 0)
    local, remote = _analysis_of(settings), _analysis_of(twin)
    assert len(remote[0]) == 200 * len(settings.stages) and remote[2]
    assert remote == local  # one event per submission and run in both: 400
    assert local[3] == 400


TREND_STAGES = ["language", "normalize", "places", "dedup", "topic", "sentiment"]


def _trend_tables(db: Database) -> tuple[list, list, list]:
    with db.read() as session:
        return tuple(  # type: ignore[return-value]
            sorted(tuple(row) for row in session.execute(select(*table.__table__.columns)).all())
            for table in (TrendFactRow, TrendCountRow, TrendSenderRow)
        )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_trends_rebuild_on_ray_equals_the_local_rebuild(
    local_ray: None, backend: str, pg_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civicpulse.runtime.ray_trends import rebuild_counts_ray

    url = (
        f"sqlite:///{tmp_path / 'trends.db'}"
        if backend == "sqlite"
        else pg_server.create_database(f"t_ray_trends_{os.getpid()}_{int(time.time())}")
    )
    settings = make_settings(url, stages=TREND_STAGES, ray_batch_size=30, ray_read_tasks=3)
    records = _records(150)
    records += [r | {"source_id": f"again{i}"} for i, r in enumerate(records[:8] * 3)]  # campaigns
    db = Database.from_settings(settings)
    db.upgrade()
    import_files(db, settings, [_write(tmp_path / "trends.jsonl", records)])
    assert analyze_store_local(settings, "queued").analysed == len(records)
    rules = CampaignRules(min_size=3, min_senders=1)
    with db.write() as session:
        rebuild_counts(session, rules)
    local = _trend_tables(db)
    assert len(local[0]) == len(records) and any(not fact[-2] for fact in local[0])  # campaigns counted once
    assert rebuild_counts_ray(settings, rules) == len(records)
    assert _trend_tables(db) == local
    monkeypatch.setenv("CIVICPULSE_DATABASE_URL", url)
    monkeypatch.setenv("CIVICPULSE_SECRET_KEY", "test-secret-key-0123456789abcdef")
    monkeypatch.setenv("CIVICPULSE_CAMPAIGN_MIN_SIZE", str(rules.min_size))
    monkeypatch.setenv("CIVICPULSE_CAMPAIGN_MIN_SENDERS", str(rules.min_senders))
    again = CliRunner().invoke(app, ["trends", "rebuild", "--engine", "ray"])  # a rerun changes nothing
    assert again.exit_code == 0 and f"counted {len(records)} " in again.output, again.output
    assert _trend_tables(db) == local
    db.dispose()


def _clustered_vectors(db: Database, model: str) -> list[int]:
    """A vector of ``model`` for each stored submission, around four centres; their ids."""
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(4, 32))
    with db.write() as session:
        ids = list(session.scalars(select(SubmissionRow.id).order_by(SubmissionRow.id)))
        rows = [(sid, centres[i % 4] + 0.3 * rng.normal(size=32), f"h{sid}") for i, sid in enumerate(ids)]
        save_vectors(session, model, rows)
    return ids


def test_stored_vectors_are_assigned_on_ray_as_locally(
    local_ray: None, pg_server: PostgresServer, tmp_path: Path
) -> None:
    from civicpulse.insight.themes.cluster import cluster
    from civicpulse.insight.themes.discover import assign_to_themes
    from civicpulse.runtime.ray_themes import assign_stored_ray

    url = pg_server.create_database(f"t_ray_themes_{os.getpid()}_{int(time.time())}")
    settings = make_settings(url, ray_batch_size=64, ray_read_tasks=3)
    db = _stored(tmp_path, settings, 400)
    ids = _clustered_vectors(db, "test-model")
    with db.read() as session:
        stored_ids, vectors = load_vectors(session, "test-model")
    clustering = cluster(vectors[::4], stored_ids[::4])
    by_ray = assign_stored_ray(settings, clustering, "test-model")
    expected = dict(zip(stored_ids.tolist(), assign_to_themes(clustering, vectors).tolist(), strict=True))
    assert by_ray == expected and len(by_ray) == len(ids)
    assert len(set(by_ray.values()) - {-1}) >= 2
    some = ids[1::3]
    assert assign_stored_ray(settings, clustering, "test-model", ids=some) == {i: expected[i] for i in some}
    db.dispose()


def _cli_themes(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, sample: int, *extra: str
) -> tuple[dict, str]:
    """``civicpulse themes --format json`` with ``themes_fit_sample`` = ``sample``: the view (without
    the time of the run) and what was said on stderr."""
    monkeypatch.setenv("CIVICPULSE_THEMES_FIT_SAMPLE", str(sample))
    result = runner.invoke(app, ["themes", "--format", "json", *extra])
    assert result.exit_code == 0, result.output
    view = json.loads(result.stdout)
    for theme in view["themes"]:
        theme.pop("first_seen")
    return view, " ".join(result.stderr.split())


def test_cli_themes_on_ray(local_ray: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicpulse.insight.themes.discover import assign_to_themes, discover_themes
    from civicpulse.insight.themes.slices import ThemeSlice, load_slice
    from civicpulse.runtime.ray_themes import in_sample

    url = f"sqlite:///{tmp_path / 'themes.db'}"
    settings = make_settings(url, stages=QUICK_STAGES, ray_batch_size=32)
    db = _stored(tmp_path, settings, 300)
    assert analyze_store_local(settings, "queued").analysed == 300
    _clustered_vectors(db, "test-model")
    for name, value in {
        "DATABASE_URL": url,
        "SECRET_KEY": "test-secret-key-0123456789abcdef",
        "K_ANONYMITY": "1",
        "RAY_BATCH_SIZE": "32",
    }.items():
        monkeypatch.setenv(f"CIVICPULSE_{name}", value)
    runner = CliRunner()
    local, _ = _cli_themes(runner, monkeypatch, 100)
    count = local["items"]
    assert len(local["themes"]) >= 2 and count > 250

    whole, said = _cli_themes(runner, monkeypatch, count, "--engine", "ray")
    assert whole == local and f"fitted on {count} items; 0 assigned" in said

    sampled, said = _cli_themes(runner, monkeypatch, 100, "--engine", "ray")
    with db.read() as session:
        items, vectors, _, _ = load_slice(session, ThemeSlice())
    chosen = np.asarray([in_sample(item.id, 100 / count) for item in items])
    fitted = discover_themes(
        [i for i, c in zip(items, chosen, strict=True) if c], vectors[chosen], describe=False
    )
    labels = np.empty(len(items), dtype=np.int64)
    labels[chosen] = fitted.clustering.labels
    labels[~chosen] = assign_to_themes(fitted.clustering, vectors[~chosen])
    ids = np.asarray([item.id for item in items])
    promised = {frozenset(ids[labels == t].tolist()) for t in set(labels.tolist()) - {-1}}
    assert (
        50 <= chosen.sum() < 200
        and f"fitted on {chosen.sum()} items; {count - chosen.sum()} assigned" in said
    )
    assert {frozenset(theme["member_ids"]) for theme in sampled["themes"]} == promised
    assert sampled["unassigned"] == int((labels == -1).sum()) and sampled["items"] == count

    refused = runner.invoke(app, ["themes", "--address", "auto"])
    assert refused.exit_code == 2 and "--engine ray" in refused.output
    db.dispose()
