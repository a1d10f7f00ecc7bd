"""The ``docs`` and ``claims`` command groups, and their bulk retrieval commands.

``docs search`` ranks passages for a file of questions; ``claims match`` ranks fact-checked claims
for a backlog of posts. Other commands of both groups (``docs add``, claim import/export ...) live
in their own modules and register on ``docs_app`` / ``claims_app`` from here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from civicpulse.atomic import atomic_output
from civicpulse.cli.base import app, cannot_write, err, load_settings

docs_app = typer.Typer(help="Official documents: import, search.", no_args_is_help=True)
claims_app = typer.Typer(
    help="Fact-checks and official statements: matching, import, export.", no_args_is_help=True
)
app.add_typer(docs_app, name="docs")
app.add_typer(claims_app, name="claims")

Record = dict[str, Any]


class BadInput(Exception):
    """An input file that cannot be used; ``problems`` name each bad line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def read_records(path: Path, kind: str) -> list[Record]:
    """The ``{"id", "text"[, "title"]}`` objects of a JSONL file; every bad line is reported at once."""
    if not path.is_file():
        raise BadInput([f"{path}: not a readable file"])
    records: list[Record] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput([f"{path}: cannot read ({exc})"]) from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            problems.append(f"{where}: not JSON ({exc})")
            continue
        if not isinstance(record, dict):
            problems.append(f"{where}: not a JSON object")
            continue
        raw_id = record.get("id")
        if isinstance(raw_id, bool) or not isinstance(raw_id, str | int) or not str(raw_id).strip():
            problems.append(f'{where}: no "id" (a non-empty string or integer)')
            continue
        if not isinstance(record.get("text"), str) or not record["text"].strip():
            problems.append(f'{where}: no "text" (a non-empty string)')
            continue
        if "title" in record and record["title"] is not None and not isinstance(record["title"], str):
            problems.append(f'{where}: "title" must be a string')
            continue
        key = str(raw_id)
        if key in seen:
            problems.append(f"{where}: {kind} id {key!r} already on line {seen[key]}")
            continue
        seen[key] = number
        records.append({"id": raw_id, "text": record["text"], "title": record.get("title") or ""})
    if problems:
        raise BadInput(problems)
    if not records:
        raise BadInput([f"{path}: no {kind} in the file"])
    return records


def rank_file(
    corpus: Path, queries: Path, output: Path, top: int, profile: str, embeddings: bool, kind: str
) -> int:
    """Rank ``corpus`` records for every query; write one JSON line per query. Returns the count."""
    from civicpulse.retrieval import Doc, HybridIndex, RetrievalConfig

    if top < 1:
        raise BadInput(["--top must be at least 1"])
    documents = read_records(corpus, kind)
    asked = read_records(queries, "query")
    embedder = None
    if embeddings:
        from civicpulse.analysis.embed import embedder_from_settings

        embedder = embedder_from_settings(load_settings())
    index = HybridIndex(embedder, RetrievalConfig(profile=profile))
    by_key = {str(record["id"]): record["id"] for record in documents}
    index.add([Doc(str(r["id"]), r["text"], r["title"]) for r in documents])
    ranked = index.search_many([record["text"] for record in asked], top)
    with atomic_output(output) as partial, partial.open("w", encoding="utf-8") as handle:
        for record, hits in zip(asked, ranked, strict=True):
            matches = [{"id": by_key[hit.id], "score": hit.score} for hit in hits]
            handle.write(json.dumps({"id": record["id"], "matches": matches}, ensure_ascii=False) + "\n")
    return len(asked)


def _run(
    corpus: Path, queries: Path, output: Path, top: int, profile: str, embeddings: bool, kind: str
) -> None:
    try:
        count = rank_file(corpus, queries, output, top, profile, embeddings, kind)
    except BadInput as exc:
        for problem in exc.problems[:20]:
            err.print(f"[red]error:[/red] {escape(problem)}")
        if len(exc.problems) > 20:
            err.print(f"... and {len(exc.problems) - 20} more")
        raise typer.Exit(1) from exc
    except OSError as exc:
        raise cannot_write(output, exc) from exc
    err.print(f"ranked {count} queries -> {escape(str(output))}")


Embeddings = Annotated[bool, typer.Option(help="Use the configured embedder besides BM25.")]


@docs_app.command("search")
def docs_search(
    corpus: Annotated[Path, typer.Option(help='JSONL of passages: {"id", "text"[, "title"]} per line.')],
    queries: Annotated[Path, typer.Option(help='JSONL of questions: {"id", "text"} per line.')],
    output: Annotated[Path, typer.Option(help="JSONL to write: one line per question.")],
    top: Annotated[int, typer.Option(help="Passages per question.")] = 10,
    embeddings: Embeddings = True,
) -> None:
    """Rank passages for each question: one line {"id": QUESTION, "matches": [{"id", "score"}]}
    each, best first.

    Scores lie in [0, 1]. Bad lines are reported with their number and nothing is written;
    the output file is replaced only when the run succeeds.
    """
    _run(corpus, queries, output, top, "passages", embeddings, "passage")


@claims_app.command("match")
def claims_match(
    claims: Annotated[Path, typer.Option(help='JSONL of claims: {"id", "text"[, "title"]} per line.')],
    queries: Annotated[Path, typer.Option(help='JSONL of posts to match: {"id", "text"} per line.')],
    output: Annotated[Path, typer.Option(help="JSONL to write: one line per post.")],
    top: Annotated[int, typer.Option(help="Claims per post.")] = 5,
    embeddings: Embeddings = True,
) -> None:
    """Match each post against the claims: one line {"id": POST, "matches": [{"id", "score"}]} each,
    best first.

    Scores lie in [0, 1]. Bad lines are reported with their number and nothing is written;
    the output file is replaced only when the run succeeds.
    """
    _run(claims, queries, output, top, "claims", embeddings, "claim")
