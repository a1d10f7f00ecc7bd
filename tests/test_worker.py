"""The worker runs the configured stages and keeps personal data out of the annotations."""

from __future__ import annotations

import json

from sqlalchemy import select

from civicpulse.domain import SubmissionIn
from civicpulse.intake.service import accept
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher, read_found_pii
from civicpulse.store.db import Database
from civicpulse.store.submissions import get_submission
from civicpulse.store.tables import AnnotationRow, AuditRow, FoundPiiRow

TEXT = "Tôi là Nguyễn Văn An, số 0912 345 678, nhà ở phường Bến Thành, TP HCM bị ngập."
UNMARKED = "toi muon phan anh ve viec duong o xa tan phu bi ngap nang"


def test_full_stage_list_analyses_and_protects_personal_data(settings: Settings, db: Database) -> None:
    settings = settings.model_copy(update={"stages": ["language", "normalize", "pii", "places"]})
    cipher = ContactCipher(settings.fernet_key)
    [first, second] = accept(
        db, cipher, [SubmissionIn(text=TEXT), SubmissionIn(text=UNMARKED)], actor="t", client=None
    )
    handled = Worker(db, build_pipeline(settings, db), settings).drain()
    assert handled == 2
    with db.read() as session:
        analysed = get_submission(session, first.id)
        stored_json = json.dumps([a.data for a in session.scalars(select(AnnotationRow))], ensure_ascii=False)
        ciphertext = session.scalar(
            select(FoundPiiRow.ciphertext).where(FoundPiiRow.submission_id == first.id)
        )
    assert analysed.analysis_state == "done"
    assert analysed.text == TEXT  # raw text kept as received
    assert set(analysed.annotations) == {"language", "normalize", "pii", "places"}
    pii = analysed.annotations["pii"].data
    assert "[PERSON]" in pii["redacted_text"] and "[PHONE]" in pii["redacted_text"]
    assert all(set(span) == {"type", "start", "end"} for span in pii["spans"])
    assert "found" not in pii  # found values are private: encrypted in their own table
    assert "0912" not in stored_json and "Nguyễn Văn An" not in stored_json
    assert ciphertext is not None and b"0912" not in ciphertext
    assert analysed.annotations["places"].data["province"]["name"] == "Thành phố Hồ Chí Minh"
    with db.read() as session:
        unmarked = get_submission(session, second.id)
    assert unmarked.annotations["language"].data["language"] == "vi"
    assert unmarked.annotations["normalize"].data["restored"] is True
    with db.write() as session:
        found = read_found_pii(session, cipher, first.id, actor="handler@example.org", client="test")
    assert {"type": "PHONE", "text": "0912 345 678"}.items() <= next(
        f for f in found if f["type"] == "PHONE"
    ).items()
    with db.read() as session:
        actions = [(a.actor, a.action) for a in session.scalars(select(AuditRow))]
    assert ("handler@example.org", "text_pii.read") in actions


def test_embed_stage_vectors_go_to_their_table(settings: Settings, db: Database) -> None:
    from civicpulse.store.vectors import load_vectors

    settings = settings.model_copy(update={"stages": ["language", "normalize", "pii", "embed"]})
    cipher = ContactCipher(settings.fernet_key)
    [accepted] = accept(db, cipher, [SubmissionIn(text=TEXT)], actor="t", client=None)
    assert Worker(db, build_pipeline(settings, db), settings).drain() == 1
    with db.read() as session:
        embed = get_submission(session, accepted.id).annotations["embed"].data
        ids, vectors = load_vectors(session, embed["model"])
    assert "vector" not in embed and embed["dim"] == 384
    assert list(ids) == [accepted.id] and vectors.shape == (1, 384)
