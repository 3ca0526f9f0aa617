"""Witnesses compare notes: a log that shows one history to one witness and another to the
next (a split view) is caught by the witnesses together.

Each witness checks only that a log's checkpoints extend the last one it cosigned itself, so a
log that keeps two forks, one for each witness, passes both. Each deployment therefore asks
every active peer, now and then, for the newest checkpoint it cosigned of each log
(`witnessed_checkpoints`), and holds each one, signature checked, against what it knows:

- a checkpoint of **another peer's log**, against the newest one cosigned here: at the same
  size the roots must be equal; at another size that log is asked for the RFC 9162
  consistency proof between the two (`consistency_proof`). Two checkpoints the log signed
  that no proof joins are a split view (`split_view`): the log signed two histories. A log
  that says it has no tree of a size it signed is one too; a log that cannot be reached is
  asked again next time;
- a checkpoint of **our own log**, against our kept tree: another root at its size, or a size
  our tree has not reached, is one we never made (`forged_checkpoint`): someone signs with
  our key.

Each finding is a WitnessAlert and an audit row (core.auditlog.witness.raise_alert), shown on
the audit and peers pages. The other witness finds the same when it compares in turn, and a
log whose key was stolen finds the forged checkpoint among its witnesses' notes: every side
that can see the fork raises the alert. Answers are kept a day and write no audit row, as
cosignatures do: else the deployments' logs would grow by comparing each other's, for ever.
"""

import base64
import datetime as dt
import logging

from peewee import PeeweeException

from core.network import http
from core.network.envelope import EnvelopeError
from core.network.inbox import BadBody, Refused, register
from models import (
    ALERT_LOG,
    ALERT_WITNESS,
    PEER_ACTIVE,
    AuditCheckpoint,
    AuditTreeNode,
    Peer,
    WitnessedLog,
    write_tx,
)
from rules import merkle

from .log import consistency_proof, origin, tree_size, verifier_keys
from .note import Checkpoint, NoteError, open_note, verifier_key
from .witness import MAX_NOTE, _publics, ask, log_origin, note_text, proof_hashes, raise_alert

logger = logging.getLogger(__name__)

LIST_TYPE = "witnessed_checkpoints"
PROOF_TYPE = "consistency_proof"
MAX_NOTES = 200  # checkpoints in one answer: one per log witnessed, far more than a network has


# --- Answering ------------------------------------------------------------------------------


@register(LIST_TYPE, journal=False, forget_after=dt.timedelta(days=1))
def witnessed_checkpoints(body: dict, peer: Peer) -> dict:
    """The newest checkpoint cosigned here of each log (as the logs signed them)."""
    if body:
        raise BadBody("a witnessed_checkpoints request carries nothing")
    rows = WitnessedLog.select(WitnessedLog.note).order_by(WitnessedLog.peer_url)
    return {"checkpoints": [row.note for row in rows.limit(MAX_NOTES)]}


@register(PROOF_TYPE, journal=False, forget_after=dt.timedelta(days=1))
def prove_consistency(body: dict, peer: Peer) -> dict:
    """The consistency proof between two trees of our log that a checkpoint covers."""
    old, new = body.get("old"), body.get("new")
    if (
        set(body) != {"old", "new"}
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in (old, new))
        or not 0 < old <= new
    ):
        raise BadBody("a consistency_proof request carries sizes 'old' <= 'new'")
    latest = AuditCheckpoint.latest()
    if latest is None or new > latest.tree_size:
        raise Refused("unknown_tree_size", f"no checkpoint of {new} entries here")
    return {"proof": [base64.b64encode(h).decode() for h in consistency_proof(old, new)]}


# --- Comparing ------------------------------------------------------------------------------


def compare_round() -> dict[str, str]:
    """Ask every active peer for the checkpoints it cosigned and hold each against ours:
    {peer url: what came of it} (agrees, split_view, forged_checkpoint, unreachable,
    bad_answer, or the refusal's reason)."""
    peers = list(Peer.select().where(Peer.status == PEER_ACTIVE).order_by(Peer.base_url))
    logs = {log_origin(p.base_url): p for p in peers}
    return {p.base_url: _one_peer(p, logs) for p in peers}


def _one_peer(witness: Peer, logs: dict[str, Peer]) -> str:
    """One peer's outcome; an answer nobody foresaw is its bad answer, as in a witness round."""
    try:
        return _compare_with(witness, logs)
    except PeeweeException:
        raise  # our own database's trouble, not the peer's answer
    except Exception:  # noqa: BLE001 - a peer's answer is untrusted input
        logger.exception("comparing with %s: an answer that could not be handled", witness.base_url)
        return "bad_answer"


def _compare_with(witness: Peer, logs: dict[str, Peer]) -> str:
    """Compare the checkpoints one witness cosigned with ours; the worst finding."""
    try:
        _, reply = ask(witness, LIST_TYPE, {})
    except http.Unreachable:
        return "unreachable"
    except EnvelopeError:
        return "bad_answer"
    if reply.get("type") != "ack":
        return str(reply.get("reason", ""))[:40] or "refused"
    body = reply.get("body")
    notes = body.get("checkpoints") if isinstance(body, dict) else None
    if not isinstance(notes, list) or len(notes) > MAX_NOTES:
        return "bad_answer"
    findings = set()
    for note in notes:
        if not isinstance(note, str) or len(note) > MAX_NOTE:
            return "bad_answer"
        try:
            checkpoint = Checkpoint.parse(note_text(note))
        except NoteError:
            return "bad_answer"
        if checkpoint.origin == origin():
            findings.add(_against_our_tree(witness, note, checkpoint))
        elif checkpoint.origin in logs and logs[checkpoint.origin].id != witness.id:
            findings.add(_against_our_cosigned(witness, logs[checkpoint.origin], note, checkpoint))
    for worst in ("forged_checkpoint", "split_view", "unanswered"):
        if worst in findings:
            return worst
    return "agrees"


def root_at(size: int) -> bytes:
    """The root of our log's first `size` entries, from the kept tree."""
    if size == 0:
        return merkle.EMPTY_ROOT
    return merkle.range_hash(0, size, AuditTreeNode.fetch(merkle.frontier_keys(size)))


def _against_our_tree(witness: Peer, note: str, checkpoint: Checkpoint) -> str:
    """A witness's checkpoint of our own log: it must be our tree's at its size."""
    try:
        open_note(note, verifier_keys())  # every key we ever had: an old one may have leaked
    except NoteError:
        return "agrees"  # not signed by us: nothing we said
    ours = tree_size()
    if checkpoint.size > ours:
        why = f"a checkpoint of {checkpoint.size} entries, signed with our key; our tree has {ours}"
    elif root_at(checkpoint.size) != checkpoint.root:
        why = f"a checkpoint of {checkpoint.size} entries, signed with our key, with another root"
    else:
        return "agrees"
    with write_tx():
        raise_alert(ALERT_LOG, witness.base_url, "forged_checkpoint", checkpoint.size, why, "")
    return "forged_checkpoint"


def _against_our_cosigned(witness: Peer, log: Peer, note: str, theirs: Checkpoint) -> str:
    """Another witness's checkpoint of `log`: it and the one cosigned here must be one history."""
    try:
        open_note(note, [verifier_key(theirs.origin, public) for public in _publics(log)])
    except NoteError:
        return "agrees"  # not (or no longer) verifiable with the log's keys: no evidence
    mine = WitnessedLog.get_or_none(WitnessedLog.peer_url == log.base_url)
    if mine is None:
        return "agrees"
    ours = (mine.tree_size, bytes.fromhex(mine.root_hash))
    (old, old_root), (new, new_root) = sorted([ours, (theirs.size, theirs.root)])
    if old == new:
        if old_root == new_root:
            return "agrees"
        why = "another root for the same size"
    elif old == 0:
        return "agrees"
    else:
        why = _unproven(log, old, new, old_root, new_root)
        if why is None:
            return "agrees"
        if why == "unanswered":
            return why
    detail = f"{witness.base_url} cosigned {theirs.size} entries, we {mine.tree_size}: {why}"
    with write_tx():
        raise_alert(ALERT_WITNESS, log.base_url, "split_view", new, detail, "")
    return "split_view"


def _unproven(log: Peer, old: int, new: int, old_root: bytes, new_root: bytes) -> str | None:
    """Why the log's trees of `old` and `new` entries are not one history (None: the log
    proved they are; "unanswered": no answer to judge by this time)."""
    try:
        _, reply = ask(log, PROOF_TYPE, {"old": old, "new": new})
    except (http.Unreachable, EnvelopeError):
        return "unanswered"
    if reply.get("type") != "ack":
        if reply.get("reason") == "unknown_tree_size":
            return f"the log says it has no tree of {new} entries"
        return "unanswered"
    body = reply.get("body")
    try:
        proof = proof_hashes(body.get("proof") if isinstance(body, dict) else None)
        merkle.verify_consistency(old, new, old_root, new_root, proof)
    except ValueError as exc:
        return f"no consistency proof from {old} to {new} ({exc})"
    return None
