"""What a party reads about the state of an accident case: the next step at each stage, and
the words of review requests (复核). The older label tables live in forms.py."""

from flask_babel import lazy_gettext as _l

# What happens next and what a party can do, one sentence per case status. %(days)d is the
# review period (period.review_period_days), %(office)s the handling brigade.
NEXT_STEPS = {
    "opened": _l(
        "%(office)s is investigating the accident and gathering the evidence; you will be told "
        "when the accident determination is made."
    ),
    "evidence_gathered": _l(
        "The evidence is gathered: %(office)s now makes the accident determination (事故认定书) "
        "and delivers it to you."
    ),
    "determination_delivered": _l(
        "The determination has been delivered. The evidence opens here for review once the "
        "officer releases it; you may already ask for a review within %(days)d days of "
        "delivery."
    ),
    "open_for_review": _l(
        "View and copy the released evidence below. If you disagree with it, or with what was "
        "withheld, ask for a review within %(days)d days of the determination's delivery."
    ),
    # Either step of the two above once the review period has ended.
    "review_over": _l(
        "The period for asking for a review ended on %(date)s. The released evidence stays "
        "below to view and copy."
    ),
    "review_over_unreleased": _l("The period for asking for a review ended on %(date)s."),
    "closed": _l("The case is closed: nothing more happens here."),
    "simple": _l(
        "This case was settled on the spot under the simple procedure: there is no evidence to "
        "review online."
    ),
}

REVIEW_STATUS_LABELS = {
    "pending": _l("Waiting for the officer's answer"),
    "answered": _l("Answered"),
    "withdrawn": _l("Withdrawn by the party"),
}


# The kinds of file evidence may be (service.ALLOWED_TYPES), as an officer reads them.
FILE_TYPE_LABELS = {
    "application/pdf": _l("PDF document"),
    "image/jpeg": _l("JPEG picture"),
    "image/png": _l("PNG picture"),
}
