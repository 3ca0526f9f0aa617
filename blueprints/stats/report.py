"""The day's public report (每日通报): totals in sentences as a press office writes them, the
applications per hour of day, and the quietest hours to apply.

The same sentences serve the public page and `flask stats report`, so the two always agree. No
personal data can appear: everything here is a sum over the counters.
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _

from rules.clock import beijing_now
from rules.stats import (
    ADVICE_DAYS,
    APPLICATIONS,
    OFFICE_HOURS,
    QUIET_WINDOW_HOURS,
    TRANSACTIONS,
    enough_history,
    is_busy_hour,
    quietest_window,
)

from .figures import Filters, counts_by

# The kinds of application in the hour chart, in order (from rules.stats.APPLICATIONS).
APPLICATION_KINDS = ("elicence", "transfer", "truck_pass")


@dataclass
class DayTotals:
    """The city's totals of one Beijing day (every office together)."""

    day: dt.date
    counts: Counter

    def get(self, measure: str, metric: str | None = None) -> int:
        """One figure; without a metric, the measure's metrics summed."""
        if metric is None:
            return sum(n for (m, _), n in self.counts.items() if m == measure)
        return self.counts[(measure, metric)]

    @property
    def transactions(self) -> int:
        """Transactions through the four services, counted as the news report counted them."""
        return sum(self.counts[pair] for pair in TRANSACTIONS)


@dataclass
class Report:
    """The report of one day: its totals, the day before's, and when to apply."""

    day: dt.date
    totals: DayTotals
    previous: DayTotals
    applications: dict  # {kind: [count per hour over the ADVICE_DAYS days up to `day`]}
    quiet_start: int | None  # the quietest window's first hour, None when nothing to advise

    @property
    def per_hour(self) -> list[int]:
        """Applications of every kind per hour of day."""
        return [sum(v[h] for v in self.applications.values()) for h in range(24)]


def applications_per_hour(last: dt.date, days: int = ADVICE_DAYS) -> dict:
    """{kind: [count per Beijing hour]} of applications over the `days` days ending `last`."""
    counts = counts_by(Filters(last - dt.timedelta(days=days - 1), last), "hour")
    return {
        kind: [
            sum(counts.get(h, Counter())[pair] for pair in APPLICATIONS if pair[0] == kind)
            for h in range(24)
        ]
        for kind in APPLICATION_KINDS
    }


def build_report(day: dt.date) -> Report:
    """Read the counters of `day`, the day before and the week up to `day`."""
    previous_day = day - dt.timedelta(days=1)
    by_day = counts_by(Filters(previous_day, day), "day")
    applications = applications_per_hour(day)
    per_hour = [sum(v[h] for v in applications.values()) for h in range(24)]
    return Report(
        day=day,
        totals=DayTotals(day, by_day.get(day, Counter())),
        previous=DayTotals(previous_day, by_day.get(previous_day, Counter())),
        applications=applications,
        quiet_start=quietest_window(per_hour),
    )


def busy_now() -> bool:
    """Is this hour (Beijing) one of the busiest third for applications over the last week?"""
    now = beijing_now()
    week = Filters(now.date() - dt.timedelta(days=ADVICE_DAYS - 1), now.date())
    per_day = [sum(c[pair] for pair in APPLICATIONS) for c in counts_by(week, "day").values()]
    if not enough_history(per_day):
        return False  # no banner on a new city's first applications
    per_hour = applications_per_hour(now.date())
    return is_busy_hour([sum(v[h] for v in per_hour.values()) for h in range(24)], now.hour)


def _n(value: int) -> str:
    """A count as the reader writes numbers (1,234 or 1234)."""
    return format_decimal(value)


def sentences(totals: DayTotals) -> list[str]:
    """The day's totals in plain sentences, one per service, plural-safe in every language."""
    t = totals
    out = [
        ngettext(
            "%(count)s transaction went through the four services online.",
            "%(count)s transactions went through the four services online.",
            t.transactions,
            count=_n(t.transactions),
        ),
        ngettext(
            "%(count)s electronic driving licence was issued.",
            "%(count)s electronic driving licences were issued.",
            t.get("elicence", "issued"),
            count=_n(t.get("elicence", "issued")),
        ),
        ngettext(
            "Police and firms checked e-licences %(count)s time.",
            "Police and firms checked e-licences %(count)s times.",
            t.get("licence_check"),
            count=_n(t.get("licence_check")),
        ),
        ngettext(
            "Firms were shown a licence with a share code %(count)s time.",
            "Firms were shown a licence with a share code %(count)s times.",
            t.get("share_code", "used"),
            count=_n(t.get("share_code", "used")),
        ),
        ngettext(
            "%(count)s cross-region used-car transfer was opened",
            "%(count)s cross-region used-car transfers were opened",
            t.get("transfer", "opened"),
            count=_n(t.get("transfer", "opened")),
        )
        + ngettext(
            " and %(count)s vehicle was registered and plated here.",
            " and %(count)s vehicles were registered and plated here.",
            t.get("transfer", "registered"),
            count=_n(t.get("transfer", "registered")),
        ),
        truck_pass_sentence(t),
        ngettext(
            "Parties to accidents reviewed evidence online %(count)s time",
            "Parties to accidents reviewed evidence online %(count)s times",
            t.get("evidence", "viewed"),
            count=_n(t.get("evidence", "viewed")),
        )
        + ngettext(
            " and downloaded %(count)s copy.",
            " and downloaded %(count)s copies.",
            t.get("evidence", "downloaded"),
            count=_n(t.get("evidence", "downloaded")),
        ),
    ]
    return out


def truck_pass_sentence(t: DayTotals) -> str:
    """Passes issued out of applications (or that there were none, rather than "0 of 0")."""
    if not t.get("truck_pass", "applied"):
        return _("No truck pass code was applied for.")
    return ngettext(
        "%(count)s truck pass code was issued",
        "%(count)s truck pass codes were issued",
        t.get("truck_pass", "issued"),
        count=_n(t.get("truck_pass", "issued")),
    ) + ngettext(
        " out of %(count)s application.",
        " out of %(count)s applications.",
        t.get("truck_pass", "applied"),
        count=_n(t.get("truck_pass", "applied")),
    )


def hour_label(hour: int) -> str:
    """An hour of day as a clock time, e.g. 14:00."""
    return f"{hour:02d}:00"


def advice(report: Report) -> str:
    """When to apply, from the quietest window of the last week ('' when nothing to say)."""
    if report.quiet_start is None:
        return ""
    return _(
        "Over the last %(days)s days, fewest applications came in between %(start)s and %(end)s: "
        "apply then to avoid the queue.",
        days=ADVICE_DAYS,
        start=hour_label(report.quiet_start),
        end=hour_label(report.quiet_start + QUIET_WINDOW_HOURS),
    )


def day_heading(day: dt.date) -> str:
    """A date as a press release writes it (2021年9月1日星期三 / Wednesday, September 1, 2021)."""
    return format_date(day, format="full")


def text_report(report: Report) -> str:
    """The report as plain text, for `flask stats report` (same sentences as the page)."""
    lines = [_("Daily report of the traffic services online"), ""]
    for totals in (report.totals, report.previous):
        lines.append(day_heading(totals.day))
        lines += [f"  {s}" for s in sentences(totals)]
        lines.append("")
    lines.append(
        _(
            "Office hours are %(start)s to %(end)s.",
            start=hour_label(OFFICE_HOURS[0]),
            end=hour_label(OFFICE_HOURS[1]),
        )
    )
    if text := advice(report):
        lines.append(text)
    return "\n".join(lines) + "\n"
