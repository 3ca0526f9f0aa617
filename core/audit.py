"""Writing audit rows with the request's actor, role, office and client address filled in."""

from collections.abc import Callable, Mapping
from contextlib import contextmanager, nullcontext

from flask import g, has_app_context, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import measures
from core.access import ROLE_LABELS
from core.stats import count_event
from models import AuditEvent, db
from rules.licencecode import client_network


def client_addr() -> str:
    """The client's address as the WSGI server saw it (set a proxy fix in front when proxied)."""
    return (request.remote_addr or "") if has_request_context() else "cli"


def client_net() -> str:
    """The client's network, the unit of per-address limits: an IPv4 address, or an IPv6 /64
    (what one household or phone is given: counted by the address, a /64 is 2^64 fresh ones)."""
    return client_network(client_addr())


def audit(
    action: str,
    obj=None,
    *,
    result: str = "ok",
    actor=None,
    detail=None,
    count_office: str | None = None,
    **extra,
):
    """Append an audit row for `action` on `obj` by the current (or given) user.

    `count_office`: the code of the office the event counts for (core.stats.OFFICE_OF), when
    the caller has read it already; the counters then need no lookup of their own."""
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user
    peer_url = g.get("acting_peer") if actor is None and has_app_context() else None
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
    if peer_url:
        # A change another city's message made (core.network.inbox): that deployment did it.
        fields.update(actor=peer_url[:60], role="peer")
    fields.update(extra)
    # The statistics' counters change with the row, in one transaction: an event that rolls
    # back is neither logged nor counted, and no count is ever made twice or missed. Inside the
    # step's transaction (the usual case) that transaction is the unit already: a savepoint
    # would only add two round trips to every audited write on PostgreSQL.
    with nullcontext() if db.in_transaction() else db.atomic():
        event = AuditEvent.append(action=action, detail=detail, **fields)
        count_event(event, obj, detail, count_office)
    if has_app_context():
        # core.privacy checks that a view declared to read personal data wrote its row.
        g.setdefault("audited_actions", set()).add(action)
    return event


@contextmanager
def acting_peer(peer_url: str):
    """Audit rows written inside name the peer deployment `peer_url` as their actor (a
    message it sent is being handled), unless they name a person."""
    previous = g.get("acting_peer")
    g.acting_peer = peer_url
    try:
        yield
    finally:
        g.acting_peer = previous


# Labels of the shared (platform) audit actions people see in their own pages and the audit
# search; each measure's own actions are labelled in its declaration (core.measures).
ACTION_LABELS = {
    "login.ok": _l("Logged in"),
    "login.failed": _l("Wrong account or password"),
    "login.code_failed": _l("Wrong or reused authenticator code"),
    "login.refused_locked": _l("Refused: account locked"),
    "logout": _l("Logged out"),
    "account.register": _l("Registered"),
    "account.register_code_sent": _l("Code to confirm a registration's mobile number sent"),
    "account.register_code_wrong": _l("Wrong code to confirm a registration"),
    "account.password_changed": _l("Password changed"),
    "account.password_wrong": _l("Wrong current password"),
    "account.password_reset_sent": _l("Code to reset the password sent"),
    "account.password_reset": _l("Password reset with a code"),
    "account.mobile_code_sent": _l("Code to confirm a new mobile number sent"),
    "account.mobile_changed": _l("Mobile number changed"),
    "account.totp_enrolled": _l("Authenticator set up"),
    "account.notice_preferences": _l("Notice preferences changed"),
    "office.create": _l("Office added"),
    "office.plates_added": _l("Plate numbers added to the pool"),
    "staff.create": _l("Staff account created"),
    "staff.deactivate": _l("Staff account deactivated"),
    "staff.activate": _l("Staff account reactivated"),
    "staff.reset_totp": _l("Authenticator reset"),
    "staff.list": _l("Staff accounts listed"),
    "staff.view": _l("Staff account viewed"),
    "staff.update": _l("Staff member's office or roles changed"),
    "audit.search": _l("Audit log searched"),
    "demo.load": _l("Demo city loaded"),
    "identity.sms_sent": _l("Identity code sent by SMS"),
    "identity.sms_failed": _l("Wrong identity code"),
    "identity.proven": _l("Identity proven by SMS"),
    "identity.withdrawn": _l("Identity proofs withdrawn after a password reset"),
    "identity.counter_lookup": _l("Account looked up at the counter"),
    "identity.counter_activated": _l("Identity proven at the counter"),
    "identity.countersigned": _l("Second clerk's confirmation at the counter"),
    "identity.dev_sms_view": _l("Development SMS messages viewed"),
    "stats.view": _l("Statistics viewed"),
    "stats.export": _l("Statistics downloaded as CSV"),
    "network.peer_added": _l("Network peer added"),
    "network.peer_claims_confirmed": _l("A network peer's new claims confirmed"),
    "network.peer_suspended": _l("Network peer suspended"),
    "network.peer_resumed": _l("Network peer resumed"),
    "network.peer_removed": _l("Network peer removed"),
    "network.key_rotated": _l("Signing key rotated"),
    "network.sent": _l("Message delivered to a peer"),
    "network.send_refused": _l("Message refused by a peer"),
    "network.received": _l("Message received from a peer"),
    "network.refused": _l("Message from another deployment refused"),
    "audit.witness_refused": _l("A witness refused our audit checkpoint"),
    "audit.checkpoint_refused": _l("A peer's audit checkpoint refused as inconsistent"),
    "audit.split_view": _l("A peer's audit log found showing two histories"),
    "audit.forged_checkpoint": _l("A checkpoint signed with our key that our log never made"),
    "audit.proof_withheld": _l("A peer's audit log withholding a consistency proof"),
    "audit.alert_acknowledged": _l("Witnessing alert acknowledged"),
    "audit.receipt_view": _l("Receipt of another person's log entry viewed"),
}


# Actions whose actor is the account someone tried to log in as, not a person proven to be its
# holder: the audit page says "attempt on" that account rather than naming its holder.
ATTEMPT_ACTIONS = frozenset({"login.failed", "login.code_failed", "login.refused_locked"})


def action_label(action: str) -> str:
    """A person-readable label of any audit action, shared or a measure's (the raw name when it
    has none, so an action of an older release still shows)."""
    label = ACTION_LABELS.get(action) or measures.audit_labels().get(action)
    return str(label) if label is not None else action


def actions_named(words: str) -> list[str]:
    """The actions whose label, in the page's language, holds `words` (an administrator
    searches the log with the words its rows show, not with the stored codes)."""
    words = words.strip().casefold()
    if not words:
        return []
    labels = {**ACTION_LABELS, **measures.audit_labels()}
    return sorted(action for action, label in labels.items() if words in str(label).casefold())


# Words for the kinds of object an audit row names (the model's class name is stored).
OBJECT_LABELS = {
    "User": _l("Account"),
    "Office": _l("Office"),
    "AccidentCase": _l("Accident case"),
    "CaseParty": _l("Party to an accident case"),
    "EvidenceItem": _l("Evidence item"),
    "LicenceRecord": _l("Licence record"),
    "ELicence": _l("E-licence"),
    "ShareCode": _l("Share code"),
    "TransferCase": _l("Transfer case"),
    "RestrictedZone": _l("Restricted zone"),
    "ZoneRule": _l("Truck rule"),
    "TruckPass": _l("Truck pass"),
    "TruckPassDocument": _l("Truck pass document"),
    "Vehicle": _l("Vehicle"),
    "OutgoingTransfer": _l("Sale to another city"),
    "NameCorrection": _l("Name correction request"),
    "ReviewRequest": _l("Review request"),
    "SmsChallenge": _l("SMS code"),
    "Peer": _l("Peer deployment"),
    # core.network.journal: a message exchanged with a peer, by its message id.
    "message": _l("Network message"),
}
# The result column's shared values (a measure's own verdicts show as stored).
RESULT_LABELS = {
    "ok": _l("Done"),
    "refused": _l("Refused"),
    "failed": _l("Did not succeed"),
    "invalid": _l("Invalid"),
    "not_found": _l("Not found"),
    "throttled": _l("Paused after too many attempts"),
}


def result_label(result: str, action: str = "") -> str:
    """The result column of an audit row in words: a shared value, or one of its action's
    measure (as stored when neither has words for it)."""
    label = measures.result_labels(action).get(result) or RESULT_LABELS.get(result)
    return str(label) if label is not None else result


# The role column of a row made without a logged-in user.
ANONYMOUS = _l("Not logged in")
# Actors that are not people (core.network.journal writes "peer": another city's deployment).
OTHER_ROLES = {"peer": _l("Peer deployment")}


def object_label(object_type: str, object_id: str, people: Mapping[str, str] | None = None) -> str:
    """The object of an audit row in words: an account by its holder's name (from `people`,
    user id -> name, looked up by the page), anything else as its kind and number."""
    if not object_type:
        return ""
    if object_type == "User" and people and object_id in people:
        return people[object_id]
    label = OBJECT_LABELS.get(object_type)
    return f"{label if label is not None else object_type} {object_id}".strip()


# What the audit page writes under a shared action's label, read from its row's detail (a
# measure's own actions declare their reasons in the measure: reason_of).
NOTE_READERS: dict[str, Callable[[Mapping], str | None]] = {}


def note(action: str, reader: Callable[[Mapping], str | None]) -> None:
    """Have the audit page write `reader(detail)` under the rows of `action`."""
    NOTE_READERS[action] = reader


def note_of(event: AuditEvent) -> str | None:
    """The note the audit page writes under this row (note), in words, or None."""
    reader = NOTE_READERS.get(event.action)
    return reader(event.detail_dict) if reader is not None else None


def reason_of(event: AuditEvent) -> str | None:
    """The reason an audit row keeps, in words (a clerk's refusal, a withholding), when its
    measure declares one for the row's action (Measure.audit_reasons)."""
    reader = measures.audit_reason_reader(event.action)
    return reader(event.detail_dict) if reader is not None else None


def role_label(roles: str) -> str:
    """The role column of an audit row (comma-separated role keys) in words."""
    if not roles or roles == "anonymous":
        return str(ANONYMOUS)
    separator = "、" if str(get_locale() or "zh").startswith("zh") else ", "
    return separator.join(str(ROLE_LABELS.get(r, OTHER_ROLES.get(r, r))) for r in roles.split(","))
