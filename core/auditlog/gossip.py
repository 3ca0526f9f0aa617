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
  does not have. A log that gives no proof is asked again next time. It is named
  (`proof_withheld`) only when it has owed the proof for PROOF_PATIENCE, over MIN_ASKS asks
  or more with no pause longer than RESTART_AFTER between them, each made while it was in
  touch: it answered our list question that round (then any answer but a proof counts, its
  saying it does not know the question included), or it has answered that question before
  (`Peer.compares_notes_at`: a version never goes back) and its messages reach us. A log that
  is down is only waited for; one that never answered is taken for an older version and left
  alone for a day (only same-size forks are caught of it). AwaitedProof keeps since when a
  proof is owed;
- a checkpoint of **our own log**, against our kept tree: another root at its size, or a size
  our tree has not reached, is one we never made (`forged_checkpoint`): someone signs with our
  key (or our database went back in time: a restore, a lagging replica).

Each finding is a WitnessAlert and an audit row (core.auditlog.witness.raise_alert), once while
it is open, shown on the audit and peers pages. The other witness finds the same when it
compares in turn, and a log whose key was stolen finds the forged checkpoint among its
witnesses' notes: every side that can see the fork raises the alert.

The work is bounded: one checkpoint per log in an answer (MAX_NOTES of them), one proof asked
per pair of sizes and round, none of a log that did not answer the list question this round
and no second one of a log whose proof request failed, at most MAX_PROOFS a round, the
witnesses taken in a new order each round (so the pairs a round leaves out come first some
other time), ROUND_BUDGET seconds a round, and `stop()` heard between requests. The questions
change nothing at the deployment asked: answered afresh without a transaction, nothing stored,
no audit row (core.network.inbox's read-only handlers).

A split view and a forged checkpoint keep the signed notes they rest on with the alert
(core.auditlog.evidence), so that the other cities need not take our word for it.
"""

import base64
import datetime as dt
import logging
import random
import time
from dataclasses import dataclass, field

from peewee import PeeweeException

from core.network import http
from core.network.envelope import EnvelopeError
from core.network.identity import base_url
from core.network.inbox import BadBody, Refused, register
from models import (
    ALERT_LOG,
    ALERT_WITNESS,
    PEER_ACTIVE,
    AuditCheckpoint,
    AwaitedProof,
    Peer,
    WitnessedLog,
    utcnow,
    write_tx,
)
from rules import merkle

from . import evidence
from .log import consistency_proof, origin, root_at, tree_size, verifier_keys
from .note import Checkpoint, NoteError, open_note
from .witness import (
    MAX_NOTE,
    ask,
    log_keys,
    log_origin,
    note_text,
    open_log_note,
    proof_hashes,
    proof_text,
    raise_alert,
)

logger = logging.getLogger(__name__)

LIST_TYPE = "witnessed_checkpoints"
PROOF_TYPE = "consistency_proof"
MAX_NOTES = 100  # logs witnessed: far more than a network of cities has (an answer < 1 MiB)
MAX_PROOFS = 50  # proofs asked in one round, over every log
ROUND_BUDGET = 60.0  # seconds a comparing round may take (it runs inside the witness loop)
PROOF_PATIENCE = dt.timedelta(hours=1)
MIN_ASKS = 5  # counted asks, at the least, before a log is named for withholding a proof
RESTART_AFTER = dt.timedelta(minutes=10)  # a pause this long between asks: count afresh
# A peer that does not know these questions (an older version) is not asked again for a day.
QUIET_FOR = 86400
_not_speaking: dict[str, float] = {}

# Outcomes, the worst first: a peer's outcome is the worst of what its checkpoints gave.
OUTCOMES = (
    "forged_checkpoint",
    "split_view",
    "proof_withheld",
    "unanswered",
    "not_asked",
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
    return {"proof": proof_text(consistency_proof(old, new))}


# --- Comparing ------------------------------------------------------------------------------


@dataclass
class Round:
    """What one round learnt and spent: the peers that answered the list question, the logs
    whose proof request failed, the proofs asked (by log, sizes and roots) and how many, the
    pairs still owed, and when the round must end."""

    stop: object
    deadline: float
    answered: set = field(default_factory=set)
    failed: set = field(default_factory=set)
    proofs: dict = field(default_factory=dict)
    asked: int = 0
    owed: set = field(default_factory=set)  # (log, witness) whose proof is still awaited

    def over(self) -> bool:
        """Stopped (SIGTERM), or out of this round's time."""
        return bool(self.stop()) or time.monotonic() > self.deadline


def compare_round(stop=lambda: False) -> dict[str, str]:
    """Ask every active peer for the checkpoints it cosigned and hold each against ours:
    {peer url: what came of it} (one of OUTCOMES, unreachable, or a refusal's reason).
    Ends early, with what it has, once `stop()` says so or ROUND_BUDGET has passed."""
    peers = list(Peer.select().where(Peer.status == PEER_ACTIVE).order_by(Peer.base_url))
    logs = {log_origin(p.base_url): p for p in peers}
    this = Round(stop, time.monotonic() + ROUND_BUDGET)
    answers, outcomes = {}, {}
    for peer in peers:  # every answer first: a log that answered is one that is in touch
        if this.over():
            return outcomes
        if (
            peer.compares_notes_at is None
            and _not_speaking.get(peer.base_url, 0) > time.monotonic()
        ):
            outcomes[peer.base_url] = "unknown_type"
            continue
        got = _ask_notes(peer)
        if isinstance(got, str):
            outcomes[peer.base_url] = got
        else:
            answers[peer.base_url] = got
            this.answered.add(peer.base_url)
    # In a new order each round: when the round's proofs run out, other pairs go first next time.
    order = [peer for peer in peers if peer.base_url in answers]
    random.shuffle(order)
    for peer in order:
        if this.over():  # the answers not compared yet are said so
            return {**{p.base_url: "not_asked" for p in order}, **outcomes}
        outcomes[peer.base_url] = _one_peer(peer, answers[peer.base_url], logs, this)
    _forget_settled(this, {p.base_url for p in peers})
    return outcomes


def _ask_notes(peer: Peer) -> list | str:
    """The notes a peer sends (a list), or what came instead (an outcome). A peer that has
    answered once takes part from then on (compares_notes_at); one that never did and does
    not know the question (an older version) is left alone for QUIET_FOR."""
    try:
        _, reply = ask(peer, LIST_TYPE, {})
    except http.Unreachable:
        return "unreachable"
    except EnvelopeError:
        return "bad_answer"
    if reply.get("type") != "ack":
        reason = str(reply.get("reason", ""))[:40] or "refused"
        if reason == "unknown_type" and peer.compares_notes_at is None:
            _not_speaking[peer.base_url] = time.monotonic() + QUIET_FOR
        return reason
    body = reply.get("body")
    notes = body.get("checkpoints") if isinstance(body, dict) else None
    if not isinstance(notes, list) or len(notes) > MAX_NOTES:
        return "bad_answer"
    if peer.compares_notes_at is None:
        with write_tx():
            Peer.update(compares_notes_at=utcnow()).where(
                Peer.id == peer.id, Peer.compares_notes_at.is_null()
            ).execute()
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
        if this.over():
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


def _against_our_tree(witness: Peer, note: str, checkpoint: Checkpoint) -> str:
    """A witness's checkpoint of our own log: it must be our tree's at its size."""
    try:
        open_note(note, verifier_keys())  # every key we ever had: an old one may have leaked
    except NoteError:
        return "unverifiable"  # not signed by us: nothing we said
    ours = tree_size()
    if checkpoint.size > ours:
        why = f"a checkpoint of {checkpoint.size} entries, signed with our key; our tree has {ours}"
    elif (root := root_at(checkpoint.size)) != checkpoint.root:
        why = (
            f"a checkpoint of {checkpoint.size} entries, signed with our key, with another root "
            f"than our tree's ({base64.b64encode(root).decode()})"
        )
    else:
        return "agrees"
    shown = evidence.document(origin(), verifier_keys(), [(witness.base_url, note)], why)
    with write_tx():
        raise_alert(
            ALERT_LOG, witness.base_url, "forged_checkpoint", checkpoint.size, why, "", shown
        )
    return "forged_checkpoint"


def _against_our_cosigned(
    witness: Peer, log: Peer, note: str, theirs: Checkpoint, this: Round
) -> str:
    """Another witness's checkpoint of `log`: it and the one cosigned here must be one history."""
    try:
        open_log_note(note, theirs.origin, log)
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
    if why in ("unanswered", "not_asked"):
        this.owed.add((log.base_url, witness.base_url))
        return _awaiting(log, witness, new, counted=why == "unanswered")
    with write_tx():
        AwaitedProof.delete().where(
            AwaitedProof.log_url == log.base_url, AwaitedProof.witness_url == witness.base_url
        ).execute()
        if why is None:
            return "agrees"
        detail = f"{witness.base_url} cosigned {theirs.size} entries, we {mine.tree_size}: {why}"
        notes = [(base_url(), mine.note), (witness.base_url, note)]
        shown = evidence.document(theirs.origin, log_keys(theirs.origin, log), notes, detail)
        raise_alert(ALERT_WITNESS, log.base_url, "split_view", new, detail, "", shown)
    return "split_view"


def _unproven(log: Peer, old: int, new: int, old_root: bytes, new_root: bytes, this: Round):
    """Why the log's trees of `old` and `new` entries are not one history: None when the log
    proved they are; "unanswered" when a log in touch gave no proof (counted against it);
    "not_asked" when it was not asked this time (out of the round's proofs or time, or a log
    not shown to be in touch)."""
    key = (log.base_url, old, new, old_root, new_root)
    if key in this.proofs:
        return this.proofs[key]
    if log.base_url not in this.answered:
        return "unanswered" if _withholding(log) else "not_asked"
    if log.base_url in this.failed:
        return "unanswered"  # it answered our first question, then not this one: asked once
    if this.asked >= MAX_PROOFS or this.over():
        return "not_asked"
    this.asked += 1
    try:
        _, reply = ask(log, PROOF_TYPE, {"old": old, "new": new})
    except (http.Unreachable, EnvelopeError):
        this.failed.add(log.base_url)
        why = "unanswered"
    else:
        why = _judge(reply, old, new, old_root, new_root)
    this.proofs[key] = why
    return why


def _withholding(log: Peer) -> bool:
    """A log that did not answer our list question this round, yet has answered it before (a
    version never goes back) and whose messages reach us (it is up): it is not answering."""
    contact = log.last_contact_at
    return (
        log.compares_notes_at is not None
        and contact is not None
        and utcnow() - contact < RESTART_AFTER
    )


def _judge(reply: dict, old: int, new: int, old_root: bytes, new_root: bytes):
    """What a log's answer to a proof request shows (as _unproven returns it). The log
    answered our list question this round, so it knows this one too: any refusal but
    "no such tree" is a proof not given."""
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


def _awaiting(log: Peer, witness: Peer, size: int, counted: bool) -> str:
    """The log owes a proof. Each counted ask is kept (AwaitedProof); `proof_withheld` once it
    has been owed for PROOF_PATIENCE over at least MIN_ASKS asks with no pause longer than
    RESTART_AFTER between them (a pause, our clock jumping, the log down for a while: counting
    starts afresh), else "unanswered" ("not_asked" when this time did not count)."""
    if not counted:
        return "not_asked"
    now = utcnow()
    with write_tx():
        owed = AwaitedProof.get_or_none(
            AwaitedProof.log_url == log.base_url, AwaitedProof.witness_url == witness.base_url
        )
        if owed is None:
            AwaitedProof.create(log_url=log.base_url, witness_url=witness.base_url, since=now)
            return "unanswered"
        if not dt.timedelta(0) <= now - owed.last_asked_at <= RESTART_AFTER:
            owed.since, owed.asks = now, 0
        owed.last_asked_at, owed.asks = now, owed.asks + 1
        owed.save()
        if now - owed.since < PROOF_PATIENCE or owed.asks < MIN_ASKS:
            return "unanswered"
        minutes = int((now - owed.since).total_seconds() // 60)
        why = (
            f"no proof for {minutes} minutes ({owed.asks} asks) that the checkpoint cosigned "
            f"here and the one {witness.base_url} cosigned are one history"
        )
        raise_alert(ALERT_WITNESS, log.base_url, "proof_withheld", size, why, "")
    return "proof_withheld"


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
