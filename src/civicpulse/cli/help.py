"""Help pages that read like a manual: click-style placeholders (PATH, TEXT) instead of Typer's type
tags (``<bool>``, ``<list[Path]>``, ``{files}``), and none for on/off flags."""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.core import TyperCommand, TyperGroup

_NAMES = {
    "str": "TEXT",
    "int": "INTEGER",
    "float": "NUMBER",
    "path": "PATH",
    "file": "FILE",
    "dir": "DIR",
    "datetime": "DATETIME",
    "uuid": "UUID",
}
_LIST = re.compile(r"^list\[(.+)\]$")


def placeholder(tag: str) -> str:
    """The click-style placeholder of a Typer type tag: ``<list[Path]>`` -> ``PATH``, ``<a|b>`` ->
    ``[a|b]``, ``<bool>`` -> empty."""
    inner = tag.strip().removeprefix("<").removesuffix(">").removesuffix("...")
    listed = _LIST.match(inner)
    if listed:
        inner = listed[1]
    if inner.lower() == "bool":
        return ""
    if "|" in inner:
        return f"[{inner}]"
    return _NAMES.get(inner.lower(), inner.upper())


def _plain(param: Any, ctx: typer.Context) -> None:
    """Give ``param`` a placeholder in place of its type tag (once)."""
    if getattr(param, "plain_help_", False) or not hasattr(param, "display_type"):
        return
    tag = placeholder(param.display_type(ctx))
    many = getattr(param, "nargs", 1) != 1
    shown = ""
    if param.param_type_name == "argument":
        param.metavar = (param.metavar or param.name or "").upper()
        usage = param.metavar if param.required else f"[{param.metavar}]"
        param._usage_display_name = lambda usage=usage: f"{usage}..." if many else usage
    elif not getattr(param, "is_flag", False):
        param.metavar = param.metavar or (f"{tag}..." if many and tag else tag)
        shown = param.metavar
    param.display_type_rich = lambda ctx=None, shown=shown: shown or None
    param.plain_help_ = True


class _PlainParams:
    def get_params(self, ctx: typer.Context) -> list[Any]:
        params = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            _plain(param, ctx)
        return params


class PlainCommand(_PlainParams, TyperCommand):
    """A command whose help shows placeholders, not type tags."""


class PlainGroup(_PlainParams, TyperGroup):
    """A group whose help shows placeholders, not type tags."""


def plain_help(app: typer.Typer) -> None:
    """Make every command and group of ``app`` (and of its sub-apps) a plain-help one."""
    if not app.info.cls or app.info.cls is TyperGroup:
        app.info.cls = PlainGroup
    for command in app.registered_commands:
        if not command.cls or command.cls is TyperCommand:
            command.cls = PlainCommand
    for group in app.registered_groups:
        if not group.cls or group.cls is TyperGroup:
            group.cls = PlainGroup
        if group.typer_instance is not None:
            plain_help(group.typer_instance)
