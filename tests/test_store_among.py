"""``store.db.among``: the same rows as ``IN`` on SQLite and PostgreSQL, whatever the number of ids."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from civicpulse.domain import SubmissionIn
from civicpulse.intake.service import accept
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database, among
from civicpulse.store.tables import SubmissionRow


@pytest.mark.parametrize("wanted", [[], [2], [1, 3, 5], [*range(0, 40, 3), 10_000]])
def test_among_selects_exactly_the_ids_given(settings: Settings, db: Database, wanted: list[int]) -> None:
    items = [SubmissionIn(text=f"Phản ánh số {n} về đèn đường hỏng") for n in range(30)]
    stored = [
        done.id for done in accept(db, ContactCipher(settings.fernet_key), items, actor="test", client=None)
    ]
    ids = [stored[i] for i in wanted if i < len(stored)] + [i for i in wanted if i >= len(stored)]
    with db.read() as session:
        found = set(session.scalars(select(SubmissionRow.id).where(among(session, SubmissionRow.id, ids))))
        statement = str(
            select(SubmissionRow.id).where(among(session, SubmissionRow.id, ids)).compile(session.bind)
        )
    assert found == set(ids) & set(stored)
    if db.engine.dialect.name == "postgresql":
        assert "ANY" in statement and statement.count("%(") == 1  # one array parameter, however many ids
