"""`flask transfer import-vehicles FILE`: load the city's vehicle register from CSV."""

import click
from flask_babel import force_locale

from core.cli_offices import vehicle_office
from models import db

from . import bp
from .importer import import_csv

bp.cli.short_help = "The vehicle register."


@bp.cli.command("import-vehicles")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--office",
    "office_code",
    default=None,
    help="Code of the registering vehicle office (default: this city's, when it has one).",
)
def import_vehicles(path, office_code):
    """Import vehicles from a CSV file (UTF-8, header row; see the README)."""
    with open(path, encoding="utf-8-sig") as fh:
        total = max(0, sum(1 for _ in fh) - 1)
    # The operator's report is in English throughout (the validators' messages too).
    with db.connection_context(), force_locale("en"):
        office = vehicle_office(office_code)
        with (
            open(path, encoding="utf-8-sig", newline="") as fh,
            click.progressbar(length=total, label="importing", show_pos=True) as bar,
        ):
            try:
                report = import_csv(fh, office, progress=lambda _line: bar.update(1))
            except ValueError as exc:
                raise click.ClickException(str(exc)) from None
    click.echo(
        f"imported {report.imported}, already there {report.unchanged}, "
        f"rejected {len(report.rejected)}"
    )
    for line, vin, reason in report.rejected:
        click.echo(f"  line {line}: {vin}: {reason}")
    if report.rejected:
        raise SystemExit(1)
