"""Charts drawn on the server as SVG: no JavaScript, no library, no request to anyone.

Two kinds: a line per series over days, and a bar per hour of the day (stacked by series). Both
scale with their container (viewBox, width 100%), carry their own axis labels and legend, and
are sized so the text stays readable on a 360 px phone. Colours are presentation attributes,
not style attributes, so the strict CSP (style-src 'self') does not hide them.
"""

import math
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH = 360
RIGHT, TOP = 8, 26
EDGE = 16  # room at both ends of a line chart for half a date label
DIGIT_WIDTH = 7  # a 12-unit digit is about this wide: the y labels' margin is sized by it
PLOT_HEIGHT = 160
LEGEND_ROW = 17
FONT = 12
# Distinguishable for the common colour-vision deficiencies (Okabe-Ito, darkened for contrast).
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#8a6d00", "#56b4e9", "#000000", "#e69f00")


@dataclass
class Series:
    """One named row of values (a line, or one part of each stacked bar)."""

    key: str
    label: str
    values: list


def nice_scale(top_value: float, ticks: int = 4) -> tuple[float, float]:
    """A round axis maximum and step (1, 2 or 5 times a power of ten) above `top_value`."""
    if top_value <= 0:
        return 1, 1
    raw = top_value / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        step = factor * power
        if step * ticks >= top_value:
            break
    step = max(step, 1)  # counts are whole numbers: no axis of 0.25, 0.5, 0.75
    return step * math.ceil(top_value / step), step


def _num(value: float) -> str:
    """A coordinate, short."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


class _Canvas:
    """The SVG being written: elements as text, every label escaped."""

    def __init__(self, chart_id: str, title: str, top: float, step: float):
        """A chart whose value axis runs from 0 to `top` in steps of `step`."""
        self.chart_id = chart_id
        self.title = title
        self.parts: list[str] = []
        self.top, self.step = top, step
        self.ticks = [f"{round(step * i):,}" for i in range(round(top / step) + 1)]
        # The plot starts right of the longest value label, so no label is ever cut off.
        self.left = 8 + DIGIT_WIDTH * max(len(t) for t in self.ticks)

    def add(self, text: str) -> None:
        """Append markup already escaped."""
        self.parts.append(text)

    def text(self, x, y, label, anchor="start", **attrs) -> None:
        """A <text> at (x, y); keyword attributes with _ become SVG's hyphenated names."""
        extra = "".join(f' {k.replace("_", "-")}="{escape(v)}"' for k, v in attrs.items())
        self.add(
            f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}"{extra}>'
            f"{escape(label)}</text>"
        )

    def finish(self, height: float) -> Markup:
        """The whole <svg>, `height` units tall, safe to put in a page."""
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {_num(height)}" '
            f'width="100%" class="chart" id="{escape(self.chart_id)}" role="img" '
            f'aria-labelledby="{escape(self.chart_id)}-title" font-size="{FONT}" '
            f'fill="#1b1f24"><title id="{escape(self.chart_id)}-title">{escape(self.title)}</title>'
        )
        # Safe: every label and attribute written above went through escape().
        return Markup(head + "".join(self.parts) + "</svg>")  # noqa: S704


def _axes(canvas: _Canvas, y_label: str, x_label: str) -> None:
    """Grid lines with their values, the axis line and the axis titles."""
    bottom = TOP + PLOT_HEIGHT
    left = canvas.left
    n = len(canvas.ticks) - 1
    for i, tick in enumerate(canvas.ticks):
        y = bottom - PLOT_HEIGHT * i / n
        canvas.add(
            f'<line x1="{_num(left)}" x2="{WIDTH - RIGHT}" y1="{_num(y)}" y2="{_num(y)}" '
            f'stroke="#d6dbe1" stroke-width="1"/>'
        )
        canvas.text(left - 4, y + 4, tick, anchor="end")
    canvas.add(
        f'<line x1="{_num(left)}" x2="{_num(left)}" y1="{TOP}" y2="{bottom}" stroke="#5b6470"/>'
    )
    canvas.text(4, TOP - 10, y_label, font_weight="bold")
    canvas.text(
        (left + WIDTH - RIGHT) / 2, bottom + 30, x_label, anchor="middle", font_weight="bold"
    )


def _x_labels(canvas: _Canvas, labels: list[str], xs: list[float], every: int) -> None:
    """Tick labels under the plot, every `every`-th one so they never overlap."""
    for i, (label, x) in enumerate(zip(labels, xs, strict=True)):
        if i % every == 0 or (i == len(labels) - 1 and (i % every) > every // 2):
            canvas.text(x, TOP + PLOT_HEIGHT + 14, label, anchor="middle")


def _legend(canvas: _Canvas, series: list[Series], marker) -> float:
    """The legend in two columns under the plot; returns the chart's full height."""
    top = TOP + PLOT_HEIGHT + 44
    column = (WIDTH - 8) / 2
    canvas.add('<g class="legend">')
    for i, s in enumerate(series):
        x = 8 + (i % 2) * column
        y = top + (i // 2) * LEGEND_ROW
        canvas.add(marker(x, y - 9, PALETTE[i % len(PALETTE)]))
        canvas.text(x + 16, y, s.label)
    canvas.add("</g>")
    return top + math.ceil(len(series) / 2) * LEGEND_ROW


def line_chart(chart_id, title, x_labels, series, *, y_label, x_label) -> Markup:
    """A line per series over the x labels (days), with a dot on every value."""
    top, step = nice_scale(max((max(s.values, default=0) for s in series), default=0))
    canvas = _Canvas(chart_id, title, top, step)
    _axes(canvas, y_label, x_label)
    n = len(x_labels)
    start = canvas.left + EDGE
    span = WIDTH - RIGHT - EDGE - start
    xs = [start + (span * i / (n - 1) if n > 1 else span / 2) for i in range(n)]
    _x_labels(canvas, x_labels, xs, max(1, math.ceil(n / 6)))
    radius = 2.5 if n <= 31 else 1.5
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        ys = [TOP + PLOT_HEIGHT - PLOT_HEIGHT * v / top for v in s.values]
        points = " ".join(f"{_num(x)},{_num(y)}" for x, y in zip(xs, ys, strict=True))
        canvas.add(f'<g class="series" data-series="{escape(s.key)}">')
        canvas.add(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for x, y, v, label in zip(xs, ys, s.values, x_labels, strict=True):
            tip = _("%(series)s, %(label)s: %(value)s", series=s.label, label=label, value=f"{v:,}")
            canvas.add(
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="{radius}" fill="{colour}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        canvas.add("</g>")
    height = _legend(
        canvas,
        series,
        lambda x, y, c: f'<rect x="{_num(x)}" y="{_num(y + 3)}" width="12" height="4" fill="{c}"/>',
    )
    return canvas.finish(height)


def hour_title(hour: int, total: int) -> str:
    """A bar's tooltip: the hour and its count (a full-width colon in Chinese)."""
    hours = f"{hour:02d}:00-{hour + 1:02d}:00"
    return _("%(hours)s: %(value)s", hours=hours, value=f"{total:,}")


def hour_chart(chart_id, title, series, *, y_label, x_label, highlight=None) -> Markup:
    """A bar per hour of the day (0-23), stacked by series; `highlight` = (start hour, end hour,
    label) shades those hours behind the bars and names them."""
    totals = [sum(s.values[h] for s in series) for h in range(24)]
    top, step = nice_scale(max(totals, default=0))
    canvas = _Canvas(chart_id, title, top, step)
    left = canvas.left
    slot = (WIDTH - RIGHT - left) / 24
    if highlight is not None:
        start, end, label = highlight
        canvas.add(
            f'<rect class="highlight" x="{_num(left + start * slot)}" y="{TOP}" '
            f'width="{_num((end - start) * slot)}" height="{PLOT_HEIGHT}" fill="#fff3c4"/>'
        )
        canvas.text(
            left + (start + end) / 2 * slot, TOP - 3, label, anchor="middle", font_weight="bold"
        )
    _axes(canvas, y_label, x_label)
    bar = slot * 0.72
    bottom = TOP + PLOT_HEIGHT
    for hour in range(24):
        x = left + hour * slot + (slot - bar) / 2
        canvas.add(
            f'<g class="bar" data-hour="{hour}" data-total="{totals[hour]}">'
            f"<title>{escape(hour_title(hour, totals[hour]))}</title>"
        )
        y = bottom
        for i, s in enumerate(series):
            if not s.values[hour]:
                continue
            height = PLOT_HEIGHT * s.values[hour] / top
            y -= height
            canvas.add(
                f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(bar)}" '
                f'height="{_num(height)}" fill="{PALETTE[i % len(PALETTE)]}" '
                f'data-series="{escape(s.key)}" data-value="{s.values[hour]}"/>'
            )
        canvas.add("</g>")
    _x_labels(
        canvas, [f"{h:02d}" for h in range(24)], [left + (h + 0.5) * slot for h in range(24)], 3
    )
    height = _legend(
        canvas,
        series,
        lambda x, y, c: f'<rect x="{_num(x)}" y="{_num(y)}" width="12" height="10" fill="{c}"/>',
    )
    return canvas.finish(height)
