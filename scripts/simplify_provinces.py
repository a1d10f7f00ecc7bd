"""Build the overview map's GeoJSON of the 34 provinces from the shared TopoJSON.

Reads ``../shared/geo/vn-provinces-34/diaphantinhvn_merged_from_geojson.json`` (CC BY-SA 4.0, see
its MANIFEST.md), simplifies every shared arc once with Douglas-Peucker (so neighbours keep a common
border, without gaps or overlaps), rounds coordinates, drops rings that collapse, moves the offshore
archipelagos (Hoàng Sa, Trường Sa) into insets beside the mainland so that the map fits the
mainland, and writes a GeoJSON whose features carry the province code the ``places`` stage emits
(``properties.code``) and its official name. The output is a modified derivative: CC BY-SA 4.0.

    python scripts/simplify_provinces.py [--tolerance 0.01] [--output PATH]
"""

from __future__ import annotations

import argparse
import json
import unicodedata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT.parent / "shared" / "geo" / "vn-provinces-34" / "diaphantinhvn_merged_from_geojson.json"
OUTPUT = ROOT / "src" / "civicpulse" / "web" / "static" / "geo" / "vn-provinces-34.json"
OBJECT = "diaphantinhvn_merged"
DIGITS = 3
ATTRIBUTION = (
    'Province boundaries: Open Development Vietnam / Open Development Mekong, "Địa phận tỉnh" '
    "(source: Dept of Survey and Mapping), CC BY-SA 4.0 — merged into the 34 post-2025 units by "
    "Talia Cao (github.com/TaliaCao/Vietnam-Shape-Map); simplified, with the archipelagos as insets, "
    "for CivicPulse (CC BY-SA 4.0)."
)

# The MANIFEST's table: the file's ``ten_tinh`` -> the official code (Công văn 915/CTK-CSCL).
OFFICIAL_CODES = {
    "An Giang": "91", "Bắc Ninh": "24", "Cao Bằng": "04", "Cà Mau": "96", "Gia Lai": "52",
    "Hà Tĩnh": "42", "Hưng Yên": "33", "Khánh Hoà": "56", "Lai Châu": "12", "Lào Cai": "15",
    "Lâm Đồng": "68", "Lạng Sơn": "20", "Nghệ An": "40", "Ninh Bình": "37", "Phú Thọ": "25",
    "Quảng Ngãi": "51", "Quảng Ninh": "22", "Quảng Trị": "44", "Sơn La": "14", "TP Cần Thơ": "92",
    "TP HCM": "79", "TP Huế": "46", "TP Hà Nội": "01", "TP Hải Phòng": "31", "TP Đà Nẵng": "48",
    "Thanh Hoá": "38", "Thái Nguyên": "19", "Tuyên Quang": "08", "Tây Ninh": "80", "Vĩnh Long": "86",
    "Điện Biên": "11", "Đắk Lắk": "66", "Đồng Nai": "75", "Đồng Tháp": "82",
}  # fmt: skip

# Offshore parts (every point east of ``MAINLAND_EAST``) are scaled about their group's centre and
# moved there: (north of this latitude?, scale, new centre).
MAINLAND_EAST = 110.0
INSETS = {
    "hoang_sa": (15.0, 0.6, (110.9, 17.2)),
    "truong_sa": (-90.0, 0.32, (110.9, 10.0)),
}


def decode_arcs(topology: dict) -> list[np.ndarray]:
    """The topology's arcs as absolute lon/lat arrays."""
    scale = np.asarray(topology["transform"]["scale"])
    translate = np.asarray(topology["transform"]["translate"])
    return [np.cumsum(np.asarray(arc, dtype=float), axis=0) * scale + translate for arc in topology["arcs"]]


def douglas_peucker(points: np.ndarray, tolerance: float) -> np.ndarray:
    """The points kept by Douglas-Peucker (ends always kept; a closed arc splits at its far point)."""
    if len(points) <= 2:
        return points
    keep = np.zeros(len(points), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        a, b = points[first], points[last]
        inner = points[first + 1 : last]
        ab = b - a
        length = float(np.hypot(*ab))
        if length == 0.0:
            distances = np.hypot(*(inner - a).T)
        else:
            distances = np.abs(ab[0] * (inner[:, 1] - a[1]) - ab[1] * (inner[:, 0] - a[0])) / length
        far = int(np.argmax(distances))
        if distances[far] > tolerance:
            keep[first + 1 + far] = True
            stack.extend([(first, first + 1 + far), (first + 1 + far, last)])
    return points[keep]


def ring(arcs: list[np.ndarray], indices: list[int]) -> np.ndarray:
    """A ring from arc indices (``~i`` is arc ``i`` reversed), shared ends written once."""
    parts = []
    for position, index in enumerate(indices):
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        parts.append(arc if position == 0 else arc[1:])
    return np.concatenate(parts)


def ring_area(points: np.ndarray) -> float:
    """The shoelace area of a closed ring, in square degrees."""
    x, y = points[:, 0], points[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def inset(polygon: list[np.ndarray], centres: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The polygon moved into its archipelago's inset when it lies wholly offshore."""
    if polygon[0][:, 0].min() <= MAINLAND_EAST:
        return polygon
    name = "hoang_sa" if polygon[0][:, 1].mean() > INSETS["hoang_sa"][0] else "truong_sa"
    _, factor, target = INSETS[name]
    return [(points - centres[name]) * factor + np.asarray(target) for points in polygon]


def offshore_centres(polygons: list[list[np.ndarray]]) -> dict[str, np.ndarray]:
    """The centre of each archipelago's bounding box."""
    found: dict[str, list[np.ndarray]] = {"hoang_sa": [], "truong_sa": []}
    for polygon in polygons:
        if polygon[0][:, 0].min() > MAINLAND_EAST:
            north = polygon[0][:, 1].mean() > INSETS["hoang_sa"][0]
            found["hoang_sa" if north else "truong_sa"].append(polygon[0])
    centres = {}
    for name, rings in found.items():
        points = np.concatenate(rings)
        centres[name] = (points.min(axis=0) + points.max(axis=0)) / 2
    return centres


def build(topology: dict, tolerance: float, min_area: float) -> dict:
    """The simplified GeoJSON FeatureCollection."""
    arcs = [douglas_peucker(arc, tolerance) for arc in decode_arcs(topology)]
    geometries = topology["objects"][OBJECT]["geometries"]
    shapes: list[tuple[dict, list[list[np.ndarray]]]] = []
    for geometry in geometries:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        kept = []
        for polygon in polygons:
            rings = [ring(arcs, indices) for indices in polygon]
            rings = [r for r in rings if len(r) >= 4 and ring_area(r) >= min_area]
            if rings and ring_area(ring(arcs, polygon[0])) >= min_area:
                kept.append(rings)
        shapes.append((geometry["properties"], kept))
    centres = offshore_centres([p for _, polygons in shapes for p in polygons])
    features = []
    for properties, polygons in shapes:
        name = unicodedata.normalize("NFC", properties["ten_tinh"])
        moved = [inset(polygon, centres) for polygon in polygons]
        coordinates = [[np.round(r, DIGITS).tolist() for r in polygon] for polygon in moved]
        features.append(
            {
                "type": "Feature",
                "properties": {"code": OFFICIAL_CODES[name], "source_name": name},
                "geometry": {"type": "MultiPolygon", "coordinates": coordinates},
            }
        )
    features.sort(key=lambda feature: feature["properties"]["code"])
    return {
        "type": "FeatureCollection",
        "attribution": ATTRIBUTION,
        "license": "CC-BY-SA-4.0",
        "features": features,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--tolerance", type=float, default=0.005, help="Douglas-Peucker tolerance, degrees")
    parser.add_argument("--min-area", type=float, default=0.0004, help="smallest ring kept, square degrees")
    args = parser.parse_args()
    collection = build(json.loads(args.source.read_text(encoding="utf-8")), args.tolerance, args.min_area)
    if len(collection["features"]) != len(OFFICIAL_CODES):
        raise SystemExit(f"expected {len(OFFICIAL_CODES)} provinces, got {len(collection['features'])}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.output.write_text(text + "\n", encoding="utf-8")
    points = sum(len(r) for f in collection["features"] for p in f["geometry"]["coordinates"] for r in p)
    print(f"{args.output}: {len(collection['features'])} provinces, {points} points, {len(text):,} bytes")


if __name__ == "__main__":
    main()
