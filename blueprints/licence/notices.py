"""The notices of a driving licence (core.notices): the e-licence issued, the licence's
status changed by a clerk, with the clerk's reason, a field of the record corrected, and a name
correction request (姓名更正申请) decided.

The holder is found by ID number (the licence number), so the notice reaches an account only
once it proved that number. A name correction's decision goes to the account that asked (only
a proven account may ask: blueprints.licence.corrections).
"""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.notices import kind, notify, notify_holder
from models.licence import CORRECTION_APPROVED
from rules.validators import mask_id

from .labels import CORRECTABLE_FIELDS, STATUS_LABELS

HOME = {"endpoint": "licence.index"}


def _status(params: dict) -> dict:
    """The status in the reader's language."""
    label = STATUS_LABELS.get(params.get("status"), params.get("status", ""))
    # Mid-sentence ("Your driving licence is suspended"): a label's capital is for a heading.
    return {**params, "status": str(label).lower()}


def _field(params: dict) -> dict:
    """The corrected field's name in the reader's language (in the middle of a sentence)."""
    label = CORRECTABLE_FIELDS.get(params.get("field"), params.get("field", ""))
    return {**params, "field": str(label).lower()}


def _answer(params: dict) -> dict:
    """The clerk's answer as a sentence of its own, or nothing when the clerk wrote none."""
    answer = params.get("answer") or ""
    return {
        **params,
        "answer": _("The clerk's answer: %(answer)s", answer=answer) if answer else "",
    }


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


kind(
    "licence.record_corrected",
    title=_l("Your licence record was corrected"),
    what=_l(
        "On %(changed_on)s %(office)s corrected the %(field)s on your driving licence record "
        "%(licence_no)s: %(reason)s"
    ),
    next_step=_l(
        "Check the licence page: the e-licence shows the record as corrected. If the correction "
        "is wrong, bring your ID card to %(office)s."
    ),
    prepare=_field,
    **HOME,
)
kind(
    "licence.name_corrected",
    title=_l("The name on your account is corrected"),
    what=_l(
        "A licence clerk approved your request: the name on your account is now %(new_name)s. "
        "%(answer)s"
    ),
    next_step=_l("Nothing to do. The correction request page keeps the decision."),
    endpoint="licence.name_correction",
    prepare=_answer,
)
kind(
    "licence.name_correction_refused",
    title=_l("Your name correction request was refused"),
    what=_l(
        "A licence clerk refused to change the name on your account to %(new_name)s. %(answer)s"
    ),
    next_step=_l(
        "If your ID card shows another name, ask again on the correction request page with a "
        "note, or bring the ID card to a vehicle office counter."
    ),
    endpoint="licence.name_correction",
    prepare=_answer,
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


def tell_corrected(record, field: str, reason: str, office_id, changed_on: str) -> None:
    """A clerk corrected a field of the record: its proven holder learns which one and why
    (inside the correction's transaction). The values stay out of the notice, which may travel
    by SMS or e-mail; the licence page shows them."""
    notify_holder(
        record.licence_no,
        "licence.record_corrected",
        field=field,
        reason=reason,
        licence_no=mask_id(record.licence_no),
        office_id=office_id or record.issuing_office_id,
        changed_on=changed_on,
    )


def tell_name_decision(request) -> None:
    """A name correction request was decided: the account that asked learns the decision and
    the clerk's answer (inside the decision's transaction)."""
    approved = request.status == CORRECTION_APPROVED
    notify(
        request.user_id,
        "licence.name_corrected" if approved else "licence.name_correction_refused",
        new_name=request.new_name,
        answer=request.answer,
    )
