"""`flask transfer import-vehicles FILE`: load the city's vehicle register from CSV."""

import click

from core.cli_offices import run_import

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
    report = run_import(path, office_code, import_csv)
    click.echo(
        f"imported {report.imported}, already there {report.unchanged}, "
        f"rejected {len(report.rejected)}"
    )
    for line, vin, reason in report.rejected:
        click.echo(f"  line {line}: {vin}: {reason}")
    if report.rejected:
        raise SystemExit(1)
