"""Words shown for licence statuses, verdicts and checkers, in the user's language."""

from flask_babel import LazyString, gettext
from flask_babel import lazy_gettext as _l

from rules import licencecode

STATUS_LABELS = {
    "valid": _l("Valid"),
    "points_full": _l("Points full"),
    "suspended": _l("Suspended"),
    "revoked": _l("Revoked"),
    "cancelled": _l("Cancelled"),
    "overdue_review": _l("Overdue for review"),
    "expired": _l("Expired"),
}

VERDICT_LABELS = {
    "valid": _l("Valid licence"),
    "invalid": _l("Invalid code"),
    "expired-code": _l("Code expired"),
    "used-code": _l("Code already used"),
    # Only in logs: the inspector who used the code asked again (a reload), and saw the licence.
    "shown-again": _l("Shown again to the same inspector"),
    "throttled": _l("Too many failed checks"),
    "suspended": _l("Licence suspended"),
    "revoked": _l("Licence revoked"),
    "cancelled": _l("Licence cancelled"),
    "expired-licence": _l("Licence expired"),
    "points-full": _l("Points full: may not drive"),
    "overdue-review": _l("Overdue for review"),
    "old-code-format": _l("Old code format"),
    "undetermined": _l("Cannot be checked now"),
}


def code_step_hint() -> str:
    """The expired-code hint, naming the licence code's step."""
    return gettext(
        "Codes change every %(n)d seconds. Ask the driver to show the current code.",
        n=licencecode.CODE_STEP_SECONDS,
    )


# A firm's check with a share code fails on the share code, not on a roadside code: its words
# name the share code (the roadside verdicts "Invalid code" and "Code expired" would not).
SHARE_VERDICT_LABELS = {
    **VERDICT_LABELS,
    "invalid": _l("Wrong share code or last 6 characters of the licence number"),
    "expired-code": _l("Share code expired or cancelled by the holder"),
    "throttled": _l("Too many failed checks of this share code"),
}

VERDICT_HINTS = {
    "invalid": _l(
        "This code does not belong to any licence. Ask the driver to show the code again."
    ),
    # Read when shown, so that it names the step in force (the licence measure's setting).
    "expired-code": LazyString(code_step_hint),
    "used-code": _l(
        "Each code can be checked once, and this one was: that says nothing against the "
        "licence. Ask the driver for the next code."
    ),
    "throttled": _l("Checks of this licence are paused after repeated wrong codes. Try later."),
    "old-code-format": _l(
        "This QR code comes from an old version of the code page and can no longer be checked. "
        "Ask the driver to refresh the code page and show the new QR code."
    ),
    "undetermined": _l(
        "The city that issued this licence did not answer in time. This does not mean the "
        "licence is invalid: check it another way (the paper licence, the police system, or "
        "again in a moment)."
    ),
}

# An "undetermined" verdict in the words of why the issuing city was not asked, when it was not
# a question of time (RelayedResult.reason): waiting a moment will not help.
UNDETERMINED_HINTS = {
    "unclaimed": _l(
        "This key is not one of this city's, and no city this deployment exchanges checks with "
        "claims it: it may be another city's, or mistyped, and cannot be checked here. Scan the "
        "QR code instead (it names its city), or check the licence another way."
    ),
    "suspended": _l(
        "This deployment's exchange with the city that issued this licence is paused, so that "
        "city cannot be asked: this says nothing against the licence. Check it another way "
        "(the paper licence, the police system); this deployment's administrator knows when "
        "the exchange resumes."
    ),
}

# A "throttled" verdict in the words of the lock that refused it (the verdict meta stays
# "throttled"): a locked client address says nothing about the licence, and a paused typed
# check still leaves the QR.
LOCK_LABELS = {
    "client": _l("Checks from this address are paused"),
    "network": _l("Typed checks from your network are paused"),
    "licence": _l("Typed checks of this licence are paused"),
    "share": _l("Checks of this share code are paused"),
}
LOCK_HINTS = {
    "client": _l(
        "Too many look-ups from this network address found no licence or share code, so its "
        "checks are paused for a while. This says nothing about any licence. Try again later."
    ),
    "network": _l(
        "Too many wrong codes for this licence were typed from your network. Wait, then type "
        "the current code, or scan the driver's QR code."
    ),
    "licence": _l(
        "Typed checks of this licence are paused after repeated wrong codes from many places. "
        "Scan the driver's QR code instead, or try later."
    ),
    "share": _l(
        "This share code is paused after repeated wrong licence numbers. Try later, or ask "
        "the holder for a new share code."
    ),
}

# Why a photo of a QR gave no check, and what the inspector can do about it.
PHOTO_ERRORS = {
    "missing": _l("Take or choose a photo of the driver's QR code."),
    "not-image": _l("This file is not a photo we can read. Take the photo again."),
    "too-large": _l("This photo is too large. Take it again at the camera's normal size."),
    "no-code": _l("No QR code could be read in this photo."),
    "not-licence": _l("This QR code is not a licence code of this city's verifier."),
    "too-many": _l(
        "Too many photos from this network in the last minutes. Type the licence key and "
        "code below, or try a photo again in a few minutes."
    ),
}
PHOTO_HINT = _l(
    "Hold the phone steady, fill the frame with the QR code, avoid glare on the screen, and "
    "take the photo again. You can also type the licence key and code below."
)

CHECKER_LABELS = {
    "anonymous": _l("Someone not logged in"),
    "inspector": _l("Police inspector"),
    "staff": _l("Staff"),
    "firm": _l("Firm with a share code"),
}

VIA_LABELS = {
    "qr": _l("QR scan"),
    "typed": _l("Typed code"),
    "json": _l("Integration"),
    "share": _l("Share code"),
    "photo": _l("Photo of the QR"),
}

ISSUE_REASONS = {
    "no-record": _l(
        "No driving licence of this city is recorded under your ID number. If you hold one, "
        "contact the vehicle office."
    ),
    "name-mismatch": _l(
        "The name on your account differs from the name on your licence record. If your "
        "account's name is mistyped, ask for a correction below; a clerk checks it."
    ),
    "identity-unproven": _l(
        "First prove that your ID number is yours: by a code sent to the mobile number "
        "recorded at the vehicle office, or at an office counter with your ID card."
    ),
}


# What happens next and what the holder can do, one sentence per standing: shown when an
# e-licence is refused and on the licence home meanwhile.
# 满分学习 and the theory exam are those of the Ministry's Order 162 for a 12-point cycle.
NEXT_STEPS = {
    "points_full": _l(
        "Your licence has 12 penalty points: attend the seven-day road-safety study at the "
        "vehicle office, then pass the theory exam; the points are cleared and "
        "you may apply again."
    ),
    "suspended": _l(
        "Your licence is suspended: you may not drive until the suspension ends and the "
        "vehicle office restores it."
    ),
    "revoked": _l(
        "Your licence is revoked: you may not drive. Ask the vehicle office when you may apply "
        "for a new licence (the law sets a waiting period)."
    ),
    "cancelled": _l(
        "Your licence is cancelled: to drive again you must apply for a new licence and pass "
        "its exams."
    ),
    "overdue_review": _l(
        "Your licence is overdue for its review: bring your ID card and a medical "
        "certificate to any vehicle office to have it reviewed."
    ),
    "expired": _l(
        "Your licence has expired: renew it at any vehicle office with your ID card and a "
        "medical certificate, then apply again."
    ),
}

# What a standing means for the e-licence, said only to a holder who has one (a holder refused
# an e-licence, or who never applied, is not told of one).
ELICENCE_MEANWHILE = {
    "suspended": _l(
        "The e-licence cannot be used meanwhile, and a check shows the licence as not valid; "
        "once the licence is restored, the e-licence works again without a new application."
    ),
}
ELICENCE_MEANWHILE_ANY = _l(
    "The e-licence cannot be used meanwhile, and a check shows the licence as not valid."
)

CORRECTION_LABELS = {
    "pending": _l("Waiting for a clerk"),
    "approved": _l("Approved"),
    "refused": _l("Refused"),
}

# Record fields a licence clerk may correct (with a reason, audited, the holder told).
CORRECTABLE_FIELDS = {
    "name": _l("Name"),
    "sex": _l("Sex"),
    "birth_date": _l("Date of birth"),
    "nationality": _l("Nationality"),
    "address": _l("Address"),
}

# The nationality as records write it (in Chinese), in the reader's language; another value is
# shown as written.
NATIONALITY_NAMES = {"中国": _l("China")}


def labels() -> dict:
    """The label tables, for templates."""
    return {
        "STATUS_LABELS": STATUS_LABELS,
        "VERDICT_LABELS": VERDICT_LABELS,
        "SHARE_VERDICT_LABELS": SHARE_VERDICT_LABELS,
        "VERDICT_HINTS": VERDICT_HINTS,
        "UNDETERMINED_HINTS": UNDETERMINED_HINTS,
        "LOCK_LABELS": LOCK_LABELS,
        "LOCK_HINTS": LOCK_HINTS,
        "CHECKER_LABELS": CHECKER_LABELS,
        "VIA_LABELS": VIA_LABELS,
        "ISSUE_REASONS": ISSUE_REASONS,
        "NEXT_STEPS": NEXT_STEPS,
        "ELICENCE_MEANWHILE": ELICENCE_MEANWHILE,
        "ELICENCE_MEANWHILE_ANY": ELICENCE_MEANWHILE_ANY,
        "CORRECTION_LABELS": CORRECTION_LABELS,
        "CORRECTABLE_FIELDS": CORRECTABLE_FIELDS,
        "NATIONALITY_NAMES": NATIONALITY_NAMES,
        "PHOTO_ERRORS": PHOTO_ERRORS,
        "PHOTO_HINT": PHOTO_HINT,
        "CODE_STEP_SECONDS": licencecode.CODE_STEP_SECONDS,
    }
