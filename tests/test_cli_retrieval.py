"""``civicpulse claims match`` and ``civicpulse docs search``: exact shapes, bad input refused whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.test_cli import CLI, Cli

CLAIMS = [
    {"id": "c-water", "text": "Nước máy ở phường Bến Nghé bị nhiễm độc, không được uống."},
    {"id": 7, "text": "The city will ban motorbikes from the centre in 2030.", "title": "Motorbike ban"},
    {"id": "c-fee", "text": "Phí gửi xe máy ở chợ Bến Thành tăng lên 50.000 đồng."},
]
POSTS = [
    {"id": "p1", "text": "nghe noi nuoc may ben nghe bi nhiem doc, dung uong nha"},
    {"id": 2, "text": "Is it true motorbikes will be banned downtown in 2030?"},
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The entry point, with no database needed."""
    assert CLI.exists(), f"the civicpulse entry point is not installed at {CLI}"
    return Cli(tmp_path)


@pytest.mark.parametrize(
    ("command", "corpus_flag"), [(("claims", "match"), "--claims"), (("docs", "search"), "--corpus")]
)
def test_ranks_every_query_with_exact_shapes(
    cli: Cli, tmp_path: Path, command: tuple[str, str], corpus_flag: str
) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CLAIMS)
    queries = write_jsonl(tmp_path / "queries.jsonl", POSTS)
    output = tmp_path / "ranked.jsonl"
    done = cli(
        *command, corpus_flag, str(corpus), "--queries", str(queries), "--top", "2", "--output", str(output)
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in output.read_text(encoding="utf-8").splitlines()]
    assert [line["id"] for line in lines] == ["p1", 2]
    for line in lines:
        assert set(line) == {"id", "matches"}
        assert len(line["matches"]) == 2
        for match in line["matches"]:
            assert set(match) == {"id", "score"} and 0.0 <= match["score"] <= 1.0
        scores = [match["score"] for match in line["matches"]]
        assert scores == sorted(scores, reverse=True)
    assert lines[0]["matches"][0]["id"] == "c-water"
    assert lines[1]["matches"][0]["id"] == 7


def test_bm25_only_run(cli: Cli, tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CLAIMS)
    queries = write_jsonl(tmp_path / "queries.jsonl", POSTS[:1])
    output = tmp_path / "ranked.jsonl"
    done = cli(
        "docs",
        "search",
        "--corpus",
        str(corpus),
        "--queries",
        str(queries),
        "--output",
        str(output),
        "--no-embeddings",
    )
    assert done.returncode == 0, done.stderr
    line = json.loads(output.read_text(encoding="utf-8"))
    assert line["matches"][0]["id"] == "c-water"


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("{not json", "line 2: not JSON"),
        ('{"id": "x"}', 'line 2: no "text"'),
        ('{"text": "no id"}', 'line 2: no "id"'),
        ('["a", "list"]', "line 2: not a JSON object"),
        ('{"id": "p1", "text": "again"}', "line 2: query id 'p1' already on line 1"),
        ('{"id": "y", "text": "t", "title": 5}', 'line 2: "title" must be a string'),
    ],
)
def test_bad_query_line_is_named_and_nothing_is_written(
    cli: Cli, tmp_path: Path, bad_line: str, message: str
) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CLAIMS)
    queries = tmp_path / "queries.jsonl"
    queries.write_text(json.dumps(POSTS[0]) + "\n" + bad_line + "\n", encoding="utf-8")
    output = tmp_path / "ranked.jsonl"
    output.write_text("earlier run\n", encoding="utf-8")
    done = cli("claims", "match", "--claims", str(corpus), "--queries", str(queries), "--output", str(output))
    assert done.returncode == 1
    assert message in " ".join(done.stderr.split())
    assert output.read_text(encoding="utf-8") == "earlier run\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_missing_file_empty_corpus_and_bad_top(cli: Cli, tmp_path: Path) -> None:
    queries = write_jsonl(tmp_path / "queries.jsonl", POSTS)
    output = tmp_path / "ranked.jsonl"
    done = cli(
        "docs",
        "search",
        "--corpus",
        str(tmp_path / "absent.jsonl"),
        "--queries",
        str(queries),
        "--output",
        str(output),
    )
    assert done.returncode == 1 and "absent.jsonl: not a readable file" in done.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    done = cli("docs", "search", "--corpus", str(empty), "--queries", str(queries), "--output", str(output))
    assert done.returncode == 1 and "no passage in the file" in done.stderr
    corpus = write_jsonl(tmp_path / "corpus.jsonl", CLAIMS)
    done = cli(
        "docs",
        "search",
        "--corpus",
        str(corpus),
        "--queries",
        str(queries),
        "--output",
        str(output),
        "--top",
        "0",
    )
    assert done.returncode == 1 and "--top must be at least 1" in done.stderr
    assert not output.exists()
