"""Places: administrative units mentioned in a submission, normalised to the units in force since
2025-07-01 (34 provinces and their communes), with their official codes."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import ClassVar

from civicpulse.analysis.base import AnalysisItem, ShipsConfigOnly, StageResult, normalized_text
from civicpulse.analysis.gazetteer import Entry, Gazetteer, Token, Unit, gazetteer, tokenize
from civicpulse.annotations import PlaceOut, PlacesOut, UnitBrief
from civicpulse.settings import Settings

# Which reading of a name wins, other things equal; a bare name that is both an old district and a
# current commune ("Cầu Giấy") is read as the district.
_RANK = {"province": 4, "old_province": 4, "commune": 2, "old_district": 1, "old_ward": 1}


@dataclass(frozen=True, slots=True)
class Mention:
    """A span of the text that names a unit, and the entries it may stand for."""

    start: int
    end: int
    text: str
    entries: tuple[Entry, ...]
    capital: bool


@dataclass(frozen=True, slots=True)
class Place:
    """A mention resolved to one current unit."""

    unit: Unit
    mention: Mention
    old_unit: str | None
    specific: bool

    def as_output(self) -> PlaceOut:
        """The place as the stage reports it."""
        return PlaceOut(
            name=self.unit.name,
            level=self.unit.level,
            code=self.unit.code,
            province_code=self.unit.province_code,
            mentioned_as=self.mention.text,
            start=self.mention.start,
            end=self.mention.end,
            old_unit=self.old_unit,
        )


def _accent_ok(tokens: list[Token], entry: Entry) -> bool:
    """A name typed with marks must carry the entry's marks (Cẩm Giang is not Cẩm Giàng); one typed
    without any matches every entry."""
    if all(t.accent == t.fold for t in tokens):
        return True
    return all(t.accent == a for t, a in zip(tokens, entry.accent, strict=True))


def find_mentions(gaz: Gazetteer, text: str, *, address: bool = False) -> list[Mention]:
    """Known names in the text: at each word the longest that fits, then non-overlapping ones,
    strong readings (unit keyword, province) and longer ones first.

    ``address`` marks a locality hint, where every name is meant as a place.
    """
    tokens = tokenize(text)
    folds = [t.fold for t in tokens]
    casual = address or not any(t.capital for t in tokens)
    found: list[tuple[bool, int, int, Mention]] = []
    for i in range(len(tokens)):
        longest = 1
        while longest < min(gaz.max_len, len(tokens) - i) and tokens[i + longest].joined:
            longest += 1
        for n in range(longest, 0, -1):
            entries = gaz.lookup(" ".join(folds[i : i + n]))
            if not entries:
                continue
            span = tokens[i : i + n]
            capital = address or all(t.capital or t.fold.isdigit() for t in span)
            kept = tuple(e for e in entries if _accent_ok(span, e) and (capital or not e.needs_capital))
            strong = any(e.strong for e in kept)
            if strong:
                kept = tuple(e for e in kept if e.strong)
            if not kept or not (strong or capital or casual):
                continue
            bare = not address and not any(e.keyword for e in kept)
            if bare and (_after_blocker(gaz, folds, i) or _inside_name(text, tokens, i)):
                break
            start, end = span[0].start, span[-1].end
            found.append((strong, n, i, Mention(start, end, text[start:end], kept, capital)))
            break
    taken: set[int] = set()
    mentions = []
    for _, n, i, mention in sorted(found, key=lambda f: (not f[0], -f[1], f[2])):
        if taken.isdisjoint(range(i, i + n)):
            taken.update(range(i, i + n))
            mentions.append((i, mention))
    return [mention for _, mention in sorted(mentions, key=lambda m: m[0])]


def _after_blocker(gaz: Gazetteer, folds: list[str], i: int) -> bool:
    return any(" ".join(folds[max(0, i - n) : i]) in gaz.not_after for n in (1, 2) if i - n >= 0)


def _inside_name(text: str, tokens: list[Token], i: int) -> bool:
    """Whether a bare name continues a capitalised word mid-sentence (``Nguyễn Văn Lâm``)."""
    if i == 0 or not tokens[i - 1].capital or not text[tokens[i - 1].end : tokens[i].start].isspace():
        return False
    before = text[: tokens[i - 1].start].rstrip()
    return bool(before) and before[-1] not in ".!?:;\n\"'(-"


def _unambiguous(mention: Mention) -> str | None:
    provinces = {e.unit.province_code for e in mention.entries}
    return next(iter(provinces)) if len(provinces) == 1 else None


def _districts(strong: list[Mention], context: set[str], known: set[str]) -> set[str]:
    """Old districts named with a keyword, told apart by the (old or current) province named too."""
    old_provinces = set()
    for mention in strong:
        keys = {e.old_district for e in mention.entries if e.kind in ("province", "old_province")}
        if len(keys) == 1 and None not in keys:
            old_provinces |= keys
    districts = set(known)
    for mention in strong:
        named = [e for e in mention.entries if e.kind == "old_district" and e.old_district]
        olds = {e.old_district for e in named}
        if len(olds) > 1:
            olds = {o for o in olds if o.split("|")[0] in old_provinces} or {
                e.old_district for e in named if e.unit.province_code in context
            }
        if len(olds) == 1:
            districts |= olds
    return districts


def resolve(
    mentions: list[Mention], hint_provinces: set[str] | None = None, hint_districts: set[str] | None = None
) -> tuple[list[Place], set[str]]:
    """Pick one current unit per mention, using the other mentions and the locality hint.

    Returns the places and the old districts the text names unambiguously.
    """
    hint_provinces = hint_provinces or set()
    strong = [m for m in mentions if any(e.strong for e in m.entries)]
    context = {p for m in strong if (p := _unambiguous(m))}
    districts = _districts(strong, context | hint_provinces, hint_districts or set())
    places = []
    for mention in mentions:
        place = _resolve_one(mention, context, hint_provinces, districts)
        if place is not None:
            places.append(place)
    return places, districts


def _resolve_one(mention: Mention, context: set[str], hints: set[str], districts: set[str]) -> Place | None:
    entries = mention.entries
    strong = any(e.strong for e in entries)
    if not strong:
        entries = tuple(e for e in entries if e.unit.province_code in context | hints)
        if not entries:
            districts_named = {e.old_district for e in mention.entries if e.kind == "old_district"}
            if not (mention.capital and len(districts_named) == 1):
                return None
            entries = tuple(e for e in mention.entries if e.kind == "old_district")

    def score(e: Entry) -> tuple[int, int, int, int]:
        return (
            int(e.old_district in districts) if e.old_district else 0,
            2 * (e.unit.province_code in context) + (e.unit.province_code in hints),
            _RANK[e.kind] + 2 * (e.kind == "old_district" and not e.keyword),
            int(e.default),
        )

    best = max(map(score, entries))
    top = [e for e in entries if score(e) == best]
    units = {e.unit for e in top}
    if len(units) == 1:
        entry = top[0]
        old = entry.old_name if entry.kind.startswith("old_") else None
        return Place(entry.unit, mention, old, entry.kind in ("commune", "old_ward", "old_district"))
    provinces = {u.province_code for u in units}
    if len(provinces) == 1:  # same province, commune unknown: keep the province
        gaz = gazetteer()
        return Place(gaz.provinces[provinces.pop()], mention, None, True)
    return None


def summarise(places: list[Place], hint: list[Place]) -> tuple[Unit | None, Unit | None]:
    """The most specific consistent province and commune, the text's before the hint's."""
    gaz = gazetteer()
    votes: dict[str, float] = defaultdict(float)
    for place in places:
        votes[place.unit.province_code] += 2 if place.specific else 1
    for place in hint:
        votes[place.unit.province_code] += 0.5
    if not votes:
        return None, None
    order = {p.unit.province_code: i for i, p in reversed(list(enumerate(places + hint)))}
    province_code = max(votes, key=lambda code: (votes[code], -order[code]))
    communes = [p.unit for p in (*places, *hint) if p.unit.level == "commune"]
    commune = next((u for u in communes if u.province_code == province_code), None)
    return gaz.provinces[province_code], commune


def _brief(unit: Unit | None) -> UnitBrief | None:
    return None if unit is None else UnitBrief(name=unit.name, code=unit.code)


class PlacesStage(ShipsConfigOnly):
    """Finds administrative units in each item's text and its locality hint.

    Old provinces, districts and wards are mapped to the current units; bare names that are also
    common words count only next to a unit keyword or where the province is known from the text
    or the hint.
    """

    name: ClassVar[str] = "places"
    output: ClassVar[type[PlacesOut]] = PlacesOut

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.gazetteer_: Gazetteer | None = None

    def _gazetteer(self) -> Gazetteer:
        if self.gazetteer_ is None:
            self.gazetteer_ = gazetteer()
        return self.gazetteer_

    def analyse(self, text: str, locality: str | None = None) -> PlacesOut:
        """Places in one text, with an optional locality hint from the channel."""
        gaz = self._gazetteer()
        hint: list[Place] = []
        hint_districts: set[str] = set()
        if locality:
            hint, hint_districts = resolve(find_mentions(gaz, locality, address=True))
        hint_provinces = {p.unit.province_code for p in hint}
        places, _ = resolve(find_mentions(gaz, text), hint_provinces, hint_districts)
        province, commune = summarise(places, hint)
        return PlacesOut(
            places=[p.as_output() for p in places], province=_brief(province), commune=_brief(commune)
        )

    def process(self, items: list[AnalysisItem]) -> StageResult:
        """Extract and normalise the places of every item in the batch."""
        result = StageResult()
        for item in items:
            try:
                result.outputs[item.id] = self.analyse(normalized_text(item) or "", item.locality)
            except Exception as exc:  # one bad item must not sink the batch
                result.failures[item.id] = f"places failed: {type(exc).__name__}: {exc}"
        return result
