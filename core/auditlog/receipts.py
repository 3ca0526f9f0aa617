"""Receipts (回执) for the people the audit log is about: an entry's inclusion proof against a
witnessed checkpoint, disclosing only the fields its reader may see.

A receipt is what docs/verify_receipt.py checks offline: the entry's leaf, its audit path,
the log's checkpoint with the witnesses' cosignature lines appended (a C2SP cosigned
checkpoint), the log's and the witnesses' verifier keys, and, for an entry with a format-2
leaf (models.AuditEvent.leaf), the sealed fields disclosed to this reader with their field
salts. The blueprints decide who may read which entry (the holder of a licence its checks, a
party its case's entries) and hand this module the fields that reader's own page shows; this
module builds the receipt and the page, for every measure alike.
"""

import base64
import json

from flask import Response, redirect, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core import measures
from core.audit import OBJECT_LABELS, audit
from core.privacy import nothing_to_audit
from models import PEER_ACTIVE, AuditCheckpoint, AuditCosignature, AuditEvent, Peer

from .cosign import cosigner_key, key_id
from .log import NotYetIntegrated, inclusion_proof, verifier_keys
from .note import Checkpoint

RECEIPT_FORMAT = "jiaoguan-audit-receipt/2"

# What each reader's own page shows of an entry, as the sealed fields of its leaf (the open
# ones, time, action, object and result, every receipt shows). ALL: everything (the admin's
# `flask audit prove`, and staff whose page shows the client address).
ALL = None
LICENCE_HOLDER = frozenset(
    {"detail.via", "detail.checker", "detail.firm", "detail.office", "detail.city"}
)
EVIDENCE_PARTY = frozenset({"detail.case", "detail.as_party"})
TRANSFER_PARTY = frozenset({"office", "detail.party", "detail.plate", "detail.passed"})
# Not the actor: for a citizen it is the account's mobile number, which the case page never
# shows a clerk.
TRANSFER_STAFF = TRANSFER_PARTY | {"role"}

# Words for the sealed fields a receipt page may show (the raw name for any other).
FIELD_LABELS = {
    "actor_id": _l("Account number"),
    "actor": _l("Account"),
    "role": _l("Role"),
    "office": _l("Office"),  # the page names the office whose code is sealed
    "client_addr": _l("Client address"),
    "detail.via": _l("How"),
    "detail.checker": _l("Checked by"),
    # A firm's name for a share code's check, else the name the checker's side gave.
    "detail.firm": _l("Name of the checker"),
    "detail.office": _l("Office"),
    "detail.city": _l("City"),
    "detail.case": _l("Case"),
    "detail.as_party": _l("As a party"),
    "detail.party": _l("Party"),
    "detail.plate": _l("Plate"),
    "detail.passed": _l("Passed"),
}


def audit_read(event: AuditEvent, obj, detail: dict) -> None:
    """Audit the reading of a receipt of someone else's entry (`audit.receipt_view` on `obj`,
    the entry named in the detail); one's own entry is no one else's data."""
    if event.actor_id == current_user.id:
        nothing_to_audit()
    else:
        audit("audit.receipt_view", obj, detail={**detail, "entry": event.id})


def field_label(name: str) -> str:
    """A sealed field's name in the reader's language."""
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name


YES_NO = {True: _l("Yes"), False: _l("No")}


def field_value(value, words=None) -> str:
    """A disclosed value as the page shows it: in the words of the reader's own page when
    the blueprint gave them (`words`: value -> label), else text as is, yes or no, or JSON."""
    if words and isinstance(value, str | bool) and value in words:
        return str(words[value])
    if isinstance(value, bool):
        return str(YES_NO[value])
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def object_label(object_type: str) -> str:
    """The kind of object an entry names, in the reader's language."""
    label = OBJECT_LABELS.get(object_type)
    return str(label) if label is not None else object_type


def object_name(event: AuditEvent) -> str:
    """The object an entry names, as its reader knows it: its kind and the number the measure
    gives it (a transfer case's ZY000007), else its kind and stored id."""
    kind = object_label(event.object_type)
    number = measures.object_number(event.object_type, event.object_id) or event.object_id
    return f"{kind} {number}".strip() if number else kind


def is_empty(value) -> bool:
    """A disclosed value with nothing to show (a citizen's office code is ""): the page leaves
    its row out; the receipt itself keeps it, sealed and disclosed as it is in the leaf."""
    return value is None or (isinstance(value, str | list | dict) and not value)


class OpenLeaf(LookupError):
    """The entry has a format-1 leaf (written before migration 0020), which holds every field
    in clear: a receipt of it would show this reader what their page does not."""


def _b64(raw: bytes) -> str:
    """Standard base64 text."""
    return base64.b64encode(raw).decode()


def witnessed_checkpoint(seq: int) -> tuple[AuditCheckpoint | None, list[AuditCosignature]]:
    """The checkpoint a receipt of entry `seq` proves against, and its cosignatures: the newest
    checkpoint covering the entry that a witness cosigned, else the newest covering it."""
    cosigned = (
        AuditCheckpoint.select()
        .join(AuditCosignature)
        .where(AuditCheckpoint.tree_size >= seq)
        .order_by(AuditCheckpoint.tree_size.desc())
        .first()
    )
    if cosigned is not None:
        rows = cosigned.cosignatures.order_by(AuditCosignature.witness_url)
        return cosigned, list(rows)
    return AuditCheckpoint.covering(seq), []


def _witness_key(cosignature: AuditCosignature) -> str | None:
    """The cosigner's verifier key (C2SP form, type 0x04) from the witness's published keys,
    the one whose key id the cosignature line carries; None when it is no longer published."""
    peer = Peer.get_or_none(Peer.base_url == cosignature.witness_url)
    if peer is None:
        return None
    blob = base64.b64decode(cosignature.signature.rsplit(" ", 1)[-1])
    for jwk in peer.doc.get("keys", []):
        x = str(jwk.get("x", ""))
        public = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        if len(public) == 32 and key_id(cosignature.name, public) == blob[:4]:
            return cosigner_key(cosignature.name, public)
    return None


def build(event: AuditEvent, disclose=ALL) -> dict:
    """The receipt of an integrated entry, disclosing the sealed fields in `disclose` (ALL:
    every one); NotYetIntegrated while no checkpoint covers it, OpenLeaf for a format-1
    entry when not everything may be disclosed."""
    if disclose is not ALL and not event.salt:
        raise OpenLeaf(event.id)
    if event.seq is None:
        raise NotYetIntegrated(event.id)
    checkpoint, cosignatures = witnessed_checkpoint(event.seq)
    if checkpoint is None:
        raise NotYetIntegrated(event.id)
    note, witnesses = checkpoint.note, []
    for cosignature in cosignatures:
        key = _witness_key(cosignature)
        if key is None:
            continue
        note += cosignature.signature + "\n"
        witnesses.append({"name": cosignature.name, "city": cosignature.witness_city, "key": key})
    origin = Checkpoint.parse(checkpoint.note.rpartition("\n\n")[0] + "\n").origin
    receipt = {
        "format": RECEIPT_FORMAT,
        "leaf_index": event.seq - 1,
        "leaf": event.leaf().decode(),
        "tree_size": checkpoint.tree_size,
        "audit_path": [_b64(h) for h in inclusion_proof(event, checkpoint)],
        "checkpoint": note,
        "log_keys": verifier_keys(origin),
        "witnesses": witnesses,
    }
    if event.salt:
        receipt["disclosed"] = {
            name: {"salt": _b64(event.field_salt(name)), "value": value}
            for name, value in event.sealed_values().items()
            if disclose is ALL or name in disclose
        }
    return receipt


def receipt(seq: int) -> dict:
    """The receipt of entry `seq` with every field disclosed (the admin's `flask audit
    prove`); LookupError when no entry has that number."""
    event = AuditEvent.get_or_none(AuditEvent.seq == seq)
    if event is None:
        raise LookupError(f"no audit entry numbered {seq}")
    return build(event, ALL)


def download(event: AuditEvent, disclose, page_url: str) -> Response:
    """The receipt as a JSON file to keep and check offline; while the entry is not in the
    log yet, a redirect to its page (which says to try again in a moment)."""
    try:
        body = json.dumps(build(event, disclose), ensure_ascii=False, indent=2) + "\n"
    except (NotYetIntegrated, OpenLeaf):
        return redirect(page_url, 303)
    response = Response(body, mimetype="application/json")
    name = f"jiaoguan-receipt-{event.seq}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def page(
    event: AuditEvent,
    disclose,
    *,
    json_url: str,
    back_url: str,
    back_label: str,
    words: dict | None = None,
):
    """The human page of a receipt: what was logged and when, the checkpoint it is proved
    against and who witnessed it, the download, and how to check it offline. An entry the
    integrator has not numbered yet (it runs every second) gets a "try again" page instead.
    `words` gives, per field ("result", "detail.via", ...), the reader's page's labels of its
    values, so the receipt says what their page says."""
    context = {
        "words": words or {},
        "event": event,
        "back_url": back_url,
        "back_label": back_label,
        "object_name": object_name(event),
    }
    try:
        receipt = build(event, disclose)
    except NotYetIntegrated:
        return render_template("audit/receipt.html", pending=True, **context)
    except OpenLeaf:
        return render_template("audit/receipt.html", open_leaf=True, **context)
    # The checkpoint this receipt proves against (a newer cosignature may arrive meanwhile).
    checkpoint = AuditCheckpoint.get(AuditCheckpoint.tree_size == receipt["tree_size"])
    cosignatures = checkpoint.cosignatures.order_by(AuditCosignature.witness_url)
    witnessed = {w["name"] for w in receipt["witnesses"]}
    return render_template(
        "audit/receipt.html",
        pending=False,
        receipt=receipt,
        checkpoint=checkpoint,
        cosignatures=[c for c in cosignatures if c.name in witnessed],
        has_witnesses=Peer.select().where(Peer.status == PEER_ACTIVE).exists(),
        disclosed=receipt.get("disclosed"),
        shown_fields={
            name: field
            for name, field in (receipt.get("disclosed") or {}).items()
            if not is_empty(field["value"])
        },
        sealed_count=_sealed_count(receipt),
        json_url=json_url,
        field_label=field_label,
        field_value=field_value,
        # The log's key, named in the command: checked against it, the receipt shows whose log
        # it is (its own keys alone show only that it is consistent).
        check_command=" ".join(
            ["python3 verify_receipt.py receipt.json", *(f"--key '{k}'" for k in verifier_keys())]
        ),
        **context,
    )


def _sealed_count(receipt: dict) -> int:
    """How many fields of the leaf stay sealed for this reader."""
    leaf = json.loads(receipt["leaf"])
    return len(leaf.get("sealed", {})) - len(receipt.get("disclosed", {}))
