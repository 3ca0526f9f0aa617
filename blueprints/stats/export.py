"""Tables as CSV files that open safely in a spreadsheet."""

import csv
import io

# A cell starting with one of these is a formula to a spreadsheet (CSV injection): quote it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A cell's text, prefixed with a quote when a spreadsheet would run it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def table_csv(table) -> str:
    """The table as CSV: header, one line per row, the total line; with a byte-order mark so
    spreadsheet programs read the Chinese headers as UTF-8."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in (table.head, *table.rows, table.total):
        writer.writerow([safe_cell(cell) for cell in row])
    return "\ufeff" + out.getvalue()
