"""A restricted zone's boundary (限行区域边界) as GeoJSON, checked, and drawn as SVG shapes.

A clerk pastes the boundary from any GIS tool as GeoJSON: a Polygon or a MultiPolygon in WGS-84
longitude/latitude (RFC 7946), or a Feature wrapping one. It is checked here (closed rings,
a bounded number of points, every point within China's rough bounds) and kept as compact
GeoJSON text. The pages draw it on the server as SVG with a simple equirectangular
projection fitted to the zone's own bounds: no map tiles, nothing fetched from outside, so a
deployment with no internet shows its zones too. Pure functions: no Flask, no database.
"""

import json
import math
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from .validators import ValidationError

MAX_POINTS = 2000  # over every ring: a city district drawn by hand has tens to hundreds
MAX_POLYGONS = 20
MAX_TEXT = 200_000  # characters of GeoJSON accepted before parsing anything
# China's rough bounds (longitude, latitude), islands of the South China Sea included: a
# point outside is a swapped lat/lon pair or a projected (metre) coordinate, not a zone.
CHINA_LON = (73.0, 135.5)
CHINA_LAT = (3.0, 54.0)


def parse_boundary(text: str) -> dict | None:
    """GeoJSON text -> the checked geometry as a dict ({"type", "coordinates"}); None for "".

    ValidationError (a message for the clerk) on anything that is not a usable boundary.
    """
    text = (text or "").strip()
    if not text:
        return None
    if len(text) > MAX_TEXT:
        raise ValidationError(_l("The boundary is too long: at most %(n)s points.", n=MAX_POINTS))
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValidationError(_l("The boundary is not valid GeoJSON (JSON text).")) from None
    if isinstance(data, dict) and data.get("type") == "Feature":
        data = data.get("geometry")
    if not isinstance(data, dict) or data.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValidationError(_l("The boundary must be a GeoJSON Polygon or MultiPolygon."))
    coordinates = data.get("coordinates")
    if not isinstance(coordinates, list) or not coordinates:
        raise ValidationError(_l("The boundary has no coordinates."))
    polygons = [coordinates] if data["type"] == "Polygon" else coordinates
    if len(polygons) > MAX_POLYGONS:
        raise ValidationError(_l("The boundary has too many parts: at most %(n)s.", n=MAX_POLYGONS))
    clean = [_polygon(polygon) for polygon in polygons]
    if sum(len(ring) for polygon in clean for ring in polygon) > MAX_POINTS:
        raise ValidationError(_l("The boundary is too long: at most %(n)s points.", n=MAX_POINTS))
    if data["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": clean[0]}
    return {"type": "MultiPolygon", "coordinates": clean}


def _polygon(rings) -> list:
    """One polygon's rings, checked: each a closed list of 4+ in-bounds [lon, lat] points."""
    if not isinstance(rings, list) or not rings:
        raise ValidationError(_l("Each polygon needs at least one ring of points."))
    if len(rings) > MAX_POINTS // 4:
        raise ValidationError(_l("The boundary is too long: at most %(n)s points.", n=MAX_POINTS))
    return [_ring(ring) for ring in rings]


def _ring(ring) -> list:
    """A ring checked and rounded to 6 decimals (about 0.1 m: finer is noise)."""
    if not isinstance(ring, list) or len(ring) > MAX_POINTS:
        raise ValidationError(_l("The boundary is too long: at most %(n)s points.", n=MAX_POINTS))
    points = [_point(p) for p in ring]
    if len(points) < 4:
        raise ValidationError(_l("Each ring needs at least 4 points (the first repeated last)."))
    if points[0] != points[-1]:
        raise ValidationError(_l("Each ring must be closed: its last point the same as its first."))
    if len(set(points)) < 3:
        raise ValidationError(_l("Each ring needs at least 3 different points."))
    return [list(p) for p in points]


def _point(point) -> tuple[float, float]:
    """[lon, lat] (an altitude after them is allowed and dropped), within China's bounds."""
    if not isinstance(point, list) or len(point) not in (2, 3):
        raise ValidationError(_l("Each point must be [longitude, latitude]."))
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in point):
        raise ValidationError(_l("Each point must be [longitude, latitude]."))
    lon, lat = float(point[0]), float(point[1])
    if not (math.isfinite(lon) and math.isfinite(lat)):
        raise ValidationError(_l("Each point must be [longitude, latitude]."))
    if not (CHINA_LON[0] <= lon <= CHINA_LON[1] and CHINA_LAT[0] <= lat <= CHINA_LAT[1]):
        raise ValidationError(
            _l(
                "A point lies outside China (%(lon)s, %(lat)s): write longitude first, then "
                "latitude, in degrees (WGS-84).",
                lon=f"{lon:.4f}",
                lat=f"{lat:.4f}",
            )
        )
    return round(lon, 6), round(lat, 6)


def dump_boundary(geometry: dict | None) -> str:
    """The checked geometry as compact GeoJSON text to keep ("" for none)."""
    return json.dumps(geometry, separators=(",", ":")) if geometry else ""


@dataclass(frozen=True)
class Drawing:
    """A boundary projected into an SVG view box: one path per polygon (holes included)."""

    width: int
    height: int
    paths: tuple[str, ...]


def polygons_of(geometry: dict) -> list:
    """The polygons of a Polygon or MultiPolygon geometry."""
    coordinates = geometry["coordinates"]
    return [coordinates] if geometry["type"] == "Polygon" else list(coordinates)


def draw(geometry: dict | None, width: int = 320, height: int = 220, pad: int = 10):
    """Project the boundary into a width x height box (None when there is no boundary).

    Equirectangular: x is longitude times the cosine of the middle latitude, y is latitude
    turned downward; one scale for both, fitted to the zone's bounds with `pad` pixels
    around, and centred. At a city's size the distortion is far below a line's width.
    """
    if not geometry:
        return None
    points = [p for polygon in polygons_of(geometry) for ring in polygon for p in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    shrink = math.cos(math.radians((min(lats) + max(lats)) / 2))
    span_x = (max(lons) - min(lons)) * shrink or 1e-9
    span_y = (max(lats) - min(lats)) or 1e-9
    scale = min((width - 2 * pad) / span_x, (height - 2 * pad) / span_y)
    off_x = (width - span_x * scale) / 2
    off_y = (height - span_y * scale) / 2

    def xy(point) -> str:
        x = off_x + (point[0] - min(lons)) * shrink * scale
        y = off_y + (max(lats) - point[1]) * scale
        return f"{x:.1f} {y:.1f}"

    paths = []
    for polygon in polygons_of(geometry):
        rings = ["M" + " L".join(xy(p) for p in ring[:-1]) + " Z" for ring in polygon]
        paths.append(" ".join(rings))
    return Drawing(width, height, tuple(paths))
