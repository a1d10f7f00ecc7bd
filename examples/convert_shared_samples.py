"""Convert two public data sets from ``../shared/data`` into CivicPulse demo JSONL files.

Writes, next to this script:

* ``cfpb_sample.jsonl`` -- 200 narratives from the CFPB Consumer Complaint Database
  (payday / title / personal loan complaints, 2023; CC0), stratified by CFPB issue.
* ``polis_american-assembly.bowling-green.jsonl`` -- the comments of the Pol.is
  conversation "Improving Bowling Green / Warren County" (The Computational Democracy
  Project, CC BY 4.0), without the comments moderated out (``moderated == -1``).

Both use the same keys as ``vietnamese_submissions.jsonl``: ``source_id``, ``channel``,
``text``, ``received_at``, ``locality``, ``language_hint``, ``contact``, ``attachments``.
Standard library only; deterministic (``random.Random(20261122)``), so re-running gives
byte-identical files.

Usage::

    python examples/convert_shared_samples.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SEED = 20261122
HERE = Path(__file__).resolve().parent
DEFAULT_SHARED = HERE.parent.parent / "shared" / "data"

CFPB_FILE = Path("cfpb-consumer-complaints") / "payday_loans_issue_all.jsonl"
CFPB_OUT = "cfpb_sample.jsonl"
CFPB_LABEL = "sample: CFPB (US)"  # the source id says the row is foreign sample data
POLIS_LABEL = "sample: Pol.is (US)"
CFPB_ROWS = 200
CFPB_MIN_PER_ISSUE = 2
CFPB_MAX_CHARS = 3000
CFPB_CHANNELS = {"Web": "web_form", "Phone": "hotline", "Email": "email"}  # else web_form

POLIS_CONVERSATION = "american-assembly.bowling-green"
POLIS_DIR = Path("polis-opendata") / "comments"


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Yield the JSON objects of a JSONL file."""
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows as UTF-8 JSONL with ``\\n`` line ends; return the row count."""
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def submission(
    source_id: str, channel: str, text: str, received_at: str, locality: str | None, language_hint: str | None
) -> dict[str, Any]:
    """A row with exactly the demo key set."""
    return {
        "source_id": source_id,
        "channel": channel,
        "text": text,
        "received_at": received_at,
        "locality": locality,
        "language_hint": language_hint,
        "contact": None,
        "attachments": [],
    }


# ---------------------------------------------------------------------------
# CFPB
# ---------------------------------------------------------------------------


def allocate(sizes: dict[str, int], total: int, minimum: int) -> dict[str, int]:
    """Proportional quotas per stratum, at least ``minimum`` (or all it has), summing to
    ``total`` (largest strata absorb the rounding)."""
    n = sum(sizes.values())
    quota = {k: min(v, max(minimum, round(total * v / n))) for k, v in sizes.items()}
    by_size = sorted(sizes, key=lambda k: (-sizes[k], k))
    i = 0
    while sum(quota.values()) != total:
        key = by_size[i % len(by_size)]
        if sum(quota.values()) > total and quota[key] > minimum:
            quota[key] -= 1
        elif sum(quota.values()) < total and quota[key] < sizes[key]:
            quota[key] += 1
        i += 1
    return quota


def cfpb_date(value: str) -> str:
    """``"03/22/23"`` -> ``"2023-03-22T09:00:00-05:00"`` (date only upstream; 09:00 US
    Eastern is a fixed placeholder time)."""
    day = datetime.strptime(value, "%m/%d/%y").date()
    return f"{day.isoformat()}T09:00:00-05:00"


def convert_cfpb(shared: Path) -> list[dict[str, Any]]:
    """Pick ``CFPB_ROWS`` narratives, stratified by issue, and convert them."""
    seen: set[str] = set()
    strata: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for rec in read_jsonl(shared / CFPB_FILE):
        text = rec["text"].strip()
        if not text or len(text) >= CFPB_MAX_CHARS or text in seen:
            continue
        seen.add(text)
        strata[rec["issue"]].append(rec)
    quota = allocate({k: len(v) for k, v in strata.items()}, CFPB_ROWS, CFPB_MIN_PER_ISSUE)
    rng = random.Random(SEED)
    picked: list[dict[str, Any]] = []
    for issue in sorted(strata):
        pool = sorted(strata[issue], key=lambda r: int(r["complaint_id"]))
        picked.extend(rng.sample(pool, quota[issue]))
    rows = []
    for rec in picked:
        state = rec.get("state") or None
        rows.append(
            submission(
                source_id=f"{CFPB_LABEL} {rec['complaint_id']}",
                channel=CFPB_CHANNELS.get(rec.get("submitted_via", ""), "web_form"),
                text=rec["text"].strip(),
                received_at=cfpb_date(rec["date_received"]),
                locality=None if state in (None, "None") else state,
                language_hint="en",
            )
        )
    rows.sort(key=lambda r: (r["received_at"], int(r["source_id"].rsplit(" ", 1)[1])))
    return rows


# ---------------------------------------------------------------------------
# Pol.is
# ---------------------------------------------------------------------------


def polis_time(ms: str | int) -> str:
    """Milliseconds since the epoch -> ISO 8601 in UTC, millisecond precision."""
    ms = int(ms)
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC).replace(microsecond=ms % 1000 * 1000)
    return moment.isoformat(timespec="milliseconds")


def convert_polis(shared: Path, conversation: str) -> list[dict[str, Any]]:
    """All comments of one conversation except those moderated out."""
    recs = [
        r
        for r in read_jsonl(shared / POLIS_DIR / f"{conversation}.jsonl")
        if int(r["moderated"]) != -1 and r["text"].strip()
    ]
    recs.sort(key=lambda r: (int(r["timestamp"]), int(r["comment_id"])))
    return [
        submission(
            source_id=f"{POLIS_LABEL} {conversation}-{r['comment_id']}",
            channel="survey",
            text=r["text"].strip(),
            received_at=polis_time(r["timestamp"]),
            locality=None,
            language_hint="en",
        )
        for r in recs
    ]


def main() -> None:
    """Convert both data sets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--shared",
        type=Path,
        default=DEFAULT_SHARED,
        help="folder holding cfpb-consumer-complaints/ and polis-opendata/",
    )
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write the files")
    args = parser.parse_args()
    n = write_jsonl(args.out_dir / CFPB_OUT, convert_cfpb(args.shared))
    print(f"wrote {n} rows to {args.out_dir / CFPB_OUT}")
    polis_out = args.out_dir / f"polis_{POLIS_CONVERSATION}.jsonl"
    n = write_jsonl(polis_out, convert_polis(args.shared, POLIS_CONVERSATION))
    print(f"wrote {n} rows to {polis_out}")


if __name__ == "__main__":
    main()
