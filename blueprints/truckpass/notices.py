"""The notices of a truck pass (core.notices): its applicant is told each decision, and the
truck's owner when a pass is issued for their truck on someone else's application."""

from flask_babel import lazy_gettext as _l

from core.identity import identity_proven
from core.notices import kind, notify
from models import User, Vehicle
from models.truckpass import APPROVED, PENDING_REVIEW, REFUSED, RETURNED, REVOKED, WITHDRAWN
from rules.validators import display_plate

from .labels import reason_words

PASS_PAGE = {"endpoint": "truckpass.show", "args": ("pass_id",)}
KIND_OF_STATUS = {
    APPROVED: "truckpass.approved",
    REFUSED: "truckpass.refused",
    PENDING_REVIEW: "truckpass.queued",
    REVOKED: "truckpass.revoked",
    # The applicant's own take-backs: the newest notice says where the pass stands (an older
    # one said a clerk would decide, or that the pass was issued), and a take-back the holder
    # did not make does not go unseen.
    WITHDRAWN: "truckpass.withdrawn",
    RETURNED: "truckpass.returned",
}


def _reason(params: dict) -> dict:
    """The reason in the reader's language: codes by their label, a clerk's words as written."""
    return {**params, "reason": reason_words(params.get("reason"))}


kind(
    "truckpass.approved",
    title=_l("Truck pass for %(plate)s issued"),
    what=_l("Your truck pass for %(plate)s is valid from %(start_on)s to %(end_on)s."),
    next_step=_l(
        "The driver shows the pass's code at checks; open the pass to see its zones and hours."
    ),
    prepare=_reason,
    **PASS_PAGE,
)
kind(
    "truckpass.queued",
    title=_l("Truck pass for %(plate)s: a clerk reviews it"),
    what=_l("Your application needs a clerk's review: %(reason)s."),
    next_step=_l(
        "Nothing to do meanwhile: the truck-pass office decides it and you will be told. "
        "Do not drive into the zones before the pass is issued."
    ),
    prepare=_reason,
    **PASS_PAGE,
)
kind(
    "truckpass.refused",
    title=_l("Truck pass for %(plate)s refused"),
    what=_l("Your application was refused: %(reason)s"),
    next_step=_l(
        "You may apply again once the cause is dealt with; the truck-pass office answers questions."
    ),
    prepare=_reason,
    **PASS_PAGE,
)
kind(
    "truckpass.revoked",
    title=_l("Truck pass for %(plate)s revoked"),
    what=_l("Your truck pass was revoked: %(reason)s"),
    next_step=_l(
        "The pass can no longer be used, from now on. Apply for a new one if the truck still "
        "needs to enter the zones."
    ),
    prepare=_reason,
    **PASS_PAGE,
)

kind(
    "truckpass.withdrawn",
    title=_l("Truck-pass application for %(plate)s withdrawn"),
    what=_l(
        "Your application for %(plate)s, %(start_on)s to %(end_on)s, was withdrawn: no clerk "
        "will decide it."
    ),
    next_step=_l(
        "Nothing more to do. If you did not withdraw it, change your password and apply again."
    ),
    **PASS_PAGE,
)
kind(
    "truckpass.returned",
    title=_l("Truck pass for %(plate)s returned"),
    what=_l(
        "Your truck pass for %(plate)s, %(start_on)s to %(end_on)s, was returned: checks say so "
        "from now on."
    ),
    next_step=_l(
        "Apply for a new one if the truck needs to enter the zones again. If you did not return "
        "it, change your password."
    ),
    **PASS_PAGE,
)


kind(
    "truckpass.issued_to_another",
    title=_l("A truck pass for your truck %(plate)s was issued"),
    what=_l(
        "A pass for your truck %(plate)s, %(start_on)s to %(end_on)s, was issued on another "
        "person's application (a driver or a company that uses the truck)."
    ),
    next_step=_l(
        "Nothing to do if you agreed to it. If you did not, call the truck-pass office: it can "
        "revoke the pass."
    ),
)


def _tell_owner(truck_pass) -> None:
    """An issued pass for a truck whose owner did not apply: the owner is told (once their
    account proved the ID number the truck is registered under: to anyone else the truck's
    plate and dates are no business)."""
    owner_id = Vehicle.select(Vehicle.owner).where(Vehicle.id == truck_pass.vehicle_id).scalar()
    if owner_id is None or owner_id == truck_pass.applicant_id:
        return
    owner = User.get_or_none(User.id == owner_id)
    if owner is not None and identity_proven(owner):
        notify(
            owner,
            "truckpass.issued_to_another",
            plate=display_plate(truck_pass.plate),
            start_on=truck_pass.start_date.isoformat(),
            end_on=truck_pass.end_date.isoformat(),
        )


def tell_applicant(truck_pass) -> None:
    """Tell the applicant where the pass stands now (inside the decision's transaction)."""
    kind_name = KIND_OF_STATUS.get(truck_pass.status)
    if kind_name is None:
        return
    notify(
        truck_pass.applicant_id,
        kind_name,
        pass_id=truck_pass.id,
        plate=display_plate(truck_pass.plate),
        start_on=truck_pass.start_date.isoformat(),
        end_on=truck_pass.end_date.isoformat(),
        reason=truck_pass.reason or "",
    )
    if truck_pass.status == APPROVED:
        _tell_owner(truck_pass)
