"""Diacritic restoration: word accuracy and speed, side by side with baselines.

Usage::

    python bench/diacritics.py            # evaluate the shipped model
    python bench/diacritics.py --build    # first rebuild the shipped model from VNTC (MIT)

Test sets: the project's own sentences (``bench/data/diacritics_sentences.txt``), UIT-VSFC dev
sentences that carry marks (evaluation only; nothing trained on them ships), and the VNTC
articles held out from training (every tenth line of ``train_subset.jsonl``). Each sentence's
marks are stripped, restored, and compared word by word (lower case, one tone convention).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from civicpulse.analysis import diacritics
from civicpulse.textkit.vietnamese import fold_whitespace, place_tone, strip_marks

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent.parent / "shared" / "data"
VNTC = DATA / "vntc-10topics" / "train_subset.jsonl"
VSFC = DATA / "uit-vsfc" / "dev.jsonl"
OWN = ROOT / "data" / "diacritics_sentences.txt"
EXAMPLES = ROOT.parent / "examples" / "vietnamese_submissions.jsonl"
_WORD = re.compile(r"[^\W\d_]+")


def vntc_rows(held_out: bool) -> list[str]:
    """VNTC article texts: every tenth article is held out from training."""
    with VNTC.open(encoding="utf-8") as f:
        return [json.loads(line)["text"] for i, line in enumerate(f) if (i % 10 == 0) == held_out]


def domain_texts() -> list[str]:
    """Citizen-feedback text written for the project: the domain sentences shipped beside the model
    and the marked texts of the demo feed (``examples/vietnamese_submissions.jsonl``)."""
    domain = diacritics.model_path().with_name("domain_sentences.txt").read_text(encoding="utf-8")
    texts = [line for line in domain.splitlines() if line and not line.startswith("#")]
    if EXAMPLES.exists():
        with EXAMPLES.open(encoding="utf-8") as f:
            demo = [json.loads(line)["text"] for line in f]
        texts += [t for t in demo if diacritics.marked_share(t) > 0.3]
    return texts


def build() -> None:
    """Rebuild the shipped model: VNTC articles not held out, plus the project's domain text."""
    start = time.perf_counter()
    arrays = diacritics.train(vntc_rows(held_out=False) + domain_texts(), min_trigram=1)
    diacritics.save(arrays, diacritics.model_path())
    size = diacritics.model_path().stat().st_size
    print(f"built {diacritics.model_path()} ({size / 1e6:.1f} MB) in {time.perf_counter() - start:.0f} s")


def test_sets(limit: int) -> dict[str, list[str]]:
    """Sentences with marks, by test set."""
    own = [s.strip() for s in OWN.read_text(encoding="utf-8").splitlines() if s.strip()]
    own = [s for s in own if not s.startswith("#")]
    sets = {"own sentences": own}
    if VSFC.exists():
        with VSFC.open(encoding="utf-8") as f:
            vsfc = [json.loads(line)["text"] for line in f]
        sets["UIT-VSFC dev"] = [s for s in vsfc if diacritics.marked_share(s) > 0.3][:limit]
    if VNTC.exists():
        sentences: list[str] = []
        for text in vntc_rows(held_out=True):
            sentences += [s for s in re.split(r"(?<=[.!?])\s+|\n", text) if len(s.split()) >= 4]
        sets["VNTC held out"] = sentences[:limit]
    return sets


def words(text: str) -> list[str]:
    """Lower-case words in the project's tone convention."""
    return [place_tone(w.lower()) for w in _WORD.findall(fold_whitespace(text))]


def score(method: Callable[[str], str], sentences: list[str]) -> tuple[float, float]:
    """Word accuracy and sentences per second of ``method`` on the sentences stripped of marks."""
    right = total = 0
    stripped = [strip_marks(s) for s in sentences]
    start = time.perf_counter()
    outputs = [method(s) for s in stripped]
    elapsed = time.perf_counter() - start
    for expected, got in zip(sentences, outputs, strict=True):
        want, have = words(expected), words(got)
        total += len(want)
        if len(want) == len(have):
            right += sum(a == b for a, b in zip(want, have, strict=True))
    return right / max(total, 1), len(sentences) / elapsed


def most_frequent_form() -> Callable[[str], str]:
    """Baseline: each syllable becomes its most frequent marked form in the training data."""
    model = diacritics.shipped_model()
    best = {plain: model.vocab[int(ids[0])] for plain, ids in model.candidates.items()}

    def restore(text: str) -> str:
        return _WORD.sub(lambda m: best.get(m.group().lower(), m.group()), text)

    return restore


def methods() -> dict[str, Callable[[str], str]]:
    """The methods compared: ours, the baseline, and pyvi when it is installed."""
    found: dict[str, Callable[[str], str]] = {
        "trigram Viterbi (shipped)": diacritics.restore,
        "most frequent form": most_frequent_form(),
    }
    try:
        from pyvi import ViUtils
    except ImportError:
        pass
    else:

        def pyvi(text: str) -> str:
            try:
                return str(ViUtils.add_accents(text))
            except KeyError:  # pyvi fails on some character sequences; count it as unrestored
                return text

        found["pyvi ViUtils.add_accents"] = pyvi
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="rebuild the shipped model first")
    parser.add_argument("--limit", type=int, default=1000, help="sentences per external test set")
    args = parser.parse_args()
    if args.build:
        build()
    sets = test_sets(args.limit)
    diacritics.restore("khoi dong")  # load the model outside the timings
    names = list(sets)
    print("| method | " + " | ".join(f"{n} (n={len(sets[n])})" for n in names) + " | sentences/s |")
    print("| --- |" + " --- |" * (len(names) + 1))
    for label, method in methods().items():
        results = [score(method, sets[n]) for n in names]
        speeds = Counter({n: r[1] for n, r in zip(names, results, strict=True)})
        cells = " | ".join(f"{acc:.2%}" for acc, _ in results)
        print(f"| {label} | {cells} | {speeds[names[0]]:.0f} (own) / {min(speeds.values()):.0f} (slowest) |")


if __name__ == "__main__":
    main()
