"""Receipts of the entries in a case's access log: each look at the case, each view and each
copy of an item is one audit entry, and its receipt proves, offline, that the city's log
holds it unchanged. Officers and the case's parties get the receipts of their own case's
entries (a party's discloses what the party's log page shows, not the reader's address)."""

from flask import abort, url_for
from flask_babel import gettext as _
from flask_login import login_required

from core.auditlog import receipts
from core.privacy import reads_personal_data
from models import AuditEvent, EvidenceAccess, EvidenceItem

from . import bp
from .service import ACCESS_ACTIONS, CaseAccess
from .views import case_access_or_404


def access_entry_or_404(access: CaseAccess, entry_id: int) -> AuditEvent:
    """The audit entry of a look at this case; 404 for any other entry (no probing), and for a
    party, 404 for a look at an item withheld from the parties (the entry names the item,
    which their log page does not)."""
    event = AuditEvent.get_or_none(
        (AuditEvent.id == entry_id) & AuditEvent.action.in_(list(ACCESS_ACTIONS.values()))
    )
    access_id = event.detail_dict.get("access") if event is not None else None
    row = (
        EvidenceAccess.get_or_none(
            (EvidenceAccess.id == access_id) & (EvidenceAccess.case == access.case.id)
        )
        if isinstance(access_id, int)
        else None
    )
    if row is None or row.user_id != event.actor_id:
        abort(404)
    if row.item_id is not None and not access.is_officer:
        item = EvidenceItem.get_by_id(row.item_id)
        if not item.released:
            abort(404)
    return event


def _reader_view(case_id: int, entry_id: int):
    """(access, entry, disclosed fields) for the current reader; the read audited when the
    entry is someone else's look."""
    access = case_access_or_404(case_id)
    event = access_entry_or_404(access, entry_id)
    receipts.audit_read(event, access.case, {"case_no": access.case.case_no})
    return access, event, receipts.ALL if access.is_officer else receipts.EVIDENCE_PARTY


@bp.get("/cases/<int:case_id>/log/<int:entry_id>/receipt")
@login_required
@reads_personal_data("audit.receipt_view")
def access_receipt(case_id: int, entry_id: int):
    """The receipt page of one look at the case."""
    access, event, disclose = _reader_view(case_id, entry_id)
    return receipts.page(
        event,
        disclose,
        json_url=url_for(".access_receipt_json", case_id=case_id, entry_id=entry_id),
        back_url=url_for(".access_log", case_id=case_id),
        back_label=_("Back to who looked at case %(no)s", no=access.case.case_no),
    )


@bp.get("/cases/<int:case_id>/log/<int:entry_id>/receipt.json")
@login_required
@reads_personal_data("audit.receipt_view")
def access_receipt_json(case_id: int, entry_id: int):
    """The receipt of one look at the case as JSON, for docs/verify_receipt.py."""
    _access, event, disclose = _reader_view(case_id, entry_id)
    page_url = url_for(".access_receipt", case_id=case_id, entry_id=entry_id)
    return receipts.download(event, disclose, page_url)
