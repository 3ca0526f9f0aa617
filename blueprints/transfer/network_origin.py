"""The origin's side of a cross-city transfer (network.py explains the protocol): answering
a destination's enquiry about a vehicle of ours, the outgoing-transfer record the seller and our
clerks see, with its timeline relayed from the destination, and the origin's own steps (the
seller confirms or declines here, our clerk sends or refuses the archive).
"""

import datetime as dt
import json
import re
from decimal import Decimal
from types import SimpleNamespace

from flask import current_app
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from core.audit import audit
from core.network import outbox
from core.network.envelope import canonical, sign
from core.network.inbox import BadBody, Refused, register
from core.network.keys import signing_key
from core.notices import settle
from core.steps import StepError
from models import (
    AuditEvent,
    Office,
    OutgoingEvent,
    OutgoingTransfer,
    Peer,
    User,
    Vehicle,
    db,
    for_update,
    utcnow,
    write_tx,
)
from models.transfer_network import (
    AFTER_CONFIRMATION,
    OUT_ARCHIVE_REQUESTED,
    OUT_ARCHIVE_SENT,
    OUT_CLOSED,
    OUT_OPEN,
    OUT_TRANSFERRED,
)
from models.vehicles import NORMAL, TRANSFERRED_OUT
from rules.clock import beijing_today

from . import archive as archive_doc
from .checks import check_inspection, check_violations
from .network import case_id_of, reasons_of, text_field
from .notices import ORIGIN_PREFIX, beijing_day, tell_seller_at_origin

CLOSING_KINDS = {"stopped", "declined", "cancelled"}
OFFICE_KEYS = ("code", "name", "name_en", "city", "city_en", "plate_prefix")
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def _local_city() -> tuple[str, str]:
    """This deployment's city, in Chinese and English, as events name it."""
    office = Office.select().where(Office.is_local == True).order_by(Office.code).first()  # noqa: E712
    city = current_app.config["DEPLOYMENT_CITY"] or (office.city if office else "")
    return city, (office.city_en if office else city)


def origin_reasons(vehicle: Vehicle) -> list[dict]:
    """The checks only the origin can run, on its own record of the vehicle: the reasons of
    those that fail (empty when all pass)."""
    reasons = []
    if vehicle.status != NORMAL:
        reasons.append({"code": "vehicle_status", "status": vehicle.status})
    for result in (check_violations(vehicle), check_inspection(vehicle, beijing_today())):
        if not result.ok:
            reasons.append(result.reason)
    return reasons


# --- Origin: the handlers and the outgoing record -----------------------------------------


def _local_vehicle(vin: str, plate: str, owner_resident_id: str) -> Vehicle | None:
    """A vehicle registered at one of our offices to this owner, with this VIN and plate."""
    vehicle = Vehicle.get_or_none(
        (Vehicle.vin == vin)
        & (Vehicle.plate == plate)
        & (Vehicle.owner_resident_id == owner_resident_id)
    )
    if vehicle is None or not vehicle.registration_office.is_local:
        return None
    return vehicle


# An enquiry is asked once (never from the outbox), and its answer names the seller and the
# vehicle: kept a day for the record of the exchange, then deleted (flask db prune).
@register("transfer.enquiry", forget_after=dt.timedelta(days=1))
def handle_enquiry(body: dict, peer: Peer) -> dict:
    """Origin: the summary of a vehicle of ours and our checks of it, for the destination.

    Only a question that names the VIN, the plate and the owner's ID number together is
    answered, so the enquiry cannot be used to look people or vehicles up."""
    if set(body) - {"vin", "plate", "seller_resident_id"}:
        raise BadBody("unknown fields")
    vin = text_field(body, "vin", VIN, 17)
    plate = text_field(body, "plate", max_len=8)
    rid = text_field(body, "seller_resident_id", max_len=18)
    vehicle = _local_vehicle(vin, plate, rid)
    if vehicle is None:
        return {"found": False}
    seller = User.get_or_none(User.resident_id == rid)
    return {
        "found": True,
        "office": archive_doc.office_ref(vehicle.registration_office)
        | {"city_en": vehicle.registration_office.city_en},
        # What the destination needs to know of the vehicle to open and inspect a case.
        "vehicle": archive_doc.vehicle_ref(vehicle),
        "seller": {"name": vehicle.owner_name, "registered": seller is not None},
        "reasons": origin_reasons(vehicle),
    }


def _outgoing(peer: Peer, case_id: int, lock: bool = False) -> OutgoingTransfer:
    """Our record of the peer's case; not_yet when its opening has not reached us."""
    query = OutgoingTransfer.select().where(
        (OutgoingTransfer.peer_url == peer.base_url) & (OutgoingTransfer.remote_case_id == case_id)
    )
    out = (for_update(query) if lock else query).first()
    if out is None:
        raise BadBody("this case has not been opened here yet", reason="not_yet")
    return out


def _out_event(
    out,
    kind: str,
    *,
    city=None,
    city_en=None,
    at=None,
    actor=None,
    entry=None,
    relayed: dict | None = None,
    **detail,
):
    """Add an event to an outgoing record's timeline (this city's, unless told). `entry` is
    the audit entry written with it, which the timeline links to as its receipt. `relayed`:
    the detail a peer's message carries, kept as detail only (it names no actor, receipt,
    city or time of ours)."""
    detail = {**(relayed or {}), **detail}
    if city is None:
        city, city_en = _local_city()
    return OutgoingEvent.create(
        outgoing=out,
        kind=kind,
        city=city[:50],
        city_en=(city_en or "")[:50],
        at=at or utcnow(),
        actor=actor,
        audit_event=entry,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
    )


def _set_out(out, **changes) -> None:
    """Change an outgoing record (and the object in hand)."""
    changes["updated_at"] = utcnow()
    OutgoingTransfer.update(**changes).where(OutgoingTransfer.id == out.id).execute()
    for key, value in changes.items():
        setattr(out, key, value)


def _close_out(out, state: str = OUT_CLOSED, **changes) -> None:
    """Close an outgoing record: the vehicle is free for another sale, and the seller's
    "confirm the sale" is no longer asked."""
    _set_out(out, state=state, open_vehicle=None, **changes)
    settle([out.seller_id], (ORIGIN_PREFIX + "confirm_sale",), out_id=out.id)


def _published_office(peer: Peer, ref) -> dict:
    """The destination office a peer names, as the peer's signed document publishes it (its
    names from there, not from the message): a peer acts for its own offices only. An office
    our copy of the document lacks is refused for now (`not_yet`: the sender tries again) and
    the document fetched again, so that an office opened since peering comes through."""
    if not isinstance(ref, dict) or not isinstance(ref.get("code"), str):
        raise BadBody("destination must name an office")
    offices = peer.doc.get("offices")
    for office in offices if isinstance(offices, list) else []:
        if isinstance(office, dict) and office.get("code") == ref["code"]:
            return {k: str(office.get(k) or "")[:100] for k in OFFICE_KEYS}
    raise Refused("not_yet", "the office is not one the peer publishes", refresh_peer=True)


@register("transfer.opened")
def handle_opened(body: dict, peer: Peer) -> dict:
    """Origin: a destination opened a case for one of our vehicles; keep the record the seller
    and our clerks see, and ask the seller to confirm the sale. A vehicle we cannot hand over
    is answered with a stop (outbox).

    A case whose checks stopped it in the very step that opened it says so here
    (`stop_reasons`): its record is closed from the start and the seller is told of the stop,
    never asked to confirm. The stop's own relayed event may come before this message (it is
    refused `not_yet` and comes again) or after it; either way it only adds its step to the
    timeline of a record already closed, so the seller is told once."""
    case_id = case_id_of(body)
    number = text_field(body, "number", max_len=20)
    vin = text_field(body, "vin", VIN, 17)
    plate = text_field(body, "plate", max_len=8)
    rid = text_field(body, "seller_resident_id", max_len=18)
    destination = _published_office(peer, body.get("destination"))
    fields = {
        k: text_field(body, k, max_len=50) for k in ("buyer_name", "invoice_no", "invoice_date")
    }
    price = text_field(body, "price", max_len=20)
    try:
        dt.date.fromisoformat(fields["invoice_date"])
        Decimal(price)
        opened_at = dt.datetime.fromisoformat(text_field(body, "at", max_len=40)).replace(
            tzinfo=None
        )
    except (ValueError, ArithmeticError):
        raise BadBody("invoice_date, price or at is not well formed") from None
    stop_reasons = reasons_of(body, "stop_reasons")  # absent from older destinations: open
    vehicle = _local_vehicle(vin, plate, rid)
    seller = User.get_or_none(User.resident_id == rid)
    if vehicle is None or seller is None:
        if not stop_reasons:  # a stopped case needs no stop from us
            _tell_stopped(peer, case_id, [{"code": "origin_refused", "text": "vehicle not found"}])
        return {"accepted": False}
    try:
        with db.atomic():
            out = OutgoingTransfer.create(
                peer_url=peer.base_url,
                remote_case_id=case_id,
                case_number=number,
                vehicle=vehicle,
                # A stopped case holds the vehicle for no sale: closed from the start.
                open_vehicle=None if stop_reasons else vehicle,
                state=OUT_CLOSED if stop_reasons else OUT_OPEN,
                seller=seller,
                destination=json.dumps(destination, ensure_ascii=False),
                price=price,
                **fields,
            )
    except IntegrityError:
        _tell_stopped(peer, case_id, [{"code": "origin_refused", "text": "already in a transfer"}])
        return {"accepted": False}
    detail = {"peer": peer.base_url, "case": number}
    if stop_reasons:
        detail["stopped"] = [r["code"] for r in stop_reasons]
    entry = audit("transfer.outgoing_opened", out, detail=detail)
    _out_event(
        out,
        "opened",
        entry=entry,
        city=str(destination.get("city", "")),
        city_en=str(destination.get("city_en", "")),
        at=opened_at,
        invoice_no=fields["invoice_no"],
    )
    if stop_reasons:
        tell_seller_at_origin(out, "stopped", reasons=stop_reasons)
    else:
        tell_seller_at_origin(out, "confirm_sale")
    return {"accepted": True}


def _tell_stopped(peer: Peer, case_id: int, reasons: list[dict], declined: bool = False) -> None:
    """Origin: tell the destination that the case cannot go on here (outbox)."""
    outbox.enqueue(
        peer.base_url,
        "transfer.seller_declined" if declined else "transfer.origin_stopped",
        {"case_id": case_id, "reasons": reasons},
    )


def _relayed(body: dict, peer: Peer, expected: str | None) -> dict:
    """Origin: an event of the case at the destination, added to our record's timeline; the
    archive request and the registration notice move our record too."""
    if set(body) - {"case_id", "event"}:
        raise BadBody("unknown fields")
    case_id = case_id_of(body)
    ev = body.get("event")
    if not isinstance(ev, dict) or not isinstance(ev.get("detail", {}), dict):
        raise BadBody("event must be an object")
    kind = text_field(ev, "kind", max_len=30)
    if expected is not None and kind != expected:
        raise BadBody(f"a {expected} message carries a {expected} event")
    try:
        at = dt.datetime.fromisoformat(text_field(ev, "at", max_len=40)).replace(tzinfo=None)
    except ValueError:
        raise BadBody("event time is not well formed") from None
    if len(canonical(ev.get("detail", {}))) > 2000:
        raise BadBody("event detail is too long")
    out = _outgoing(peer, case_id, lock=True)
    detail = ev.get("detail", {})
    _refuse_out_of_turn(out, kind)
    # The step happened at the destination: its city is the one the peer publishes, not words
    # the message could choose.
    office = out.destination_office
    step = _out_event(
        out,
        kind,
        city=office.get("city", ""),
        city_en=office.get("city_en", ""),
        at=at,
        relayed=detail,
    )
    entry = None  # what our own log records of the step, when it moves our record
    if kind == "archive_requested" and out.state == OUT_OPEN:
        _set_out(out, state=OUT_ARCHIVE_REQUESTED)
        entry = audit("transfer.outgoing_archive_requested", out, detail={"peer": peer.base_url})
    elif kind == "registered":
        entry = _transferred_out(out, str(detail.get("plate", ""))[:8])
    elif kind in CLOSING_KINDS and out.is_open:
        _close_out(out)
        entry = audit("transfer.outgoing_closed", out, detail={"peer": peer.base_url, "kind": kind})
        _tell_closed(out, kind, detail)
    elif kind == "to_inspection" and out.is_open:
        # Both confirmations were taken in the buyer's city; a withdrawal asked meanwhile
        # arrived too late there, and the sale goes on. (Delivered after a later step, it
        # says nothing the seller has not been told.)
        earlier = [e for e in out.events() if e.id != step.id]
        if not any(e.kind in AFTER_CONFIRMATION for e in earlier):
            late = withdrawal_asked(earlier)
            tell_seller_at_origin(out, "withdraw_too_late" if late else "sale_confirmed")
    elif kind == "inspected" and detail.get("passed") is False and out.is_open:
        tell_seller_at_origin(
            out,
            "inspection_failed_seller",
            reasons=_event_reasons(detail),
            inspected_on=beijing_day(at),
        )
    if entry is not None:
        OutgoingEvent.update(audit_event=entry).where(OutgoingEvent.id == step.id).execute()
    _set_out(out)
    return {"accepted": True}


def _refuse_out_of_turn(out: OutgoingTransfer, kind: str) -> None:
    """Refuse (not_allowed_now, not sent again) a step that moves our record out of its turn:
    the archive asked for before the seller confirmed the sale here, the vehicle registered
    there before we sent its archive. A destination that follows the protocol never sends
    either; one that does must not move our vehicle."""
    if kind in ("archive_requested", "to_inspection") and out.seller_confirmed_at is None:
        raise Refused("not_allowed_now", "the seller has not confirmed the sale here")
    if kind == "registered" and out.state not in (OUT_ARCHIVE_SENT, OUT_TRANSFERRED):
        raise Refused("not_allowed_now", "the archive has not been sent")


def _tell_closed(out: OutgoingTransfer, kind: str, detail: dict) -> None:
    """Origin: tell the seller that the destination stopped the case, or that the buyer
    declined the sale there."""
    if kind == "stopped":
        tell_seller_at_origin(out, "stopped", reasons=_event_reasons(detail))
    elif kind == "declined" and detail.get("party") == "seller":
        tell_seller_at_origin(out, "withdrawn")  # their own withdrawal, asked after confirming
    elif kind == "declined":
        party = str(detail.get("party", "buyer"))
        tell_seller_at_origin(
            out, "withdrew" if detail.get("withdrawn") else "declined", party=party
        )


def _event_reasons(detail: dict) -> list[dict]:
    """The reasons a relayed event carries, for a notice: the well-formed ones (the event is
    already on the timeline, so an odd reason is left out of the words, not refused)."""
    reasons = detail.get("reasons")
    if not isinstance(reasons, list):
        return []
    return [r for r in reasons[:10] if isinstance(r, dict) and isinstance(r.get("code"), str)]


def buyer_confirmed(out: OutgoingTransfer) -> bool:
    """Whether the buyer's confirmation, relayed from the destination, is on our timeline."""
    return any(
        e.kind == "confirmed" and e.detail_dict.get("party") == "buyer" for e in out.events()
    )


def _transferred_out(out: OutgoingTransfer, new_plate: str) -> AuditEvent | None:
    """Origin, on the registration notice: the vehicle is now registered in the other city, so
    it is transferred out here (once, whatever arrives twice). Returns the entry it logged."""
    if out.state == OUT_TRANSFERRED:
        return None
    now = utcnow()
    vehicle = Vehicle.get_by_id(out.vehicle_id)
    # A vehicle whose status changed here since the archive went (reported stolen, seized...)
    # keeps it.
    Vehicle.update(status=TRANSFERRED_OUT, updated_at=now).where(
        (Vehicle.id == vehicle.id) & (Vehicle.status == NORMAL)
    ).execute()
    vehicle.record(
        "transfer_out",
        vehicle.registration_office,
        note=archive_doc.transfer_out_note(out.case_number, out.destination_office),
    )
    _close_out(out, state=OUT_TRANSFERRED, new_plate=new_plate or None, transferred_out_at=now)
    detail = {"vehicle": vehicle.id, "plate": new_plate}
    if vehicle.status not in (NORMAL, TRANSFERRED_OUT):
        detail["kept_status"] = vehicle.status
    entry = audit("transfer.transferred_out", out, detail=detail)
    tell_seller_at_origin(out, "sold")
    return entry


for _type, _expected in (
    ("transfer.event", None),
    ("transfer.archive_request", "archive_requested"),
    ("transfer.registered", "registered"),
):
    register(_type)(lambda body, peer, _e=_expected: _relayed(body, peer, _e))


# --- Origin: the seller's and the clerks' steps -------------------------------------------


def _locked_out(out_id: int, *states: str) -> OutgoingTransfer:
    """The outgoing record, locked, when in one of `states`."""
    out = for_update(OutgoingTransfer.select().where(OutgoingTransfer.id == out_id)).first()
    if out is None or out.state not in states:
        raise StepError(_l("This step has already been taken, or is not possible now."))
    return out


def _stopped_here(out, actor, peer_url: str) -> bool:
    """Run our checks; when any fails, close the record and stop the case at the destination."""
    reasons = origin_reasons(Vehicle.get_by_id(out.vehicle_id))
    if reasons:
        _close_out(out)
        entry = audit("transfer.outgoing_stopped", out, actor=actor, detail={"reasons": reasons})
        _out_event(out, "stopped", actor=actor, entry=entry, reasons=reasons)
        tell_seller_at_origin(out, "stopped", reasons=reasons)
        outbox.enqueue(
            peer_url, "transfer.origin_stopped", {"case_id": out.remote_case_id, "reasons": reasons}
        )
    return bool(reasons)


def seller_confirm(out_id: int, actor) -> OutgoingTransfer:
    """The seller confirms the sale here, where they are registered; the destination hears it."""
    with write_tx():
        out = _locked_out(out_id, OUT_OPEN)
        if out.seller_id != actor.id or out.seller_confirmed_at is not None:
            raise StepError(_l("You have already confirmed this sale."))
        if _stopped_here(out, actor, out.peer_url):
            return out
        _set_out(out, seller_confirmed_at=utcnow())
        settle([out.seller_id], (ORIGIN_PREFIX + "confirm_sale",), out_id=out.id)  # done
        entry = audit("transfer.confirm", out, actor=actor, detail={"party": "seller"})
        _out_event(out, "confirmed", actor=actor, entry=entry, party="seller")
        # The sale is confirmed by both only once the buyer's city takes this confirmation (its
        # "to_inspection" comes back): the buyer may have withdrawn meanwhile.
        outbox.enqueue(
            out.peer_url,
            "transfer.seller_confirmed",
            {"case_id": out.remote_case_id, "reasons": []},
        )
        return out


def seller_decline(out_id: int, actor) -> OutgoingTransfer:
    """The seller declines the sale before confirming it: the case is cancelled there."""
    with write_tx():
        out = _locked_out(out_id, OUT_OPEN)
        if out.seller_id != actor.id or out.seller_confirmed_at is not None:
            raise StepError(_l("This step has already been taken, or is not possible now."))
        _close_out(out)
        entry = audit("transfer.declined", out, actor=actor, detail={"party": "seller"})
        _out_event(out, "declined", actor=actor, entry=entry, party="seller")
        outbox.enqueue(
            out.peer_url, "transfer.seller_declined", {"case_id": out.remote_case_id, "reasons": []}
        )
        return out


def seller_withdraw(out_id: int, actor) -> OutgoingTransfer:
    """The seller who confirmed here takes it back while the buyer has not confirmed (as a
    party may in the in-database path). The case lives at the destination, which alone can
    tell whether the buyer confirmed first: it is asked (the same message as a decline), and
    our record closes when its "declined" comes back; a buyer's confirmation that got there
    first keeps the sale going, and the seller is told whom to ask then (_relayed)."""
    with write_tx():
        out = _locked_out(out_id, OUT_OPEN)
        events = list(out.events())
        # As the page offers it: the seller confirmed, and nothing of the buyer's since.
        if (
            out.seller_id != actor.id
            or out.progress(events) != "awaiting_buyer"
            or withdrawal_asked(events)
        ):
            raise StepError(_l("This step has already been taken, or is not possible now."))
        entry = audit("transfer.withdraw_asked", out, actor=actor, detail={"party": "seller"})
        _out_event(out, "withdraw_asked", actor=actor, entry=entry, party="seller")
        body = {"case_id": out.remote_case_id, "reasons": [], "withdraw": True}
        outbox.enqueue(out.peer_url, "transfer.seller_declined", body)
        return out


def withdrawal_asked(events) -> bool:
    """Whether the seller asked to withdraw from the sale after confirming it, by the record's
    timeline `events`."""
    return any(e.kind == "withdraw_asked" for e in events)


def build_outgoing_archive(out: OutgoingTransfer, now) -> dict:
    """The archive document of an outgoing record's vehicle, as the destination asked for it."""
    vehicle = Vehicle.get_by_id(out.vehicle_id)
    case = SimpleNamespace(
        number=out.case_number,
        invoice_no=out.invoice_no,
        invoice_date=dt.date.fromisoformat(out.invoice_date),
    )
    to_office = SimpleNamespace(
        **{
            k: out.destination_office.get(k, "")
            for k in ("code", "name", "name_en", "city", "plate_prefix")
        }
    )
    return archive_doc.build(
        vehicle,
        list(vehicle.history()),
        list(vehicle.violations),
        vehicle.registration_office,
        to_office,
        case,
        now,
    )


def send_archive(out_id: int, actor) -> OutgoingTransfer:
    """The origin's clerk sends the archive: the versioned document, signed with our key, in a
    message to the destination. The vehicle stays ours until the registration notice."""
    with write_tx():
        out = _locked_out(out_id, OUT_ARCHIVE_REQUESTED)
        if out.seller_confirmed_at is None:
            raise StepError(_l("The seller has not confirmed the sale here yet."))
        if _stopped_here(out, actor, out.peer_url):
            return out
        now = utcnow()
        document = build_outgoing_archive(out, now)
        text, sha = archive_doc.seal(document)
        signed = sign(document, signing_key())  # a JWS whose payload is exactly `text`
        _set_out(
            out,
            state=OUT_ARCHIVE_SENT,
            archive_sha256=sha,
            archive_sent_at=now,
            archive_sent_by=actor,
        )
        entry = audit("transfer.archive_sent", out, actor=actor, detail={"sha256": sha})
        _out_event(out, "archive_sent", actor=actor, entry=entry, sha256=sha)
        tell_seller_at_origin(out, "archive_sent")
        outbox.enqueue(
            out.peer_url,
            "transfer.archive",
            {"case_id": out.remote_case_id, "archive": signed, "sha256": sha, "reasons": []},
        )
        return out


def refuse_archive(out_id: int, actor, reason: str) -> OutgoingTransfer:
    """The origin's clerk refuses to send the archive, with a reason: the case stops there."""
    reason = (reason or "").strip()[:500]
    if not reason:
        raise StepError(_l("Give the reason for the refusal."))
    with write_tx():
        out = _locked_out(out_id, OUT_ARCHIVE_REQUESTED)
        _close_out(out, refusal_reason=reason)
        entry = audit("transfer.archive_refused", out, actor=actor, detail={"reason": reason})
        _out_event(out, "archive_refused", actor=actor, entry=entry)
        tell_seller_at_origin(out, "stopped", reasons=[{"code": "archive_refused", "text": reason}])
        outbox.enqueue(
            out.peer_url,
            "transfer.archive_refused",
            {"case_id": out.remote_case_id, "reason": reason},
        )
        return out
