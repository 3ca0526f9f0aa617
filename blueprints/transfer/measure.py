"""The cross-region vehicle transfer's declaration (core.measures): its links, cards, audit
labels, demo data and statistics."""

from flask_babel import lazy_gettext as _l

from core.measures import Card, Link, Measure, staff, typed_reason
from models import MARKET_CLERK, VEHICLE_CLERK, OutgoingTransfer, TransferCase

from . import bp
from .demo import load_demo
from .labels import reasons_in_words


def case_number(object_id: str) -> str | None:
    """A case's number (ZY000007), as its parties and clerks know it."""
    return TransferCase.number_of(int(object_id)) if object_id.isdigit() else None


def outgoing_case_number(object_id: str) -> str | None:
    """The number of the case an outgoing record follows, as the buyer's city gave it."""
    if not object_id.isdigit():
        return None
    out = OutgoingTransfer.get_or_none(OutgoingTransfer.id == int(object_id))
    return out.case_number if out is not None else None


def cases_numbered(typed: str) -> list[str]:
    """The id of the case a number names (ZY000007: case 7), as the audit page searches."""
    case_id = TransferCase.id_numbered(typed)
    return [str(case_id)] if case_id is not None else []


def outgoing_numbered(typed: str) -> list[str]:
    """The ids of the outgoing records following the case a number names (another city's)."""
    query = OutgoingTransfer.select(OutgoingTransfer.id).where(
        OutgoingTransfer.case_number == typed.strip().upper()[:20]
    )
    return [str(out.id) for out in query]


MEASURE = Measure(
    name="transfer",
    blueprint=bp,
    links=(
        Link("transfer.index", _l("My vehicles and transfers")),
        Link("transfer.market_queue", _l("Sales"), staff(MARKET_CLERK)),
        Link("transfer.office_queue", _l("Transfers"), staff(VEHICLE_CLERK)),
        Link("transfer.archive_queue", _l("Archive requests"), staff(VEHICLE_CLERK)),
    ),
    staff_cards=(
        Card(
            "transfer.market_queue",
            _l("Sales invoiced here"),
            _l("Issue the unified invoice of a used-car sale and follow the transfer."),
            staff(MARKET_CLERK),
        ),
        Card(
            "transfer.office_queue",
            _l("Transfers into this city"),
            _l("Inspect vehicles bought from other cities and register them to their buyers."),
            staff(VEHICLE_CLERK),
        ),
        Card(
            "transfer.archive_queue",
            _l("Archive requests"),
            _l("Send the archives of vehicles sold to other cities, or refuse with a reason."),
            staff(VEHICLE_CLERK),
        ),
    ),
    home_card=Card(
        "transfer.index",
        _l("Buying a used car from another city"),
        _l(
            "Invoice, inspection and registration in one place: the vehicle's archive is sent "
            "between the offices online."
        ),
    ),
    audit_labels={
        "transfer.vehicles_import": _l("Vehicle register imported"),
        "transfer.open": _l("Transfer case opened"),
        "transfer.confirm": _l("Sale confirmed by a party"),
        "transfer.confirmed": _l("Sale confirmed by both parties"),
        "transfer.declined": _l("Sale declined: case withdrawn"),
        "transfer.withdraw_asked": _l("Seller's withdrawal sent to the buyer's city"),
        "transfer.plate_chosen": _l("Plate chosen"),
        "transfer.inspect": _l("Vehicle inspected"),
        "transfer.inspected": _l("Inspection passed: archive requested"),
        "transfer.inspection_failed": _l("Inspection failed: may be inspected again"),
        "transfer.reinspect": _l("Vehicle to be inspected again"),
        "transfer.permit_given": _l("Residence permit number given"),
        "transfer.archive_sent": _l("Vehicle archive sent"),
        "transfer.registered": _l("Transfer registered"),
        "transfer.stopped": _l("Transfer case stopped"),
        "transfer.case_view": _l("Transfer case viewed"),
        "transfer.queue_view": _l("Transfer queue viewed"),
        "transfer.archive_read": _l("Vehicle archive read"),
        "transfer.archive_refused": _l("Sending the vehicle archive refused"),
        "transfer.outgoing_opened": _l("Sale to another city opened there (outgoing transfer)"),
        "transfer.outgoing_archive_requested": _l("Archive requested by the other city"),
        "transfer.outgoing_stopped": _l("Outgoing transfer stopped by a check here"),
        "transfer.outgoing_closed": _l("Outgoing transfer closed by the other city"),
        "transfer.transferred_out": _l("Vehicle transferred out on the other city's notice"),
    },
    audit_reasons={
        "transfer.archive_refused": typed_reason,
        "transfer.stopped": reasons_in_words,
        "transfer.outgoing_stopped": reasons_in_words,
    },
    demo=load_demo,
    statistics=("transfer",),
    object_names={"TransferCase": case_number, "OutgoingTransfer": outgoing_case_number},
    object_finders={"TransferCase": cases_numbered, "OutgoingTransfer": outgoing_numbered},
)
