"""The statistics pages: the administrators' dashboard with its CSV files, and the public report."""

from flask import abort, make_response, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from core import templatehelpers
from core.access import role_required
from core.audit import audit
from core.htmx import render
from core.privacy import no_personal_data
from models import ADMIN, Office, utcnow
from rules.clock import beijing_today
from rules.stats import HEADLINES, MEASURE_KEYS, MEASURES, OFFICE_HOURS, QUIET_WINDOW_HOURS

from . import bp, labels
from .charts import Series, hour_chart, line_chart
from .export import table_csv
from .figures import BYS, build_dashboard, single_table
from .forms import StatsFilterForm
from .report import (
    APPLICATION_KINDS,
    advice,
    build_report,
    busy_now,
    day_heading,
    hour_label,
    sentences,
)


def locale() -> str:
    """The reader's language code."""
    return str(get_locale() or "zh")


def filter_form() -> StatsFilterForm:
    """The filter as sent in the query string, with the offices to choose from."""
    offices = [
        (o.code, f"{o.code} {o.display_name(locale())}")
        for o in Office.select().order_by(Office.code)
    ]
    return StatsFilterForm(request.args, offices, beijing_today())


def dashboard_charts(dash) -> dict:
    """The day chart (a line per headline figure) and the hour chart (a stacked bar per hour)."""
    names = {pair: str(labels.HEADLINE_LABELS[pair]) for pair in HEADLINES}
    day_series = [Series(".".join(p), names[p], dash.by_day[p]) for p in HEADLINES]
    hour_series = [Series(".".join(p), names[p], dash.by_hour[p]) for p in HEADLINES]
    return {
        "days": line_chart(
            "chart-days",
            _("Per day"),
            [d.strftime("%m-%d") for d in dash.filters.days],
            day_series,
            y_label=_("Number"),
            x_label=_("Day"),
        ),
        "hours": hour_chart(
            "chart-hours",
            _("Per hour of day, the whole range"),
            hour_series,
            y_label=_("Number"),
            x_label=_("Hour of day (Beijing time)"),
        ),
    }


@bp.get("/stats/")
@role_required(ADMIN)
@no_personal_data
def dashboard():
    """Every measure per day, hour and office for a date range and office; htmx swaps the body."""
    form = filter_form()
    context = {"form": form, "measures": MEASURES, "bys": BYS, "labels": labels}
    if not form.validate():
        return render("stats/dashboard.html", "stats/_body.html", 422, dash=None, **context)
    dash = build_dashboard(form.filters(), locale())
    # Aggregates only, but who looked at which office's figures is worth knowing, like the
    # audit search.
    audit("stats.view", detail=form.filters().args())
    return render(
        "stats/dashboard.html",
        "stats/_body.html",
        dash=dash,
        charts=dashboard_charts(dash),
        **context,
    )


@bp.get("/stats/export/<measure>/<any(day, hour, office):by>.csv")
@role_required(ADMIN)
@no_personal_data
def export(measure: str, by: str):
    """One dashboard table as a CSV file, for the same filter."""
    if measure not in MEASURE_KEYS:
        abort(404)
    form = filter_form()
    if not form.validate():
        abort(400)
    filters = form.filters()
    table = single_table(filters, measure, by, locale())
    audit("stats.export", detail={**filters.args(), "table": f"{measure}/{by}"})
    response = make_response(table_csv(table))
    response.mimetype = "text/csv"
    name = f"jiaoguan-{measure}-by-{by}-{filters.first}-{filters.last}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def report_chart(report):
    """Applications per hour of day over the last week, the quietest window shaded."""
    series = [
        Series(kind, str(labels.APPLICATION_LABELS[kind]), report.applications[kind])
        for kind in APPLICATION_KINDS
    ]
    highlight = None
    if report.quiet_start is not None:
        highlight = (report.quiet_start, report.quiet_start + QUIET_WINDOW_HOURS, _("Quietest"))
    return hour_chart(
        "chart-applications",
        _("Applications per hour of day, last 7 days"),
        series,
        y_label=_("Applications"),
        x_label=_("Hour of day (Beijing time)"),
        highlight=highlight,
    )


@bp.get("/report")
@no_personal_data
def public_report():
    """Today's and yesterday's totals for everyone, and when to apply to avoid the queue."""
    report = build_report(beijing_today())
    return render_template(
        "stats/report.html",
        report=report,
        today=sentences(report.totals),
        yesterday=sentences(report.previous),
        today_heading=day_heading(report.day),
        yesterday_heading=day_heading(report.previous.day),
        advice=advice(report),
        chart=report_chart(report),
        office_hours=(hour_label(OFFICE_HOURS[0]), hour_label(OFFICE_HOURS[1])),
        rows=[
            (f"{measure}.{metric or '*'}", label, measure, metric)
            for measure, metric, label in labels.PUBLIC_ROWS
        ],
        now=utcnow(),
    )


# `stats_busy_now()` for the licence application page: link the report in busy hours.
templatehelpers.add_when_registered(bp, stats_busy_now=busy_now)
