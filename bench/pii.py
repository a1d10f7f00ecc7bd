"""PII redaction benchmark: precision, recall and F1 per type on bench/data/pii_gold.jsonl, and speed.

Exact match: same type and same offsets. Overlap match: same type and overlapping offsets. Figures
are given for the whole set, the tuning and held-out templates, and with/without diacritics; speed is
the ``pii`` stage's items/s with and without underthesea NER.

A separate section scores the issue-10 cases (``bench/data/pii_gold_issue10.jsonl``, built by
``bench/pii_gold_issue10.py`` after the fixes were designed): recall per kind and the spans found
where none should be; and the whole gold set goes once more through the stages as they run
(language, normalize, pii), scored on the text as written.

Run: ``python bench/pii.py [--errors N] [--split tune|heldout|issue10]``
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from civicpulse.analysis.base import AnalysisItem
from civicpulse.analysis.language import LanguageStage
from civicpulse.analysis.pii import PII_TYPES, PiiStage, redact
from civicpulse.analysis.pipeline import Pipeline
from civicpulse.analysis.text import NormalizeStage
from civicpulse.annotations import PiiOut
from civicpulse.settings import Settings

GOLD = Path(__file__).parent / "data" / "pii_gold.jsonl"
ISSUE10 = Path(__file__).parent / "data" / "pii_gold_issue10.jsonl"
NUMBER_TYPES = {"PHONE", "ID", "INSURANCE", "ACCOUNT", "EMAIL", "URL_PROFILE", "PLATE"}

Span = tuple[str, int, int]


def load(path: Path = GOLD) -> list[dict]:
    """The gold records."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _match(gold: list[Span], pred: list[Span], same: Callable[[Span, Span], bool]) -> Counter:
    counts: Counter = Counter()
    used: set[int] = set()
    for g in gold:
        hit = next((i for i, p in enumerate(pred) if i not in used and same(g, p)), None)
        if hit is None:
            counts[(g[0], "fn")] += 1
        else:
            used.add(hit)
            counts[(g[0], "tp")] += 1
    for i, p in enumerate(pred):
        if i not in used:
            counts[(p[0], "fp")] += 1
    return counts


def exact(g: Span, p: Span) -> bool:
    """Same type, same offsets."""
    return g == p


def overlap(g: Span, p: Span) -> bool:
    """Same type, overlapping offsets."""
    return g[0] == p[0] and g[1] < p[2] and p[1] < g[2]


def score(records: list[dict], preds: list[list[Span]], same: Callable) -> Counter:
    """Summed true positives, false positives and false negatives per type."""
    total: Counter = Counter()
    for record, pred in zip(records, preds, strict=True):
        gold = [(s["type"], s["start"], s["end"]) for s in record["spans"]]
        total += _match(gold, pred, same)
    return total


def prf(counts: Counter, types: set[str] | tuple[str, ...]) -> tuple[float, float, float, int]:
    """Precision, recall, F1 and support over ``types``."""
    tp = sum(counts[(t, "tp")] for t in types)
    fp = sum(counts[(t, "fp")] for t in types)
    fn = sum(counts[(t, "fn")] for t in types)
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f, tp + fn


def table(records: list[dict], preds: list[list[Span]], title: str) -> None:
    """Print one table: per type, then groups, exact and overlap."""
    ex, ov = score(records, preds, exact), score(records, preds, overlap)
    print(f"\n### {title} ({len(records)} sentences)\n")
    print("| type | support | P exact | R exact | F1 exact | P overlap | R overlap | F1 overlap |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    rows = [(t, (t,)) for t in PII_TYPES] + [
        ("numbers, e-mails, links, plates", tuple(NUMBER_TYPES)),
        ("all", PII_TYPES),
    ]
    for label, types in rows:
        pe, re_, fe, n = prf(ex, types)
        po, ro, fo, _ = prf(ov, types)
        if n == 0 and not any(ex[(t, "fp")] for t in types):
            continue
        print(f"| {label} | {n} | {pe:.3f} | {re_:.3f} | {fe:.3f} | {po:.3f} | {ro:.3f} | {fo:.3f} |")


def issue10_table(records: list[dict], preds: list[list[Span]]) -> None:
    """Recall per kind of the issue-10 cases, and the spans found where the gold has none."""
    print(f"\n### issue-10 cases, held out ({len(records)} sentences)\n")
    print("| kind | sentences | gold spans | R exact | R overlap | spans found where none should be |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    kinds = list(dict.fromkeys(r["kind"] for r in records))
    for kind in [*kinds, "all"]:
        pairs = [(r, p) for r, p in zip(records, preds, strict=True) if kind in ("all", r["kind"])]
        ex = score([r for r, _ in pairs], [p for _, p in pairs], exact)
        ov = score([r for r, _ in pairs], [p for _, p in pairs], overlap)
        support = sum(len(r["spans"]) for r, _ in pairs)
        _, rex, _, _ = prf(ex, PII_TYPES)
        _, rov, _, _ = prf(ov, PII_TYPES)
        extra = sum(ov[(t, "fp")] for t in PII_TYPES)
        recall = (f"{rex:.3f}", f"{rov:.3f}") if support else ("–", "–")
        print(f"| {kind} | {len(pairs)} | {support} | {recall[0]} | {recall[1]} | {extra} |")


def through_stages(records: list[dict]) -> list[list[Span]]:
    """Spans the stages give as they run (language, normalize, pii), on the text as written."""
    settings = Settings()
    pipeline = Pipeline([LanguageStage(settings), NormalizeStage(settings), PiiStage(settings)])
    items = [AnalysisItem(id=i, text=r["text"], language_hint=r["language"]) for i, r in enumerate(records)]
    result = pipeline.run(items)
    preds = []
    for i in range(len(records)):
        pii = result.outputs[i]["pii"]
        assert isinstance(pii, PiiOut)
        preds.append([(s.type, s.start, s.end) for s in pii.spans])
    return preds


def speed(texts: list[str], use_ner: bool) -> float:
    """Items/s of the stage over ``texts`` (models loaded before timing)."""
    stage = PiiStage(Settings(), use_ner=use_ner)
    stage.process([AnalysisItem(id=0, text="Anh Trịnh Quang Khải ở Hà Nội.")])
    items = [AnalysisItem(id=i, text=t) for i, t in enumerate(texts)]
    start = time.perf_counter()
    stage.process(items)
    return len(items) / (time.perf_counter() - start)


def main() -> None:
    """Print the tables, the speed and optionally the errors."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--errors", type=int, default=0, help="print up to N mismatching sentences")
    parser.add_argument("--split", choices=["tune", "heldout", "issue10"], help="errors from this split only")
    args = parser.parse_args()
    records = load()
    cases = load(ISSUE10)
    results = [redact(r["text"], r["language"]) for r in records]
    preds = [[(s.type, s.start, s.end) for s in res.spans] for res in results]
    groups = {
        "all": lambda r: True,
        "tuning templates": lambda r: r["split"] == "tune",
        "held-out templates": lambda r: r["split"] == "heldout",
        "with diacritics (vi)": lambda r: r["language"] == "vi" and r["diacritics"],
        "without diacritics (vi)": lambda r: r["language"] == "vi" and not r["diacritics"],
        "English": lambda r: r["language"] == "en",
    }
    for title, keep in groups.items():
        pairs = [(r, p) for r, p in zip(records, preds, strict=True) if keep(r)]
        table([r for r, _ in pairs], [p for _, p in pairs], title)
    case_results = [redact(r["text"], r["language"]) for r in cases]
    issue10_table(cases, [[(s.type, s.start, s.end) for s in res.spans] for res in case_results])
    table(records, through_stages(records), "all, through the stages (language, normalize, pii)")
    texts = [r["text"] for r in records] * 5
    print(f"\nspeed over {len(texts)} sentences, one process: ", end="")
    print(f"{speed(texts, use_ner=False):,.0f} items/s without NER, ", end="")
    print(f"{speed(texts, use_ner=True):,.0f} items/s with NER gated to unexplained sentences")
    shown = 0
    for record, result in zip([*records, *cases], [*results, *case_results], strict=True):
        pred = [(s.type, s.start, s.end) for s in result.spans]
        if shown >= args.errors or (args.split and record.get("split", "issue10") != args.split):
            continue
        gold = sorted((s["type"], s["start"], s["end"]) for s in record["spans"])
        if gold != sorted(pred):
            shown += 1
            print(f"\n{record['template']}: {record['text']}\n  got:  {result.redacted_text}")
            print(f"  miss: {[(t, record['text'][a:b]) for t, a, b in gold if (t, a, b) not in pred]}")
            print(f"  extra:{[(t, record['text'][a:b]) for t, a, b in pred if (t, a, b) not in gold]}")


if __name__ == "__main__":
    main()
