"""The dashboard's figures: counters summed per day, hour or office, and how long transfers took.

Everything here reads StatCounter (a few rows per hour, indexed by day) and, for durations, the
registered transfer cases of the range (indexed by registration time); never the audit log.
"""

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from models import Office, StatCounter, TransferCase, db
from rules.stats import HEADLINES, MEASURES, bucket, days_between, median, utc_bounds

from . import labels

BYS = ("day", "hour", "office")
MAX_DAYS = 366  # a year at most: the tables stay readable and the query small


@dataclass(frozen=True)
class Filters:
    """A Beijing date range and an office code (None: every office)."""

    first: dt.date
    last: dt.date
    office: str | None = None

    @property
    def days(self) -> list[dt.date]:
        """Every day of the range."""
        return days_between(self.first, self.last)

    def args(self) -> dict:
        """As query-string arguments (for links to the CSV files and the audit row)."""
        return {
            "since": self.first.isoformat(),
            "until": self.last.isoformat(),
            "office": self.office or "",
        }


def _day(value) -> dt.date:
    """A DATE column's value as a date (drivers differ in what they hand back)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def _datetime(value) -> dt.datetime:
    """A DATETIME column's raw value as a datetime (SQLite hands back text, PostgreSQL not)."""
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)


def counts_by(filters: Filters, by: str) -> dict:
    """{key: Counter({(measure, metric): n})} for key = a day, an hour (0-23) or an office code."""
    out = defaultdict(Counter)
    for key, measure, metric, n in StatCounter.totals(
        filters.first, filters.last, filters.office, by=(by,)
    ):
        key = _day(key) if by == "day" else int(key) if by == "hour" else key
        out[key][(measure, metric)] += int(n)
    return out


def transfer_times(filters: Filters) -> list:
    """[(Beijing day, Beijing hour, office code, hours from opening to registration)] of the
    transfers registered in the range, at the office that registered them."""
    start, end = utc_bounds(filters.first, filters.last)
    query = (
        TransferCase.select(TransferCase.opened_at, TransferCase.registered_at, Office.code)
        .join(Office, on=(TransferCase.destination_office == Office.id))
        .where((TransferCase.registered_at >= start) & (TransferCase.registered_at < end))
    )
    if filters.office is not None:
        query = query.where(Office.code == filters.office)
    out = []
    # The raw cursor: peewee's per-value datetime parsing was most of this function's time.
    for opened, registered, code in db.execute(query):
        opened, registered = _datetime(opened), _datetime(registered)
        out.append((*bucket(registered), code, (registered - opened).total_seconds() / 3600))
    return out


def group_times(times: list, by: str) -> dict:
    """{day, hour or office: [hours, ...]} of transfer_times()."""
    position = BYS.index(by)
    out = defaultdict(list)
    for row in times:
        out[row[position]].append(row[3])
    return out


def headline_value(counts: Counter, measure: str, metric: str) -> int:
    """One figure of a Counter; metric '*' sums every metric of the measure."""
    if metric == "*":
        return sum(n for (m, _), n in counts.items() if m == measure)
    return counts[(measure, metric)]


@dataclass
class Table:
    """One table of the dashboard (and one CSV file): a measure by day, hour or office."""

    measure: str
    by: str
    head: list
    rows: list = field(default_factory=list)
    total: list = field(default_factory=list)


def _hours(value: float | None):
    """Hours rounded to one decimal for the tables (None stays empty)."""
    return None if value is None else round(value, 1)


def measure_table(measure, by: str, counts: dict, keys: list, durations: dict, names: dict):
    """The table of one measure over `keys`; licence checks get a total column, transfers the
    median and slowest time from opening to registration."""
    head = [labels.BY_KEY_LABELS[by]] + [
        labels.METRIC_LABELS[(measure.key, m)] for m in measure.metrics
    ]
    with_total = measure.key == "licence_check"
    with_times = measure.key == "transfer"
    if with_total:
        head.append(labels.ALL_CHECKS)
    if with_times:
        head += [labels.MEDIAN_TIME, labels.SLOWEST_TIME]
    table = Table(measure.key, by, head)

    def values(counter: Counter, times: list) -> list:
        """One row's cells after its label."""
        row = [counter[(measure.key, m)] for m in measure.metrics]
        if with_total:
            row.append(sum(row))
        if with_times:
            row += [_hours(median(times)), _hours(max(times) if times else None)]
        return row

    for key in keys:
        label = {"day": lambda k: k.isoformat(), "hour": lambda k: f"{k:02d}:00"}.get(
            by, lambda k: names.get(k) or labels.NO_OFFICE
        )(key)
        table.rows.append([label, *values(counts.get(key, Counter()), durations.get(key, []))])
    everything = sum(counts.values(), Counter())
    table.total = [labels.TOTAL, *values(everything, sum(durations.values(), []))]
    return table


def office_names(locale: str) -> dict:
    """Office code -> its name in the reader's language."""
    return {
        o.code: o.display_name(locale)
        for o in Office.select(Office.code, Office.name, Office.name_en)
    }


def row_keys(filters: Filters, by: str, counts: dict, durations: dict) -> list:
    """The rows of a table: every day of the range, every hour, or each office with a figure."""
    if by == "day":
        return filters.days
    if by == "hour":
        return list(range(24))
    return sorted(set(counts) | set(durations))


def tables_by(filters: Filters, by: str, counts: dict, durations: dict, names: dict) -> dict:
    """Every measure's table for one grouping: {measure key: Table}."""
    keys = row_keys(filters, by, counts, durations)
    return {m.key: measure_table(m, by, counts, keys, durations, names) for m in MEASURES}


@dataclass
class Dashboard:
    """Everything the dashboard shows for one filter."""

    filters: Filters
    tables: dict  # {measure: {by: Table}}
    headlines: list  # [(measure, metric, label, total over the range)]
    by_day: dict  # {(measure, metric): [value per day]}
    by_hour: dict  # {(measure, metric): [value per hour]}
    median_hours: float | None
    slowest_hours: float | None


def build_dashboard(filters: Filters, locale: str) -> Dashboard:
    """Read the counters once per grouping and lay out the tables, headlines and chart series."""
    names = office_names(locale)
    counts = {by: counts_by(filters, by) for by in BYS}
    times = transfer_times(filters)
    durations = {by: group_times(times, by) for by in BYS}
    grouped = {by: tables_by(filters, by, counts[by], durations[by], names) for by in BYS}
    tables = {m.key: {by: grouped[by][m.key] for by in BYS} for m in MEASURES}
    by_day = {
        (measure, metric): [
            headline_value(counts["day"].get(d, Counter()), measure, metric) for d in filters.days
        ]
        for measure, metric in HEADLINES
    }
    by_hour = {
        (measure, metric): [
            headline_value(counts["hour"].get(h, Counter()), measure, metric) for h in range(24)
        ]
        for measure, metric in HEADLINES
    }
    headlines = [
        (measure, metric, labels.HEADLINE_LABELS[(measure, metric)], sum(by_day[(measure, metric)]))
        for measure, metric in HEADLINES
    ]
    hours = [row[3] for row in times]
    return Dashboard(
        filters=filters,
        tables=tables,
        headlines=headlines,
        by_day=by_day,
        by_hour=by_hour,
        median_hours=_hours(median(hours)),
        slowest_hours=_hours(max(hours) if hours else None),
    )


def single_table(filters: Filters, measure_key: str, by: str, locale: str) -> Table:
    """One table alone (a CSV download), read exactly as the dashboard reads it."""
    measure = next(m for m in MEASURES if m.key == measure_key)
    counts = counts_by(filters, by)
    durations = group_times(transfer_times(filters), by)
    keys = row_keys(filters, by, counts, durations)
    return measure_table(measure, by, counts, keys, durations, office_names(locale))
