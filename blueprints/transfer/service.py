"""The steps of a transfer case as plain functions, one short write transaction each.

Every step locks and re-reads the case, refuses when the case is not in the step's state, runs
the checks again (a failed check stops the case with its reasons), and moves the case with the
state machine: a conditional UPDATE whose row count is checked, plus its audit row. Two clerks
acting at once therefore produce exactly one result; the other gets StepError.
This is the service convention every measure follows (core.steps).
"""

import hashlib
import json

from flask_babel import lazy_gettext as _l
from peewee import IntegrityError, fn

from core import steps
from core.audit import audit
from core.identity import identity_proven
from core.notices import settle
from core.states import StateMachine
from core.steps import LostRace, StepError
from models import (
    MARKET_CLERK,
    VEHICLE_CLERK,
    ArchiveTransfer,
    AuditEvent,
    PlateNumber,
    TransferCase,
    TransferEvent,
    User,
    Vehicle,
    for_update,
    utcnow,
)
from models.transfer import (
    ARCHIVE_RECEIVED,
    ARCHIVE_REQUESTED,
    ARCHIVE_WITHDRAWN,
    AWAITING_ARCHIVE,
    AWAITING_CONFIRMATION,
    AWAITING_INSPECTION,
    CANCELLED,
    CASE_TRANSITIONS,
    INSPECTION_FAILED,
    STOPPED,
)
from models.vehicles import PLATE_FREE, PLATE_RESERVED
from rules.clock import beijing_today
from rules.validators import ValidationError, check_invoice_date

from . import links
from .checks import failures, run_checks, waits_for_permit
from .notices import ASKED_TO_CONFIRM, tell

CASE_MACHINE = StateMachine("transfer", "state", CASE_TRANSITIONS)
# A plate is reserved only once both parties have confirmed the sale.
PLATE_STATES = (AWAITING_INSPECTION, INSPECTION_FAILED, AWAITING_ARCHIVE, ARCHIVE_RECEIVED)
NOT_NOW = _l("This step has already been taken, or is not possible in the case's present state.")


def event(case, kind: str, *, office=None, actor=None, entry=None, **detail) -> TransferEvent:
    """Add a step to the case's timeline (relayed to the origin's deployment for a case opened
    over the network, in the same transaction). `entry` is the audit entry written with the
    step, which the timeline links to as its receipt; None for a step no entry records."""
    created = TransferEvent.create(
        case=case,
        kind=kind,
        office=office,
        actor=actor,
        audit_event=entry,
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True),
    )
    links.relay(case, created)
    return created


def case_roles(case: TransferCase, user) -> set[str]:
    """What the user is in this case: buyer, seller, market, destination or origin clerk.

    The origin office's clerks see the case only once its archive has been asked for. The
    seller is matched by ID number, so they are the seller only once that number is proven.
    """
    roles = set()
    if user is None or not user.is_authenticated:
        return roles
    if user.id == case.buyer_id:
        roles.add("buyer")
    if user.id == case.seller_id and identity_proven(user):
        roles.add("seller")
    if user.is_staff and user.office_id:
        if user.has_role(MARKET_CLERK) and user.office_id == case.market_id:
            roles.add("market")
        if user.has_role(VEHICLE_CLERK):
            if user.office_id == case.destination_office_id:
                roles.add("destination")
            if (
                user.office_id == case.origin_office_id
                and ArchiveTransfer.select().where(ArchiveTransfer.case == case).exists()
            ):
                roles.add("origin")
    return roles


def locked_case(case_id: int, *states: str) -> TransferCase:
    """The case, re-read with its row locked, when it is in one of `states`."""
    case = for_update(TransferCase.select().where(TransferCase.id == case_id)).first()
    if case is None or case.state not in states:
        raise StepError(NOT_NOW)
    return case


def move(case, to_state: str, action: str, detail=None, *, actor=None, **updates) -> AuditEvent:
    """One state-machine move by `actor`, returning its audit entry (for the timeline step
    that records the move); a lost race rolls the step back."""
    entry = CASE_MACHINE.apply_logged(
        case, to_state, action=action, detail=detail, actor=actor, updated_at=utcnow(), **updates
    )
    if entry is None:
        raise LostRace
    return entry


def _release_plate(case) -> None:
    """Put the plate the buyer chose back into the pool."""
    if case.chosen_plate_id:
        PlateNumber.update(status=PLATE_FREE).where(
            (PlateNumber.id == case.chosen_plate_id) & (PlateNumber.status == PLATE_RESERVED)
        ).execute()
        TransferCase.update(chosen_plate=None).where(TransferCase.id == case.id).execute()
        case.chosen_plate = None


def _close(case, to_state: str, action: str, reasons=None, *, actor=None, **detail) -> AuditEvent:
    """Stop or cancel: the vehicle is free for another case and the plate back in the pool.
    Returns the move's audit entry, for the timeline step."""
    extra = {"stop_reasons": json.dumps(reasons, ensure_ascii=False)} if reasons else {}
    entry = move(
        case,
        to_state,
        action,
        detail={**detail, **({"reasons": reasons} if reasons else {})},
        actor=actor,
        open_vehicle=None,
        **extra,
    )
    _release_plate(case)
    ArchiveTransfer.update(status=ARCHIVE_WITHDRAWN).where(
        (ArchiveTransfer.case == case) & (ArchiveTransfer.status == ARCHIVE_REQUESTED)
    ).execute()
    settle([case.seller_id, case.buyer_id], ASKED_TO_CONFIRM, case_id=case.id)
    return entry


def stop(case, reasons: list[dict], *, actor, office) -> None:
    """Stop the case with its reasons (a closed case never reopens)."""
    entry = _close(case, STOPPED, "transfer.stopped", reasons, actor=actor)
    event(case, "stopped", office=office, actor=actor, entry=entry, reasons=reasons)
    tell(case, "transfer.stopped", reasons=reasons)


def failed_checks(case) -> list[dict]:
    """Run the checks: the reasons of those that stop the case now (empty when none does).

    A missing residence permit does not stop a case still awaiting confirmation (it waits).
    """
    reasons = failures(run_checks(case))
    if case.state == AWAITING_CONFIRMATION:
        reasons = [r for r in reasons if r["code"] != "buyer_eligible"]
    return reasons


def stopped_by_checks(case, *, actor, office) -> bool:
    """Run the checks; when any fails, stop the case with the reasons and return True."""
    reasons = failed_checks(case)
    if reasons:
        stop(case, reasons, actor=actor, office=office)
    return bool(reasons)


def run_step(step):
    """Run a step's transaction (core.steps.run_step); a lost race is refused with NOT_NOW."""
    return steps.run_step(step, lost=NOT_NOW)


# --- Opening ------------------------------------------------------------------------------


def find_vehicle(vin: str, plate: str, seller_resident_id: str) -> Vehicle | None:
    """The vehicle with this VIN and plate, registered to this owner; None when any differs."""
    return Vehicle.get_or_none(
        (Vehicle.vin == vin)
        & (Vehicle.plate == plate)
        & (Vehicle.owner_resident_id == seller_resident_id)
    )


def vehicle_for_sale(vin: str, plate: str, seller_resident_id: str):
    """The vehicle a sale's invoice names, with the origin deployment's answer when another
    deployment registers it: (vehicle, None) when it is registered at an office this deployment
    keeps; else the deployment that issues its plate is asked (links.find_remote_vehicle), also
    when we keep a copy of the vehicle from an earlier sale that fell through (the copy may be
    stale, and its seller is a user there, not here). (None, None) when nothing matches;
    StepError when the origin cannot be asked."""
    vehicle = find_vehicle(vin, plate, seller_resident_id)
    ours = vehicle is not None and vehicle.registration_office.is_local
    if vehicle is not None and (ours or links.peer_for_plate(plate) is None):
        return vehicle, None
    return links.find_remote_vehicle(vin, plate, seller_resident_id) or (None, None)


def open_case(
    *,
    vehicle,
    buyer,
    opened_by,
    market,
    destination,
    invoice_no,
    invoice_date,
    price,
    residence_permit_no=None,
    origin_answer=None,
) -> TransferCase:
    """Open a case from the sale's invoice; the checks run at once and may stop it.

    `origin_answer` is the origin deployment's answer to the vehicle enquiry when the vehicle is
    registered in another deployment (links.find_remote_vehicle): the seller is a user there,
    confirms there, and the origin hears of the case through the outbox."""
    origin = vehicle.registration_office
    if origin.city == destination.city:
        raise StepError(
            _l(
                "This vehicle is registered in this city: this service is for "
                "vehicles registered in another city."
            )
        )
    seller = User.get_or_none(User.resident_id == vehicle.owner_resident_id)
    if origin_answer is not None:
        seller = None  # a user of the origin's deployment, named by the case's link
    elif seller is None:
        raise StepError(
            _l(
                "The seller has no account here yet: they must register before "
                "they can confirm the sale online."
            )
        )
    same = seller.id == buyer.id if seller else vehicle.owner_resident_id == buyer.resident_id
    if same:
        raise StepError(_l("The buyer and the seller are the same person."))
    try:
        # A network case's copy of the vehicle has its first registration from the origin's
        # summary (archive.vehicle_ref), so both paths check against the same date.
        check_invoice_date(invoice_date, vehicle.first_registered_on, beijing_today())
    except ValidationError as exc:
        raise StepError(exc.message, field="invoice_date") from None
    if TransferCase.select().where(TransferCase.open_vehicle == vehicle).exists():
        raise StepError(_l("This vehicle is already in an open transfer case."))
    used = (
        TransferCase.select(TransferCase.id, TransferCase.market, TransferCase.buyer)
        .where(
            (TransferCase.invoice_no == invoice_no)
            & TransferCase.state.not_in([STOPPED, CANCELLED])
        )
        .first()
    )
    if used is not None:
        # A case the one opening can open is named (a form sent twice, say): a market's own,
        # or a buyer's own (one opening for themselves); anyone else's is not.
        own = used.market_id == market.id if market is not None else used.buyer_id == opened_by.id
        if own:
            raise StepError(
                _l("This invoice number is already used by case %(no)s.", no=used.number),
                field="invoice_no",
            )
        raise StepError(
            _l("This invoice number is already used by another case."), field="invoice_no"
        )

    def step():
        case = TransferCase.create(
            vehicle=vehicle,
            open_vehicle=vehicle,
            seller=seller,
            buyer=buyer,
            market=market,
            opened_by=opened_by,
            origin_office=origin,
            destination_office=destination,
            invoice_no=invoice_no,
            invoice_date=invoice_date,
            price=price,
            residence_permit_no=residence_permit_no or None,
        )
        link = links.link_to_origin(case, origin_answer) if origin_answer is not None else None
        entry = audit(
            "transfer.open",
            case,
            actor=opened_by,
            detail={"vehicle": vehicle.id, "invoice_no": invoice_no},
        )
        event(case, "opened", office=market, actor=opened_by, entry=entry, invoice_no=invoice_no)
        reasons = failed_checks(case)
        if link is not None:
            # Before the stop below is relayed: the origin hears of the case first, and hears
            # in that same message whether it stopped as it opened.
            links.opened(case, link, reasons)
        if reasons:
            stop(case, reasons, actor=opened_by, office=market)
        else:
            tell(case, "transfer.confirm_sale", "seller")
            tell(case, "transfer.confirm_purchase", "buyer")
        return case

    try:
        return run_step(step)
    except IntegrityError:
        # Two openings raced past the check above: the unique open_vehicle index decided.
        raise StepError(_l("This vehicle is already in an open transfer case.")) from None


# --- Seller and buyer ---------------------------------------------------------------------


def confirm(case_id: int, party: str, actor, office=None) -> TransferCase:
    """The seller or buyer confirms the sale; the second confirmation moves it to inspection.

    `office` is the origin office when the seller confirmed at the origin's deployment."""
    links.fresh_checks(case_id)
    column = {"seller": TransferCase.seller_confirmed_at, "buyer": TransferCase.buyer_confirmed_at}[
        party
    ]

    def step():
        case = locked_case(case_id, AWAITING_CONFIRMATION)
        if getattr(case, column.name) is not None:
            raise StepError(_l("You have already confirmed this sale."))
        now = utcnow()
        changed = (
            TransferCase.update({column: now, TransferCase.updated_at: now})
            .where(
                (TransferCase.id == case.id)
                & column.is_null()
                & (TransferCase.state == AWAITING_CONFIRMATION)
            )
            .execute()
        )
        if changed != 1:
            raise LostRace
        setattr(case, column.name, now)
        settle([getattr(case, f"{party}_id")], ASKED_TO_CONFIRM, case_id=case.id)  # done
        entry = audit("transfer.confirm", case, actor=actor, detail={"party": party})
        event(case, "confirmed", office=office, actor=actor, entry=entry, party=party)
        _to_inspection_when_ready(case, actor)
        return case

    return run_step(step)


def _to_inspection_when_ready(case, actor) -> None:
    """Both parties confirmed, the checks pass and nothing is missing: on to inspection."""
    both = case.seller_confirmed_at and case.buyer_confirmed_at
    ready = both and not stopped_by_checks(case, actor=actor, office=None)
    if ready and not waits_for_permit(case):
        entry = move(case, AWAITING_INSPECTION, "transfer.confirmed", actor=actor)
        # On the timeline, and so at the origin of a case opened over the network: the seller
        # there learns that both confirmations were taken here (never from its own view of
        # them, which a withdrawal still on its way could make wrong).
        event(case, "to_inspection", actor=actor, entry=entry)
        tell(case, "transfer.bring_for_inspection", "buyer")
        tell(case, "transfer.sale_confirmed", "seller")


def give_residence_permit(case_id: int, actor, number: str) -> TransferCase:
    """The buyer gives the number of their residence permit (居住证) of this city, which the
    case was waiting for; once the sale is confirmed by both, the case goes on to inspection."""

    def step():
        case = locked_case(case_id, AWAITING_CONFIRMATION)
        if case.buyer_id != actor.id:
            raise StepError(NOT_NOW)
        changed = (
            TransferCase.update(residence_permit_no=number, updated_at=utcnow())
            .where((TransferCase.id == case.id) & (TransferCase.state == AWAITING_CONFIRMATION))
            .execute()
        )
        if changed != 1:
            raise LostRace
        case.residence_permit_no = number
        entry = audit("transfer.permit_given", case, actor=actor)
        event(case, "permit_given", actor=actor, entry=entry)
        _to_inspection_when_ready(case, actor)
        return case

    return run_step(step)


def decline(case_id: int, party: str, actor, office=None, withdrawn: bool = False) -> TransferCase:
    """The seller or buyer declines the sale before it is confirmed: the case is cancelled.

    `office` is the origin office when the seller declined at the origin's deployment;
    `withdrawn` when they had confirmed there (their confirmation may not have reached us)."""

    def step():
        case = locked_case(case_id, AWAITING_CONFIRMATION)
        # A party who had confirmed withdraws (the timeline says so; at the origin, the seller
        # only asked for it, and learns from this event that it took effect: links.relay).
        withdrawn_now = withdrawn or getattr(case, f"{party}_confirmed_at") is not None
        entry = _close(case, CANCELLED, "transfer.declined", actor=actor, party=party)
        detail = {"party": party, **({"withdrawn": True} if withdrawn_now else {})}
        event(case, "declined", office=office, actor=actor, entry=entry, **detail)
        other = "buyer" if party == "seller" else "seller"
        tell(
            case, "transfer.withdrew" if withdrawn_now else "transfer.declined", other, party=party
        )
        return case

    return run_step(step)


def offered_plates(case, n: int = 5) -> list[PlateNumber]:
    """A few free plates of the destination's pool for the buyer to choose from.

    The same for a case on every page load (the first free plates from a starting point fixed
    by the case id, wrapping round the pool), so that reloading does not deal new plates, and
    choose_plate can accept only these. Two index range reads of at most `n` rows each, however
    large the pool: no sort of the whole pool per look.
    """
    pool = PlateNumber.select().where(
        (PlateNumber.office == case.destination_office_id) & (PlateNumber.status == PLATE_FREE)
    )
    first, last = PlateNumber.select(fn.MIN(PlateNumber.id), fn.MAX(PlateNumber.id)).tuples().get()
    if first is None:
        return []
    digest = hashlib.sha256(f"plate-offer:{case.id}".encode()).digest()
    start = first + int.from_bytes(digest[:8], "big") % (last - first + 1)
    offer = list(pool.where(PlateNumber.id >= start).order_by(PlateNumber.id).limit(n))
    if len(offer) < n:  # wrap round to the start of the pool
        offer += list(
            pool.where(PlateNumber.id < start).order_by(PlateNumber.id).limit(n - len(offer))
        )
    return offer


def choose_plate(case_id: int, plate_id: int, actor) -> TransferCase:
    """The buyer reserves a free plate of the destination's pool (replacing an earlier choice)."""

    def step():
        case = locked_case(case_id, *PLATE_STATES)
        if case.chosen_plate_id == plate_id:
            return case
        if plate_id not in {p.id for p in offered_plates(case)}:
            raise StepError(_l("This plate is no longer free. Please choose another."))
        reserved = (
            PlateNumber.update(status=PLATE_RESERVED)
            .where(
                (PlateNumber.id == plate_id)
                & (PlateNumber.status == PLATE_FREE)
                & (PlateNumber.office == case.destination_office_id)
            )
            .execute()
        )
        if reserved != 1:
            raise StepError(_l("This plate is no longer free. Please choose another."))
        _release_plate(case)
        TransferCase.update(chosen_plate=plate_id, updated_at=utcnow()).where(
            TransferCase.id == case.id
        ).execute()
        case.chosen_plate = plate_id
        plate = PlateNumber.get_by_id(plate_id).plate
        entry = audit("transfer.plate_chosen", case, actor=actor, detail={"plate": plate})
        event(case, "plate_chosen", actor=actor, entry=entry, plate=plate)
        return case

    return run_step(step)
