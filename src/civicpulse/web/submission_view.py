"""The top of a submission's page in plain words: what (and the text with restored diacritics), where
(places and a small marker map), how urgent and why, topic, due date, who handles it, its
near-duplicates and campaign."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from civicpulse.annotations import NormalizeOut, PiiOut, PlacesOut
from civicpulse.domain import SubmissionOut
from civicpulse.insight.campaigns import Campaign, CampaignRules, campaign_of
from civicpulse.store.neardup import group_members, group_of

NEIGHBOURS = 10
GEOMETRY = Path(__file__).parent / "static" / "geo" / "vn-provinces-34.json"
# The provinces' bounding box (longitude, latitude, with the archipelagos' insets) and the map's size.
WEST, EAST, SOUTH, NORTH = 102.1, 112.0, 7.8, 23.4
WIDTH, HEIGHT = 100.0, 160.0


@dataclass(frozen=True)
class Marker:
    """A point of the small map, in the SVG's own units (``WIDTH`` × ``HEIGHT``)."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class PageSummary:
    """What the page says at the top, beside the desk row (``desk_rows.DeskRow``)."""

    restored: str | None
    places: list[dict[str, Any]]
    marker: Marker | None
    province: str | None
    near_duplicates: list[int] = field(default_factory=list)
    campaign: Campaign | None = None


def restored_text(submission: SubmissionOut) -> str | None:
    """The redacted text with diacritics restored, when the analysis restored them."""
    normalize = submission.annotations.get(NormalizeOut.stage)
    pii = submission.annotations.get(PiiOut.stage)
    if normalize is None or pii is None or not (normalize.data or {}).get("restored"):
        return None
    text = (pii.data or {}).get("model_text")
    return text if isinstance(text, str) and text.strip() else None


def _places(submission: SubmissionOut) -> list[dict[str, Any]]:
    annotation = submission.annotations.get(PlacesOut.stage)
    found = (annotation.data or {}).get("places") if annotation is not None else None
    return [p for p in found or [] if isinstance(p, dict) and p.get("name")]


def _province_code(submission: SubmissionOut) -> str | None:
    annotation = submission.annotations.get(PlacesOut.stage)
    province = (annotation.data or {}).get("province") if annotation is not None else None
    code = province.get("code") if isinstance(province, dict) else None
    return code if isinstance(code, str) else None


def marker(submission: SubmissionOut, label: str) -> Marker | None:
    """The submission's coordinates on the map, when it has them and they lie in Vietnam."""
    lat, long = submission.lat, submission.long
    if lat is None or long is None or not (SOUTH <= lat <= NORTH and WEST <= long <= EAST):
        return None
    x, y = _project(long, lat)
    return Marker(x, y, label)


def _project(long: float, lat: float) -> tuple[float, float]:
    x = (long - WEST) / (EAST - WEST) * WIDTH
    y = (NORTH - lat) / (NORTH - SOUTH) * HEIGHT
    return round(x, 1), round(y, 1)


@lru_cache(maxsize=1)
def province_paths() -> tuple[tuple[str, str], ...]:
    """``(province code, SVG path)`` of each province, coarsened to the small map's resolution;
    empty when the geometry is not shipped."""
    if not GEOMETRY.exists():
        return ()
    features = json.loads(GEOMETRY.read_text(encoding="utf-8")).get("features", [])
    paths = []
    for feature in features:
        geometry = feature.get("geometry") or {}
        polygons = geometry.get("coordinates") or []
        if geometry.get("type") == "Polygon":
            polygons = [polygons]
        rings = [_ring(ring) for polygon in polygons for ring in polygon]
        path = " ".join(ring for ring in rings if ring)
        if path:
            paths.append((str((feature.get("properties") or {}).get("code", "")), path))
    return tuple(paths)


def _ring(ring: list[list[float]]) -> str:
    points: list[tuple[float, float]] = []
    for long, lat in ring:
        x, y = _project(long, lat)
        point = (float(round(x)), float(round(y)))
        if not points or points[-1] != point:
            points.append(point)
    if len(points) < 3:
        return ""
    return "M" + "L".join(f"{x:g},{y:g}" for x, y in points) + "Z"


def case_summary(
    session: Session, submission: SubmissionOut, rules: CampaignRules, label: str
) -> PageSummary:
    """The summary of ``submission`` (already as the user may see it)."""
    group = group_of(session, submission.id)
    neighbours = []
    if group is not None:
        members = group_members(session, [group])
        neighbours = [m.submission_id for m in members if m.submission_id != submission.id][:NEIGHBOURS]
    return PageSummary(
        restored=restored_text(submission),
        places=_places(submission),
        marker=marker(submission, label),
        province=_province_code(submission),
        near_duplicates=neighbours,
        campaign=campaign_of(session, submission.id, rules) if group is not None else None,
    )
