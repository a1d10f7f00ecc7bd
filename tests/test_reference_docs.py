"""The reference docs are written from the code: they must be current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _writer():
    spec = importlib.util.spec_from_file_location("write_docs", ROOT / "scripts" / "write_reference_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("name", "render"), [("settings.md", "settings_markdown"), ("openapi.json", "openapi_json")]
)
def test_reference_doc_is_current(name: str, render: str) -> None:
    expected = getattr(_writer(), render)()
    actual = (ROOT / "docs" / name).read_text(encoding="utf-8")
    assert actual == expected, f"docs/{name} is stale: run `python scripts/write_reference_docs.py`"


def test_every_setting_has_a_meaning() -> None:
    from civicpulse.settings import Settings

    undocumented = [n for n, f in Settings.model_fields.items() if not f.description]
    assert undocumented == [], f"settings without a description: {undocumented}"
