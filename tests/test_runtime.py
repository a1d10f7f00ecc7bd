"""The runtime layer: stages ship to another process, and one served process holds one store and one
near-duplicate index shared by its workers and ``POST /api/v1/analyze``."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest

from civicpulse.analysis.base import stages
from civicpulse.analysis.dedup import NearDupIndex
from civicpulse.annotations import OUTPUT_MODELS, DedupOut, EmbedOut, PiiOut
from civicpulse.domain import Role
from civicpulse.runtime.stages import Ports, StageSet
from civicpulse.settings import Settings
from civicpulse.store.db import Database
from civicpulse.store.jobs import queue_counts
from civicpulse.store.users import create_token, create_user
from tests.conftest import make_settings
from tests.server import serving

TEXTS = [
    "Đường Nguyễn Trãi ở phường Thanh Xuân, Hà Nội ngập sâu sau mưa, xin cứu hộ gấp. Gọi 0912345678.",
    "Rác thải không được thu gom ba ngày nay tại xã Tân Phú, tỉnh Đồng Nai, mùi hôi khắp khu dân cư.",
    "The new bus route is very convenient, thank you to the city for listening to residents.",
]

RUN_IN_FRESH_PROCESS = """
import json, pickle, sys
from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.pipeline import Pipeline

stage_list = pickle.loads(open(sys.argv[1], "rb").read())
texts = json.loads(sys.argv[2])
items = [AnalysisItem(id=1000 + i, text=t) for i, t in enumerate(texts)]
result = Pipeline(stage_list).run(items)
outputs = result.outputs.items()
print(json.dumps({
    "failures": result.failures,
    "outputs": {str(k): {s: type(o).__name__ for s, o in v.items()} for k, v in outputs},
    "private": {str(k): {s: sorted(o.private) for s, o in v.items() if o.private} for k, v in outputs},
}))
"""


def test_every_registered_stage_pickles_and_runs_in_a_fresh_process(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    """What a Ray actor does: unpickle the stage list (with its store ports) and run it."""
    names = settings.stages
    registered = sorted(entry.name for entry in entry_points(group=stages.group))
    assert sorted(names) == registered, "every registered stage is in the default list"
    built = StageSet(settings, Ports.of_store(db)).pipeline(names).stages
    shipped = tmp_path / "stages.pkl"
    shipped.write_bytes(pickle.dumps(built))
    ran = subprocess.run(
        [sys.executable, "-c", RUN_IN_FRESH_PROCESS, str(shipped), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-3000:]
    report = json.loads(ran.stdout.strip().splitlines()[-1])
    assert report["failures"] == {}
    assert len(report["outputs"]) == len(TEXTS)
    for outputs in report["outputs"].values():
        assert list(outputs) == names
        assert {stage: OUTPUT_MODELS[stage].__name__ for stage in names} == outputs
    # the private parts (found PII, vector, signature) travel in the outputs, for runtime to save
    first = report["private"][str(1000)]
    assert first[PiiOut.stage] == ["found"]
    assert first[EmbedOut.stage] == ["vector"]
    assert first[DedupOut.stage] == ["signature"]


def test_a_pickled_stage_carries_configuration_not_loaded_models(settings: Settings, db: Database) -> None:
    built = StageSet(settings, Ports.of_store(db))
    dedup = built.stage("dedup")
    dedup.process([])  # builds the signer
    clone = pickle.loads(pickle.dumps(dedup))
    assert clone.signer_ is None and clone.index_ is None
    assert clone.signatures is not None and clone.signatures.db.url == db.url


def _count_instances(monkeypatch: pytest.MonkeyPatch, cls: type) -> list[object]:
    made: list[object] = []
    original = cls.__init__

    def counting(self: object, *args: object, **kwargs: object) -> None:
        made.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(cls, "__init__", counting)
    return made


def test_serve_opens_one_engine_pool_and_one_near_duplicate_index(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'serve.db'}",
        worker_threads=2,
        worker_poll_seconds=0.05,
        stages=["language", "normalize", "pii", "dedup"],
    )
    databases = _count_instances(monkeypatch, Database)
    indexes = _count_instances(monkeypatch, NearDupIndex)
    with serving(settings) as url:
        app_db = databases[0]
        assert isinstance(app_db, Database)
        with app_db.write() as session:
            token = create_token(session, create_user(session, "a@example.org", "password-123", Role.admin))
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            body = [{"text": text, "channel": "api"} for text in TEXTS]
            assert client.post("/api/v1/submissions", json=body).status_code == 201
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with app_db.read() as session:
                    if queue_counts(session).get("done", 0) == len(TEXTS):
                        break
                time.sleep(0.1)
            else:
                pytest.fail("the workers did not analyse the submissions")
            analysed = client.post("/api/v1/analyze", json={"text": TEXTS[1]})
            assert analysed.status_code == 200, analysed.text
            assert analysed.json()["duplicate_of"] is not None  # the workers' index, shared
    assert len(databases) == 1, "one engine pool for the app, its workers and /analyze"
    assert len(indexes) == 1, "one near-duplicate index for the workers and /analyze"
