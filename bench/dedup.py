"""Near-duplicate benchmark: pair precision/recall of the ``dedup`` stage against exact hashing,
items/s, memory, and the demo campaign found end to end.

1. Synthetic corpus (evaluation only): sentences of VNTC news (MIT) and ViCTSD, ViHSD and
   UIT-VSFC comments (research use) from ../shared/data, exact duplicates removed, plus injected
   clusters of known membership: a seed passage (25-80 words) and 1-29 variants of it, each with
   one to three edits of the kinds people make when they copy a petition (a word replaced,
   dropped or added, other punctuation, diacritics left out, a greeting or a signature line).
   True pairs: two items of one cluster. Predicted pairs: two items of one group. Baselines: the
   intake's content hash (NFC + whitespace) and an exact hash of the folded text (lower case, no
   marks, no punctuation).
   Each setting runs in a fresh process, so peak memory is its own.
2. Demo file: examples/vietnamese_submissions.jsonl is imported into a temporary SQLite store,
   analysed by the real worker (language, normalize, pii, dedup) and campaigns are detected.

Run: ``python bench/dedup.py [--items 100000] [--grid] [--no-demo]``
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

DATA = Path(os.environ.get("CIVICPULSE_BENCH_DATA", Path(__file__).parents[2] / "shared" / "data"))
VNTC = DATA / "vntc-10topics" / "train_subset.jsonl"
COMMENTS = [  # research use: evaluation only
    DATA / "victsd" / "train.jsonl",
    DATA / "victsd" / "valid.jsonl",
    DATA / "vihsd" / "train.jsonl",
    DATA / "uit-vsfc" / "train.jsonl",
]
DEMO = Path(__file__).parents[1] / "examples" / "vietnamese_submissions.jsonl"
CACHE = Path(tempfile.gettempdir()) / "civicpulse-bench-dedup"

GREETINGS = ["Kính gửi UBND phường,", "Kính gửi lãnh đạo xã,", "Ad ơi!", "Mọi người ơi!", "Đồng ý!"]
SIGNATURES = ["— [PERSON]", "Người ký: [PERSON]", "(Ký tên: [PERSON], thôn Nam)", "[PERSON], tổ 5"]
SETTINGS = {  # name -> (shingle, num_perm, threshold)
    "w2-p128-t0.6": (2, 128, 0.6),
    "w2-p128-t0.65": (2, 128, 0.65),
    "w2-p128-t0.7": (2, 128, 0.7),
    "w2-p64-t0.6": (2, 64, 0.6),
    "w3-p128-t0.6": (3, 128, 0.6),
    "w3-p128-t0.7": (3, 128, 0.7),
}
DEFAULT = "w2-p128-t0.6"


# --- corpus -----------------------------------------------------------------------------------


def sentences() -> list[str]:
    """Base sentences (6-60 words), exact duplicates of the folded text removed."""
    from civicpulse.analysis.dedup import fold_tokens

    found: list[str] = []
    for line in VNTC.read_text(encoding="utf-8").splitlines():
        text = json.loads(line)["text"]
        found.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+|\n+", text))
    for path in COMMENTS:
        found.extend(
            json.loads(line)["text"].strip() for line in path.read_text(encoding="utf-8").splitlines()
        )
    seen: set[str] = set()
    unique = []
    for text in found:
        key = " ".join(fold_tokens(text))
        if 6 <= len(text.split()) <= 60 and key not in seen:
            seen.add(key)
            unique.append(text)
    return unique


def variant(seed: str, rng: random.Random, vocabulary: list[str]) -> str:
    """A copy of ``seed`` with one to three small edits."""
    from civicpulse.textkit.vietnamese import strip_marks

    words = seed.split()
    for _ in range(rng.randint(1, 3)):
        edit = rng.choice(["replace", "drop", "add", "punctuation", "marks", "greeting", "signature"])
        at = rng.randrange(len(words))
        if edit == "replace":
            words[at] = rng.choice(vocabulary)
        elif edit == "drop" and len(words) > 10:
            del words[at]
        elif edit == "add":
            words.insert(at, rng.choice(vocabulary))
        elif edit == "punctuation":
            words[at] = words[at].rstrip(".,!?") + rng.choice([",", "!", "!!!", "...", ""])
        elif edit == "marks":
            words = strip_marks(" ".join(words)).split()
        elif edit == "greeting":
            words = [*rng.choice(GREETINGS).split(), *words]
        else:
            words = [*words, *rng.choice(SIGNATURES).split()]
    return " ".join(words)


def corpus(total: int, seed: int = 7) -> tuple[list[str], list[int]]:
    """``total`` texts in a shuffled order and their cluster label (base texts: a label of their own)."""
    rng = random.Random(seed)
    pool = sentences()
    rng.shuffle(pool)
    vocabulary = [w for s in pool[:2000] for w in s.split() if w.isalpha()]
    texts: list[str] = []
    labels: list[int] = []
    cursor = 0
    injected_target = total // 10  # about a tenth of the corpus are near-duplicates
    cluster = 0
    while len(texts) < injected_target:
        words: list[str] = []
        while len(words) < 25:
            words.extend(pool[cursor].split())
            cursor += 1
        seed_text = " ".join(words[:80])
        size = min(1 + int(rng.paretovariate(1.2)), 30)
        members = [seed_text] + [variant(seed_text, rng, vocabulary) for _ in range(size - 1)]
        texts.extend(members)
        labels.extend([cluster] * len(members))
        cluster += 1
    base = pool[cursor : cursor + total - len(texts)]
    if len(base) < total - len(texts):
        raise SystemExit(f"only {len(pool)} base sentences: ask for fewer --items")
    labels.extend(range(cluster, cluster + len(base)))
    texts.extend(base)
    order = list(range(len(texts)))
    rng.shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


# --- scoring ----------------------------------------------------------------------------------


def pairs(groups: list[int]) -> int:
    return sum(n * (n - 1) // 2 for n in Counter(groups).values())


def score(predicted: list[int], labels: list[int]) -> dict[str, float]:
    """Pair precision and recall of a grouping against the cluster labels.

    ``precision_injected`` counts only predicted pairs with an injected item: the base sentences
    hold natural near-duplicates of their own (formulaic student feedback such as "thầy nhiệt
    tình giúp đỡ sinh viên"), which the plain precision counts as errors.
    """
    true_pairs = pairs(labels)
    found = pairs(predicted)
    correct = pairs([hash((p, t)) for p, t in zip(predicted, labels, strict=True)])
    injected = {label for label, n in Counter(labels).items() if n > 1}
    in_groups: dict[int, Counter[bool]] = {}
    for group, label in zip(predicted, labels, strict=True):
        in_groups.setdefault(group, Counter())[label in injected] += 1
    with_injected = sum(
        n * (n - 1) // 2 - c[False] * (c[False] - 1) // 2 for c in in_groups.values() for n in [c.total()]
    )
    return {
        "precision": correct / found if found else 1.0,
        "precision_injected": correct / with_injected if with_injected else 1.0,
        "recall": correct / true_pairs if true_pairs else 1.0,
        "pairs": found,
    }


def baselines(texts: list[str]) -> dict[str, list[int]]:
    """Exact-hash groupings: the intake's content hash, and a hash of the folded text."""
    from civicpulse.analysis.dedup import fold_tokens
    from civicpulse.textkit.fingerprint import content_hash

    def groups(keys: list[str]) -> list[int]:
        first: dict[str, int] = {}
        return [first.setdefault(k, i) for i, k in enumerate(keys)]

    folded = [hashlib.sha256(" ".join(fold_tokens(t)).encode()).hexdigest() for t in texts]
    return {
        "exact content hash": groups([content_hash(t) for t in texts]),
        "exact folded hash": groups(folded),
    }


def rss_mib() -> float:
    """Current resident memory in MiB."""
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_setting(name: str, items: int, batch: int = 64) -> dict:
    """One setting on the synthetic corpus (called in a fresh process)."""
    from civicpulse.analysis.base import AnalysisItem
    from civicpulse.analysis.dedup import DedupStage
    from civicpulse.annotations import DedupOut
    from civicpulse.settings import Settings

    texts, labels = load_corpus(items)
    shingle, num_perm, threshold = SETTINGS[name]
    stage = DedupStage(Settings(database_url="sqlite:////nonexistent/bench.db"))  # no store: memory only
    stage.shingle, stage.num_perm, stage.threshold = shingle, num_perm, threshold
    stage.process([AnalysisItem(id=0, text=texts[0])])  # imports and LSH set-up are not the index
    before = rss_mib()
    start, cpu = time.perf_counter(), time.process_time()
    groups: list[int] = []
    for at in range(0, len(texts), batch):
        chunk = [AnalysisItem(id=at + i + 1, text=t) for i, t in enumerate(texts[at : at + batch])]
        out = stage.process(chunk).outputs
        for item in chunk:
            output = out[item.id]
            assert isinstance(output, DedupOut)
            groups.append(output.group or -item.id)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    return {
        "setting": name,
        **score(groups, labels),
        "items_s": len(texts) / wall,
        "items_cpu_s": len(texts) / used,
        "index_mib": rss_mib() - before,
        "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "unsigned": sum(g < 0 for g in groups),
    }


def index_memory(items: int) -> dict:
    """RSS growth of datasketch's MinHashLSH and of the stage's index holding the same signatures."""
    from datasketch import LeanMinHash, MinHashLSH

    from civicpulse.analysis.dedup import SEED, NearDupIndex, Signer

    texts, _ = load_corpus(items)
    signer = Signer(128, 2, 6)
    signatures = [(i, s) for i, t in enumerate(texts, 1) if (s := signer.sign(t)) is not None]
    before = rss_mib()
    index = NearDupIndex(128, 0.6)
    for i, signature in signatures:
        index.add(i, signature, i)
    stage_mib = rss_mib() - before
    before = rss_mib()
    lsh = MinHashLSH(threshold=0.6, num_perm=128)
    for i, signature in signatures:
        lsh.insert(
            i, LeanMinHash(seed=SEED, hashvalues=signature, scheme="affine32"), check_duplication=False
        )
    datasketch_mib = rss_mib() - before
    return {"signatures": len(signatures), "datasketch_mib": datasketch_mib, "stage_mib": stage_mib}


def load_corpus(items: int) -> tuple[list[str], list[int]]:
    """The synthetic corpus, built once and cached in the temp folder."""
    path = CACHE / f"corpus-{items}.json"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        texts, labels = corpus(items)
        path.write_text(json.dumps({"texts": texts, "labels": labels}, ensure_ascii=False), encoding="utf-8")
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["texts"], data["labels"]


# --- demo -------------------------------------------------------------------------------------


def demo() -> dict:
    """Import the demo file, analyse it with the real worker, detect campaigns."""
    from civicpulse.analysis.dedup import DedupStage
    from civicpulse.analysis.language import LanguageStage
    from civicpulse.analysis.pii import PiiStage
    from civicpulse.analysis.pipeline import Pipeline
    from civicpulse.analysis.text import NormalizeStage
    from civicpulse.insight.campaigns import CampaignRules, detect_campaigns
    from civicpulse.intake.files import import_files
    from civicpulse.runtime.worker import Worker
    from civicpulse.settings import Settings
    from civicpulse.store.db import Database
    from civicpulse.store.neardup import StoredSignatures

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite:///{folder}/demo.db", worker_threads=0)
        db = Database.from_settings(settings)
        db.upgrade()
        import_files(db, settings, [DEMO])
        dedup = DedupStage(settings, signatures=StoredSignatures(db))
        pipeline = Pipeline([LanguageStage(settings), NormalizeStage(settings), PiiStage(settings), dedup])
        start = time.perf_counter()
        handled = Worker(db, pipeline, settings).drain()
        seconds = time.perf_counter() - start
        with db.read() as session:
            campaigns = detect_campaigns(session, rules=CampaignRules.from_settings(settings))
        db.dispose()
    return {"items": handled, "seconds": seconds, "campaigns": [c.as_dict() for c in campaigns]}


# --- report -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument(
        "--grid", action="store_true", help="compare shingle widths, permutations, thresholds"
    )
    parser.add_argument("--no-demo", action="store_true")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--memory", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_setting(args.one, args.items)))
        return
    if args.memory:
        print(json.dumps(index_memory(args.items)))
        return
    texts, labels = load_corpus(args.items)
    clusters = Counter(labels)
    injected = sum(n for n in clusters.values() if n > 1)
    print(
        f"synthetic corpus: {len(texts):,} texts, {injected:,} in {sum(n > 1 for n in clusters.values()):,}"
        f" injected clusters, {pairs(labels):,} true pairs\n"
    )
    print(
        "| method | precision | precision (injected) | recall | pairs found | items/s | items/cpu-s "
        "| index MiB | peak MiB |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, groups in baselines(texts).items():
        s = score(groups, labels)
        print(
            f"| {name} | {s['precision']:.3f} | {s['precision_injected']:.3f} | {s['recall']:.3f} "
            f"| {s['pairs']:,} | | | | |"
        )
    for name in SETTINGS if args.grid else [DEFAULT]:
        command = [sys.executable, __file__, "--one", name, "--items", str(args.items)]
        r = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
        print(
            f"| MinHash LSH {name} | {r['precision']:.3f} | {r['precision_injected']:.3f} | "
            f"{r['recall']:.3f} | {r['pairs']:,} | "
            f"{r['items_s']:,.0f} | {r['items_cpu_s']:,.0f} | {r['index_mib']:.0f} | {r['peak_mib']:.0f} |"
        )
    command = [sys.executable, __file__, "--memory", "--items", str(args.items)]
    m = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
    print(
        f"\nindex memory for {m['signatures']:,} signatures (128 permutations, threshold 0.6): "
        f"datasketch MinHashLSH {m['datasketch_mib']:.0f} MiB, the stage's NearDupIndex "
        f"(numpy bands + signature matrix) {m['stage_mib']:.0f} MiB"
    )
    if not args.no_demo:
        result = demo()
        print(
            f"\ndemo file: {result['items']} submissions analysed (language, normalize, pii, dedup) "
            f"in {result['seconds']:.1f} s; campaigns:"
        )
        for campaign in result["campaigns"]:
            print(f"  {json.dumps(campaign, ensure_ascii=False, default=str)}")


if __name__ == "__main__":
    main()
