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
2. hears the seller's confirmation (or refusal, or withdrawal after confirming: `withdraw` in
   the refusal) from the origin, where the seller is registered (`transfer.seller_confirmed`,
   `transfer.seller_declined`), and runs the same `service.confirm`/`decline`;
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
(`transfer.event`), except the ones the origin itself caused (but for a withdrawal's
cancellation: the origin only asked for it), so buyer and seller each see one
timeline of the whole case, each event naming its city. A message that arrives before the one
it depends on is refused `not_yet` and delivered again later.

The origin takes a step only in its turn, whatever the destination sends: the archive request
only once the seller confirmed here, the registration notice only once the archive was sent
(refused `not_allowed_now` otherwise, the record unchanged); the destination office and the
city of a relayed step are those the peer's signed document publishes, not words of the
message (nor does its detail name an actor, a receipt, a city or a time of ours); a vehicle
whose status changed here after its archive went (reported stolen, seized...) keeps it.

The checks run again at every step. The origin's answer is kept with the case (TransferLink);
a step at the destination uses it while younger than NETWORK_CHECKS_FRESH_SECONDS, else asks
the origin again, synchronously, before its transaction (and refuses for now when the origin
cannot be reached). Every message from the origin carries its checks as they stand when sent.

A deployment with both offices never comes here: `links.peer_for_plate()` is None for a plate
prefix of our own offices or one no peer publishes, a case without a TransferLink is an
in-database case, and the in-database path runs as before. What the service steps call on the
network path is in links.py (below them); this module holds the destination's handlers of the
origin's messages and what both sides use to read a message's body; network_origin.py holds the
origin's handlers and its own steps (above them).
"""

import datetime as dt

from core.network.claims import claims_of
from core.network.envelope import EnvelopeError, canonical, verify
from core.network.inbox import BadBody, Refused, register
from core.steps import StepError
from models import (
    ArchiveTransfer,
    Office,
    Peer,
    TransferCase,
    TransferLink,
    Vehicle,
    VehicleRecord,
    utcnow,
)
from models.transfer import (
    ARCHIVE_REQUESTED,
    AWAITING_ARCHIVE,
    AWAITING_CONFIRMATION,
    OPEN_STATES,
)

from . import archive as archive_doc
from .labels import RECORD_LABELS
from .links import _store_reasons
from .notices import tell
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

# --- Reading a message's body (both sides) ------------------------------------------------


def reasons_of(body: dict, key: str = "reasons") -> list[dict]:
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


def text_field(body: dict, key: str, pattern=None, max_len: int = 60) -> str:
    """A required string field of a body (BadBody when missing, too long or ill-formed)."""
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise BadBody(f"{key} is required (text of up to {max_len} characters)")
    if pattern is not None and not pattern.match(value):
        raise BadBody(f"{key} is not well formed")
    return value


def case_id_of(body: dict) -> int:
    """The destination's case id carried by a message."""
    value = body.get("case_id")
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise BadBody("case_id must be a positive integer")
    return value


# --- Destination: the handlers of the origin's messages ----------------------------------


def _linked_case(body: dict, peer: Peer) -> tuple[TransferCase, TransferLink]:
    """The case a message from its origin is about (malformed when it is not the peer's)."""
    case_id = case_id_of(body)
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
    _store_reasons(link, reasons_of(body))
    return _as_origin(lambda: confirm(case.id, "seller", None, office=case.origin_office))


@register("transfer.seller_declined")
def handle_seller_declined(body: dict, peer: Peer) -> dict:
    """Destination: the seller declined at the origin; the case is cancelled here. With
    `withdraw`, the seller had confirmed there and takes it back: the origin only asked, so
    the cancellation is sent back to it (links.relay), even when the seller's confirmation has
    not reached us yet (the outbox does not keep a peer's messages in order)."""
    withdraw = body.get("withdraw", False)
    if set(body) - {"case_id", "reasons", "withdraw"} or not isinstance(withdraw, bool):
        raise BadBody("unknown fields, or a withdraw that is not true or false")
    case, _ = _linked_case(body, peer)
    if (
        withdraw
        and case.state == AWAITING_CONFIRMATION
        and case.buyer_confirmed_at is not None
        and case.seller_confirmed_at is None
    ):
        # The seller's confirmation is still on its way (the outbox keeps no order): it is
        # taken first, so that the buyer, who confirmed already, decides the outcome as the
        # seller was told ("if the buyer confirmed there first, the sale goes on").
        raise Refused("not_yet", "the seller's confirmation has not arrived yet")
    return _as_origin(
        lambda: decline(case.id, "seller", None, office=case.origin_office, withdrawn=withdraw)
    )


@register("transfer.origin_stopped")
def handle_origin_stopped(body: dict, peer: Peer) -> dict:
    """Destination: a check at the origin failed; the case stops here with its reasons."""
    case, link = _linked_case(body, peer)
    reasons = reasons_of(body) or [{"code": "origin_refused", "text": ""}]
    _store_reasons(link, reasons)

    def step():
        locked = locked_case(case.id, *OPEN_STATES)
        stop(locked, reasons, actor=None, office=locked.origin_office)

    return _as_origin(lambda: run_step(step))


@register("transfer.archive_refused")
def handle_archive_refused(body: dict, peer: Peer) -> dict:
    """Destination: the origin's clerk refused to send the archive; the case stops."""
    case, _ = _linked_case(body, peer)
    reason = text_field(body, "reason", max_len=500)
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


def import_history(vehicle: Vehicle, document: dict, origin: Office, peer: Peer) -> int:
    """The history a received archive carries, added to our copy of the vehicle (a copy made
    when the case opened has none: the archive is what moves a vehicle's history to its new
    office, as between the offices of one database). The archive is the peer's word: an entry
    is kept under its office only when that is one the sending peer publishes (neither ours
    nor a third city's are written in by another city), else under the sending office with its
    own office's code in the note;
    entries of a kind we do not keep, or with no UTC time, are left out. An entry the copy
    holds already (an earlier sale's archive, or twice in this one) is not added again.
    Returns how many entries were added."""
    codes = claims_of(peer.doc).office_codes
    theirs = {
        o.code: o
        for o in Office.select().where((Office.is_local == False) & Office.code.in_(codes))  # noqa: E712
    }
    held = {(r.kind, r.at.replace(microsecond=0), r.certificate_no) for r in vehicle.history()}
    added = 0
    for entry in document.get("history") or []:
        if not isinstance(entry, dict) or entry.get("kind") not in RECORD_LABELS:
            continue
        at = _utc_time(entry.get("at"))
        if at is None:
            continue
        kind, certificate = entry["kind"], str(entry.get("certificate_no") or "")[:20]
        if (kind, at, certificate) in held:
            continue
        held.add((kind, at, certificate))
        code, note = str(entry.get("office", ""))[:20], str(entry.get("note") or "")
        if code not in theirs:
            note = f"{note}（{code}）" if note else code
        VehicleRecord.create(
            vehicle=vehicle,
            at=at,
            kind=kind,
            office=theirs.get(code, origin),
            plate=(str(entry["plate"])[:8] if entry.get("plate") else None),
            owner_name=str(entry.get("owner_name") or "")[:50],
            owner_resident_id=str(entry.get("owner_resident_id") or "")[:18],
            certificate_no=certificate,
            note=note[:500],
        )
        added += 1
    return added


def _utc_time(text) -> dt.datetime | None:
    """An archive's time ("2018-03-01T02:00:00Z", UTC as the archive writes it) as stored:
    naive UTC, to the second; None for anything else."""
    if not isinstance(text, str) or not text.endswith("Z"):
        return None
    try:
        at = dt.datetime.fromisoformat(text[:-1])
    except ValueError:
        return None
    return at.replace(microsecond=0) if at.tzinfo is None else None


@register("transfer.archive")
def handle_archive(body: dict, peer: Peer) -> dict:
    """Destination: the origin sent the archive. Verified first (a bad one is refused and
    changes nothing); accepted once, by the case awaiting it, through the same state table."""
    if set(body) - {"case_id", "archive", "sha256", "reasons"}:
        raise BadBody("unknown fields")
    case, link = _linked_case(body, peer)
    text, sha = open_archive(body, peer, Vehicle.get_by_id(case.vehicle_id).vin)
    _store_reasons(link, reasons_of(body))

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
        document = receive_archive(locked, text, sha)
        import_history(Vehicle.get_by_id(locked.vehicle_id), document, origin, peer)
        tell(locked, "transfer.archive_arrived", "buyer")

    return _as_origin(lambda: run_step(step))
