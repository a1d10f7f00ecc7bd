"""The claim base: ClaimReview import -> export -> import gives back the same objects and fields,
malformed objects are refused naming the field, and the CLI's import/export (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete
from typer.testing import CliRunner

from civicpulse.cli import app
from civicpulse.errors import Conflict, Unprocessable
from civicpulse.knowledge import claimreview
from civicpulse.knowledge import claims as claim_base
from civicpulse.settings import Settings
from civicpulse.store import claims as stored
from civicpulse.store.db import Database
from civicpulse.store.tables import ClaimRow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "official" / "claims.jsonld"
KEPT = ("kind", "claim_reviewed", "rating", "url", "author", "date_published", "language", "appearances",
        "first_appearance", "jsonld", "fingerprint")  # fmt: skip


def examples() -> list[dict[str, Any]]:
    return json.loads(EXAMPLES.read_text(encoding="utf-8"))


def stored_fields(db: Database) -> list[dict[str, Any]]:
    with db.read() as session:
        return [{name: getattr(row, name) for name in KEPT} for row in stored.list_claims(session)]


def test_import_export_import_gives_back_the_same_objects_and_fields(db: Database) -> None:
    objects = examples()
    objects[0]["x-unknown"] = {"nested": [1, 2.5, None, "chữ"]}  # properties schema.org adds later survive
    with db.write() as session:
        result = claim_base.import_many(session, objects, actor="test")
    assert len(result.added) == len(objects) and not result.refused
    with db.read() as session:
        first_export = claim_base.export(session)
    first_fields = stored_fields(db)
    assert first_export == objects

    with db.write() as session:
        session.execute(delete(ClaimRow))
    with db.write() as session:
        again = claim_base.import_many(session, first_export, actor="test")
    assert len(again.added) == len(objects)
    with db.read() as session:
        assert claim_base.export(session) == first_export
    assert stored_fields(db) == first_fields


def test_the_fields_kept_beside_the_object(db: Database) -> None:
    obj = examples()[0]
    with db.write() as session:
        row = claim_base.add(session, obj, actor="test")
        assert row.kind == "official-statement"
        assert row.claim_reviewed == obj["claimReviewed"]
        assert row.rating == "Sai"
        assert row.author == obj["author"]["name"]
        assert row.appearances == [obj["itemReviewed"]["appearance"][0]["url"]]
        assert row.first_appearance == obj["itemReviewed"]["firstAppearance"]["url"]
        assert row.language == "vi"


def test_the_same_object_twice_is_a_conflict_and_an_import_skips_it(db: Database) -> None:
    obj = examples()[1]
    with db.write() as session:
        first = claim_base.add(session, obj, actor="test")
    with db.write() as session, pytest.raises(Conflict) as raised:
        claim_base.add(session, copy.deepcopy(obj), actor="test")
    assert raised.value.details == {"id": first.id}
    with db.write() as session:
        result = claim_base.import_many(session, [obj], actor="test")
    assert result.added == [] and result.existing == [first.id]


def _without(obj: dict[str, Any], *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(obj)
    node = changed
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return changed


def _with(obj: dict[str, Any], value: Any, *path: str) -> dict[str, Any]:
    changed = copy.deepcopy(obj)
    node = changed
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return changed


BASE = examples()[0]
MALFORMED = [
    (_without(BASE, "claimReviewed"), "claimReviewed"),
    (_with(BASE, "   ", "claimReviewed"), "claimReviewed"),
    (_without(BASE, "reviewRating", "alternateName"), "reviewRating.alternateName"),
    (_without(BASE, "reviewRating"), "reviewRating"),
    (_with(BASE, "Review", "@type"), "@type"),
    (_with(BASE, "https://example.org", "@context"), "@context"),
    (_with(BASE, "ftp://example.org/x", "url"), "url"),
    (_with(BASE, "hôm qua", "datePublished"), "datePublished"),
    (_without(BASE, "author"), "author"),
    (_with(BASE, {"@type": "Organization"}, "author"), "author.name"),
    (_with(BASE, "Post", "itemReviewed", "@type"), "itemReviewed.@type"),
    (_with(BASE, [{"@type": "CreativeWork"}], "itemReviewed", "appearance"), "itemReviewed.appearance"),
    (_with(BASE, "not a url", "itemReviewed", "firstAppearance"), "itemReviewed.firstAppearance"),
]


@pytest.mark.parametrize(("obj", "field"), MALFORMED, ids=[field for _, field in MALFORMED])
def test_a_malformed_claimreview_is_refused_naming_the_field(obj: dict[str, Any], field: str) -> None:
    with pytest.raises(Unprocessable) as raised:
        claimreview.fields_of(obj)
    assert field in [f["field"] for f in raised.value.details["fields"]]
    assert field in raised.value.message


def test_a_list_is_not_one_claimreview() -> None:
    with pytest.raises(Unprocessable, match="JSON object"):
        claimreview.fields_of([BASE])


def test_the_dashboard_form_builds_a_valid_claimreview() -> None:
    obj = claimreview.build(
        claim="Nước máy bị nhiễm thạch tín.",
        rating="Sai",
        author="Công ty cấp nước",
        kind="official-statement",
        appearances=["https://social.example/p/2"],
    )
    fields = claimreview.fields_of(obj)
    assert (fields.kind, fields.rating, fields.first_appearance) == (
        "official-statement",
        "Sai",
        "https://social.example/p/2",
    )


def test_cli_import_then_export_round_trip(
    settings: Settings, db: Database, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("CIVICPULSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CIVICPULSE_SECRET_KEY", settings.secret_key)
    runner = CliRunner()
    imported = runner.invoke(app, ["claims", "import", str(EXAMPLES)])
    assert imported.exit_code == 0, imported.output
    again = runner.invoke(app, ["claims", "import", str(EXAMPLES)])
    assert again.exit_code == 0 and "0 new, 5 stored before" in " ".join(again.output.split())
    output = tmp_path / "export.jsonld"
    exported = runner.invoke(app, ["claims", "export", "--output", str(output)])
    assert exported.exit_code == 0, exported.output
    assert json.loads(output.read_text(encoding="utf-8")) == examples()


def test_cli_import_refuses_a_file_with_a_malformed_object(
    settings: Settings, db: Database, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("CIVICPULSE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("CIVICPULSE_SECRET_KEY", settings.secret_key)
    bad = tmp_path / "bad.jsonld"
    bad.write_text(
        json.dumps([examples()[1], _without(BASE, "reviewRating", "alternateName")]), encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["claims", "import", str(bad)])
    assert result.exit_code == 1
    assert "object 1" in result.output and "reviewRating.alternateName" in result.output
    with db.read() as session:
        assert stored.list_claims(session) == []
