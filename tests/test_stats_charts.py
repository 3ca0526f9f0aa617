"""The server-drawn SVG charts: valid SVG, a bar per hour, a point per day per measure, labels
escaped, and the dashboard's charts drawing the counters it shows."""

import datetime as dt
import re
import xml.etree.ElementTree as ET

from blueprints.stats.charts import Series, hour_chart, line_chart, nice_scale
from models import StatCounter
from models.base import utcnow
from rules.stats import HEADLINES, beijing

from .helpers import page

SVG = "{http://www.w3.org/2000/svg}"
ANY_METRIC = {"licence_check": "valid", "evidence": "viewed"}  # for the headlines summing all


def parse(svg) -> ET.Element:
    """The chart as XML (fails on anything that is not well-formed)."""
    root = ET.fromstring(str(svg))  # noqa: S314  (our own output, not untrusted data)
    assert root.tag == f"{SVG}svg" and root.get("viewBox").startswith("0 0 ")
    assert root.get("width") == "100%" and root.find(f"{SVG}title").text
    return root


def svg_in(response, chart_id: str) -> str:
    """A chart's markup exactly as served (an HTML parser would lower-case viewBox)."""
    body = response.get_data(as_text=True)
    found = re.search(rf'<svg [^>]*id="{chart_id}".*?</svg>', body, re.DOTALL)
    assert found, chart_id
    return found.group(0)


def groups(root, cls: str) -> list:
    """The <g> elements of a class."""
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def test_nice_scale():
    assert nice_scale(0) == (1, 1)
    assert nice_scale(3) == (3, 1)
    assert nice_scale(1234) == (1500, 500)
    assert nice_scale(7) == (8, 2)
    top, step = nice_scale(99_999)
    assert top >= 99_999 and top / step <= 5


def test_line_chart_has_a_point_per_day_per_series_and_escapes_labels():
    days = [f"09-{d:02d}" for d in range(1, 11)]
    series = [
        Series("a", 'E-licences <issued> & "more"', list(range(10))),
        Series("b", "检查", [5] * 10),
    ]
    root = parse(line_chart("c", "Per day", days, series, y_label="Number", x_label="Day"))
    lines = groups(root, "series")
    assert [g.get("data-series") for g in lines] == ["a", "b"]
    for g in lines:
        assert len(g.findall(f"{SVG}circle")) == 10
        assert len(g.find(f"{SVG}polyline").get("points").split()) == 10
    legend = groups(root, "legend")[0]
    assert [t.text for t in legend.iter(f"{SVG}text")] == [s.label for s in series]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "Number" in texts and "Day" in texts  # the axis titles


def test_line_chart_of_one_day_and_of_nothing():
    root = parse(line_chart("c", "t", ["09-01"], [Series("a", "A", [0])], y_label="n", x_label="d"))
    assert len(groups(root, "series")[0].findall(f"{SVG}circle")) == 1


def test_hour_chart_has_24_stacked_bars_and_the_highlight():
    a = Series("a", "A", [h for h in range(24)])
    b = Series("b", "B", [1 if h % 2 else 0 for h in range(24)])
    root = parse(
        hour_chart(
            "h", "Per hour", [a, b], y_label="n", x_label="hour", highlight=(14, 16, "Quietest")
        )
    )
    bars = groups(root, "bar")
    assert [int(g.get("data-hour")) for g in bars] == list(range(24))
    for hour, g in enumerate(bars):
        assert int(g.get("data-total")) == a.values[hour] + b.values[hour]
        parts = {r.get("data-series"): int(r.get("data-value")) for r in g.findall(f"{SVG}rect")}
        assert parts == {k: v for k, v in (("a", hour), ("b", b.values[hour])) if v}
    highlight = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "highlight"]
    assert len(highlight) == 1
    assert "Quietest" in [t.text for t in root.iter(f"{SVG}text")]


def test_dashboard_charts_draw_its_counters(app, client, make, login, conn):
    """A week of counters: the day chart has 7 points per headline, the hour chart 24 bars."""
    today = beijing(utcnow()).date()
    with conn():
        StatCounter.insert_many(
            [
                {
                    "day": today - dt.timedelta(days=d),
                    "hour": 9 + d,
                    "office": "",
                    "measure": m,
                    "metric": ANY_METRIC.get(m, k),
                    "count": d + 1,
                }
                for d in range(7)
                for m, k in HEADLINES
            ]
        ).execute()
    login(make.staff("admin"))
    since = (today - dt.timedelta(days=6)).isoformat()
    response = client.get("/stats/", query_string={"since": since, "until": today.isoformat()})
    page(response)
    days = parse(svg_in(response, "chart-days"))
    lines = groups(days, "series")
    assert len(lines) == len(HEADLINES)
    for g in lines:
        assert len(g.findall(f"{SVG}circle")) == 7
    hours = parse(svg_in(response, "chart-hours"))
    bars = groups(hours, "bar")
    assert len(bars) == 24
    totals = {int(g.get("data-hour")): int(g.get("data-total")) for g in bars}
    # d days ago at 09:00 + d hours, counted d + 1 times, for every headline.
    assert totals[9] == len(HEADLINES) * 1 and totals[15] == len(HEADLINES) * 7
    assert totals[3] == 0 and sum(totals.values()) == len(HEADLINES) * sum(range(1, 8))


def test_public_report_chart(client):
    response = client.get("/report")
    page(response)
    root = parse(svg_in(response, "chart-applications"))
    assert len(groups(root, "bar")) == 24
    assert len(groups(root, "legend")[0].findall(f"{SVG}text")) == 3  # e-licence, transfer, truck
