"""Supervised text classifiers learnt from labelled examples (analysts' corrections).

Features: TF-IDF over words (1-2 grams of syllables) and characters (2-5 grams) of the folded text,
optionally concatenated with the item's e5 passage embedding (its weight chosen by cross-validation
on the training examples). Classifier: a linear SVM whose scores
are calibrated into probabilities (Platt scaling with cross-validation; a logistic regression when
there are too few examples per class to cross-validate).

Models are saved with skops (no pickle): loading checks every type in the file against an allow-list
of scikit-learn and numpy types, so a model file from elsewhere cannot run code.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from civicpulse.analysis.base import ShipsConfigOnly
from civicpulse.analysis.features import fold
from civicpulse.embeddings import Embedder
from civicpulse.errors import CivicPulseError, Unprocessable

MODEL_FORMAT = 1
SUFFIX = ".skops"
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.", "builtins.", "collections.")


class ModelFileError(CivicPulseError):
    """A model file is missing, corrupt, or holds types outside the allow-list."""

    status, code = 500, "model_file_error"


@dataclass
class Example:
    """One labelled text; ``vector`` is its passage embedding when one was stored."""

    text: str
    label: str
    vector: Sequence[float] | None = None


@dataclass
class TextModel:
    """A fitted classifier over folded text (and embeddings, when ``embedding`` is set)."""

    task: str
    classes_: list[str]
    word_: Any
    char_: Any
    clf_: Any
    embedding: str | None = None
    embedding_dim: int = 0
    embedding_weight: float = 1.0
    priors: list[float] = field(default_factory=list)
    balance: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    def features(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> Any:
        """The feature matrix of ``texts`` (zeros in place of missing embeddings)."""
        folded = [fold(t) for t in texts]
        blocks = [self.word_.transform(folded), self.char_.transform(folded)]
        if self.embedding:
            if vectors is None or vectors.shape[1] != self.embedding_dim:
                vectors = np.zeros((len(folded), self.embedding_dim), dtype=np.float32)
            blocks.append(sparse.csr_matrix(vectors * self.embedding_weight))
        return sparse.hstack(blocks).tocsr()

    def predict_proba(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> np.ndarray:
        """Calibrated probabilities, one column per entry of ``classes_``.

        A model trained ``balanced`` divides them by ``prior ** balance`` and renormalises, which
        favours rare classes (abuse is rare; missing it costs more than a second look).
        """
        if not texts:
            return np.zeros((0, len(self.classes_)))
        probs = np.asarray(self.clf_.predict_proba(self.features(texts, vectors)), dtype=np.float64)
        if self.balance and self.priors:
            probs = probs / np.asarray(self.priors) ** self.balance
            probs /= probs.sum(axis=1, keepdims=True)
        return probs

    def save(self, path: Path) -> Path:
        """Write the model as a skops file (parent directories are created)."""
        import skops.io as sio

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "format": MODEL_FORMAT,
            "task": self.task,
            "classes": list(self.classes_),
            "word": self.word_,
            "char": self.char_,
            "clf": self.clf_,
            "embedding": self.embedding or "",
            "embedding_dim": int(self.embedding_dim),
            "embedding_weight": float(self.embedding_weight),
            "priors": [float(p) for p in self.priors],
            "balance": float(self.balance),
            "meta": {k: str(v) for k, v in self.meta.items()},
        }
        tmp = path.with_suffix(path.suffix + ".tmp")
        sio.dump(state, tmp)
        tmp.replace(path)
        return path


def load_model(path: Path) -> TextModel:
    """Load a model saved by ``TextModel.save``, refusing types outside the allow-list."""
    import skops.io as sio

    path = Path(path)
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except FileNotFoundError as exc:
        raise ModelFileError(f"model file {path} does not exist") from exc
    except Exception as exc:
        raise ModelFileError(f"model file {path} cannot be read: {exc}") from exc
    refused = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if refused:
        raise ModelFileError(f"model file {path} holds types outside the allow-list: {', '.join(refused)}")
    try:
        state = sio.load(path, trusted=untrusted)
    except Exception as exc:
        raise ModelFileError(f"model file {path} cannot be loaded: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
        raise ModelFileError(f"model file {path} is not a CivicPulse model of format {MODEL_FORMAT}")
    return TextModel(
        task=str(state["task"]),
        classes_=[str(c) for c in state["classes"]],
        word_=state["word"],
        char_=state["char"],
        clf_=state["clf"],
        embedding=state["embedding"] or None,
        embedding_dim=int(state["embedding_dim"]),
        embedding_weight=float(state["embedding_weight"]),
        priors=[float(p) for p in state["priors"]],
        balance=float(state["balance"]),
        meta=dict(state["meta"]),
    )


BALANCE = 0.5
"""Exponent of the prior correction of ``balanced`` models (0.5 measured best on ViHSD dev macro F1)."""


def _classifier(counts: Counter[str], *, c: float) -> Any:
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    folds = min(5, min(counts.values()))
    if folds >= 3:
        return CalibratedClassifierCV(LinearSVC(C=c), cv=folds, method="sigmoid")
    return LogisticRegression(C=10.0, max_iter=2000)


def train_text_model(
    examples: Sequence[Example],
    *,
    task: str,
    embedder: Embedder | None = None,
    vectors: np.ndarray | None = None,
    c: float = 0.3,
    embedding_weight: float | None = None,
    balanced: bool = False,
) -> TextModel:
    """Fit a calibrated linear classifier on labelled examples.

    Embeddings are used when ``vectors`` are given (one row per example) or an ``embedder`` is
    given (examples' stored vectors first, the rest computed). ``embedding_weight`` scales them
    against the TF-IDF block; left ``None``, it is chosen among ``WEIGHTS`` by cross-validated
    macro F1 on the training examples. ``balanced`` models favour rare classes when predicting
    (see ``TextModel.predict_proba``).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    keep = [i for i, e in enumerate(examples) if fold(e.text)]  # examples without words teach nothing
    examples = [examples[i] for i in keep]
    texts = [fold(e.text) for e in examples]
    labels = [e.label for e in examples]
    counts = Counter(labels)
    if len(counts) < 2:
        raise Unprocessable(f"training a {task} model needs at least two labels; got {sorted(counts)}")
    if vectors is not None:
        vectors = np.asarray(vectors)[keep]
    elif embedder is not None:
        vectors = _example_vectors(examples, embedder)
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
    char = TfidfVectorizer(analyzer="char", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    if len(texts) < 50:
        char.set_params(min_df=1)
    blocks = [word.fit_transform(texts), char.fit_transform(texts)]
    name, dim = None, 0
    if vectors is not None:
        vectors = np.asarray(vectors, dtype=np.float32)
        name = getattr(embedder, "name", None) or "precomputed"
        dim = int(vectors.shape[1])
        if embedding_weight is None:
            embedding_weight = _choose_weight(sparse.hstack(blocks).tocsr(), vectors, labels, counts, c)
        blocks.append(sparse.csr_matrix(vectors * embedding_weight))
    clf = _classifier(counts, c=c)
    clf.fit(sparse.hstack(blocks).tocsr(), labels)
    return TextModel(
        task=task,
        classes_=[str(x) for x in clf.classes_],
        word_=word,
        char_=char,
        clf_=clf,
        embedding=name,
        embedding_dim=dim,
        embedding_weight=embedding_weight or 1.0,
        priors=[counts[str(x)] / len(labels) for x in clf.classes_],
        balance=BALANCE if balanced else 0.0,
        meta={"trained_at": dt.datetime.now(dt.UTC).isoformat(), "examples": len(texts)},
    )


WEIGHTS = (1.0, 3.0)
"""Embedding weights tried: 3 was best on UIT-VSFC dev, 1 on CFPB products (measured, bench/)."""


def _choose_weight(
    words: Any, vectors: np.ndarray, labels: list[str], counts: Counter[str], c: float
) -> float:
    """The weight of ``WEIGHTS`` with the best 5-fold macro F1 (the first when folds are too small)."""
    from sklearn.model_selection import cross_val_predict
    from sklearn.svm import LinearSVC

    if min(counts.values()) < 5:
        return WEIGHTS[0]
    from sklearn.metrics import f1_score

    best, best_score = WEIGHTS[0], -1.0
    for weight in WEIGHTS:
        x = sparse.hstack([words, sparse.csr_matrix(vectors * weight)]).tocsr()
        predicted = cross_val_predict(LinearSVC(C=c), x, labels, cv=5)
        score = f1_score(labels, predicted, average="macro")
        if score > best_score:
            best, best_score = weight, score
    return best


def _example_vectors(examples: Sequence[Example], embedder: Embedder) -> np.ndarray:
    missing = [i for i, e in enumerate(examples) if e.vector is None]
    out = np.zeros((len(examples), embedder.dim), dtype=np.float32)
    for i, e in enumerate(examples):
        if e.vector is not None:
            out[i] = np.asarray(e.vector, dtype=np.float32)
    if missing:
        out[missing] = embedder.embed_passages([examples[i].text for i in missing])
    return out


def train_topic_model(examples: Sequence[Example], embedder: Embedder | None = None) -> TextModel:
    """The topic model from analysts' topic corrections."""
    return train_text_model(examples, task="topic", embedder=embedder)


def train_sentiment_model(examples: Sequence[Example], embedder: Embedder | None = None) -> TextModel:
    """The sentiment model from analysts' sentiment corrections."""
    return train_text_model(examples, task="sentiment", embedder=embedder)


def train_toxicity_model(examples: Sequence[Example], embedder: Embedder | None = None) -> TextModel:
    """The toxicity model (clean / offensive / hate) from moderators' decisions."""
    return train_text_model(examples, task="toxicity", embedder=embedder, balanced=True)


def model_path(directory: Path, task: str) -> Path:
    """Where the model of ``task`` lives in the model directory."""
    return Path(directory) / f"{task}{SUFFIX}"


class ModelSlot(ShipsConfigOnly):
    """The trained model of one task in the model directory, loaded lazily and reloaded when the
    file changes; ``None`` while there is none (or its labels are outside ``allowed``)."""

    def __init__(self, directory: Path, task: str, allowed: set[str] | None = None) -> None:
        self.path = model_path(directory, task)
        self.allowed = allowed
        self.model_: TextModel | None = None
        self.mtime_: float | None = None

    def get(self) -> TextModel | None:
        """The current model, or ``None``."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            self.model_, self.mtime_ = None, None
            return None
        if self.mtime_ != mtime:
            model = load_model(self.path)
            usable = self.allowed is None or set(model.classes_) <= self.allowed
            self.model_, self.mtime_ = (model if usable else None), mtime
        return self.model_


def train_agency_model(examples: Sequence[Example], embedder: Embedder | None = None) -> TextModel:
    """The learned router (``route`` stage) from analysts' and officers' assignments."""
    from civicpulse.analysis.routing import train_agency_router

    return train_agency_router(examples, embedder=embedder)


TRAINERS = {
    "topic": train_topic_model,
    "sentiment": train_sentiment_model,
    "toxicity": train_toxicity_model,
    "agency": train_agency_model,
}


def train_and_save(
    task: str, examples: Sequence[Example], directory: Path, embedder: Embedder | None = None
) -> Path:
    """Train the model of ``task`` (topic, sentiment, toxicity or agency) and write it where its stage
    reads it.

    The stages pick the new file up on their next batch (they reload when the file changes).
    """
    if task not in TRAINERS:
        raise Unprocessable(f"unknown task {task!r}; known: {', '.join(TRAINERS)}")
    model = TRAINERS[task](examples, None if task == "toxicity" else embedder)
    return model.save(model_path(directory, task))
