"""Writing audit rows with the request's actor, role, office and client address filled in."""

from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.stats import count_event
from models import AuditEvent, db


def client_addr() -> str:
    """The client's address as the WSGI server saw it (set a proxy fix in front when proxied)."""
    return (request.remote_addr or "") if has_request_context() else "cli"


def audit(action: str, obj=None, *, result: str = "ok", actor=None, detail=None, **extra):
    """Append an audit row for `action` on `obj` by the current (or given) user."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    fields = {
        "actor_id": actor.id if actor is not None else None,
        "actor": (actor.username or actor.mobile or str(actor.id)) if actor is not None else "",
        "role": ",".join(sorted(actor.roles)) if actor is not None else "anonymous",
        "office": actor.office.code if actor is not None and actor.office_id else "",
        "object_type": type(obj).__name__ if obj is not None else "",
        "object_id": str(obj.id) if obj is not None else "",
        "result": result,
        "client_addr": client_addr(),
    }
    fields.update(extra)
    # The statistics' counters change with the row, in one transaction: an event that rolls
    # back is neither logged nor counted, and no count is ever made twice or missed.
    with db.atomic():
        event = AuditEvent.append(action=action, detail=detail, **fields)
        count_event(event, obj, detail)
    return event


# Labels of the audit actions people see in their own pages and the audit search.
ACTION_LABELS = {
    "login.ok": _l("Logged in"),
    "login.failed": _l("Wrong account or password"),
    "login.code_failed": _l("Wrong or reused authenticator code"),
    "login.refused_locked": _l("Refused: account locked"),
    "logout": _l("Logged out"),
    "account.register": _l("Registered"),
    "account.password_changed": _l("Password changed"),
    "account.totp_enrolled": _l("Authenticator set up"),
    "staff.create": _l("Staff account created"),
    "staff.deactivate": _l("Staff account deactivated"),
    "staff.activate": _l("Staff account reactivated"),
    "staff.reset_totp": _l("Authenticator reset"),
    "audit.search": _l("Audit log searched"),
    "demo.load": _l("Demo city loaded"),
    "licence.issue": _l("E-licence issued"),
    "licence.apply_refused": _l("E-licence refused"),
    "licence.reveal": _l("Full licence number shown"),
    "licence.codes_reset": _l("All licence codes revoked"),
    "licence.check": _l("Licence checked"),
    "licence.share_create": _l("Share code created"),
    "licence.share_cancel": _l("Share code cancelled"),
    "licence.search": _l("Licence records searched"),
    "licence.record_view": _l("Licence record viewed"),
    "licence.photo": _l("Licence photo uploaded"),
    "licence.import": _l("Licence records imported"),
    "licence_record.suspended": _l("Licence suspended"),
    "licence_record.revoked": _l("Licence revoked"),
    "licence_record.cancelled": _l("Licence cancelled"),
    "licence_record.valid": _l("Licence restored"),
    "evidence.case_open": _l("Accident case opened"),
    "evidence.case.evidence_gathered": _l("Accident case: evidence gathered"),
    "evidence.case.determination_delivered": _l("Accident case: determination delivered"),
    "evidence.case.open_for_review": _l("Accident case: evidence opened for review"),
    "evidence.case.closed": _l("Accident case closed"),
    "evidence.case_view": _l("Accident case viewed"),
    "evidence.party_add": _l("Party added to an accident case"),
    "evidence.party_remove": _l("Party removed from an accident case"),
    "evidence.notice": _l("Query code issued to a party"),
    "evidence.code_ok": _l("Accident case opened with a query code"),
    "evidence.code_failed": _l("Wrong accident case number or query code"),
    "evidence.item_upload": _l("Evidence uploaded"),
    "evidence.item_release": _l("Evidence released to the parties"),
    "evidence.item_withhold": _l("Evidence withheld from the parties"),
    "evidence.item_page": _l("Evidence item page opened"),
    "evidence.item_view": _l("Evidence viewed"),
    "evidence.item_download": _l("Copy of evidence downloaded"),
    "evidence.log_view": _l("Accident case access log viewed"),
    "transfer.open": _l("Transfer case opened"),
    "transfer.confirm": _l("Sale confirmed by a party"),
    "transfer.confirmed": _l("Sale confirmed by both parties"),
    "transfer.declined": _l("Sale declined: case cancelled"),
    "transfer.plate_chosen": _l("Plate chosen"),
    "transfer.inspect": _l("Vehicle inspected"),
    "transfer.inspected": _l("Inspection passed: archive requested"),
    "transfer.archive_sent": _l("Vehicle archive sent"),
    "transfer.registered": _l("Transfer registered"),
    "transfer.stopped": _l("Transfer case stopped"),
    "transfer.case_view": _l("Transfer case viewed"),
    "transfer.queue_view": _l("Transfer queue viewed"),
    "transfer.archive_read": _l("Vehicle archive read"),
    "identity.sms_sent": _l("Identity code sent by SMS"),
    "identity.sms_failed": _l("Wrong identity code"),
    "identity.proven": _l("Identity proven by SMS"),
    "identity.counter_lookup": _l("Account looked up at the counter"),
    "identity.counter_activated": _l("Identity proven at the counter"),
    "licence.mobile_set": _l("Recorded mobile number set"),
    "stats.view": _l("Statistics viewed"),
    "stats.export": _l("Statistics downloaded as CSV"),
}


def action_label(action: str) -> str:
    """A person-readable label of an audit action (the raw name when it has none)."""
    return str(ACTION_LABELS.get(action, action))
