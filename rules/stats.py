"""What the operations statistics count, as pure functions (运行统计).

Every state change writes an audit row; `counted()` says which counters (measure, metric) an
audit row adds one to, so the counters are kept in the same transaction as the event. The rest
are the small calculations the dashboard and the public report share: Beijing-time buckets,
the quietest window for applying, whether an hour is a busy one, medians.
"""

import datetime as dt
from dataclasses import dataclass

from rules.clock import BEIJING_OFFSET

# The verdicts of the verifier contract (docs/DESIGN.md#verdicts). A verdict not in this list
# (a later one) is still counted, as "other", so the totals never lose a check.
CHECK_VERDICTS = (
    "valid",
    "invalid",
    "expired-code",
    "used-code",
    "shown-again",
    "throttled",
    "suspended",
    "revoked",
    "cancelled",
    "expired-licence",
    "points-full",
    "overdue-review",
    "old-code-format",
    "other",
)
# A genuine, current code: the licence was shown (the same set as the licence service's GENUINE;
# a test keeps the two equal). A share check with one of these is a share code used.
GENUINE_VERDICTS = frozenset(
    {
        "valid",
        "points-full",
        "suspended",
        "revoked",
        "cancelled",
        "overdue-review",
        "expired-licence",
    }
)


@dataclass(frozen=True)
class Measure:
    """One thing the dashboard counts, and the metrics it is counted by."""

    key: str
    metrics: tuple[str, ...]


MEASURES = (
    Measure("elicence", ("issued", "refused")),
    Measure("licence_check", CHECK_VERDICTS),
    Measure("share_code", ("used", "refused")),
    Measure("transfer", ("opened", "registered", "stopped", "cancelled")),
    Measure("truck_pass", ("applied", "issued", "refused", "revoked")),
    Measure("evidence", ("viewed", "downloaded")),
)
MEASURE_KEYS = tuple(m.key for m in MEASURES)
MEASURES_BY_KEY = {m.key: m for m in MEASURES}

# Audit action -> the counters it adds one to. licence.check is counted by its verdict below.
ACTION_COUNTERS = {
    "licence.issue": (("elicence", "issued"),),
    "licence.apply_refused": (("elicence", "refused"),),
    "transfer.open": (("transfer", "opened"),),
    "transfer.registered": (("transfer", "registered"),),
    "transfer.stopped": (("transfer", "stopped"),),
    "transfer.declined": (("transfer", "cancelled"),),
    # Truck passes: approved is an issued pass, automatically or by a clerk.
    "truck_pass.apply": (("truck_pass", "applied"),),
    "truck_pass.approved": (("truck_pass", "issued"),),
    "truck_pass.refused": (("truck_pass", "refused"),),
    "truck_pass.revoked": (("truck_pass", "revoked"),),
    "evidence.item_view": (("evidence", "viewed"),),
    "evidence.item_download": (("evidence", "downloaded"),),
}
# Online review (网上查阅) is the parties' service; an officer opening the original is work on
# the case, not a review, so only the parties' looks are counted.
PARTY_ONLY = frozenset({"evidence.item_view", "evidence.item_download"})

# What "applications" are, for the hour-of-day chart and the advice on when to apply.
APPLICATIONS = (
    ("elicence", "issued"),
    ("elicence", "refused"),
    ("transfer", "opened"),
    ("truck_pass", "applied"),
)
# The lines of the day chart, and the stacks of the hour chart: one headline figure each.
HEADLINES = (
    ("elicence", "issued"),
    ("licence_check", "*"),
    ("share_code", "used"),
    ("transfer", "opened"),
    ("transfer", "registered"),
    ("truck_pass", "issued"),
    ("evidence", "*"),
)
# The day's "transactions through the four services", counted as the news report of day one
# counted them: e-licences issued, transfers registered, truck passes issued, evidence reviews.
TRANSACTIONS = (
    ("elicence", "issued"),
    ("transfer", "registered"),
    ("truck_pass", "issued"),
    ("evidence", "viewed"),
    ("evidence", "downloaded"),
)

OFFICE_HOURS = (8, 18)  # the counters are open 08:00-18:00
QUIET_WINDOW_HOURS = 2
BUSY_SHARE = 3  # an hour in the top third of the day is a busy one
ADVICE_DAYS = 7


def counted(action: str, result: str = "ok", detail: dict | None = None) -> list:
    """The (measure, metric) counters an audit row of `action` adds one to (often none)."""
    detail = detail or {}
    if action == "licence.check":
        verdict = result if result in CHECK_VERDICTS else "other"
        pairs = [("licence_check", verdict)]
        if detail.get("via") == "share":
            pairs.append(("share_code", "used" if result in GENUINE_VERDICTS else "refused"))
        return pairs
    if action in PARTY_ONLY and not detail.get("as_party"):
        return []
    return list(ACTION_COUNTERS.get(action, ()))


def beijing(at_utc: dt.datetime) -> dt.datetime:
    """A naive UTC time from the database as a Beijing wall-clock time (naive)."""
    return at_utc + BEIJING_OFFSET


def bucket(at_utc: dt.datetime) -> tuple[dt.date, int]:
    """The Beijing day and hour (0-23) an event at `at_utc` is counted in."""
    local = beijing(at_utc)
    return local.date(), local.hour


def utc_bounds(first: dt.date, last: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The naive UTC instants [start, end) of the Beijing days `first` to `last` inclusive."""

    def start_of(day: dt.date) -> dt.datetime:
        """Midnight of a Beijing day, in UTC."""
        return dt.datetime.combine(day, dt.time()) - BEIJING_OFFSET

    return start_of(first), start_of(last + dt.timedelta(days=1))


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from `first` to `last`, inclusive."""
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def quietest_window(per_hour: list[int], hours=OFFICE_HOURS, width=QUIET_WINDOW_HOURS):
    """The start hour of the quietest `width`-hour window within office hours, or None.

    None when nothing was counted in office hours at all (there is no queue to avoid). Ties go
    to the earliest window, so the advice does not jump about between equal choices.
    """
    first, end = hours
    if not any(per_hour[first:end]):
        return None
    starts = range(first, end - width + 1)
    return min(starts, key=lambda h: (sum(per_hour[h : h + width]), h))


# Below this much history a "busy hour" is noise (one application at 2 a.m. in a city just set
# up made that hour the busiest): applications on at least BUSY_MIN_DAYS days of the week, and
# BUSY_MIN_APPLICATIONS of them in all.
BUSY_MIN_DAYS = 3
BUSY_MIN_APPLICATIONS = 20


def enough_history(per_day: list[int]) -> bool:
    """True when the week's applications per day are enough to call an hour busy."""
    days = sum(1 for n in per_day if n > 0)
    return days >= BUSY_MIN_DAYS and sum(per_day) >= BUSY_MIN_APPLICATIONS


def is_busy_hour(per_hour: list[int], hour: int, share: int = BUSY_SHARE) -> bool:
    """True when `hour` is among the busiest third of the day's hours (ties count as busy).

    An hour with nothing counted is never busy, whatever the others.
    """
    value = per_hour[hour]
    if value <= 0:
        return False
    busier = sum(1 for v in per_hour if v > value)
    return busier < len(per_hour) // share


def median(values: list[float]) -> float | None:
    """The median of the values (None for none)."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[mid]
    return (ordered[mid - 1] + ordered[mid]) / 2
