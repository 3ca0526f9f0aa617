"""The one clock of the application, and the one definition of Beijing time (北京时间).

Every rule that depends on the date or the hour (licence validity, inspection dates, accident
determination dates, truck-pass windows, statistics buckets) asks here, so that tests can set
the time by patching `rules.clock.utc_now`, and so that "today" is the Beijing calendar day on a
server whose own clock runs in UTC. It sits in the lowest layer (rules/) because models and
rules need it too.
"""

import datetime as dt
from zoneinfo import ZoneInfo

TIMEZONE_NAME = "Asia/Shanghai"
BEIJING = ZoneInfo(TIMEZONE_NAME)
# China has kept UTC+8 all year since 1991 (no daylight saving): adding eight hours is exact
# for every time this application stores, and several times faster than a zone lookup per row
# (a test compares it with the tz database).
BEIJING_OFFSET = dt.timedelta(hours=8)


def utc_now() -> dt.datetime:
    """Now, naive UTC (as stored in the database)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def beijing_now() -> dt.datetime:
    """Now on a Beijing wall clock, naive."""
    return utc_now().replace(tzinfo=dt.UTC).astimezone(BEIJING).replace(tzinfo=None)


def beijing_today() -> dt.date:
    """Today's date in Beijing."""
    return beijing_now().date()


def beijing_to_utc(local: dt.datetime) -> dt.datetime:
    """A naive Beijing wall-clock time as naive UTC."""
    return local.replace(tzinfo=BEIJING).astimezone(dt.UTC).replace(tzinfo=None)
