"""The dedup stage: near-identical texts share a group, in memory and across stored batches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from civicpulse.analysis.base import AnalysisItem, stages
from civicpulse.analysis.dedup import DedupStage, fold_tokens
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.annotations import DedupOut
from civicpulse.domain import SubmissionIn
from civicpulse.intake.service import accept
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.neardup import NearDuplicateRow, StoredSignatures
from civicpulse.store.tables import AnnotationRow
from civicpulse.textkit.vietnamese import strip_marks
from tests.conftest import LiveServer, make_settings

PETITION = (
    "Chúng tôi, người dân xã Phù Lãng, kiên quyết phản đối việc đặt nhà máy xử lý rác tại khu bãi "
    "bồi ven sông Cầu. Vị trí này chỉ cách khu dân cư khoảng 500 mét và gần nguồn nước sinh hoạt "
    "của hàng nghìn hộ. Đề nghị UBND tỉnh tổ chức lấy ý kiến người dân công khai."
)
VARIANTS = {
    "word changed": PETITION.replace("kiên quyết", "cương quyết"),
    "punctuation": PETITION.replace(".", "!!!").replace(",", ""),
    "signature added": PETITION + "\nNgười ký: [PERSON], thôn Nam",
    "greeting added": "Kính gửi UBND tỉnh Bắc Ninh, " + PETITION,
    "without diacritics": strip_marks(PETITION),
}
UNRELATED = (
    "Đèn đường trên quốc lộ 1A đoạn qua phường Tân Mai bị hỏng cả tháng nay, buổi tối rất tối, "
    "đã xảy ra hai vụ va chạm xe máy. Đề nghị điện lực sớm sửa chữa."
)


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Test settings whose analyze endpoint runs the dedup stage."""
    return make_settings(db_url, analyze_stages=["dedup"])


@pytest.fixture
def memory_stage(tmp_path: Path) -> DedupStage:
    """A stage without a store (no signature port), as ``POST /analyze`` may run it."""
    return DedupStage(Settings(database_url=f"sqlite:///{tmp_path / 'absent.db'}"))


def test_folding_drops_marks_case_and_punctuation_but_keeps_placeholders() -> None:
    assert fold_tokens("Đề nghị XỬ LÝ, gấp!!! — [PERSON]") == ["de", "nghi", "xu", "ly", "gap", "[person]"]


def test_near_identical_texts_share_a_group_and_unrelated_ones_do_not(memory_stage: DedupStage) -> None:
    texts = [PETITION, *VARIANTS.values(), UNRELATED]
    items = [AnalysisItem(id=i, text=t) for i, t in enumerate(texts, start=1)]
    result = memory_stage.process(items)
    assert result.failures == {}
    assert all(isinstance(output, DedupOut) for output in result.outputs.values())
    first = result.outputs[1]
    assert first.group == 1 and first.duplicate_of is None and first.similarity is None
    for offset, name in enumerate(VARIANTS, start=2):
        output = result.outputs[offset]
        assert output.group == 1, name
        assert output.duplicate_of == 1, name
        assert 0.6 <= output.similarity <= 1.0, name
        assert len(output.signature) == 128
    unrelated = result.outputs[len(texts)]
    assert unrelated.group == len(texts) and unrelated.duplicate_of is None


def test_short_texts_get_no_signature(memory_stage: DedupStage) -> None:
    result = memory_stage.process(
        [AnalysisItem(id=1, text="Đường bị ngập!"), AnalysisItem(id=2, text="Đường bị ngập!")]
    )
    assert result.outputs[1] == result.outputs[2]
    short = result.outputs[2]
    assert isinstance(short, DedupOut)
    assert short.group is None and short.duplicate_of is None
    assert short.signature is None


def test_later_batches_see_earlier_ones_and_analyze_texts_are_not_indexed(memory_stage: DedupStage) -> None:
    memory_stage.process([AnalysisItem(id=5, text=PETITION)])
    probe = memory_stage.process([AnalysisItem(id=0, text=VARIANTS["word changed"])]).outputs[0]
    assert isinstance(probe, DedupOut)
    assert probe.group == 5 and probe.duplicate_of == 5
    later = memory_stage.process([AnalysisItem(id=9, text=VARIANTS["punctuation"])]).outputs[9]
    assert isinstance(later, DedupOut)
    assert later.duplicate_of == 5 and later.group == 5
    assert len(memory_stage.index_) == 2  # the probe (id 0) was compared, never stored


def test_reanalysis_keeps_the_group(memory_stage: DedupStage) -> None:
    memory_stage.process(
        [AnalysisItem(id=1, text=PETITION), AnalysisItem(id=2, text=VARIANTS["punctuation"])]
    )
    again = memory_stage.process([AnalysisItem(id=1, text=PETITION)]).outputs[1]
    assert isinstance(again, DedupOut)
    assert again.group == 1 and again.duplicate_of is None and again.similarity >= 0.6


def _submit(db: Database, settings: Settings, *texts: str) -> list[int]:
    cipher = ContactCipher(settings.fernet_key)
    accepted = accept(db, cipher, [SubmissionIn(text=t) for t in texts], actor="test", client=None)
    return [a.id for a in accepted]


def _annotation(db: Database, submission_id: int) -> dict:
    with db.read() as session:
        return session.scalar(
            select(AnnotationRow.data).where(
                AnnotationRow.submission_id == submission_id, AnnotationRow.stage == "dedup"
            )
        )


def test_groups_carry_across_batches_and_fresh_stages_through_the_store(
    settings: Settings, db: Database
) -> None:
    [first] = _submit(db, settings, PETITION)
    stage = DedupStage(settings, signatures=StoredSignatures(db))
    assert Worker(db, Pipeline([stage]), settings).drain() == 1

    # A new process: a fresh stage loads the stored signatures before its first batch.
    [second, other] = _submit(db, settings, VARIANTS["without diacritics"], UNRELATED)
    fresh = DedupStage(settings, signatures=StoredSignatures(db))
    assert Worker(db, Pipeline([fresh]), settings).drain() == 2

    assert _annotation(db, second) == {
        "duplicate_of": first,
        "group": first,
        "similarity": _annotation(db, second)["similarity"],
        "linked_groups": [],
        "scheme": "w2-p128",
    }
    assert _annotation(db, other)["group"] == other
    with db.read() as session:
        rows = {r.submission_id: r for r in session.scalars(select(NearDuplicateRow))}
        annotations = [a.data for a in session.scalars(select(AnnotationRow))]
        stored = json.dumps(annotations)
    assert annotations and all("signature" not in data for data in annotations)
    assert "signature" not in stored  # the signature never lands in annotations
    assert rows[second].group_id == first and rows[second].duplicate_of == first
    assert len(rows[first].signature) == 128 * 4


def test_a_running_stage_picks_up_what_other_workers_stored(settings: Settings, db: Database) -> None:
    mine = DedupStage(settings, signatures=StoredSignatures(db))
    [unrelated] = _submit(db, settings, UNRELATED)
    Worker(db, Pipeline([mine]), settings).drain()
    [theirs] = _submit(db, settings, PETITION)
    other_worker = DedupStage(settings, signatures=StoredSignatures(db))
    Worker(db, Pipeline([other_worker]), settings).drain()  # another worker
    [copy] = _submit(db, settings, VARIANTS["greeting added"])
    Worker(db, Pipeline([mine]), settings).drain()
    assert _annotation(db, copy)["duplicate_of"] == theirs
    assert _annotation(db, unrelated)["group"] == unrelated


def test_analyze_endpoint_names_the_stored_near_duplicate_and_stores_nothing(
    live_server: LiveServer,
) -> None:
    assert "dedup" in stages.names()  # registered as an entry point
    db, settings = live_server.db, live_server.settings
    [first] = _submit(db, settings, PETITION)
    Worker(db, Pipeline([DedupStage(settings, signatures=StoredSignatures(db))]), settings).drain()
    with live_server.client() as client:
        response = client.post("/api/v1/analyze", json={"text": VARIANTS["signature added"]})
        again = client.post("/api/v1/analyze", json={"text": VARIANTS["signature added"]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["duplicate_of"] == first
    assert body["stages"]["dedup"]["group"] == first
    assert "signature" not in body["stages"]["dedup"]
    assert again.json()["duplicate_of"] == first  # the first probe was not indexed as a submission
    with db.read() as session:
        assert len(session.scalars(select(NearDuplicateRow)).all()) == 1
