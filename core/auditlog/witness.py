"""Witnessing (见证): each peer deployment cosigns our checkpoints, and we cosign theirs.

The idea and the answers are those of C2SP tlog-witness, carried over the network's signed
envelopes instead of its own HTTP endpoint. The log sends a `checkpoint_cosign` request to
each active peer: its newest signed checkpoint, the size `old` of the last checkpoint that
peer cosigned, and the RFC 9162 consistency proof from `old` to the new size. The witness

- checks the checkpoint's signature with the log's published deployment keys (its origin must
  be the peer's address + /audit);
- refuses with `witness_size_mismatch` (and its own size in the refusal's body) when `old` is
  not the size it last cosigned, so the log can send the right proof, as tlog-witness's 409;
- refuses with `inconsistent_checkpoint` when the proof fails or the checkpoint gives another
  root for the size it cosigned already: the log forked or was rewritten. That raises an alert
  on both sides (a WitnessAlert and an audit row each);
- otherwise keeps the checkpoint as the newest it cosigned and answers its cosignature (a
  C2SP tlog-cosignature line, core.auditlog.cosign) in the signed acknowledgement.

The log checks the cosignature with the witness's published keys and keeps it with the
checkpoint (AuditCosignature): the admin's audit page shows the latest checkpoint with them.
Requests are synchronous (a request and its signed answer, as relayed licence checks are):
the log needs the answer, and a witness that is down is simply asked again next round.
"""

import base64
import datetime as dt
import logging
import time
import uuid

from flask import current_app
from peewee import PeeweeException

from core.network import http, keys
from core.network.envelope import EnvelopeError, sign, usable
from core.network.identity import base_url
from core.network.inbox import BadBody, Refused, register
from core.network.journal import record
from core.network.peers import inbox_of, normalise_url, verify_from
from models import (
    ALERT_LOG,
    ALERT_WITNESS,
    PEER_ACTIVE,
    AuditCheckpoint,
    AuditCosignature,
    Peer,
    WitnessAlert,
    WitnessedLog,
    utcnow,
    write_tx,
)
from rules import merkle

from . import evidence
from .cosign import cosign, cosigner_name, verify_cosignature
from .log import consistency_proof
from .note import Checkpoint, NoteError, open_note, verifier_key

log = logging.getLogger(__name__)

WITNESS_TYPE = "checkpoint_cosign"
MAX_NOTE = 4000
MAX_PROOF = 64  # a consistency proof of a tree of 2^32 entries has fewer hashes


# --- Both sides -----------------------------------------------------------------------------


def log_origin(url: str) -> str:
    """The checkpoint origin of the deployment at `url` (as core.auditlog.log.origin names ours)."""
    return url.split("://", 1)[-1].rstrip("/") + "/audit"


def published_keys(peer: Peer) -> list[bytes]:
    """The raw Ed25519 public keys the peer publishes (its deployment keys) that are valid now,
    as a message's signature must be (core.network.envelope): a key past its end, whose private
    half may since have leaked, signs no checkpoint and no cosignature of today."""
    raw, now = [], int(time.time())
    for jwk in peer.doc.get("keys", []):
        if not usable(jwk, now):
            continue
        x = str(jwk.get("x", ""))
        raw.append(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    return [r for r in raw if len(r) == 32]


def log_keys(origin: str, peer: Peer) -> list[str]:
    """The verifier keys (C2SP text form) of the peer's log (`origin`) valid now."""
    return [verifier_key(origin, public) for public in published_keys(peer)]


def open_log_note(note: str, origin: str, peer: Peer) -> str:
    """The text of a note of the peer's log (`origin`) signed by one of its keys valid now;
    NoteError otherwise."""
    return open_note(note, log_keys(origin, peer))


def note_text(note: str) -> str:
    """The text of a signed note (its lines before the signatures, final newline included)."""
    return note.rpartition("\n\n")[0] + "\n"


# What comparing witnesses' notes finds (core.auditlog.gossip) is audited as what it is. Every
# alert is raised once while open whatever the size: the log grows while the finding stands
# (a log restored from a backup is refused at each new size, every round, until its peers
# are told), and an administrator acknowledges the finding, not each size.
ALERT_ACTIONS = {
    "split_view": "audit.split_view",
    "forged_checkpoint": "audit.forged_checkpoint",
    "proof_withheld": "audit.proof_withheld",
}


def raise_alert(
    side: str, peer_url: str, reason: str, size, detail: str, message_id: str, evidence: str = ""
):
    """Record an inconsistency: an alert for the administrator and an audit row, in the
    caller's transaction; once while an alert of this side, peer and reason is open (the log
    asks again each round, at a new size as it grows).
    `evidence` is what it rests on, when signed notes show it (core.auditlog.evidence)."""
    same = WitnessAlert.open().where(
        WitnessAlert.side == side, WitnessAlert.peer_url == peer_url, WitnessAlert.reason == reason
    )
    if same.exists():
        return
    WitnessAlert.create(
        side=side,
        peer_url=peer_url,
        reason=reason,
        tree_size=size,
        detail=detail[:500],
        evidence=evidence,
    )
    action = ALERT_ACTIONS.get(reason) or (
        "audit.witness_refused" if side == ALERT_LOG else "audit.checkpoint_refused"
    )
    record(
        action,
        peer_url=peer_url,
        message_id=message_id,
        result=reason,
        detail={"size": size, "why": detail[:200]},
    )


# --- The witness ----------------------------------------------------------------------------


def _read_request(body: dict) -> tuple[str, int, list[bytes]]:
    """(note, old size, proof hashes) of a well-formed request; BadBody otherwise."""
    note, old, proof = body.get("checkpoint"), body.get("old"), body.get("proof")
    if (
        set(body) != {"checkpoint", "old", "proof"}
        or not isinstance(note, str)
        or len(note) > MAX_NOTE
        or not isinstance(old, int)
        or isinstance(old, bool)
        or old < 0
    ):
        raise BadBody("a checkpoint_cosign carries 'checkpoint', 'old' and 'proof'")
    try:
        return note, old, proof_hashes(proof)
    except ValueError as exc:
        raise BadBody(str(exc)) from exc


def proof_text(hashes: list[bytes]) -> list[str]:
    """A proof's hashes as sent: base64 (proof_hashes reads them back)."""
    return [base64.b64encode(h).decode() for h in hashes]


def proof_hashes(proof) -> list[bytes]:
    """A proof's hashes as sent (a list of base64 SHA-256 hashes, at most MAX_PROOF of them);
    ValueError when it is not one."""
    if not isinstance(proof, list) or len(proof) > MAX_PROOF:
        raise ValueError("a proof is a list of at most 64 hashes")
    try:
        hashes = [base64.b64decode(h, validate=True) for h in proof]
    except (TypeError, ValueError) as exc:
        raise ValueError("the proof's hashes are not base64") from exc
    if any(len(h) != 32 for h in hashes):
        raise ValueError("the proof's hashes are not SHA-256 hashes")
    return hashes


# Asked once a checkpoint (never from the outbox): its record of the exchange is kept a day, the
# cosignature itself for good.
@register(WITNESS_TYPE, journal=False, forget_after=dt.timedelta(days=1))
def witness_checkpoint(body: dict, peer: Peer) -> dict:
    """Cosign the peer's checkpoint when it is consistent with the last one cosigned here."""
    note, old, proof = _read_request(body)
    text = note_text(note)
    try:
        checkpoint = Checkpoint.parse(text)
    except NoteError as exc:
        raise BadBody(str(exc)) from exc
    origin = log_origin(peer.base_url)
    if checkpoint.origin != origin:
        raise Refused("unknown_log", f"this peer's log is {origin}")
    try:
        open_log_note(note, origin, peer)
    except NoteError as exc:
        raise Refused("bad_checkpoint_signature", str(exc)) from exc
    state = WitnessedLog.get_or_none(WitnessedLog.peer_url == peer.base_url)
    size = state.tree_size if state else 0
    root = bytes.fromhex(state.root_hash) if state else merkle.EMPTY_ROOT
    if checkpoint.size == size and checkpoint.root != root:
        why = f"another root for size {size}, cosigned before"
        _inconsistent(peer, checkpoint, size, why, _notes_shown(peer, state, note, why))
    if old != size:
        raise Refused("witness_size_mismatch", f"last cosigned {size}", body={"size": size})
    if checkpoint.size < old:
        raise Refused("stale_checkpoint", f"older than {size}", body={"size": size})
    try:
        merkle.verify_consistency(old, checkpoint.size, root, checkpoint.root, proof)
    except merkle.ProofError as exc:
        why = f"{old} -> {checkpoint.size}: {exc}"
        evidence = _notes_shown(peer, state, note, why, proof_text(proof), old)
        _inconsistent(peer, checkpoint, size, why, evidence)
    _keep(peer, state, checkpoint, note, old)
    line = cosign(
        text, cosigner_name(base_url()), keys.signing_key().key.private_key, int(time.time())
    )
    return {"cosignature": line, "size": checkpoint.size}


def _notes_shown(peer: Peer, state, note: str, why: str, proof=None, old=None) -> str:
    """The evidence of a refused checkpoint: the note cosigned here before (none when this
    was the first) and the one the log sent now, both signed by it, with the proof it sent."""
    origin = log_origin(peer.base_url)
    notes = [(base_url(), state.note)] if state else []
    shown = [*notes, (peer.base_url, note)]
    return evidence.document(origin, log_keys(origin, peer), shown, why, proof, old)


def _inconsistent(peer: Peer, checkpoint: Checkpoint, size: int, why: str, evidence_doc: str):
    """Refuse a checkpoint that does not extend what was cosigned, with an alert here."""

    def alert():
        """The witness side's alert, written with the refusal's audit row."""
        raise_alert(
            ALERT_WITNESS,
            peer.base_url,
            "inconsistent_checkpoint",
            checkpoint.size,
            why,
            "",
            evidence_doc,
        )

    raise Refused("inconsistent_checkpoint", why, body={"size": size}, also=alert)


def _keep(peer: Peer, state, checkpoint: Checkpoint, note: str, old: int) -> None:
    """Store the newest checkpoint cosigned; a conditional update, so that of two requests
    racing from the same size only one moves it on."""
    values = {
        "origin": checkpoint.origin,
        "tree_size": checkpoint.size,
        "root_hash": checkpoint.root.hex(),
        "note": note,
        "cosigned_at": utcnow(),
    }
    if state is None:
        # Two first requests at once: one row is made, the other is told the size it missed.
        made = (
            WitnessedLog.insert(peer_url=peer.base_url, **values)
            .on_conflict_ignore()
            .as_rowcount()
            .execute()
        )
        if not made:
            other = WitnessedLog.get(WitnessedLog.peer_url == peer.base_url)
            raise Refused(
                "witness_size_mismatch", "moved on meanwhile", body={"size": other.tree_size}
            )
        return
    moved = (
        WitnessedLog.update(values)
        .where(WitnessedLog.id == state.id, WitnessedLog.tree_size == old)
        .execute()
    )
    if not moved:
        raise Refused("witness_size_mismatch", "moved on meanwhile", body={"size": old})


# --- The log --------------------------------------------------------------------------------


def _verified_answer(text: str, peer: Peer) -> dict:
    """The witness's answer verified with its keys (again after a key refresh)."""
    reply = verify_from(peer, text)
    if normalise_url(reply.get("from")) != peer.base_url or reply.get("to") != base_url():
        raise EnvelopeError("bad_signature", "answered by another deployment")
    return reply


def ask(peer: Peer, type_: str, body: dict) -> tuple[str, dict]:
    """Send one synchronous request of `type_` to a peer; (message id, its verified answer).
    http.Unreachable or EnvelopeError when there is no good answer."""
    payload = {
        "id": str(uuid.uuid4()),
        "type": type_,
        "from": base_url(),
        "to": peer.base_url,
        "iat": int(time.time()),
        "body": body,
    }
    inbox = inbox_of(peer)
    timeout = current_app.config["NETWORK_TIMEOUT_SECONDS"]
    _, text = http.post_jose(inbox, sign(payload, keys.signing_key()), timeout=timeout)
    reply = _verified_answer(text.strip(), peer)
    if reply.get("in_reply_to") != payload["id"]:
        raise EnvelopeError("bad_signature", "the answer is not about this request")
    return payload["id"], reply


def _ask(peer: Peer, checkpoint: AuditCheckpoint, old: int) -> tuple[str, dict]:
    """Send one witness request; (message id, the verified answer)."""
    proof = consistency_proof(old, checkpoint.tree_size) if old else []
    body = {
        "checkpoint": checkpoint.note,
        "old": old,
        "proof": proof_text(proof),
    }
    return ask(peer, WITNESS_TYPE, body)


def request_cosignature(peer: Peer, checkpoint: AuditCheckpoint | None = None) -> str:
    """Ask one witness to cosign our newest checkpoint (or `checkpoint`). Returns what came
    of it: cosigned, already, nothing, unreachable, bad_answer, or the refusal's reason."""
    checkpoint = checkpoint or AuditCheckpoint.latest()
    if checkpoint is None:
        return "nothing"
    done = AuditCosignature.select().where(
        AuditCosignature.checkpoint == checkpoint, AuditCosignature.witness_url == peer.base_url
    )
    if checkpoint.signed_again_at is not None:  # asked again once it carries a newer key's
        done = done.where(AuditCosignature.received_at >= checkpoint.signed_again_at)
    if done.exists():
        return "already"
    old = min(AuditCosignature.last_size(peer.base_url), checkpoint.tree_size)
    for attempt in range(2):
        try:
            message_id, reply = _ask(peer, checkpoint, old)
        except http.Unreachable:
            return "unreachable"
        except EnvelopeError:
            return "bad_answer"
        body = reply.get("body")
        body = body if isinstance(body, dict) else {}
        if reply.get("type") == "ack":
            return _store(peer, checkpoint, body)
        reason = str(reply.get("reason", ""))[:40]
        theirs = body.get("size")
        if reason == "witness_size_mismatch" and isinstance(theirs, int) and theirs != old:
            if attempt == 0 and 0 <= theirs <= checkpoint.tree_size:
                old = theirs  # the witness saw another size of ours: prove from that one
                continue
            if theirs > checkpoint.tree_size:
                why = f"the witness cosigned {theirs} entries; our newest checkpoint has fewer"
                _alert_log(peer, reason, checkpoint, why, message_id)
        if reason == "inconsistent_checkpoint":
            why = f"refused {old} -> {checkpoint.tree_size} (the witness cosigned {theirs})"
            _alert_log(peer, reason, checkpoint, why, message_id)
        return reason or "refused"
    return "witness_size_mismatch"


def _alert_log(peer: Peer, reason: str, checkpoint: AuditCheckpoint, why: str, message_id: str):
    """The log side's alert: a witness says our log is not what it saw."""
    with write_tx():
        raise_alert(ALERT_LOG, peer.base_url, reason, checkpoint.tree_size, why, message_id)


def _store(peer: Peer, checkpoint: AuditCheckpoint, body: dict) -> str:
    """Keep a witness's cosignature once it verifies with the witness's published keys."""
    line = str(body.get("cosignature", ""))
    name = cosigner_name(peer.base_url)
    try:
        stamp = verify_cosignature(line, note_text(checkpoint.note), name, published_keys(peer))
    except NoteError:
        return "bad_answer"
    # A witness cosigns as it answers: a time far from ours is not a cosignature of now.
    if abs(stamp - time.time()) > current_app.config["NETWORK_CLOCK_SKEW_SECONDS"]:
        return "bad_answer"
    cosigned_at = dt.datetime.fromtimestamp(stamp, dt.UTC).replace(tzinfo=None)
    with write_tx():
        AuditCosignature.insert(
            checkpoint=checkpoint,
            witness_url=peer.base_url,
            witness_city=peer.city,
            name=name,
            signature=line,
            cosigned_at=cosigned_at,
        ).on_conflict(
            # Asked again after a newer key's signature was added: the newer cosignature.
            conflict_target=[AuditCosignature.checkpoint, AuditCosignature.witness_url],
            update={
                AuditCosignature.signature: line,
                AuditCosignature.cosigned_at: cosigned_at,
                AuditCosignature.received_at: utcnow(),
            },
        ).execute()
    return "cosigned"


def witness_round() -> dict[str, str]:
    """Ask every active peer to cosign our newest checkpoint: {peer url: what came of it}."""
    checkpoint = AuditCheckpoint.latest()
    peers = Peer.select().where(Peer.status == PEER_ACTIVE).order_by(Peer.base_url)
    return {peer.base_url: _one_witness(peer, checkpoint) for peer in peers}


def _one_witness(peer: Peer, checkpoint) -> str:
    """One peer's outcome of a round. An answer nobody foresaw is that peer's bad answer: it
    must not keep the peers after it from being asked."""
    try:
        return request_cosignature(peer, checkpoint)
    except PeeweeException:
        raise  # our own database's trouble, not the peer's answer
    except Exception:  # noqa: BLE001 - a peer's answer is untrusted input
        log.exception("witness %s: an answer that could not be handled", peer.base_url)
        return "bad_answer"


def run_witness(
    interval: float = 10.0,
    stop=lambda: False,
    once: bool = False,
    compare=None,
    compare_every: int = 6,
    report=None,
) -> dict:
    """Ask for cosignatures every `interval` seconds until `stop()` (one round with `once`);
    returns the last round's outcomes, and gives each round's to `report` as it ends (the CLI
    prints what changed, for the service's journal). The caller holds a connection. Every
    `compare_every` rounds, the first included, `compare(stop)` runs too (never with `once`):
    the CLI gives core.auditlog.gossip.compare_round, a minute apart at the default interval.

    The pause between rounds looks at `stop()` every fifth of a second: a SIGTERM ends the
    loop at once, not after the rest of the pause and another round."""
    rounds = 0
    while True:
        outcomes = witness_round()
        if report is not None:
            report(outcomes)
        if compare is not None and not once and rounds % compare_every == 0:
            try:
                compare(stop)
            except PeeweeException:  # the cosigning goes on; the next comparison tries again
                log.exception("comparing notes with the peers failed")
        rounds += 1
        deadline = time.monotonic() + interval
        while not (once or stop()) and time.monotonic() < deadline:
            time.sleep(max(0.0, min(0.2, deadline - time.monotonic())))
        if once or stop():
            return outcomes


def latest_cosigned() -> dict:
    """What the audit page shows: our newest checkpoint, the newest one a witness cosigned
    (a fresh checkpoint is cosigned a round later) and its cosignatures, and open alerts."""
    cosigned = (
        AuditCheckpoint.select()
        .join(AuditCosignature)
        .order_by(AuditCheckpoint.tree_size.desc())
        .first()
    )
    rows = cosigned.cosignatures.order_by(AuditCosignature.witness_city) if cosigned else []
    return {
        "checkpoint": AuditCheckpoint.latest(),
        "cosigned": cosigned,
        "cosignatures": list(rows),
        "witness_alerts": list(WitnessAlert.open().limit(50)),
    }
