"""Routing from the command line: ``route`` (a backlog, from an export of past assignments) and
``routing rules import`` / ``list``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer
from pydantic import ValidationError
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from civicpulse.atomic import atomic_output
from civicpulse.cli.base import app, cannot_write, err, fail, load_settings, open_store
from civicpulse.errors import CivicPulseError

routing_app = typer.Typer(help="Routing of submissions to agencies.", no_args_is_help=True)
rules_app = typer.Typer(help="The routing rules (first match wins).", no_args_is_help=True)
app.add_typer(routing_app, name="routing")
routing_app.add_typer(rules_app, name="rules")

BATCH = 256


def json_lines(path: Path, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """``(line number, object)`` of each JSON line of ``path`` that has a non-empty string in every
    ``required`` field, else ``(line number, why it is refused)``; blank lines are skipped."""
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError as exc:
                yield number, f"not JSON ({exc})"
                continue
            if not isinstance(record, dict):
                yield number, "not a JSON object"
                continue
            missing = [f for f in required if not isinstance(record.get(f), str) or not record[f].strip()]
            yield number, (f"no {' or '.join(missing)} (a non-empty string)" if missing else record)


def _reject(path: Path, number: int, reason: str) -> None:
    err.print(f"{escape(path.name)} line {number}: {escape(reason)}")


def _vectors(embedder: Any, texts: list[str]) -> Any:
    return None if embedder is None else embedder.embed_passages(texts)


@app.command()
def route(
    train: Annotated[Path, typer.Option(help='JSONL of past assignments: {"text", "agency"} per line.')],
    input_file: Annotated[Path, typer.Option("--input", help='JSONL to route: {"text", ...} per line.')],
    output: Annotated[Path | None, typer.Option(help="JSONL to write (default: stdout).")] = None,
) -> None:
    """Route a backlog with a router learned from past assignments; stores nothing.

    Each output line is the input line plus agency, confidence and alternatives (the top
    3 agencies with their confidence). Bad lines are refused with their number and reason.
    --output is replaced only when the run succeeds.
    """
    from civicpulse.analysis.features import embedder_for
    from civicpulse.analysis.routing import train_router

    settings = load_settings()
    for path in (train, input_file):
        if not path.is_file():
            err.print(f"[red]error:[/red] {escape(str(path))} is not a readable file")
            raise typer.Exit(1)
    embedder = embedder_for(settings)
    texts, agencies = [], []
    for number, record in json_lines(train, ("text", "agency")):
        if isinstance(record, str):
            _reject(train, number, record)
        else:
            texts.append(record["text"])
            agencies.append(record["agency"].strip())
    try:
        with _progress() as progress:
            progress.add_task("learning", total=None)
            model = train_router(texts, agencies, embedder=embedder)
        if output is None:
            routed, rejected = _route_all(model, embedder, input_file, sys.stdout)
        else:
            with atomic_output(output) as partial, partial.open("w", encoding="utf-8") as handle:
                routed, rejected = _route_all(model, embedder, input_file, handle)
    except CivicPulseError as exc:
        raise fail(exc) from exc
    except OSError as exc:
        raise cannot_write(output or Path("-"), exc) from exc
    err.print(
        f"learnt from {len(texts)} assignments ({len(model.classes_)} agencies); "
        f"routed {routed}, rejected {rejected}"
    )


def _progress() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, console=err)


def _route_all(model: Any, embedder: Any, path: Path, out: TextIO) -> tuple[int, int]:
    """Route every good line of ``path`` into ``out``; ``(routed, rejected)``."""
    from civicpulse.analysis.routing import top_agencies

    with path.open(encoding="utf-8") as handle:
        total = sum(1 for line in handle if line.strip())
    routed = rejected = 0
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        texts = [record["text"] for record in batch]
        vectors = _vectors(embedder, texts) if model.embedding else None
        for record, best in zip(
            batch, top_agencies(model.predict_proba(texts, vectors), model.classes_), strict=True
        ):
            record |= {
                "agency": best[0][0],
                "confidence": best[0][1],
                "alternatives": [{"agency": a, "confidence": p} for a, p in best],
            }
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        batch.clear()

    with _progress() as progress:
        task = progress.add_task("routing", total=total)
        for number, record in json_lines(path, ("text",)):
            if isinstance(record, str):
                _reject(path, number, record)
                rejected += 1
                progress.advance(task)
                continue
            batch.append(record)
            routed += 1
            if len(batch) >= BATCH:
                size = len(batch)
                flush()
                progress.advance(task, size)
        size = len(batch)
        if batch:
            flush()
        progress.advance(task, size)
    return routed, rejected


@rules_app.command("import")
def import_rules(
    file: Annotated[
        Path, typer.Argument(help="JSONL (or a JSON list) of rules, in the order they are tried.")
    ],
    append: Annotated[
        bool, typer.Option(help="Add after the stored rules instead of replacing them.")
    ] = False,
    actor: Annotated[str, typer.Option(help="Who imports, for the audit log.")] = "cli",
) -> None:
    """Import routing rules: all of them or none (every bad line is reported with its number)."""
    from civicpulse.analysis.routing import check_rule
    from civicpulse.store.audit import record_audit
    from civicpulse.store.routing import RuleIn, add_rule, replace_rules
    from civicpulse.taxonomy import load_taxonomy

    settings = load_settings()
    taxonomy = load_taxonomy(settings.taxonomy_file)
    try:
        entries = _rule_entries(file)
    except (OSError, ValueError) as exc:
        err.print(f"[red]error:[/red] cannot read {escape(str(file))}: {escape(str(exc))}")
        raise typer.Exit(1) from exc
    rules, problems = [], 0
    for number, entry, unreadable in entries:
        if unreadable:
            problems += 1
            _reject(file, number, unreadable)
            continue
        try:
            rule = RuleIn.model_validate(entry)
            check_rule(rule, taxonomy)
        except ValidationError as exc:
            problems += 1
            reason = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'rule'}: {e['msg']}" for e in exc.errors())
            _reject(file, number, reason)
        except CivicPulseError as exc:
            problems += 1
            _reject(file, number, exc.message)
        else:
            rules.append(rule)
    if problems:
        err.print(f"[red]error:[/red] {problems} bad rules; nothing imported")
        raise typer.Exit(1)
    db = open_store(settings)
    with db.write() as session:
        if append:
            stored = [add_rule(session, rule, actor=actor) for rule in rules]
        else:
            stored = replace_rules(session, rules, actor=actor)
        record_audit(
            session,
            actor=actor,
            action="routing.rules.import",
            detail={"rules": len(stored), "append": append},
        )
    err.print(f"imported {len(stored)} rules" + (" (appended)" if append else " (replacing the stored ones)"))


def _rule_entries(file: Path) -> list[tuple[int, Any, str | None]]:
    """``(line number, object, None)`` of each line of a JSONL file (``(number, None, why)`` for a
    line that is not JSON), or ``(index + 1, object, None)`` of each entry of a JSON list."""
    text = file.read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        return [(number, entry, None) for number, entry in enumerate(json.loads(text), start=1)]
    entries: list[tuple[int, Any, str | None]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                entries.append((number, json.loads(line), None))
            except ValueError as exc:
                entries.append((number, None, f"not JSON ({exc})"))
    return entries


@rules_app.command("list")
def list_rules_command(
    lang: Annotated[str, typer.Option(help="Language of the descriptions: vi or en.")] = "vi",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per rule.")] = False,
) -> None:
    """The routing rules in the order they are tried, each in plain words."""
    from rich.console import Console
    from rich.table import Table

    from civicpulse.analysis.routing import LANGUAGES, describe
    from civicpulse.store.routing import list_rules
    from civicpulse.taxonomy import load_taxonomy

    if lang not in LANGUAGES:
        raise typer.BadParameter(f"choose one of: {', '.join(LANGUAGES)}", param_hint="--lang")
    settings = load_settings()
    taxonomy = load_taxonomy(settings.taxonomy_file)
    with open_store(settings).read() as session:
        rules = list_rules(session)
    if as_json:
        for rule in rules:
            typer.echo(
                json.dumps(vars(rule) | {"description": describe(rule, taxonomy, lang)}, ensure_ascii=False)
            )
        return
    table = Table("id", "position", "active", "rule")
    for rule in rules:
        table.add_row(
            str(rule.id), str(rule.position), "yes" if rule.active else "no", describe(rule, taxonomy, lang)
        )
    Console().print(table)
