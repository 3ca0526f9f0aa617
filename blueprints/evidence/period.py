"""The period within which a party may ask for a review (复核) of an accident determination.

Read by the review steps, the case page and the notices that name the last day, so that all
of them say the same day.
"""

import datetime as dt

from flask import current_app

from rules.clock import beijing_today

# The period for asking a review, in days from the determination's delivery. It is a setting
# (EVIDENCE_REVIEW_DAYS, app.SETTINGS), since provinces differ; 3 days is the common window of
# the accident-handling rules (《道路交通事故处理程序规定》: 复核 is asked for within three days of
# the determination's delivery). This is the default when the app sets none.
REVIEW_PERIOD_DAYS = 3


def review_period_days() -> int:
    """The deployment's review period (EVIDENCE_REVIEW_DAYS), else the default."""
    return int(current_app.config.get("EVIDENCE_REVIEW_DAYS", REVIEW_PERIOD_DAYS))


def deadline_after(delivered_on: dt.date) -> dt.date:
    """The last day to ask for a review of a determination delivered on `delivered_on`."""
    return delivered_on + dt.timedelta(days=review_period_days())


def review_deadline(case) -> dt.date | None:
    """The last day a party may ask for a review (None before the determination's delivery)."""
    if case.determination_delivered_on is None:
        return None
    return deadline_after(case.determination_delivered_on)


def review_period_runs(case, today: dt.date | None = None) -> bool:
    """May a party ask for a review today: a general-procedure case whose determination was
    delivered, not closed, within the period (the review steps, the case page and the notice a
    party added late is sent all ask this)."""
    deadline = review_deadline(case)
    today = today or beijing_today()
    return (
        case.procedure == "general"
        and deadline is not None
        and case.determination_delivered_on <= today <= deadline
        and case.status != "closed"
    )
