"""Receipts of the steps on a transfer case's timeline: the buyer, the seller and the clerks
who see the case get, for each step, a receipt proving offline that the city's audit log holds
its entry unchanged (a party's discloses what the timeline shows, not who made the step from
which address)."""

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import login_required

from core.auditlog import receipts
from core.privacy import reads_personal_data

from . import bp
from .labels import PARTY_LABELS
from .timeline_receipts import step_entry
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
