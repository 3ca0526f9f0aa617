"""The one clock of the application: now in UTC, and now and today in Beijing.

Every rule that depends on the date or the hour (licence validity, inspection dates, accident
determination dates, truck-pass windows) asks here, so that tests can set the time by
patching `core.clock.utc_now`, and so that "today" is the Beijing calendar day on a server whose
own clock runs in UTC.
"""

import datetime as dt
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


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
