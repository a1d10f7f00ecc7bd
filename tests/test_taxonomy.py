"""The topic taxonomy: the packaged default and admin-edited TOML files."""

from __future__ import annotations

from pathlib import Path

import pytest

from civicpulse.api.context import AppContext
from civicpulse.errors import NotFound
from civicpulse.taxonomy import InvalidTaxonomy, load_taxonomy
from tests.conftest import make_settings

EXPECTED_CODES = {
    "land",
    "environment",
    "traffic",
    "health",
    "education",
    "welfare",
    "public_order",
    "admin_procedures",
    "utilities",
    "labour",
    "agriculture",
    "conduct",
    "other",
}

SMALL = """
[[agencies]]
code = "so-yt"
name_vi = "Sở Y tế"
name_en = "Department of Health"

[[topics]]
code = "health"
name_vi = "Y tế"
name_en = "Health"
description_vi = "Khám chữa bệnh"
description_en = "Medical care"
examples = ["Bệnh viện quá tải"]
agency = "so-yt"
"""


def test_default_taxonomy_loads_with_unique_codes_and_known_agencies() -> None:
    taxonomy = load_taxonomy(None)
    codes = taxonomy.codes()
    assert set(codes) == EXPECTED_CODES
    assert len(codes) == len(set(codes))
    agencies = {a.code for a in taxonomy.agencies}
    assert len(agencies) == len(taxonomy.agencies)
    for topic in taxonomy.topics:
        assert topic.agency in agencies, topic.code
        assert topic.examples and all(e.strip() for e in topic.examples)
        assert topic.name_vi and topic.name_en and topic.description_vi and topic.description_en
    mapping = taxonomy.agency_by_service()
    assert mapping["health"] == "so-yt"
    assert mapping["public_order"] == "cong-an"
    assert taxonomy.get("education").agency == "so-gddt"
    assert taxonomy.get_agency("so-nnmt").name_vi == "Sở Nông nghiệp và Môi trường"


def test_unknown_code_lists_the_known_ones() -> None:
    with pytest.raises(NotFound) as error:
        load_taxonomy(None).get("potholes")
    assert "potholes" in error.value.message and "land" in error.value.message


def test_an_admin_file_replaces_the_default(tmp_path: Path, db_url: str) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_text(SMALL, encoding="utf-8")
    assert load_taxonomy(path).codes() == ["health"]
    ctx = AppContext.from_settings(make_settings(db_url, taxonomy_file=path))
    try:
        assert ctx.taxonomy.agency_by_service() == {"health": "so-yt"}
    finally:
        ctx.db.dispose()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[[topics]\ncode = 'x'", "is not valid TOML"),
        (SMALL.replace('name_vi = "Y tế"\n', ""), "topics[0] ('health').name_vi: Field required"),
        (SMALL + 'colour = "red"\n', "topics[0] ('health').colour: unknown field"),
        (
            SMALL.replace('agency = "so-yt"', 'agency = "so-yte"'),
            "agency 'so-yte' is not one of the [[agencies]]",
        ),
        (SMALL + "[[topics]]" + SMALL.split("[[topics]]")[1], "topics[1]: code 'health' appears more"),
        (SMALL.replace('code = "health"', 'code = "Sức khỏe"'), "topics[0] ('Sức khỏe').code"),
        (SMALL.replace('examples = ["Bệnh viện quá tải"]', "examples = []"), "examples: List should have"),
    ],
)
def test_a_broken_file_gives_a_clear_error(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidTaxonomy) as error:
        load_taxonomy(path)
    assert str(path) in error.value.message
    assert expected in error.value.message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidTaxonomy, match="does not exist"):
        load_taxonomy(tmp_path / "nope.toml")
