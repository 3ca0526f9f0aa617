"""The destination's link to a case's origin deployment, what the service steps call on the
network path (blueprints/transfer/network.py explains the protocol): asking the origin about a
vehicle and keeping our copy of it, linking a new case to its origin, keeping the origin's
checks fresh before a step, and relaying each new event of the timeline to the origin.

A lower module than the service steps: they call it, and it never calls them (the handlers of
the origin's messages, which run the steps, live in network.py).
"""

import datetime as dt
import json

from flask import current_app
from flask_babel import lazy_gettext as _l

from core.network import outbox
from core.network.claims import claims_of
from core.network.client import AskFailed, ask
from core.network.inbox import BadBody
from core.steps import StepError
from models import (
    Office,
    Peer,
    TransferCase,
    TransferLink,
    User,
    Vehicle,
    db,
    utcnow,
    write_tx,
)
from models.vehicles import NORMAL, TRANSFERRED_OUT

from . import archive as archive_doc

UNREACHABLE = _l(
    "The vehicle office of %(city)s cannot be reached just now, and its checks of the vehicle "
    "are needed for this step. Please try again in a few minutes."
)
SUSPENDED = _l(
    "Online exchange with the vehicle office of %(city)s is suspended for now, so a vehicle "
    "registered there cannot be sold online at the moment. Please ask at a vehicle office."
)
SELLER_NOT_THERE = _l(
    "The seller has no account at %(city)s's deployment yet: they must register there before "
    "they can confirm the sale online."
)
# Relayed events whose message type says more than "an event": the archive request and the
# registration notice.
RELAY_TYPES = {"archive_requested": "transfer.archive_request", "registered": "transfer.registered"}


# --- Where a vehicle is registered --------------------------------------------------------


def peer_for_plate(plate: str) -> Peer | None:
    """The peer whose vehicle offices issue plates of this prefix (鲁B...), when none of ours
    does: the deployment to ask about a vehicle registered elsewhere. A suspended peer is
    named too: its vehicles are registered there all the same (find_remote_vehicle says that
    it cannot be asked now), and a copy we keep of one is never taken for the vehicle."""
    prefix = (plate or "")[:2]
    if not prefix:
        return None
    ours = Office.select().where((Office.is_local == True) & (Office.plate_prefix == prefix))  # noqa: E712
    if ours.exists():
        return None
    # Peers whose plate prefixes overlap are refused (core.network.claims); of two peered
    # before that rule, the first peered is asked.
    peers = Peer.select().order_by(Peer.id)
    return next((p for p in peers if prefix in claims_of(p.doc).plate_prefixes), None)


def link_of(case) -> TransferLink | None:
    """The case's link to its origin deployment; None for an in-database case."""
    case_id = case if isinstance(case, int) else case.id
    return TransferLink.get_or_none(TransferLink.case == case_id)


def remote_office(peer: Peer, ref: dict) -> Office:
    """Our copy of a peer's office (not local), made or refreshed from what it publishes."""
    code = str(ref.get("code", ""))[:16]
    published = {o.get("code") for o in peer.doc.get("offices", [])}
    if not code or code not in published:
        raise BadBody("the office is not one the peer publishes")
    fields = {
        "name": str(ref.get("name", ""))[:100],
        "name_en": str(ref.get("name_en", ""))[:100],
        "kind": "vehicle_office",
        "city": str(ref.get("city", ""))[:50],
        "city_en": str(ref.get("city_en", ref.get("city", "")))[:50],
        "plate_prefix": str(ref.get("plate_prefix", ""))[:4],
    }
    office = Office.get_or_none(Office.code == code)
    if office is None:
        return Office.create(code=code, is_local=False, **fields)
    if office.is_local:
        raise BadBody("the office named is one of ours")
    return office


def _store_reasons(link: TransferLink, reasons: list[dict]) -> None:
    """Keep the origin's latest answer to the checks, with its time."""
    now = utcnow()
    TransferLink.update(
        origin_reasons=json.dumps(reasons, ensure_ascii=False), checked_at=now
    ).where(TransferLink.id == link.id).execute()
    link.origin_reasons, link.checked_at = json.dumps(reasons, ensure_ascii=False), now


def _ask_vehicle(peer_url: str, vin: str, plate: str, seller_resident_id: str) -> dict:
    """The origin's answer to a vehicle enquiry (raises AskFailed)."""
    return ask(
        peer_url,
        "transfer.enquiry",
        {"vin": vin, "plate": plate, "seller_resident_id": seller_resident_id},
    )


def fresh_checks(case_id: int) -> None:
    """Before a step at the destination: make sure the origin's checks are fresh enough, asking
    the origin again when they are not. Nothing to do for an in-database case, or inside a
    transaction (a message being handled carries the origin's checks itself)."""
    if db.in_transaction():
        return
    link = link_of(case_id)
    if link is None:
        return
    age = utcnow() - link.checked_at
    if age < dt.timedelta(seconds=current_app.config["NETWORK_CHECKS_FRESH_SECONDS"]):
        return
    case = TransferCase.get_by_id(case_id)
    vehicle = Vehicle.get_by_id(case.vehicle_id)
    peer = Peer.get_or_none(Peer.base_url == link.peer_url)
    if peer is None or not peer.is_active:  # paused here: trying again in a minute will not do
        raise StepError(SUSPENDED % {"city": case.origin_office.city})
    try:
        answer = _ask_vehicle(link.peer_url, vehicle.vin, vehicle.plate, link.seller_resident_id)
    except AskFailed:
        raise StepError(UNREACHABLE % {"city": case.origin_office.city}) from None
    if answer.get("found"):
        reasons = answer.get("reasons", [])
    else:
        reasons = [{"code": "origin_refused", "text": "vehicle not found"}]
    with write_tx():
        _store_reasons(link, reasons)


# --- Destination: opening a case ----------------------------------------------------------


def find_remote_vehicle(vin: str, plate: str, seller_resident_id: str):
    """Ask the deployment that issues this plate about the vehicle: (our copy of the vehicle,
    the origin's answer) when it is registered there to this seller, None when no peer issues
    the plate or the origin has no such vehicle. Raises StepError when it cannot be asked."""
    peer = peer_for_plate(plate)
    if peer is None:
        return None
    if not peer.is_active:
        raise StepError(SUSPENDED % {"city": peer.city or peer.base_url})
    try:
        answer = _ask_vehicle(peer.base_url, vin, plate, seller_resident_id)
    except AskFailed:
        raise StepError(UNREACHABLE % {"city": peer.city or peer.base_url}) from None
    if not answer.get("found"):
        return None
    summary = answer.get("vehicle") or {}
    if summary.get("vin") != vin or summary.get("plate") != plate:
        return None
    seller = answer.get("seller") or {}
    if not seller.get("registered"):
        raise StepError(SELLER_NOT_THERE % {"city": peer.city or peer.base_url})
    with write_tx():
        office = remote_office(peer, answer.get("office") or {})
        vehicle = _copy_vehicle(summary, office, seller.get("name", ""), seller_resident_id)
    answer["peer_url"] = peer.base_url
    answer["seller_resident_id"] = seller_resident_id
    return vehicle, answer


def _copy_vehicle(summary: dict, office: Office, owner_name: str, owner_resident_id: str):
    """Our copy of a vehicle registered at a peer, made or refreshed from its summary."""
    fields = {
        "plate": summary["plate"],
        "brand": str(summary.get("brand", ""))[:40],
        "model_name": str(summary.get("model", ""))[:60],
        "vehicle_type": str(summary.get("vehicle_type", "small_car"))[:20],
        "colour": str(summary.get("colour", ""))[:20],
        "engine_no": str(summary.get("engine_no", ""))[:30],
        "first_registered_on": dt.date.fromisoformat(summary["first_registered_on"]),
        "gross_mass_kg": summary.get("gross_mass_kg"),
        "owner": None,
        "owner_name": owner_name[:50],
        "owner_resident_id": owner_resident_id,
        "registration_office": office,
        "certificate_no": str(summary.get("certificate_no", ""))[:20],
        "inspection_valid_until": (
            dt.date.fromisoformat(summary["inspection_valid_until"])
            if summary.get("inspection_valid_until")
            else None
        ),
        "status": NORMAL,
        "updated_at": utcnow(),
    }
    vehicle = Vehicle.get_or_none(Vehicle.vin == summary["vin"])
    if vehicle is None:
        return Vehicle.create(vin=summary["vin"], **fields)
    if vehicle.registration_office.is_local and vehicle.status != TRANSFERRED_OUT:
        raise StepError(_l("This vehicle is registered in this city."))
    if TransferCase.select().where(TransferCase.open_vehicle == vehicle).exists():
        raise StepError(_l("This vehicle is already in an open transfer case."))
    # A vehicle that left this city once and is sold back: its copy follows the origin.
    Vehicle.update(**fields).where(Vehicle.id == vehicle.id).execute()
    return Vehicle.get_by_id(vehicle.id)


def link_to_origin(case, answer: dict) -> TransferLink:
    """In the opening step: link the case to its origin, with the origin's answer to the
    checks (which the opening's own checks then read)."""
    return TransferLink.create(
        case=case,
        peer_url=answer["peer_url"],
        seller_name=(answer.get("seller") or {}).get("name", "")[:50],
        seller_resident_id=answer["seller_resident_id"],
        origin_reasons=json.dumps(answer.get("reasons", []), ensure_ascii=False),
        checked_at=utcnow(),
    )


def opened(case, link: TransferLink, stop_reasons: list[dict]) -> None:
    """In the opening step, once its checks have run and before a stop they cause is relayed:
    tell the origin (outbox). `stop_reasons` are those of the checks that stop the case in
    this same step (empty when it opens), so the origin, which hears of the stop itself only
    in a later message, never asks its seller to confirm a case already stopped."""
    vehicle = Vehicle.get_by_id(case.vehicle_id)
    buyer = User.get_by_id(case.buyer_id)
    outbox.enqueue(
        link.peer_url,
        "transfer.opened",
        {
            "case_id": case.id,
            "number": case.number,
            "vin": vehicle.vin,
            "plate": vehicle.plate,
            "seller_resident_id": link.seller_resident_id,
            "buyer_name": buyer.real_name,
            "invoice_no": case.invoice_no,
            "invoice_date": case.invoice_date.isoformat(),
            "price": str(case.price),
            "at": case.opened_at.replace(microsecond=0).isoformat(),
            "destination": archive_doc.office_ref(case.destination_office)
            | {"city_en": case.destination_office.city_en},
            "stop_reasons": stop_reasons,
        },
    )


# --- Relaying the timeline ----------------------------------------------------------------


def event_ref(ev, case) -> dict:
    """A timeline event as it travels: kind, time, the city that did it, its details."""
    office = ev.office if ev.office_id else case.destination_office
    return {
        "kind": ev.kind,
        # Whole: two steps within one second keep their order on the other side's timeline.
        "at": ev.at.isoformat(),
        "city": office.city,
        "city_en": office.city_en,
        "detail": ev.detail_dict,
    }


def relay(case, ev) -> None:
    """Send a new event of a network case to the origin's record (in the step's transaction);
    the origin's own acts (events of the origin office, which it told us of) are not sent back,
    and the opening travels as `transfer.opened` itself. A seller's withdrawal after confirming
    is sent back: the origin only asked for it, and learns here that it took effect."""
    withdrawal = ev.kind == "declined" and ev.detail_dict.get("withdrawn")
    if ev.kind == "opened" or (
        ev.office_id and ev.office_id == case.origin_office_id and not withdrawal
    ):
        return
    link = link_of(case)
    if link is None:
        return
    kind_type = RELAY_TYPES.get(ev.kind, "transfer.event")
    outbox.enqueue(link.peer_url, kind_type, {"case_id": case.id, "event": event_ref(ev, case)})
