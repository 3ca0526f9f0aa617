"""The cross-deployment transfer (跨城联网转移): the same case and state table, with the origin
office in another city's deployment.

The case lives where the buyer registers (the destination). When the vehicle is registered in a
peer's city (its plate prefix is one the peer publishes), the destination:

1. asks the origin, by a signed `transfer.enquiry`, for the vehicle's summary and the checks
   only the origin can run (status: mortgage, seizure, theft, scrapping; unhandled violations;
   inspection), keeps a copy of the vehicle, and opens the case through the ordinary
   `service.open_case`; `transfer.opened` tells the origin, which keeps an outgoing-transfer
   record its seller and vehicle clerks see (closed from the start, when the opening's own
   checks stopped the case: the message says so, and the seller is told of the stop, never
   asked to confirm);
2. hears the seller's confirmation (or refusal) from the origin, where the seller is
   registered (`transfer.seller_confirmed`, `transfer.seller_declined`), and runs the same
   `service.confirm`/`decline`;
3. inspects the vehicle itself (`office_service.inspect`); the archive request travels as the
   relayed `archive_requested` event (`transfer.archive_request`);
4. receives the archive sent by the origin's clerk (`transfer.archive`: the existing archive
   document as a JWS signed by the origin's key, plus its SHA-256), verifies signature,
   checksum, format and VIN, or hears the refusal (`transfer.archive_refused`);
5. registers the vehicle with a plate of its own pool (`office_service.register`); the relayed
   `registered` event is the registration notice (`transfer.registered`), and only then does the
   origin mark the vehicle transferred out.

Every message leaves through the outbox in the transaction of the state change that causes it.
Every event of the case's timeline at the destination is relayed to the origin's record
(`transfer.event`), except the ones the origin itself caused, so buyer and seller each see one
timeline of the whole case, each event naming its city. A message that arrives before the one
it depends on is refused `not_yet` and delivered again later.

The checks run again at every step. The origin's answer is kept with the case (TransferLink);
a step at the destination uses it while younger than NETWORK_CHECKS_FRESH_SECONDS, else asks
the origin again, synchronously, before its transaction (and refuses for now when the origin
cannot be reached). Every message from the origin carries its checks as they stand when sent.

A deployment with both offices never comes here: `links.peer_for_plate()` is None for a plate
prefix of our own offices or one no peer publishes, a case without a TransferLink is an
in-database case, and the in-database path runs as before. What the service steps call on the
network path is in links.py (below them); this module holds the handlers of the messages and
the origin's own steps (above them).
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
from core.network.envelope import EnvelopeError, canonical, sign, verify
from core.network.inbox import BadBody, register
from core.network.keys import signing_key
from core.steps import StepError
from models import (
    ArchiveTransfer,
    AuditEvent,
    Office,
    OutgoingEvent,
    OutgoingTransfer,
    Peer,
    TransferCase,
    TransferLink,
    User,
    Vehicle,
    db,
    for_update,
    utcnow,
    write_tx,
)
from models.transfer import (
    ARCHIVE_REQUESTED,
    AWAITING_ARCHIVE,
    OPEN_STATES,
)
from models.transfer_network import (
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
from .links import _store_reasons
from .notices import beijing_day, tell, tell_seller_at_origin
from .office_service import mark_archive_sent, receive_archive
from .office_service import refuse_archive as refuse_here
from .service import (
    LostRace,
    confirm,
    decline,
    event,
    locked_case,
    move,
    run_step,
    stop,
    stopped_by_checks,
)

CLOSING_KINDS = {"stopped", "declined", "cancelled"}
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def _local_city() -> tuple[str, str]:
    """This deployment's city, in Chinese and English, as events name it."""
    office = Office.select().where(Office.is_local == True).order_by(Office.code).first()  # noqa: E712
    city = current_app.config["DEPLOYMENT_CITY"] or (office.city if office else "")
    return city, (office.city_en if office else city)


# --- The origin's checks ------------------------------------------------------------------


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


def _reasons_of(body: dict, key: str = "reasons") -> list[dict]:
    """The reasons carried by a message (the origin's checks, or the destination's stop),
    checked for shape."""
    reasons = body.get(key, [])
    if not isinstance(reasons, list) or len(reasons) > 10:
        raise BadBody(f"{key} must be a short list")
    for r in reasons:
        if not isinstance(r, dict) or not isinstance(r.get("code"), str):
            raise BadBody("a reason is an object with a code")
        if len(canonical(r)) > 500:
            raise BadBody("a reason is too long")
    return reasons


# --- Origin: the handlers and the outgoing record -----------------------------------------


def _text(body: dict, key: str, pattern=None, max_len: int = 60) -> str:
    """A required string field of a body (BadBody when missing, too long or ill-formed)."""
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise BadBody(f"{key} is required (text of up to {max_len} characters)")
    if pattern is not None and not pattern.match(value):
        raise BadBody(f"{key} is not well formed")
    return value


def _case_id(body: dict) -> int:
    """The destination's case id carried by a message."""
    value = body.get("case_id")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise BadBody("case_id must be a positive integer")
    return value


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


@register("transfer.enquiry")
def handle_enquiry(body: dict, peer: Peer) -> dict:
    """Origin: the summary of a vehicle of ours and our checks of it, for the destination.

    Only a question that names the VIN, the plate and the owner's ID number together is
    answered, so the enquiry cannot be used to look people or vehicles up."""
    if set(body) - {"vin", "plate", "seller_resident_id"}:
        raise BadBody("unknown fields")
    vin = _text(body, "vin", VIN, 17)
    plate = _text(body, "plate", max_len=8)
    rid = _text(body, "seller_resident_id", max_len=18)
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
    out, kind: str, *, city=None, city_en=None, at=None, actor=None, entry=None, **detail
):
    """Add an event to an outgoing record's timeline (this city's, unless told). `entry` is
    the audit entry written with it, which the timeline links to as its receipt."""
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
    """Close an outgoing record: the vehicle is free for another sale."""
    _set_out(out, state=state, open_vehicle=None, **changes)


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
    case_id = _case_id(body)
    number = _text(body, "number", max_len=20)
    vin = _text(body, "vin", VIN, 17)
    plate = _text(body, "plate", max_len=8)
    rid = _text(body, "seller_resident_id", max_len=18)
    destination = body.get("destination")
    if not isinstance(destination, dict) or not isinstance(destination.get("code"), str):
        raise BadBody("destination must name an office")
    fields = {k: _text(body, k, max_len=50) for k in ("buyer_name", "invoice_no", "invoice_date")}
    price = _text(body, "price", max_len=20)
    try:
        dt.date.fromisoformat(fields["invoice_date"])
        Decimal(price)
        opened_at = dt.datetime.fromisoformat(_text(body, "at", max_len=40)).replace(tzinfo=None)
    except (ValueError, ArithmeticError):
        raise BadBody("invoice_date, price or at is not well formed") from None
    stop_reasons = _reasons_of(body, "stop_reasons")  # absent from older destinations: open
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
    case_id = _case_id(body)
    ev = body.get("event")
    if not isinstance(ev, dict) or not isinstance(ev.get("detail", {}), dict):
        raise BadBody("event must be an object")
    kind = _text(ev, "kind", max_len=30)
    if expected is not None and kind != expected:
        raise BadBody(f"a {expected} message carries a {expected} event")
    try:
        at = dt.datetime.fromisoformat(_text(ev, "at", max_len=40)).replace(tzinfo=None)
    except ValueError:
        raise BadBody("event time is not well formed") from None
    if len(canonical(ev.get("detail", {}))) > 2000:
        raise BadBody("event detail is too long")
    out = _outgoing(peer, case_id, lock=True)
    detail = ev.get("detail", {})
    step = _out_event(
        out,
        kind,
        city=_text(ev, "city", max_len=50),
        city_en=str(ev.get("city_en", ""))[:50],
        at=at,
        **detail,
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
    elif kind == "confirmed" and detail.get("party") == "buyer" and out.is_open:
        if out.seller_confirmed_at is not None:
            tell_seller_at_origin(out, "sale_confirmed")
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


def _tell_closed(out: OutgoingTransfer, kind: str, detail: dict) -> None:
    """Origin: tell the seller that the destination stopped the case, or that the buyer
    declined the sale there."""
    if kind == "stopped":
        tell_seller_at_origin(out, "stopped", reasons=_event_reasons(detail))
    elif kind == "declined":
        tell_seller_at_origin(out, "declined", party=str(detail.get("party", "buyer")))


def _event_reasons(detail: dict) -> list[dict]:
    """The reasons a relayed event carries, for a notice: the well-formed ones (the event is
    already on the timeline, so an odd reason is left out of the words, not refused)."""
    reasons = detail.get("reasons")
    if not isinstance(reasons, list):
        return []
    return [r for r in reasons[:10] if isinstance(r, dict) and isinstance(r.get("code"), str)]


def _buyer_confirmed(out: OutgoingTransfer) -> bool:
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
    Vehicle.update(status=TRANSFERRED_OUT, updated_at=now).where(
        (Vehicle.id == vehicle.id) & (Vehicle.status != TRANSFERRED_OUT)
    ).execute()
    vehicle.record(
        "transfer_out",
        vehicle.registration_office,
        note=f"{out.case_number} → {out.destination_office.get('code', '')}",
    )
    _close_out(out, state=OUT_TRANSFERRED, new_plate=new_plate or None, transferred_out_at=now)
    entry = audit(
        "transfer.transferred_out", out, detail={"vehicle": vehicle.id, "plate": new_plate}
    )
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
        entry = audit("transfer.confirm", out, actor=actor, detail={"party": "seller"})
        _out_event(out, "confirmed", actor=actor, entry=entry, party="seller")
        if _buyer_confirmed(out):
            tell_seller_at_origin(out, "sale_confirmed")
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


# --- Destination: the handlers of the origin's messages ----------------------------------


def _linked_case(body: dict, peer: Peer) -> tuple[TransferCase, TransferLink]:
    """The case a message from its origin is about (malformed when it is not the peer's)."""
    case_id = _case_id(body)
    link = TransferLink.get_or_none(
        (TransferLink.case == case_id) & (TransferLink.peer_url == peer.base_url)
    )
    if link is None:
        raise BadBody("no case of this deployment has the sender as its origin")
    return TransferCase.get_by_id(case_id), link


def _as_origin(run):
    """Run a step for the origin; a refusal is answered (accepted: false) rather than raised,
    since the message itself was good (a case closed meanwhile, a step taken already)."""
    try:
        run()
        return {"accepted": True}
    except StepError as exc:
        return {"accepted": False, "why": str(exc.message)[:200]}


@register("transfer.seller_confirmed")
def handle_seller_confirmed(body: dict, peer: Peer) -> dict:
    """Destination: the seller confirmed at the origin; the same confirmation step runs here."""
    if set(body) - {"case_id", "reasons"}:
        raise BadBody("unknown fields")
    case, link = _linked_case(body, peer)
    _store_reasons(link, _reasons_of(body))
    return _as_origin(lambda: confirm(case.id, "seller", None, office=case.origin_office))


@register("transfer.seller_declined")
def handle_seller_declined(body: dict, peer: Peer) -> dict:
    """Destination: the seller declined at the origin; the case is cancelled here."""
    case, _ = _linked_case(body, peer)
    return _as_origin(lambda: decline(case.id, "seller", None, office=case.origin_office))


@register("transfer.origin_stopped")
def handle_origin_stopped(body: dict, peer: Peer) -> dict:
    """Destination: a check at the origin failed; the case stops here with its reasons."""
    case, link = _linked_case(body, peer)
    reasons = _reasons_of(body) or [{"code": "origin_refused", "text": ""}]
    _store_reasons(link, reasons)

    def step():
        locked = locked_case(case.id, *OPEN_STATES)
        stop(locked, reasons, actor=None, office=locked.origin_office)

    return _as_origin(lambda: run_step(step))


@register("transfer.archive_refused")
def handle_archive_refused(body: dict, peer: Peer) -> dict:
    """Destination: the origin's clerk refused to send the archive; the case stops."""
    case, _ = _linked_case(body, peer)
    reason = _text(body, "reason", max_len=500)
    return _as_origin(lambda: refuse_here(case.id, None, reason))


def open_archive(body: dict, peer: Peer, vin: str) -> tuple[str, str]:
    """The archive carried by a message, verified: signed by the origin, checksum, canonical
    form, format and version, and the case's vehicle. Raises BadBody('bad_archive')."""
    signed = body.get("archive")
    sha = body.get("sha256")
    if not isinstance(signed, str) or not isinstance(sha, str):
        raise BadBody("archive and sha256 are required")
    try:
        document = verify(signed, peer.doc["keys"])
    except EnvelopeError as exc:
        raise BadBody(f"archive signature: {exc}", reason="bad_archive") from None
    text = canonical(document).decode()
    try:
        opened_doc = archive_doc.open_document(text, sha)
    except archive_doc.ArchiveError as exc:
        raise BadBody(f"archive: {exc}", reason="bad_archive") from None
    if opened_doc["vehicle"].get("vin") != vin:
        raise BadBody("archive: of another vehicle", reason="bad_archive")
    return text, sha


@register("transfer.archive")
def handle_archive(body: dict, peer: Peer) -> dict:
    """Destination: the origin sent the archive. Verified first (a bad one is refused and
    changes nothing); accepted once, by the case awaiting it, through the same state table."""
    if set(body) - {"case_id", "archive", "sha256", "reasons"}:
        raise BadBody("unknown fields")
    case, link = _linked_case(body, peer)
    text, sha = open_archive(body, peer, Vehicle.get_by_id(case.vehicle_id).vin)
    _store_reasons(link, _reasons_of(body))

    def step():
        locked = locked_case(case.id, AWAITING_ARCHIVE)
        archive = ArchiveTransfer.get_or_none(ArchiveTransfer.case == locked)
        if archive is None or archive.status != ARCHIVE_REQUESTED:
            raise LostRace
        origin = locked.origin_office
        if stopped_by_checks(locked, actor=None, office=origin):
            return
        now = utcnow()
        entry = move(locked, "archive_received", "transfer.archive_sent", detail={"sha256": sha})
        mark_archive_sent(locked, archive, text, sha, None, now)
        event(locked, "archive_sent", office=origin, entry=entry, sha256=sha)
        receive_archive(locked, text, sha)
        tell(locked, "transfer.archive_arrived", "buyer")

    return _as_origin(lambda: run_step(step))
