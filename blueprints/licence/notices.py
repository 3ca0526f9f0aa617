"""The notices of a driving licence (core.notices): the e-licence issued, and the licence's
status changed by a clerk, with the clerk's reason.

The holder is found by ID number (the licence number), so the notice reaches an account only
once it proved that number.
"""

from flask_babel import lazy_gettext as _l

from core.notices import kind, notify, notify_holder
from rules.validators import mask_id

from .labels import STATUS_LABELS

HOME = {"endpoint": "licence.index"}


def _status(params: dict) -> dict:
    """The status in the reader's language."""
    label = STATUS_LABELS.get(params.get("status"), params.get("status", ""))
    return {**params, "status": str(label)}


kind(
    "licence.issued",
    title=_l("Your e-licence is issued"),
    what=_l("Your electronic driving licence (电子驾驶证) for licence %(licence_no)s is ready."),
    next_step=_l(
        "Show it, or its code, at roadside checks and at the vehicle office instead of the paper "
        "licence. Keep your phone's screen lock on."
    ),
    **HOME,
)
kind(
    "licence.restricted",
    title=_l("Your driving licence is %(status)s"),
    what=_l("On %(changed_on)s %(office)s set your licence to %(status)s: %(reason)s"),
    next_step=_l(
        "You may not drive meanwhile, and the e-licence cannot be used to drive. Questions and "
        "objections go to %(office)s."
    ),
    prepare=_status,
    **HOME,
)
kind(
    "licence.restored",
    title=_l("Your driving licence is valid again"),
    what=_l("On %(changed_on)s %(office)s restored your licence: %(reason)s"),
    next_step=_l("You may drive again; the e-licence shows the licence as valid."),
    prepare=_status,
    **HOME,
)


def tell_issued(user, record) -> None:
    """The e-licence was issued to the account that applied (inside the issue's transaction)."""
    notify(user, "licence.issued", licence_no=mask_id(record.licence_no))


def tell_status(record, changed_on: str) -> None:
    """The record's status changed (inside the change's transaction)."""
    kind_name = "licence.restored" if record.status == "valid" else "licence.restricted"
    notify_holder(
        record.licence_no,
        kind_name,
        status=record.status,
        reason=record.status_reason or "",
        office_id=record.issuing_office_id,
        changed_on=changed_on,
    )
