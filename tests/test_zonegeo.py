"""Zone boundaries (rules/zonegeo.py): the GeoJSON check, properties over generated polygons,
and the projection that fits a zone into its SVG box."""

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.validators import ValidationError
from rules.zonegeo import (
    CHINA_LAT,
    CHINA_LON,
    MAX_POINTS,
    draw,
    dump_boundary,
    parse_boundary,
)

OLD_TOWN = [
    [120.3045, 36.0625],
    [120.3185, 36.0610],
    [120.3335, 36.0720],
    [120.3120, 36.0800],
    [120.3045, 36.0625],
]


def polygon(ring, kind="Polygon"):
    """GeoJSON text of a one-ring polygon (or a MultiPolygon of it)."""
    coordinates = [ring] if kind == "Polygon" else [[ring]]
    return json.dumps({"type": kind, "coordinates": coordinates})


@st.composite
def rings_in_china(draw_, max_points=40):
    """A closed ring of distinct-enough points inside China's rough bounds (a star around a
    centre, so it is a plausible simple polygon)."""
    lon = draw_(st.floats(CHINA_LON[0] + 1, CHINA_LON[1] - 1))
    lat = draw_(st.floats(CHINA_LAT[0] + 1, CHINA_LAT[1] - 1))
    n = draw_(st.integers(3, max_points))
    radii = draw_(st.lists(st.floats(0.001, 0.5), min_size=n, max_size=n))
    ring = [
        [
            round(lon + r * math.cos(2 * math.pi * i / n), 6),
            round(lat + r * math.sin(2 * math.pi * i / n), 6),
        ]
        for i, r in enumerate(radii)
    ]
    return [*ring, ring[0]]


def test_a_polygon_and_a_feature_are_accepted_and_kept_compact():
    geometry = parse_boundary(polygon(OLD_TOWN))
    assert geometry == {"type": "Polygon", "coordinates": [OLD_TOWN]}
    feature = {"type": "Feature", "properties": {}, "geometry": geometry}
    assert parse_boundary(json.dumps(feature)) == geometry
    assert json.loads(dump_boundary(geometry)) == geometry and " " not in dump_boundary(geometry)
    assert parse_boundary("  ") is None and dump_boundary(None) == ""


def test_a_multipolygon_with_a_hole_and_altitudes():
    outer = [
        [120.0, 36.0, 5],
        [120.2, 36.0, 5],
        [120.2, 36.2, 5],
        [120.0, 36.2, 5],
        [120.0, 36.0, 5],
    ]
    hole = [[120.05, 36.05], [120.1, 36.05], [120.1, 36.1], [120.05, 36.05]]
    text = json.dumps({"type": "MultiPolygon", "coordinates": [[outer, hole], [OLD_TOWN]]})
    geometry = parse_boundary(text)
    assert geometry["type"] == "MultiPolygon" and len(geometry["coordinates"]) == 2
    assert geometry["coordinates"][0][0][0] == [120.0, 36.0]  # the altitude dropped


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not valid GeoJSON"),
        (json.dumps({"type": "Point", "coordinates": [120.3, 36.06]}), "Polygon or MultiPolygon"),
        (json.dumps({"type": "Polygon", "coordinates": []}), "no coordinates"),
        (polygon(OLD_TOWN[:-1]), "closed"),
        (polygon([OLD_TOWN[0], OLD_TOWN[1], OLD_TOWN[0]]), "at least 4 points"),
        (polygon([OLD_TOWN[0], OLD_TOWN[1], OLD_TOWN[1], OLD_TOWN[0]]), "3 different points"),
        (polygon([[36.06, 120.30], [36.07, 120.31], [36.08, 120.30], [36.06, 120.30]]), "outside"),
        (polygon([[-0.1, 51.5], [0.1, 51.5], [0.1, 51.6], [-0.1, 51.5]]), "outside China"),
        (polygon([["120", "36"], [120.1, 36.0], [120.1, 36.1], ["120", "36"]]), "[longitude"),
        (polygon([[120.0, True], [120.1, 36.0], [120.1, 36.1], [120.0, True]]), "[longitude"),
        ('{"type":"Polygon","coordinates":[[[NaN,36],[120,36],[120,37],[NaN,36]]]}', "[longitude"),
        (polygon([[120.0 + i / 10000, 36.0] for i in range(MAX_POINTS)] + [[120, 36]]), "too long"),
    ],
)
def test_bad_boundaries_are_refused_with_a_clear_message(app, text, words):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ValidationError) as refused:
            parse_boundary(text)
        assert words in str(refused.value.message)


def test_a_deeply_nested_text_is_refused_not_a_crash(app):
    with app.test_request_context(), pytest.raises(ValidationError):
        parse_boundary("[" * 100_000)


@settings(max_examples=60, deadline=None)
@given(rings=st.lists(rings_in_china(), min_size=1, max_size=4))
def test_any_closed_ring_in_china_round_trips(rings):
    text = json.dumps({"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]})
    geometry = parse_boundary(text)
    assert parse_boundary(dump_boundary(geometry)) == geometry
    assert geometry["coordinates"] == [[ring] for ring in rings]


@settings(max_examples=60, deadline=None)
@given(ring=rings_in_china(), cut=st.integers(1, 3))
def test_an_open_ring_is_always_refused(ring, cut):
    opened = ring[:-1]  # the repeated first point dropped: open
    if cut > 1:
        opened = opened[: max(3, len(opened) - cut)]
    with pytest.raises(ValidationError):
        parse_boundary(polygon(opened))


@settings(max_examples=60, deadline=None)
@given(
    ring=rings_in_china(),
    lon=st.floats(-180, 180).filter(lambda v: not CHINA_LON[0] <= v <= CHINA_LON[1]),
)
def test_a_point_outside_china_is_always_refused(ring, lon):
    ring = [list(p) for p in ring]
    ring[1][0] = lon
    with pytest.raises(ValidationError):
        parse_boundary(polygon(ring))


@settings(max_examples=60, deadline=None)
@given(rings=st.lists(rings_in_china(max_points=12), min_size=1, max_size=3))
def test_the_drawing_fits_its_box(rings):
    geometry = {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}
    drawing = draw(geometry, 320, 220, pad=10)
    assert len(drawing.paths) == len(rings)
    numbers = [
        float(v)
        for d in drawing.paths
        for v in d.replace("M", " ").replace("L", " ").replace("Z", " ").split()
    ]
    xs, ys = numbers[0::2], numbers[1::2]
    assert min(xs) >= 9.9 and max(xs) <= 310.1 and min(ys) >= 9.9 and max(ys) <= 210.1
    # Fitted: the shape reaches the padding on at least one axis.
    assert max(xs) - min(xs) >= 299 or max(ys) - min(ys) >= 199


def test_north_is_up_and_east_is_right():
    drawing = draw({"type": "Polygon", "coordinates": [OLD_TOWN]}, 320, 220)
    points = drawing.paths[0].replace("M", "").replace(" Z", "").split(" L")
    xy = [tuple(map(float, p.split())) for p in points]
    east = max(range(4), key=lambda i: OLD_TOWN[i][0])
    north = max(range(4), key=lambda i: OLD_TOWN[i][1])
    assert xy[east][0] == max(x for x, _ in xy)
    assert xy[north][1] == min(y for _, y in xy)
    assert draw(None) is None
