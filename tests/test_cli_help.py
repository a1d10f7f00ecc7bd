"""Every command's --help reads like a manual: no reStructuredText backticks, no Typer type tags."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from civicpulse.cli import app
from civicpulse.cli.help import placeholder

TYPE_TAG = re.compile(r"<(?:bool|str|int|float|path|datetime|list\[[^\]]*\]|[a-z_]+\|[^>]*)>|\{[a-z_]+\}")


def command_paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in getattr(command, "commands", {}).items():
        yield from command_paths(sub, (*path, name))


PATHS = list(command_paths(typer.main.get_command(app)))


def test_every_command_is_reached():
    assert ("users", "create") in PATHS and ("ingest",) in PATHS and len(PATHS) > 30


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "civicpulse")
def test_help_has_no_backticks_or_type_tags(path: tuple[str, ...]):
    done = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert done.exit_code == 0, done.output
    assert "`" not in done.output
    assert not TYPE_TAG.search(done.output), TYPE_TAG.search(done.output)


def test_placeholders_are_click_style():
    assert placeholder("<list[Path]>") == "PATH"
    assert placeholder("<str>") == "TEXT"
    assert placeholder("<bool>") == ""
    assert placeholder("<table|json>") == "[table|json]"


def test_options_show_their_placeholder():
    done = CliRunner().invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"})
    assert re.search(r"--rejects\s+PATH", done.output) and "FILES..." in done.output
