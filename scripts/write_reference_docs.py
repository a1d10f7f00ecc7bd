"""Write docs/settings.md and docs/openapi.json from the code (a test checks they are current).

Usage: ``python scripts/write_reference_docs.py``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from civicpulse.service import create_app
from civicpulse.settings import Settings

DOCS = Path(__file__).resolve().parent.parent / "docs"


def settings_markdown() -> str:
    """A table of every setting: environment variable, default and meaning."""
    lines = [
        "# Settings",
        "",
        "Every setting is an environment variable `CIVICPULSE_<NAME>` or a key of the TOML file named",
        "by `CIVICPULSE_CONFIG` (the environment wins). Lists are JSON in the environment,",
        'e.g. `CIVICPULSE_STAGES=\'["language", "pii"]\'`. This page is written by',
        "`scripts/write_reference_docs.py`.",
        "",
        "| variable | default | meaning |",
        "| --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = field.default_factory() if field.default_factory is not None else field.default
        shown = "(unset)" if default is None else f"`{json.dumps(default, ensure_ascii=False)}`"
        meaning = (field.description or "").replace("|", "\\|")
        lines.append(f"| `CIVICPULSE_{name.upper()}` | {shown} | {meaning} |")
    return "\n".join(lines) + "\n"


def openapi_json() -> str:
    """The service's OpenAPI document."""
    app = create_app(Settings(database_url="sqlite://"), run_workers=False)
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    """Write both files."""
    (DOCS / "settings.md").write_text(settings_markdown(), encoding="utf-8")
    (DOCS / "openapi.json").write_text(openapi_json(), encoding="utf-8")
    print("wrote docs/settings.md and docs/openapi.json", file=sys.stderr)


if __name__ == "__main__":
    main()
