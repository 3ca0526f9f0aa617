"""`flask licence import FILE`: load the city's licence records from CSV."""

import click

from core.cli_offices import run_import
from rules.validators import mask_id

from . import bp
from .importer import import_csv

bp.cli.short_help = "Licence records."


@bp.cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--office",
    "office_code",
    default=None,
    help="Code of the issuing office (default: this city's vehicle office, when it has one).",
)
def import_command(path, office_code):
    """Import licence records from a CSV file (UTF-8, header row; see the README)."""
    report = run_import(path, office_code, import_csv)
    click.echo(
        f"imported {report.imported}, already there {report.unchanged}, "
        f"rejected {len(report.rejected)}, "
        f"recorded mobile added or changed {report.mobiles_set}"
    )
    for line, licence_no, reason in report.rejected:
        click.echo(f"  line {line}: {mask_id(licence_no)}: {reason}")
    if report.rejected:
        # Scripts and cron see that rows were left out (the good rows are imported).
        raise SystemExit(1)
