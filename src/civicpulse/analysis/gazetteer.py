"""Vietnamese administrative units since 2025-07-01, and every way the old ones are still named.

The mapping of old units (63 provinces, their districts and wards) to the current ones (34 provinces
and their communes) is underthesea's address data, read where underthesea installed it. The official
codes of the current communes, which that data leaves out, ship in ``data/places/codes.json``
(generated from the MIT-licensed vietnamadminunits package by :func:`build_codes`); informal names,
and the words after which a bare name is not a place, in ``data/places/aliases.toml``.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tomllib
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

Level = Literal["province", "commune"]
Kind = Literal["province", "commune", "old_province", "old_district", "old_ward"]

_TONES = {"\u0300": "1", "\u0301": "2", "\u0303": "3", "\u0309": "4", "\u0323": "5"}
_WORD = re.compile(r"[^\W_]+")
_BREAK = re.compile(r"[,;:()\[\]{}!?\n/|\"]")

# Unit types and how people abbreviate them (folded forms).
_TYPES: dict[str, tuple[str, ...]] = {
    "thành phố": ("tp",),
    "tỉnh": (),
    "phường": ("p",),
    "xã": ("x",),
    "thị trấn": ("tt",),
    "đặc khu": (),
    "quận": ("q",),
    "huyện": ("h",),
    "thị xã": ("tx",),
}
_TYPE_PREFIXES = sorted(_TYPES, key=len, reverse=True)


@dataclass(frozen=True, slots=True)
class Token:
    """A word of the text: folded (lowercase, no marks), its marks, its span and capitalisation;
    ``joined`` is false where punctuation (a comma, a bracket ...) parts it from the word before."""

    fold: str
    accent: str
    start: int
    end: int
    capital: bool
    joined: bool = True


@dataclass(frozen=True, slots=True)
class Unit:
    """A current administrative unit."""

    name: str
    level: Level
    code: str
    province_code: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One way of naming a unit, current or old, and the current unit it stands for."""

    kind: Kind
    unit: Unit
    accent: tuple[str, ...]
    keyword: bool
    old_name: str | None = None
    old_district: str | None = None  # underthesea's key: "province" or "province|district"
    default: bool = True
    needs_capital: bool = False

    @property
    def strong(self) -> bool:
        """Whether the phrase alone says it is a place (a unit keyword, or a province's name)."""
        return self.keyword or self.kind in ("province", "old_province")


def _marks(char: str) -> tuple[str, str]:
    decomposed = unicodedata.normalize("NFD", char.lower())
    base = "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d")
    tone = "".join(_TONES.get(c, "") for c in decomposed)
    vowel = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return base, vowel + tone


@lru_cache(maxsize=200_000)
def _fold_token(word: str) -> tuple[str, str]:
    """``(folded, accent key)``; the accent key ignores where the tone mark sits (hòa = hoà)."""
    folded, vowels, tones = [], [], []
    for char in word:
        base, marked = _marks(char)
        folded.append(base)
        vowels.append(marked.rstrip("12345"))
        tones.append(marked[len(marked.rstrip("12345")) :])
    return "".join(folded), "".join(vowels) + "".join(tones)


def tokenize(text: str) -> list[Token]:
    """Split text into words (letters and digits; ``_`` and punctuation separate them)."""
    tokens: list[Token] = []
    for match in _WORD.finditer(text):
        word = match.group()
        folded, accent = _fold_token(word) if len(word) < 40 else (word.lower(), word.lower())
        joined = not tokens or not _BREAK.search(text, tokens[-1].end, match.start())
        tokens.append(Token(folded, accent, match.start(), match.end(), word[0].isupper(), joined))
    return tokens


def phrase(text: str) -> tuple[str, tuple[str, ...]]:
    """A name as a lookup key (folded words joined by spaces) and its per-word accent keys."""
    tokens = tokenize(text)
    return " ".join(t.fold for t in tokens), tuple(t.accent for t in tokens)


def split_type(name: str) -> tuple[str | None, str]:
    """``"Phường Bến Thành"`` -> ``("phường", "Bến Thành")``."""
    lowered = name.lower()
    for prefix in _TYPE_PREFIXES:
        if lowered.startswith(prefix + " "):
            return prefix, name[len(prefix) + 1 :].strip()
    return None, name


class Gazetteer:
    """Phrase index (folded n-gram -> entries) over current units, old units and aliases."""

    def __init__(self) -> None:
        self.index: dict[str, list[Entry]] = defaultdict(list)
        self.provinces: dict[str, Unit] = {}
        self.communes: dict[str, Unit] = {}
        self.province_keys: dict[str, str] = {}
        self.not_after: set[str] = set()
        self.max_len = 1

    def lookup(self, key: str) -> list[Entry]:
        """Entries for a folded phrase (empty when unknown)."""
        return self.index.get(key, [])

    def unit_named(self, name: str, province_code: str | None = None) -> Unit:
        """The current unit with this official name (a province's, or a commune's in a province)."""
        for unit in (*self.provinces.values(), *self.communes.values()):
            if unit.name == name and (province_code is None or unit.province_code == province_code):
                return unit
        raise KeyError(name)

    def _add(self, text: str, entry: Entry) -> None:
        key, accent = phrase(text)
        if not key:
            return
        e = entry
        entry = Entry(
            e.kind, e.unit, accent, e.keyword, e.old_name, e.old_district, e.default, e.needs_capital
        )
        bucket = self.index[key]
        if entry not in bucket:
            bucket.append(entry)
        self.max_len = max(self.max_len, key.count(" ") + 1)

    def add_names(self, name: str, entry: Entry, *, needs_capital: bool = False) -> None:
        """Index a unit's name with its type, its abbreviated type, and (where safe) without a type.

        A bare name needs two words at least, except a province's ("Huế").
        """
        kind, short = split_type(name)
        e = entry
        with_type = Entry(e.kind, e.unit, (), True, e.old_name, e.old_district, e.default, False)
        bare = Entry(e.kind, e.unit, (), False, e.old_name, e.old_district, e.default, needs_capital)
        numeric = short.isdigit()
        province = entry.kind in ("province", "old_province")
        for form in {short, str(int(short))} if numeric else {short}:
            if kind:
                self._add(f"{kind} {form}", with_type)
                for abbreviation in _TYPES[kind]:
                    self._add(f"{abbreviation} {form}", with_type)
                    if numeric:
                        self._add(f"{abbreviation}{form}", with_type)
            if not numeric and (province or " " in form):
                self._add(form, bare)


def _underthesea_mapping() -> dict[str, Any]:
    """underthesea's address mapping, read from where it is installed (its package is not imported:
    that would load its NLP pipeline, some 70 MiB, for one JSON file)."""
    spec = importlib.util.find_spec("underthesea")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the places stage needs underthesea: pip install underthesea")
    path = Path(next(iter(spec.submodule_search_locations))) / "address" / "data" / "mapping.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _package_data(name: str) -> str:
    return (resources.files("civicpulse") / "data" / "places" / name).read_text(encoding="utf-8")


def _province_units(mapping: dict[str, Any], gaz: Gazetteer, common: set[str]) -> dict[str, Unit]:
    by_key = {}
    for key, info in mapping["province_names"].items():
        unit = Unit(info["name"], "province", info["code"], info["code"])
        by_key[key] = gaz.provinces[unit.code] = unit
        needs_capital = phrase(info["short"])[0] in common
        gaz.province_keys[unit.code] = key
        entry = Entry("province", unit, (), True, old_district=key)
        gaz.add_names(info["name"], entry, needs_capital=needs_capital)
    for old_key, new_key in mapping["province_mapping"].items():
        if old_key == new_key:
            continue
        info = mapping["old_province_names"][old_key]
        entry = Entry("old_province", by_key[new_key], (), True, info["name"], old_key)
        gaz.add_names(info["name"], entry, needs_capital=phrase(info["short"])[0] in common)
    return by_key


def build() -> Gazetteer:
    """Build the gazetteer from underthesea's mapping and the packaged codes and aliases."""
    mapping = _underthesea_mapping()
    codes = json.loads(_package_data("codes.json"))
    aliases = tomllib.loads(_package_data("aliases.toml"))
    gaz = Gazetteer()
    gaz.not_after = {phrase(word)[0] for word in aliases["not_after"]}
    common = {phrase(word)[0] for word in aliases["common_words"]}
    provinces = _province_units(mapping, gaz, common)

    commune_of: dict[tuple[str, str], Unit] = {}
    for prov_key, wards in codes["communes"].items():
        province = provinces[prov_key]
        for ward_key, (name, code) in wards.items():
            unit = Unit(name, "commune", code, province.code)
            commune_of[prov_key, ward_key] = gaz.communes[code] = unit
            gaz.add_names(name, Entry("commune", unit, (), True))

    old_names = codes["old_wards"]
    districts: dict[tuple[str, str], set[Unit]] = defaultdict(set)
    district_names: dict[tuple[str, str], str] = {}
    for record in mapping["ward_mapping"]:
        old_prov, old_dist = record["old_province_key"], record["old_district_key"]
        new = commune_of[record["new_province_key"], record["new_ward_key"]]
        districts[old_prov, old_dist].add(new)
        old_province = mapping["old_province_names"][old_prov]["name"]
        district_names[old_prov, old_dist] = f"{record['old_district']}, {old_province}"
        ward = record["old_ward"] or old_names.get(f"{old_prov}|{old_dist}|{record['old_ward_key']}", "")
        if not ward or (ward == new.name and record["mapping_type"] != "divided"):
            if ward:  # the current commune keeps this name: its old district still tells it apart
                gaz.add_names(ward, Entry("commune", new, (), True, None, f"{old_prov}|{old_dist}"))
            continue
        entry = Entry(
            "old_ward",
            new,
            (),
            True,
            f"{ward}, {district_names[old_prov, old_dist]}",
            f"{old_prov}|{old_dist}",
            record["mapping_type"] != "divided" or bool(record.get("is_default")),
        )
        gaz.add_names(ward, entry)

    for (old_prov, old_dist), news in districts.items():
        target = next(iter(news)) if len(news) == 1 else provinces[mapping["province_mapping"][old_prov]]
        full = district_names[old_prov, old_dist]
        entry = Entry("old_district", target, (), True, full, f"{old_prov}|{old_dist}")
        gaz.add_names(full.split(", ")[0], entry)

    for code, names in aliases["province"].items():
        for name in names:
            entry = Entry("province", gaz.provinces[code], (), True, None, gaz.province_keys[code])
            gaz.add_names(name, entry)
    for old_key, names in aliases["old_province"].items():
        info = mapping["old_province_names"][old_key]
        unit = provinces[mapping["province_mapping"][old_key]]
        for name in names:
            gaz.add_names(name, Entry("old_province", unit, (), True, info["name"], old_key))
    gaz.index = dict(gaz.index)
    return gaz


@cache
def gazetteer() -> Gazetteer:
    """The process-wide gazetteer, built on first use."""
    return build()


def build_codes(vietnamadminunits_data: Path) -> dict[str, Any]:
    """Derive ``codes.json`` from vietnamadminunits' ``data/`` folder (maintainers only).

    Keys follow underthesea's mapping: unaccented ward keys, and accented ones where two communes of
    a province differ only by their marks.
    """
    new = json.loads((vietnamadminunits_data / "parser_from_2025.json").read_text(encoding="utf-8"))
    old = json.loads((vietnamadminunits_data / "parser_legacy.json").read_text(encoding="utf-8"))
    communes: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for table in ("DICT_PROVINCE_WARD_NO_ACCENTED", "DICT_PROVINCE_WARD_ACCENTED"):
        for prov_key, wards in new[table].items():
            for ward_key, info in wards.items():
                communes[prov_key][ward_key] = [info["ward"], info["wardCode"]]
    old_wards = {
        f"{prov_key}|{dist_key}|{ward_key}": info["ward"]
        for prov_key, dists in old["DICT_PROVINCE_DISTRICT_WARD_ACCENTED"].items()
        for dist_key, wards in dists.items()
        for ward_key, info in wards.items()
    }
    return {
        "source": "vietnamadminunits 1.0.4 (MIT), keys as in underthesea's address mapping",
        "communes": communes,
        "old_wards": old_wards,
    }


if __name__ == "__main__":  # python -m civicpulse.analysis.gazetteer PATH/TO/vietnamadminunits/data OUT
    Path(sys.argv[2]).write_text(
        json.dumps(build_codes(Path(sys.argv[1])), ensure_ascii=False, separators=(",", ":")),
        encoding="utf-8",
    )
