"""Analysed submissions that form themes, for the themes page and the HTML report tests.

The texts are those of tests/test_themes.py: floods (8 senders, each text led by a ``<script>``
tag that must come out escaped), waste (6 senders) and noise (2 senders: held back at k=5).
"""

from __future__ import annotations

from datetime import timedelta

from civicpulse.domain import Contact, SubmissionIn
from civicpulse.intake.service import accept
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from tests.test_themes import FLOODS, NOISE, START, WASTE

SCRIPT = "<script>alert(1)</script>"
SENDERS = {"flood": 8, "waste": 6, "noise": 2}
PLACES = ["Phường Sài Gòn, TP. Hồ Chí Minh", "Phường Hoàn Kiếm, Hà Nội", "Phường Hải Châu, Đà Nẵng"]
STAGES = ["language", "normalize", "pii", "places", "embed", "sentiment"]


def seed_themes(settings: Settings, db: Database) -> dict[str, list[int]]:
    """Accept the texts, run the real analysis stages, and return the ids of each topic."""
    texts = {"flood": [f"{SCRIPT} {text}" for text in FLOODS], "waste": WASTE, "noise": NOISE}
    cipher = ContactCipher(settings.fernet_key)
    ids: dict[str, list[int]] = {}
    for day, (name, batch) in enumerate(texts.items()):
        items = [
            SubmissionIn(
                text=text,
                received_at=START + timedelta(days=day, hours=n),
                contact=Contact(email=f"{name}{n % SENDERS[name]}@example.org"),
                locality=PLACES[n % len(PLACES)],
            )
            for n, text in enumerate(batch)
        ]
        ids[name] = [a.id for a in accept(db, cipher, items, actor="test", client=None)]
    staged = settings.model_copy(update={"stages": STAGES})
    assert Worker(db, build_pipeline(staged, db), staged).drain() == sum(len(v) for v in ids.values())
    return ids
