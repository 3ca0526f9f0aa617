"""The notices of a transfer case (core.notices): who is told what at each step.

The seller's account is found by ID number, so the seller is told only once that number is
proven (as they may act on the case only then: service.case_roles); the buyer always.
"""

from flask_babel import lazy_gettext as _l

from core.identity import identity_proven
from core.notices import kind, notify
from models import User, Vehicle

from .labels import PARTY_LABELS, reason_text

CASE_PAGE = {"endpoint": "transfer.case", "args": ("case_id",)}


def _reasons(params: dict) -> dict:
    """The stop reasons as sentences in the reader's language."""
    reasons = params.get("reasons") or []
    return {**params, "reasons": " ".join(reason_text(r) for r in reasons)}


def _party(params: dict) -> dict:
    """Seller or buyer in the reader's language."""
    label = PARTY_LABELS.get(params.get("party"), params.get("party", ""))
    return {**params, "party": str(label).lower()}


kind(
    "transfer.confirm_sale",
    title=_l("Your sale of %(plate)s waits for your confirmation"),
    what=_l(
        "Transfer case %(case_no)s was opened for the sale of your vehicle %(plate)s to a buyer "
        "registering it in %(destination_office_city)s (invoice %(invoice_no)s)."
    ),
    next_step=_l(
        "Confirm the sale, or decline it, on the case page. Nothing happens to the vehicle "
        "until both the buyer and you have confirmed."
    ),
    **CASE_PAGE,
)
kind(
    "transfer.confirm_purchase",
    title=_l("Your purchase of %(plate)s waits for your confirmation"),
    what=_l(
        "Transfer case %(case_no)s was opened for your purchase of vehicle %(plate)s "
        "(invoice %(invoice_no)s)."
    ),
    next_step=_l("Confirm the purchase, or decline it, on the case page."),
    **CASE_PAGE,
)
kind(
    "transfer.bring_for_inspection",
    title=_l("Bring %(plate)s for inspection"),
    what=_l("Both the seller and you confirmed the sale of %(plate)s (case %(case_no)s)."),
    next_step=_l(
        "Bring the vehicle and your ID card to %(destination_office)s "
        "(%(destination_office_city)s) during office hours for its inspection. Meanwhile you "
        "can choose the new plate number on the case page."
    ),
    **CASE_PAGE,
)
kind(
    "transfer.sale_confirmed",
    title=_l("The sale of %(plate)s is confirmed"),
    what=_l("Both the buyer and you confirmed the sale of %(plate)s (case %(case_no)s)."),
    next_step=_l(
        "Hand the vehicle over to the buyer for its inspection at %(destination_office)s. "
        "Nothing else is needed from you; you will be told when the archive leaves."
    ),
    **CASE_PAGE,
)
kind(
    "transfer.inspection_failed",
    title=_l("%(plate)s failed its inspection"),
    what=_l(
        "On %(inspected_on)s %(destination_office)s inspected %(plate)s and it failed "
        "(case %(case_no)s): %(reasons)s"
    ),
    next_step=_l(
        "The case stays open: the clerk may inspect the vehicle again. Put right what failed, "
        "then bring the vehicle and your ID card back to %(destination_office)s "
        "(%(destination_office_city)s) during office hours. If the vehicle cannot pass, the "
        "clerk ends the case."
    ),
    prepare=_reasons,
    **CASE_PAGE,
)
kind(
    "transfer.inspection_failed_seller",
    title=_l("%(plate)s failed its inspection"),
    what=_l(
        "On %(inspected_on)s %(destination_office)s inspected %(plate)s, which you are selling, "
        "and it failed (case %(case_no)s): %(reasons)s"
    ),
    next_step=_l(
        "The case stays open: the clerk may inspect the vehicle again once the buyer brings it "
        "back to %(destination_office)s. Nothing is needed from you unless the buyer or the "
        "office asks; you will be told how the case goes on."
    ),
    prepare=_reasons,
    **CASE_PAGE,
)
kind(
    "transfer.archive_sent",
    title=_l("The archive of %(plate)s has left %(origin_office)s"),
    what=_l(
        "%(origin_office)s sent the vehicle's archive to %(destination_office)s: "
        "%(plate)s is no longer registered to you there (case %(case_no)s)."
    ),
    next_step=_l("Nothing to do. You will be told when the vehicle is registered to its buyer."),
    **CASE_PAGE,
)
kind(
    "transfer.archive_arrived",
    title=_l("The archive of %(plate)s has arrived"),
    what=_l(
        "The vehicle's archive arrived at %(destination_office)s from %(origin_office)s "
        "(case %(case_no)s)."
    ),
    next_step=_l(
        "The office now registers the vehicle to you; you will be told when the plates and the "
        "certificate are ready. Choose the plate number on the case page if you have not yet."
    ),
    **CASE_PAGE,
)
kind(
    "transfer.registered",
    title=_l("Plates %(new_plate)s and the certificate are ready"),
    what=_l(
        "The vehicle is registered to you under plate %(new_plate)s, registration certificate "
        "%(certificate_no)s (case %(case_no)s)."
    ),
    next_step=_l(
        "Collect the plates and the registration certificate at %(destination_office)s "
        "(%(destination_office_city)s) with your ID card, during office hours."
    ),
    **CASE_PAGE,
)
kind(
    "transfer.sold",
    title=_l("The sale of %(plate)s is complete"),
    what=_l(
        "The vehicle is registered to its buyer in %(destination_office_city)s (case %(case_no)s)."
    ),
    next_step=_l("Nothing left to do. Keep the invoice %(invoice_no)s with your papers."),
    **CASE_PAGE,
)
kind(
    "transfer.stopped",
    title=_l("Transfer case %(case_no)s was stopped"),
    what=_l("The transfer of %(plate)s was stopped: %(reasons)s"),
    next_step=_l(
        "This case cannot go on. Once the cause is dealt with, a new case can be opened with the "
        "invoice; %(destination_office)s answers questions."
    ),
    prepare=_reasons,
    **CASE_PAGE,
)
kind(
    "transfer.declined",
    title=_l("The sale of %(plate)s was declined"),
    what=_l("The %(party)s declined the sale of %(plate)s: case %(case_no)s is closed."),
    next_step=_l("Nothing happens to the vehicle. A new sale needs a new case."),
    prepare=_party,
    **CASE_PAGE,
)


def case_params(case) -> dict:
    """What every transfer notice names: the case, the vehicle, the offices."""
    vehicle = Vehicle.get_by_id(case.vehicle_id)
    return {
        "case_id": case.id,
        "case_no": case.number,
        "plate": vehicle.plate,
        "invoice_no": case.invoice_no,
        "origin_office_id": case.origin_office_id,
        "destination_office_id": case.destination_office_id,
    }


def tell(case, kind_name: str, *parties: str, **extra) -> None:
    """Tell the case's `parties` ("seller", "buyer"; both when none named), inside the step's
    write transaction."""
    params = {**case_params(case), **extra}
    for party in parties or ("seller", "buyer"):
        user_id = case.seller_id if party == "seller" else case.buyer_id
        if user_id is None:
            continue  # a seller registered in another city's deployment: that deployment tells
        user = User.get_by_id(user_id)
        if party == "seller" and not identity_proven(user):
            continue
        notify(user, kind_name, **params)
