"""The demo's Vietnamese files are what their generator writes, and the history joins the sample."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_vietnamese_sample", EXAMPLES / "make_vietnamese_sample.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _lines(rows: list[dict]) -> list[str]:
    return [json.dumps(row, ensure_ascii=False) for row in rows]


def test_the_generator_writes_both_shipped_files_byte_for_byte(generator: ModuleType) -> None:
    shipped = (EXAMPLES / "vietnamese_submissions.jsonl").read_text(encoding="utf-8").splitlines()
    history = (EXAMPLES / "vietnamese_history.jsonl").read_text(encoding="utf-8").splitlines()
    assert _lines(generator.build()) == shipped
    assert _lines(generator.build_history()) == history


def test_the_history_is_the_year_before_the_sample_at_its_everyday_rate(generator: ModuleType) -> None:
    sample = [json.loads(line) for line in (EXAMPLES / "vietnamese_submissions.jsonl").open(encoding="utf-8")]
    history = [json.loads(line) for line in (EXAMPLES / "vietnamese_history.jsonl").open(encoding="utf-8")]
    days = Counter(date.fromisoformat(row["received_at"][:10]) for row in history)
    assert min(days) == generator.LAST_DAY - timedelta(days=364)
    assert max(days) < min(date.fromisoformat(row["received_at"][:10]) for row in sample)
    assert not {row["source_id"] for row in history} & {row["source_id"] for row in sample}
    everyday = len(history) / ((generator.FIRST_DAY - generator.HISTORY_FIRST_DAY).days)
    assert (
        4.5 < everyday < 5.5
    )  # the sample's 600 rows less its 130 burst rows and placed rumours, over 91 days
    tet = [days[day] for day in generator.all_days(date(2026, 2, 14), date(2026, 2, 22))]
    assert sum(tet) / len(tet) < everyday / 2
