"""`flask stats report --date YYYY-MM-DD`: the day's report as text."""

import datetime as dt

import click
from flask_babel import force_locale

from core.i18n import LANGUAGES
from models import db
from rules.clock import beijing_today

from . import bp
from .report import build_report, text_report

bp.cli.short_help = "Operations statistics."


@bp.cli.command("report")
@click.option(
    "--date",
    "day",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="The Beijing day to report (default: today).",
)
@click.option("--lang", type=click.Choice(sorted(LANGUAGES)), default="zh", show_default=True)
def report_command(day: dt.datetime | None, lang: str):
    """Print the day's public report: totals, the day before, and when to apply."""
    with db.connection_context(), force_locale(lang):
        report = build_report(day.date() if day else beijing_today())
        click.echo(text_report(report), nl=False)
