"""Search folding is one function on both databases: for every Vietnamese letter (both cases) the
stored folded copy and the folded query agree, round-trip unchanged and match with the database's
``LIKE`` on SQLite and PostgreSQL alike."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from civicpulse.domain import Channel, SubmissionIn
from civicpulse.intake.service import accept
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.search_text import matching, store_folded_texts
from civicpulse.store.tables import SearchTextRow
from civicpulse.textkit.folding import fold, folded_spans
from civicpulse.textkit.vietnamese import VIETNAMESE_MARKED, strip_marks

LETTERS = sorted(VIETNAMESE_MARKED | {c.upper() for c in VIETNAMESE_MARKED} | set("abcdeghiklmnopqrstuvxy"))
WORDS = st.text(alphabet=[*LETTERS, " "], min_size=1, max_size=12).filter(lambda word: word.strip())


def test_every_vietnamese_letter_folds_to_its_bare_lower_case_letter() -> None:
    for letter in LETTERS:
        bare = unicodedata.normalize("NFD", letter.replace("đ", "d").replace("Đ", "D"))[0].lower()
        assert fold(letter) == bare, letter
        assert fold(unicodedata.normalize("NFD", letter)) == bare, letter  # decomposed input too
    assert fold("  Hà   NỘI ") == "ha noi"


def test_hits_are_found_in_the_original_text() -> None:
    text = "Đường Nguyễn Huệ NGẬP sâu; ngap nữa"
    assert [text[a:b] for a, b in folded_spans(text, "ngap")] == ["NGẬP", "ngap"]
    assert [text[a:b] for a, b in folded_spans(text, "duong nguyen")] == ["Đường Nguyễn"]
    assert folded_spans(text, "   ") == []


@pytest.fixture
def one_submission(db: Database, settings: Settings) -> int:
    item = SubmissionIn(text="x", channel=Channel.web_form)
    return accept(db, ContactCipher(settings.fernet_key), [item], actor="test", client=None)[0].id


@hypothesis_settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(word=WORDS)
def test_stored_and_query_folding_agree_on_both_databases(
    db: Database, one_submission: int, word: str
) -> None:
    with db.write() as session:
        session.execute(delete(SearchTextRow).where(SearchTextRow.submission_id == one_submission))
        store_folded_texts(session, [(one_submission, f"trước {word} sau")])
    with db.read() as session:
        stored = session.scalar(select(SearchTextRow.text_folded))
        assert stored == fold(f"trước {word} sau")
        for query in (word, word.upper(), strip_marks(word), fold(word)):
            assert session.scalars(matching(query, raw=True)).all() == [one_submission], query
        assert session.scalars(matching(word + "q", raw=True)).all() == []
