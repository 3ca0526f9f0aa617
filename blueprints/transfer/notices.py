"""The notices of a transfer case (core.notices): who is told what at each step.

The seller's account is found by ID number, so the seller is told only once that number is
proven (as they may act on the case only then: service.case_roles); the buyer always.

A case opened in another city's deployment has its seller here, at the origin: the origin tells
them (`tell_seller_at_origin`) as its outgoing record moves, with the same words as the
in-database path, linked to the outgoing record's page and naming the destination office as
its deployment named it (network.py calls it in the handler's or the step's transaction).
"""

import datetime as dt

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from core.identity import identity_proven
from core.notices import KINDS, kind, notify
from models import User, Vehicle
from rules.clock import BEIJING
from rules.validators import display_plate

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
        "Bring the vehicle, its registration certificate and your ID card to "
        "%(destination_office)s (%(destination_office_address)s) during office hours for its "
        "inspection. Meanwhile you can choose the new plate number on the case page."
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
        "then bring the vehicle, its registration certificate and your ID card back to "
        "%(destination_office)s (%(destination_office_address)s) during office hours. If the "
        "vehicle cannot pass, the clerk ends the case."
    ),
    prepare=_reasons,
    **CASE_PAGE,
)
kind(
    "transfer.inspection_passed",
    title=_l("%(plate)s passed its inspection"),
    what=_l(
        "On %(inspected_on)s %(destination_office)s inspected %(plate)s and it passed "
        "(case %(case_no)s)."
    ),
    next_step=_l(
        "Nothing to bring now: %(destination_office)s has asked %(origin_office)s for the "
        "vehicle's archive. You will be told when it arrives."
    ),
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
        "(%(destination_office_address)s) with your ID card, during office hours."
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


def _stop_words(params: dict) -> dict:
    """The reasons in words, and the office that answers questions about the stop: the origin
    when it refused the archive (its reason), else the destination, which stopped the case."""
    refused = any(r.get("code") == "archive_refused" for r in params.get("reasons") or [])
    office = params.get("origin_office" if refused else "destination_office", "")
    return {**_reasons(params), "ask_office": office}


kind(
    "transfer.stopped",
    title=_l("Transfer case %(case_no)s was stopped"),
    what=_l("The transfer of %(plate)s was stopped: %(reasons)s"),
    next_step=_l(
        "This case cannot go on. Should the sale go ahead after all (the cause dealt with), a "
        "new case is opened with the invoice; %(ask_office)s answers questions."
    ),
    prepare=_stop_words,
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


# A party who had confirmed and then withdrew: not a refusal of the sale, as the other party
# might read "declined".
kind(
    "transfer.withdrew",
    title=_l("The %(party)s withdrew from the sale of %(plate)s"),
    what=_l(
        "The %(party)s withdrew from the sale of %(plate)s after confirming it: case %(case_no)s "
        "is cancelled."
    ),
    next_step=_l("Nothing happens to the vehicle. A new sale needs a new case."),
    prepare=_party,
    **CASE_PAGE,
)


# The notices that ask a party to confirm the sale: settled (read) once they confirmed, or once
# the case closed (core.notices.settle).
ASKED_TO_CONFIRM = ("transfer.confirm_sale", "transfer.confirm_purchase")


def case_params(case) -> dict:
    """What every transfer notice names: the case, the vehicle, the offices."""
    vehicle = Vehicle.get_by_id(case.vehicle_id)
    return {
        "case_id": case.id,
        "case_no": case.number,
        "plate": display_plate(vehicle.plate),  # as the pages write it: 鲁B·12345
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


# --- At the origin: the seller of a case opened in another city's deployment ---------------

OUTGOING_PAGE = {"endpoint": "transfer.outgoing_case", "args": ("out_id",)}
ORIGIN_PREFIX = "transfer.outgoing."


def _destination_named(params: dict) -> dict:
    """The destination office and its city in the reader's language, from the names its
    deployment sent (it is not an office of this database)."""
    dest = params.get("destination") or {}
    english = str(get_locale()).startswith("en")
    office = (dest.get("name_en") if english else "") or dest.get("name", "")
    city = (dest.get("city_en") if english else "") or dest.get("city", "")
    return {**params, "destination_office": office, "destination_office_city": city}


def _at_origin(name: str, **words) -> None:
    """Register the origin's twin of the seller's notice `transfer.<name>`: the same words
    (unless `words` replace some), linked to the outgoing record."""
    spec = KINDS[f"transfer.{name}"]

    def prepare(params: dict, _inner=spec.prepare) -> dict:
        """The destination's names first, then the kind's own parameters."""
        params = _destination_named(params)
        return _inner(params) if _inner else params

    kind(
        ORIGIN_PREFIX + name,
        title=words.get("title", spec.title),
        what=words.get("what", spec.what),
        next_step=words.get("next_step", spec.next_step),
        prepare=prepare,
        **OUTGOING_PAGE,
    )


for _name in (
    "confirm_sale",
    "sale_confirmed",
    "inspection_failed_seller",
    "sold",
    "stopped",
    "declined",
    "withdrew",
):
    _at_origin(_name)
# A seller who confirmed here and then withdrew (network_origin.seller_withdraw): the buyer's
# city cancels the case, unless the buyer had confirmed there first.
kind(
    ORIGIN_PREFIX + "withdrawn",
    title=_l("You withdrew from the sale of %(plate)s"),
    what=_l(
        "%(destination_office)s cancelled case %(case_no)s at your request; the buyer is told."
    ),
    next_step=_l("Nothing happens to the vehicle. A new sale needs a new case."),
    prepare=_destination_named,
    **OUTGOING_PAGE,
)
kind(
    ORIGIN_PREFIX + "withdraw_too_late",
    title=_l("The sale of %(plate)s goes on"),
    what=_l(
        "The buyer had confirmed the sale in %(destination_office_city)s before your withdrawal "
        "arrived: case %(case_no)s goes on."
    ),
    next_step=_l(
        "To stop it, ask %(destination_office)s: until it asks for the vehicle's archive, it "
        "stops a confirmed case at the request of buyer or seller."
    ),
    prepare=_destination_named,
    **OUTGOING_PAGE,
)
# At the origin the vehicle stays registered to the seller until the destination registers it.
_at_origin(
    "archive_sent",
    what=_l(
        "%(origin_office)s sent the vehicle's archive to %(destination_office)s "
        "(case %(case_no)s). %(plate)s stays registered to you here until that office "
        "registers it to its buyer."
    ),
)


def beijing_day(at: dt.datetime) -> str:
    """The Beijing date (ISO) of a UTC time, as notices name days."""
    return at.replace(tzinfo=dt.UTC).astimezone(BEIJING).date().isoformat()


def tell_seller_at_origin(out, name: str, **extra) -> None:
    """Tell the seller of an outgoing record (once their ID number is proven, as for the
    in-database path) that its case moved: the origin's twin of `transfer.<name>`."""
    seller = User.get_by_id(out.seller_id)
    if not identity_proven(seller):
        return
    vehicle = Vehicle.get_by_id(out.vehicle_id)
    dest = out.destination_office
    params = {
        "out_id": out.id,
        "case_no": out.case_number,
        "plate": display_plate(vehicle.plate),
        "invoice_no": out.invoice_no,
        "origin_office_id": vehicle.registration_office_id,
        "destination": {k: str(dest.get(k, "")) for k in ("name", "name_en", "city", "city_en")},
    }
    notify(seller, ORIGIN_PREFIX + name, **{**params, **extra})
