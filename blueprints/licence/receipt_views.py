"""Receipts of the checks in the holder's check log: each check is one audit entry, and its
receipt proves to the holder, offline, that the city's log holds it unchanged."""

from flask import abort, url_for
from flask_babel import gettext as _

from core.access import role_required
from core.auditlog import receipts
from core.privacy import no_personal_data
from models import CITIZEN, AuditEvent

from . import bp
from .labels import CHECKER_LABELS, VERDICT_LABELS, VIA_LABELS
from .views import require_elicence

# The check log's own words for the fields a holder's receipt shows.
WORDS = {"result": VERDICT_LABELS, "detail.via": VIA_LABELS, "detail.checker": CHECKER_LABELS}


def check_entry_or_404(entry_id: int) -> AuditEvent:
    """The audit entry of a check of the holder's own licence; 404 for any other entry, so
    that entry numbers cannot be probed."""
    elicence = require_elicence()
    event = AuditEvent.get_or_none(
        (AuditEvent.id == entry_id)
        & (AuditEvent.action == "licence.check")
        & (AuditEvent.object_type == "ELicence")
        & (AuditEvent.object_id == str(elicence.id))
    )
    if event is None:
        abort(404)
    return event


@bp.get("/checks/<int:entry_id>/receipt")
@role_required(CITIZEN)
@no_personal_data
def check_receipt(entry_id: int):
    """The receipt page of one check: what was logged (how, by what kind of checker; not the
    checker's address), the checkpoint and its witnesses, the download."""
    event = check_entry_or_404(entry_id)
    return receipts.page(
        event,
        receipts.LICENCE_HOLDER,
        json_url=url_for(".check_receipt_json", entry_id=entry_id),
        back_url=url_for(".checks"),
        back_label=_("Back to who checked my licence"),
        words=WORDS,
    )


@bp.get("/checks/<int:entry_id>/receipt.json")
@role_required(CITIZEN)
@no_personal_data
def check_receipt_json(entry_id: int):
    """The receipt of one check as JSON, for docs/verify_receipt.py."""
    event = check_entry_or_404(entry_id)
    page_url = url_for(".check_receipt", entry_id=entry_id)
    return receipts.download(event, receipts.LICENCE_HOLDER, page_url)
