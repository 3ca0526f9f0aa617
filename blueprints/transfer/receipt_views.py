"""Receipts of the steps on a transfer case's timeline: the buyer, the seller and the clerks
who see the case get, for each step, a receipt proving offline that the city's audit log holds
its entry unchanged (a party's discloses what the timeline shows, not who made the step from
which address). The origin's record of a sale to another city links the steps this city's
log holds the same way, for its seller and its clerks."""

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import login_required

from core.auditlog import receipts
from core.privacy import reads_personal_data

from . import bp
from .labels import PARTY_LABELS
from .outgoing_views import load_outgoing
from .timeline_receipts import outgoing_step_entry, step_entry
from .views import load_case

STAFF_ROLES = {"market", "destination", "origin"}


def _reader_view(case_id: int, entry_id: int):
    """(case, entry, disclosed fields) for the current reader of the case; 404 for an entry
    that is not a step of this case's timeline. The read is audited unless it is the reader's
    own step."""
    case, roles = load_case(case_id)
    event = step_entry(case, entry_id)
    if event is None:
        abort(404)
    receipts.audit_read(event, case, {"as": sorted(roles)})
    disclose = receipts.TRANSFER_STAFF if roles & STAFF_ROLES else receipts.TRANSFER_PARTY
    return case, event, disclose


@bp.get("/cases/<int:case_id>/receipt/<int:entry_id>")
@login_required
@reads_personal_data("audit.receipt_view")
def step_receipt(case_id: int, entry_id: int):
    """The receipt page of one step of the case's timeline."""
    case, event, disclose = _reader_view(case_id, entry_id)
    return receipts.page(
        event,
        disclose,
        json_url=url_for(".step_receipt_json", case_id=case_id, entry_id=entry_id),
        back_url=url_for(".case", case_id=case_id),
        back_label=_("Back to case %(no)s", no=case.number),
        words={"detail.party": PARTY_LABELS},
    )


@bp.get("/cases/<int:case_id>/receipt/<int:entry_id>.json")
@login_required
@reads_personal_data("audit.receipt_view")
def step_receipt_json(case_id: int, entry_id: int):
    """The receipt of one step as JSON, for docs/verify_receipt.py."""
    _case, event, disclose = _reader_view(case_id, entry_id)
    page_url = url_for(".step_receipt", case_id=case_id, entry_id=entry_id)
    return receipts.download(event, disclose, page_url)


def _outgoing_reader_view(out_id: int, entry_id: int):
    """(record, entry, disclosed fields) for the seller or a clerk of an outgoing record; 404
    for an entry that is not a step of its timeline."""
    out, roles = load_outgoing(out_id)
    event = outgoing_step_entry(out, entry_id)
    if event is None:
        abort(404)
    receipts.audit_read(event, out, {"as": sorted(roles), "outgoing": True})
    disclose = receipts.TRANSFER_STAFF if "origin" in roles else receipts.TRANSFER_PARTY
    return out, event, disclose


@bp.get("/outgoing/<int:out_id>/receipt/<int:entry_id>")
@login_required
@reads_personal_data("audit.receipt_view")
def outgoing_step_receipt(out_id: int, entry_id: int):
    """The receipt page of one step of a sale to another city, as this city's log holds it."""
    out, event, disclose = _outgoing_reader_view(out_id, entry_id)
    return receipts.page(
        event,
        disclose,
        json_url=url_for(".outgoing_step_receipt_json", out_id=out_id, entry_id=entry_id),
        back_url=url_for(".outgoing_case", out_id=out_id),
        back_label=_("Back to case %(no)s", no=out.case_number),
        words={"detail.party": PARTY_LABELS},
    )


@bp.get("/outgoing/<int:out_id>/receipt/<int:entry_id>.json")
@login_required
@reads_personal_data("audit.receipt_view")
def outgoing_step_receipt_json(out_id: int, entry_id: int):
    """The receipt of one step of a sale to another city as JSON, for docs/verify_receipt.py."""
    _out, event, disclose = _outgoing_reader_view(out_id, entry_id)
    page_url = url_for(".outgoing_step_receipt", out_id=out_id, entry_id=entry_id)
    return receipts.download(event, disclose, page_url)
