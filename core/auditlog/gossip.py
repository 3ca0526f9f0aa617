"""Witnesses compare notes: a log that shows one history to one witness and another to the
next (a split view) is caught by the witnesses together.

Each witness checks only that a log's checkpoints extend the last one it cosigned itself, so a
log that keeps two forks, one for each witness, passes both. Each deployment therefore asks
every active peer, now and then, for the newest checkpoint it cosigned of each log
(`witnessed_checkpoints`), and holds each one, signature checked, against what it knows:

- a checkpoint of **another peer's log**, against the newest one cosigned here: at the same
  size the roots must be equal; at another size that log is asked for the RFC 9162
  consistency proof between the two (`consistency_proof`). Two checkpoints the log signed
  that no proof joins are a split view (`split_view`), and so is a size it signed and says it
  does not have. A log that gives no proof is asked again next time; one that stays in touch
  (it answers us, or its messages reach us) but has not given it for PROOF_PATIENCE raises
  `proof_withheld`: a forked log cannot hide by refusing to answer (AwaitedProof keeps since
  when it owes the proof);
- a checkpoint of **our own log**, against our kept tree: another root at its size, or a size
  our tree has not reached, is one we never made (`forged_checkpoint`): someone signs with our
  key (or our database went back in time: a restore, a lagging replica).

Each finding is a WitnessAlert and an audit row (core.auditlog.witness.raise_alert), once while
it is open, shown on the audit and peers pages. The other witness finds the same when it
compares in turn, and a log whose key was stolen finds the forged checkpoint among its
witnesses' notes: every side that can see the fork raises the alert.

The work is bounded: one checkpoint per log in an answer (MAX_NOTES of them), one proof asked
per pair of sizes and round, none of a log that did not answer this round, at most
MAX_PROOFS a round, and `stop()` looked at between requests. The questions change nothing at
the deployment asked: answered afresh, nothing stored, no audit row (core.network.inbox's
read-only handlers).
"""

import base64
import datetime as dt
import logging
import time
from dataclasses import dataclass, field

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
    AwaitedProof,
    Peer,
    WitnessedLog,
    utcnow,
    write_tx,
)
from rules import merkle

from .log import consistency_proof, origin, tree_size, verifier_keys
from .note import Checkpoint, NoteError, open_note, verifier_key
from .witness import MAX_NOTE, _publics, ask, log_origin, note_text, proof_hashes, raise_alert

logger = logging.getLogger(__name__)

LIST_TYPE = "witnessed_checkpoints"
PROOF_TYPE = "consistency_proof"
MAX_NOTES = 100  # logs witnessed: far more than a network of cities has (an answer < 1 MiB)
MAX_PROOFS = 50  # proofs asked in one round, over every log
PROOF_PATIENCE = dt.timedelta(hours=1)
# A peer that does not know these questions (an older version) is not asked again for a day.
QUIET_FOR = 86400
_not_speaking: dict[str, float] = {}

# Outcomes, the worst first: a peer's outcome is the worst of what its checkpoints gave.
OUTCOMES = (
    "forged_checkpoint",
    "split_view",
    "proof_withheld",
    "unanswered",
    "bad_answer",
    "unverifiable",
    "agrees",
)


# --- Answering ------------------------------------------------------------------------------


@register(LIST_TYPE, read_only=True)
def witnessed_checkpoints(body: dict, peer: Peer) -> dict:
    """The newest checkpoint cosigned here of each log (as the logs signed them)."""
    if body:
        raise BadBody("a witnessed_checkpoints request carries nothing")
    rows = WitnessedLog.select(WitnessedLog.note).order_by(WitnessedLog.peer_url)
    return {"checkpoints": [row.note for row in rows.limit(MAX_NOTES)]}


@register(PROOF_TYPE, read_only=True)
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


@dataclass
class Round:
    """What one round learnt: the peers that answered, the logs that could not be reached,
    the proofs asked (by log and sizes), and how many."""

    stop: object
    answered: set = field(default_factory=set)
    down: set = field(default_factory=set)
    proofs: dict = field(default_factory=dict)
    asked: int = 0
    owed: set = field(default_factory=set)  # (log, witness) whose proof is still awaited


def compare_round(stop=lambda: False) -> dict[str, str]:
    """Ask every active peer for the checkpoints it cosigned and hold each against ours:
    {peer url: what came of it} (one of OUTCOMES, unreachable, or a refusal's reason).
    Ends early, with what it has, once `stop()` says so."""
    peers = list(Peer.select().where(Peer.status == PEER_ACTIVE).order_by(Peer.base_url))
    logs = {log_origin(p.base_url): p for p in peers}
    this = Round(stop)
    answers, outcomes = {}, {}
    for peer in peers:  # every answer first: a log that answered is one that is in touch
        if stop():
            return outcomes
        if _not_speaking.get(peer.base_url, 0) > time.monotonic():
            outcomes[peer.base_url] = "unknown_type"
            continue
        got = _ask_notes(peer)
        if isinstance(got, str):
            outcomes[peer.base_url] = got
        else:
            answers[peer.base_url] = got
            this.answered.add(peer.base_url)
    for peer in peers:
        if stop():
            return outcomes
        if peer.base_url in answers:
            outcomes[peer.base_url] = _one_peer(peer, answers[peer.base_url], logs, this)
    _forget_settled(this, {p.base_url for p in peers})
    return outcomes


def _forget_settled(this: Round, active: set) -> None:
    """After a whole round: no proof is awaited any more of a pair the witness's answer no
    longer gives (it moved on to agree, or holds no checkpoint of that log now), nor of a peer
    that is not active: a later round starts counting afresh, not from an old `since`."""
    with write_tx():
        for row in AwaitedProof.select():
            pair = (row.log_url, row.witness_url)
            gone = row.log_url not in active or row.witness_url not in active
            if gone or row.witness_url in this.answered and pair not in this.owed:
                row.delete_instance()


def _ask_notes(peer: Peer) -> list | str:
    """The notes a peer sends (a list), or what came instead (an outcome)."""
    try:
        _, reply = ask(peer, LIST_TYPE, {})
    except http.Unreachable:
        return "unreachable"
    except EnvelopeError:
        return "bad_answer"
    if reply.get("type") != "ack":
        reason = str(reply.get("reason", ""))[:40] or "refused"
        if reason == "unknown_type":
            _not_speaking[peer.base_url] = time.monotonic() + QUIET_FOR
        return reason
    body = reply.get("body")
    notes = body.get("checkpoints") if isinstance(body, dict) else None
    if not isinstance(notes, list) or len(notes) > MAX_NOTES:
        return "bad_answer"
    return notes


def _one_peer(witness: Peer, notes: list, logs: dict[str, Peer], this: Round) -> str:
    """One peer's outcome; an answer nobody foresaw is its bad answer, as in a witness round."""
    try:
        return _compare_with(witness, notes, logs, this)
    except PeeweeException:
        raise  # our own database's trouble, not the peer's answer
    except Exception:  # noqa: BLE001 - a peer's answer is untrusted input
        logger.exception("comparing with %s: an answer that could not be handled", witness.base_url)
        return "bad_answer"


def _compare_with(witness: Peer, notes: list, logs: dict[str, Peer], this: Round) -> str:
    """Compare the checkpoints one witness cosigned with ours; the worst finding. A note
    that is not a checkpoint, or a second one of the same log, is a bad answer, and the
    others are compared all the same."""
    findings, seen = set(), set()
    for note in notes:
        if this.stop():
            break
        try:
            if not isinstance(note, str) or len(note) > MAX_NOTE:
                raise NoteError("not a note")
            checkpoint = Checkpoint.parse(note_text(note))
        except NoteError:
            findings.add("bad_answer")
            continue
        if checkpoint.origin in seen:
            findings.add("bad_answer")
            continue
        seen.add(checkpoint.origin)
        if checkpoint.origin == origin():
            findings.add(_against_our_tree(witness, note, checkpoint))
        elif checkpoint.origin in logs and logs[checkpoint.origin].id != witness.id:
            log = logs[checkpoint.origin]
            findings.add(_against_our_cosigned(witness, log, note, checkpoint, this))
    return next((o for o in OUTCOMES if o in findings), "agrees")


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
        return "unverifiable"  # not signed by us: nothing we said
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


def _against_our_cosigned(
    witness: Peer, log: Peer, note: str, theirs: Checkpoint, this: Round
) -> str:
    """Another witness's checkpoint of `log`: it and the one cosigned here must be one history."""
    try:
        open_note(note, [verifier_key(theirs.origin, public) for public in _publics(log)])
    except NoteError:
        return "unverifiable"  # not (or no longer) verifiable with the log's keys: no evidence
    mine = WitnessedLog.get_or_none(WitnessedLog.peer_url == log.base_url)
    if mine is None:
        return "agrees"  # nothing cosigned here to compare with
    (old, old_root), (new, new_root) = sorted(
        [(mine.tree_size, bytes.fromhex(mine.root_hash)), (theirs.size, theirs.root)]
    )
    if old == new and old_root != new_root:
        why = "another root for the same size"
    elif old == new or old == 0:
        why = None
    else:
        why = _unproven(log, old, new, old_root, new_root, this)
    if why in ("unanswered", "not_counted"):
        this.owed.add((log.base_url, witness.base_url))
        return _awaiting(log, witness, new, counted=why == "unanswered", this=this)
    with write_tx():
        AwaitedProof.delete().where(
            AwaitedProof.log_url == log.base_url, AwaitedProof.witness_url == witness.base_url
        ).execute()
        if why is None:
            return "agrees"
        detail = f"{witness.base_url} cosigned {theirs.size} entries, we {mine.tree_size}: {why}"
        raise_alert(ALERT_WITNESS, log.base_url, "split_view", new, detail, "")
    return "split_view"


def _unproven(log: Peer, old: int, new: int, old_root: bytes, new_root: bytes, this: Round):
    """Why the log's trees of `old` and `new` entries are not one history: None when the log
    proved they are; "unanswered" when it gave no proof (counted against it); "not_counted"
    when it was not asked this time (a round's limit, or it was down already)."""
    key = (log.base_url, old, new, old_root, new_root)
    if key in this.proofs:
        return this.proofs[key]
    if log.base_url in this.down or this.asked >= MAX_PROOFS:
        return "not_counted"
    this.asked += 1
    try:
        _, reply = ask(log, PROOF_TYPE, {"old": old, "new": new})
    except http.Unreachable:
        this.down.add(log.base_url)
        why = "unanswered"
    except EnvelopeError:
        why = "unanswered"
    else:
        why = _judge(reply, old, new, old_root, new_root, log.base_url in this.answered)
    this.proofs[key] = why
    return why


def _judge(reply: dict, old: int, new: int, old_root: bytes, new_root: bytes, speaks: bool):
    """What a log's answer to a proof request shows (as _unproven returns it)."""
    if reply.get("type") != "ack":
        reason = reply.get("reason")
        if reason == "unknown_tree_size":
            return f"the log says it has no tree of {new} entries"
        # An older version does not know the question; one that answered our other question
        # this round does.
        return "not_counted" if reason == "unknown_type" and not speaks else "unanswered"
    body = reply.get("body")
    try:
        proof = proof_hashes(body.get("proof") if isinstance(body, dict) else None)
        merkle.verify_consistency(old, new, old_root, new_root, proof)
    except ValueError as exc:
        return f"no consistency proof from {old} to {new} ({exc})"
    return None


def _awaiting(log: Peer, witness: Peer, size: int, counted: bool, this: Round) -> str:
    """The log owes a proof: kept since the first time (when `counted`); `proof_withheld` once
    it has owed it for PROOF_PATIENCE while in touch (it answered us this round, or a message
    of it reached us since), else "unanswered"."""
    if not counted:
        return "unanswered"
    now = utcnow()
    with write_tx():
        (
            AwaitedProof.insert(log_url=log.base_url, witness_url=witness.base_url, since=now)
            .on_conflict(
                conflict_target=[AwaitedProof.log_url, AwaitedProof.witness_url],
                update={
                    AwaitedProof.last_asked_at: now,
                    AwaitedProof.asks: AwaitedProof.asks + 1,
                },
            )
            .execute()
        )
        owed = AwaitedProof.get(
            AwaitedProof.log_url == log.base_url, AwaitedProof.witness_url == witness.base_url
        )
        contact = Peer.get_by_id(log.id).last_contact_at
        in_touch = log.base_url in this.answered or (contact is not None and contact > owed.since)
        if now - owed.since < PROOF_PATIENCE or not in_touch:
            return "unanswered"
        minutes = int((now - owed.since).total_seconds() // 60)
        why = (
            f"no proof for {minutes} minutes ({owed.asks} asks) that the checkpoint cosigned "
            f"here and the one {witness.base_url} cosigned are one history"
        )
        raise_alert(ALERT_WITNESS, log.base_url, "proof_withheld", size, why, "")
    return "proof_withheld"
