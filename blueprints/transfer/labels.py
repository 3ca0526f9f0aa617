"""What the transfer measure's states, statuses, types and reasons are called, in the reader's
language. Stored values are English codes; these labels are looked up when a page is drawn."""

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from models.transfer import (
    ARCHIVE_RECEIVED,
    ARCHIVE_REFUSED,
    ARCHIVE_REQUESTED,
    ARCHIVE_SENT,
    ARCHIVE_WITHDRAWN,
    AWAITING_ARCHIVE,
    AWAITING_CONFIRMATION,
    AWAITING_INSPECTION,
    CANCELLED,
    INSPECTION_FAILED,
    REGISTERED,
    STOPPED,
)
from rules.validators import display_plate

from .checks import waits_for_permit

STATE_LABELS = {
    AWAITING_CONFIRMATION: _l("Awaiting confirmation by seller and buyer"),
    AWAITING_INSPECTION: _l("Awaiting inspection"),
    INSPECTION_FAILED: _l("Failed inspection, may be inspected again"),
    AWAITING_ARCHIVE: _l("Awaiting the archive from the other city"),
    ARCHIVE_RECEIVED: _l("Archive received, awaiting registration"),
    REGISTERED: _l("Registered to the buyer"),
    STOPPED: _l("Stopped"),
    # Not "Cancelled": that word is the licence's status (注销, deregistered) in the catalogue.
    # A sale a party declined or withdrew from is called off (取消): not the licence's
    # "Cancelled" (注销, deregistered).
    CANCELLED: _l("Called off"),
}

# What happens next and what the reader can do, one sentence per state. "permit" is the wait
# for a residence permit number within awaiting_confirmation.
# Placeholders: %(office)s and %(address)s name the destination office (where the car is
# inspected and registered), %(origin)s the office that keeps the archive.
NEXT_STEPS = {
    AWAITING_CONFIRMATION: _l(
        "Next, seller and buyer each confirm the sale on this page; when both have, the "
        "vehicle is inspected at %(office)s."
    ),
    # The same step when the seller confirms in the city where the vehicle is registered.
    "confirm_remote": _l(
        "Next, the buyer confirms on this page and the seller online at %(origin)s, where the "
        "vehicle is registered; when both have, the vehicle is inspected at %(office)s."
    ),
    # One of the two has confirmed: the other's confirmation is what the case waits for.
    "buyer_confirmed": _l(
        "The buyer has confirmed. Next, the seller confirms on this page; then the vehicle is "
        "inspected at %(office)s."
    ),
    "buyer_confirmed_remote": _l(
        "The buyer has confirmed. Next, the seller confirms online at %(origin)s, where the "
        "vehicle is registered; then the vehicle is inspected at %(office)s."
    ),
    "seller_confirmed": _l(
        "The seller has confirmed. Next, the buyer confirms on this page; then the vehicle is "
        "inspected at %(office)s."
    ),
    "permit": _l(
        "The case waits for the buyer's residence permit number of this city: the buyer gives "
        "it below, and the case goes on to inspection once both have confirmed."
    ),
    AWAITING_INSPECTION: _l(
        "Bring the vehicle, its registration certificate and your ID card to %(office)s "
        "(%(address)s) for inspection; a clerk reads its VIN and plate off the vehicle."
    ),
    INSPECTION_FAILED: _l(
        "The vehicle failed inspection. Remedy what the remarks say and bring it back to "
        "%(office)s (%(address)s): the clerk inspects it again."
    ),
    AWAITING_ARCHIVE: _l(
        "%(origin)s now sends the vehicle's archive online; nobody needs to travel. Meanwhile "
        "the buyer may choose a plate."
    ),
    ARCHIVE_RECEIVED: _l(
        "The archive has arrived: %(office)s now registers the vehicle to the buyer, who is told "
        "when the plates and the registration certificate can be collected at %(address)s."
    ),
    REGISTERED: _l(
        "Done: the vehicle is registered to the buyer, who collects the plates and the "
        "registration certificate at %(office)s (%(address)s) with their ID card."
    ),
    STOPPED: _l(
        "The case is closed, for the reasons shown on this page. Once they are dealt with, or "
        "when the parties agree on the sale again, the buyer may open a new case with the same "
        "invoice."
    ),
    CANCELLED: _l(
        "A party declined or withdrew from the sale (the timeline says who), and the case is "
        "closed; nothing more happens."
    ),
}

# The steps the buyer takes, as the seller reads them (the text above speaks to the buyer: the
# seller, perhaps of another city, brings nothing anywhere).
SELLER_NEXT_STEPS = {
    AWAITING_INSPECTION: _l(
        "The buyer brings the vehicle to %(office)s (%(address)s) for inspection; you need do "
        "nothing for it."
    ),
    INSPECTION_FAILED: _l(
        "The vehicle failed inspection: the buyer remedies what the remarks say and brings it "
        "back to %(office)s; you need do nothing for it."
    ),
}

# The same, as the offices' clerks read it: who acts next, in the third person (the steps
# above speak to the parties: "bring the vehicle", "remedy what the remarks say").
STAFF_NEXT_STEPS = {
    "permit": _l(
        "Waiting for the buyer to give a residence permit number of this city on their page, "
        "and for both parties' confirmations."
    ),
    AWAITING_CONFIRMATION: _l(
        "Waiting for the seller's and the buyer's confirmations: nothing for the offices to do yet."
    ),
    AWAITING_INSPECTION: _l(
        "Waiting for the buyer to bring the vehicle to %(office)s, whose clerk inspects it and "
        "records the result on this page."
    ),
    INSPECTION_FAILED: _l(
        "The vehicle failed inspection: %(office)s inspects it again when the buyer brings it "
        "back, or ends the case on the failed inspection."
    ),
    AWAITING_ARCHIVE: _l(
        "Waiting for %(origin)s to send the vehicle's archive online, or to refuse it with a "
        "reason."
    ),
    ARCHIVE_RECEIVED: _l(
        "The archive has arrived: %(office)s registers the vehicle to the buyer on this page."
    ),
}

# What the owner of a vehicle needing attention can do (the vehicle page), keyed by the cause.
VEHICLE_NEXT_STEPS = {
    "inspection": _l(
        "Take the vehicle to a safety inspection station (机动车安全技术检验机构) for its "
        "periodic inspection; until then it may not be driven on the road nor sold."
    ),
    "violations": _l(
        "Handle the violations below (pay the fine and have the points recorded) at a traffic "
        "police window or online; a sale cannot go ahead while any is unhandled."
    ),
}

# The seller's outgoing-transfer record at the origin deployment, by its state.
OUTGOING_LABELS = {
    "open": _l("Awaiting confirmation"),
    # While open, how far the case has come in the buyer's city (OutgoingTransfer.progress).
    "awaiting_buyer": _l("Awaiting the buyer's confirmation"),
    "awaiting_seller": _l("Awaiting the seller's confirmation"),
    "confirmation_sent": _l("Your confirmation is on its way to the buyer's city"),
    "awaiting_inspection": _l("Confirmed by both: the vehicle is inspected in the buyer's city"),
    "inspection_failed": _l("Failed inspection in the buyer's city: awaiting a new one"),
    "inspected": _l("Inspected in the buyer's city: awaiting the archive request"),
    "archive_requested": _l("Archive requested by the buyer's city"),
    "archive_sent": _l("Archive sent, awaiting registration there"),
    "transferred_out": _l("Transferred out: registered in the buyer's city"),
    "closed": _l("Closed without transfer"),
}

ARCHIVE_LABELS = {
    ARCHIVE_REQUESTED: _l("Requested"),
    ARCHIVE_SENT: _l("Sent"),
    ARCHIVE_REFUSED: _l("Refused"),
    ARCHIVE_WITHDRAWN: _l("Withdrawn (case stopped)"),
}

VEHICLE_STATUS_LABELS = {
    "normal": _l("Normal"),
    "mortgaged": _l("Mortgaged"),
    "seized": _l("Seized"),
    "stolen": _l("Reported stolen"),
    "scrapped": _l("Scrapped"),
    "transferred_out": _l("Transferred out"),
}

VEHICLE_TYPE_LABELS = {
    "small_car": _l("Small car"),
    "small_new_energy": _l("Small new-energy car"),
    "medium_bus": _l("Medium bus"),
    "large_bus": _l("Large bus"),
    "light_truck": _l("Light truck"),
    "medium_truck": _l("Medium truck"),
    "heavy_truck": _l("Heavy truck"),
    "tractor_unit": _l("Tractor unit"),
    "motorcycle": _l("Motorcycle"),
}

RECORD_LABELS = {
    "initial_registration": _l("First registration"),
    "transfer_registration": _l("Transfer registration"),
    "transfer_out": _l("Transferred out"),
    "mortgage": _l("Mortgage registered"),
    "mortgage_release": _l("Mortgage released"),
    "document": _l("Document filed"),
}

PARTY_LABELS = {"seller": _l("Seller"), "buyer": _l("Buyer")}

# A vehicle's colour as the registration certificate writes it (one character), in the
# reader's language; another value is shown as written.
COLOUR_LABELS = {
    "白": _l("white"),
    "黑": _l("black"),
    "银": _l("silver"),
    "灰": _l("grey"),
    "蓝": _l("blue"),
    "红": _l("red"),
    "绿": _l("green"),
    "黄": _l("yellow"),
    "棕": _l("brown"),
    "紫": _l("purple"),
}

CHECK_LABELS = {
    "vehicle_status": _l("Not mortgaged, seized, stolen or scrapped"),
    "violations": _l("No unhandled traffic violations"),
    "inspection": _l("Safety inspection valid"),
    "buyer_eligible": _l("Buyer may register a vehicle in this city"),
}

STATUS_REASONS = {
    "mortgaged": _l("The vehicle is mortgaged: the mortgage must be released first."),
    "seized": _l("The vehicle is seized by a court or another authority."),
    "stolen": _l("The vehicle is reported stolen."),
    "scrapped": _l("The vehicle has been scrapped."),
    "transferred_out": _l("The vehicle's archive has already left its registration office."),
}


def reason_text(reason: dict) -> str:
    """One stop reason (a dict stored with the case) as a sentence in the reader's language."""
    code = reason.get("code")
    if code == "vehicle_status":
        return str(STATUS_REASONS.get(reason.get("status"), reason.get("status")))
    if code == "violations":
        return _("Unhandled traffic violations: %(n)s. They must be handled first.", n=reason["n"])
    if code == "inspection":
        if reason.get("until"):
            return _("The vehicle's safety inspection expired on %(date)s.", date=reason["until"])
        return _("The vehicle has no valid safety inspection.")
    if code == "buyer_eligible":
        return _(
            "The buyer's household registration is not in %(city)s: the number of a residence "
            "permit of the city is needed.",
            city=reason.get("city", ""),
        )
    if code == "vin_mismatch":
        return _(
            "The VIN on the vehicle (%(read)s) does not match the record.", read=reason["read"]
        )
    if code == "plate_mismatch":
        return _(
            "The plate on the vehicle (%(read)s) does not match the record.", read=reason["read"]
        )
    if code == "inspection_failed":
        return _("Inspection failed: %(text)s", text=reason.get("text", ""))
    if code == "archive_refused":
        return _("The origin office refused to send the archive: %(text)s", text=reason["text"])
    if code == "withdrawn":
        return _("Withdrawn at the parties' request: %(text)s", text=reason.get("text", ""))
    if code == "origin_refused":
        return _(
            "The vehicle office of the city where the vehicle is registered cannot take part in "
            "this transfer: %(text)s",
            text=reason.get("text", ""),
        )
    return str(code)


def reasons_in_words(detail: dict) -> str | None:
    """The stop reasons an audit row keeps (`reasons`), as sentences for the audit page."""
    return " ".join(reason_text(r) for r in detail.get("reasons") or ()) or None


def event_text(event) -> str:
    """One timeline entry as a sentence in the reader's language."""
    d = event.detail_dict
    kind = event.kind
    if kind == "opened":
        return _("Case opened with invoice %(no)s.", no=d.get("invoice_no", ""))
    if kind == "confirmed":
        if d.get("party") == "seller":
            return _("The seller confirmed the sale.")
        return _("The buyer confirmed the sale.")
    if kind == "to_inspection":
        return _("Confirmed by both: the vehicle is to be inspected.")
    if kind == "withdraw_asked":
        return _(
            "The seller withdrew from the sale; the buyer's city cancels the case unless "
            "the buyer confirmed first."
        )
    if kind == "declined" and d.get("withdrawn"):  # a party who had confirmed
        if d.get("party") == "seller":
            return _("The seller withdrew from the sale; the case is cancelled.")
        return _("The buyer withdrew from the sale; the case is cancelled.")
    if kind == "declined":
        if d.get("party") == "seller":
            return _("The seller declined the sale; the case is withdrawn.")
        return _("The buyer declined the sale; the case is withdrawn.")
    if kind == "inspected":
        if d.get("passed") and not d.get("photos"):
            return _("The vehicle was inspected and passed.")
        if d.get("passed"):
            return ngettext(
                "The vehicle was inspected and passed (%(num)d photo).",
                "The vehicle was inspected and passed (%(num)d photos).",
                int(d.get("photos", 0)),
            )
        return _("The vehicle was inspected and failed.")
    if kind == "permit_given":
        return _("The buyer gave the residence permit number.")
    if kind == "reinspection":
        return _("The vehicle is to be inspected again.")
    if kind == "archive_requested":
        return _("The archive was requested from the registration office.")
    if kind == "archive_sent":
        return _(
            "The archive was sent online; the vehicle is transferred out once the buyer's city "
            "registers it."
        )
    if kind == "archive_refused":
        return _("The registration office refused to send the archive.")
    if kind == "archive_received":
        return _("The archive arrived and its checksum was verified.")
    if kind == "plate_chosen":
        return _("The buyer chose the plate %(plate)s.", plate=display_plate(d.get("plate")))
    if kind == "registered":
        return _(
            "Registered to the buyer under the plate %(plate)s.",
            plate=display_plate(d.get("plate")),
        )
    if kind == "stopped":
        return _("The case was stopped.")
    return kind


def _awaited_confirmation(case, remote_seller: bool) -> str:
    """The NEXT_STEPS key of a case awaiting confirmation, as it stands: who has confirmed
    already, and whose confirmation is awaited (the seller's elsewhere when `remote_seller`)."""
    if case.buyer_confirmed_at and not case.seller_confirmed_at:
        return "buyer_confirmed_remote" if remote_seller else "buyer_confirmed"
    if case.seller_confirmed_at and not case.buyer_confirmed_at:
        return "seller_confirmed"
    return "confirm_remote" if remote_seller else AWAITING_CONFIRMATION


def next_step(
    case, locale: str, remote_seller: bool = False, staff: bool = False, seller: bool = False
) -> str:
    """What happens next in the case and what the reader can do, in one sentence
    (`remote_seller`: the seller confirms in the deployment where the vehicle is registered;
    `staff`: the reader is one of the offices' clerks; `seller`: the reader is the seller)."""
    key = case.state
    if key == AWAITING_CONFIRMATION and case.is_open and waits_for_permit(case):
        key = "permit"
    if staff and key in STAFF_NEXT_STEPS:
        text = STAFF_NEXT_STEPS[key]
    elif seller and key in SELLER_NEXT_STEPS:
        text = SELLER_NEXT_STEPS[key]
    else:
        if key == AWAITING_CONFIRMATION and case.is_open:
            key = _awaited_confirmation(case, remote_seller)
        text = NEXT_STEPS[key]
    office = case.destination_office
    return str(text) % {
        "office": office.display_name(locale),
        "address": office.display_address(locale) or _("address at the office's counter"),
        "origin": case.origin_office.display_name(locale),
    }


def label(table: dict, value) -> str:
    """A label from one of the tables above (the raw value when it has none)."""
    return str(table.get(value, value))


def fmt_price(price) -> str:
    """An invoice's price as both cities' pages write it: ¥56,000.00 (the origin keeps the
    price as the destination's message wrote it, as text)."""
    try:
        return f"¥{Decimal(str(price)):,.2f}"
    except InvalidOperation:
        return f"¥{price}"


TEMPLATE_HELPERS = {
    "colour_label": lambda v: label(COLOUR_LABELS, v),
    "fmt_price": fmt_price,
    "state_label": lambda v: label(STATE_LABELS, v),
    "archive_label": lambda v: label(ARCHIVE_LABELS, v),
    "outgoing_state_label": lambda v: label(OUTGOING_LABELS, v),
    "vehicle_status_label": lambda v: label(VEHICLE_STATUS_LABELS, v),
    "vehicle_type_label": lambda v: label(VEHICLE_TYPE_LABELS, v),
    "record_label": lambda v: label(RECORD_LABELS, v),
    "check_label": lambda v: label(CHECK_LABELS, v),
    "reason_text": reason_text,
    "event_text": event_text,
    "next_step": next_step,
}
