"""Receiving envelopes: every check a message must pass, the handlers by message type, and
the signed answer (an acknowledgement, or a refusal with a reason code).

A message is handled once: its handler's changes, the stored answer and the audit row commit
in one transaction, and the same message again gets the stored answer without running the
handler. A refusal changes nothing but the audit log.
"""

import datetime as dt
import hashlib
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from peewee import IntegrityError

from core.audit import acting_peer, client_addr
from models import InboxMessage, Peer, RefusedCheck, utcnow, write_tx
from rules.licencecode import client_network

from . import keys
from .envelope import EnvelopeError, canonical, peek, sign
from .identity import base_url
from .journal import record
from .peers import normalise_url, refresh_document, verify_from

# Reason codes of refusals, and the HTTP status each is answered with.
REFUSAL_STATUS = {
    "malformed": 400,
    "clock_skew": 400,
    "bad_signature": 403,
    "unknown_sender": 403,
    "suspended_peer": 403,
    "replayed_id": 409,
    "wrong_recipient": 421,
    "unknown_type": 422,
    # Witnessing (core.auditlog.witness), after C2SP tlog-witness's status codes.
    "unknown_log": 404,
    "bad_checkpoint_signature": 403,
    "witness_size_mismatch": 409,
    "stale_checkpoint": 400,
    "inconsistent_checkpoint": 422,
    # Comparing witnesses' notes (core.auditlog.gossip): a proof asked beyond our newest checkpoint.
    "unknown_tree_size": 404,
    # A body of a known type whose content does not hold (e.g. an archive that does not verify).
    "bad_archive": 422,
    # The message comes before one it depends on (delivery is not ordered): send it again later.
    "not_yet": 425,
    # A step the receiver's record is not in a state to take (it came out of its turn): refused
    # for good, the record unchanged.
    "not_allowed_now": 409,
}
ANSWER_TYPES = ("ack", "refusal")


class BadBody(Exception):
    """Raised by a handler when the body is not well formed for its type (refused: malformed,
    or the more precise reason code given)."""

    def __init__(self, message: str = "", reason: str = "malformed"):
        super().__init__(message)
        self.reason = reason


class Refused(Exception):
    """Raised by a handler to refuse a message with its own reason code (one of
    REFUSAL_STATUS). The handler's changes roll back; `body` goes back in the signed refusal,
    and `also()`, when given, writes in the transaction of the refusal's audit row (an alert
    that must outlive the rollback). `refresh_peer`: the message names something of the
    sender's that its document, as we keep it, does not have yet (an office opened since):
    the document is fetched again once the refusal is answered, outside any transaction."""

    def __init__(self, reason: str, detail: str = "", body=None, also=None, refresh_peer=False):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        if reason not in REFUSAL_STATUS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        self.reason, self.detail, self.body, self.also = reason, detail, body or {}, also
        self.refresh_peer = refresh_peer


@dataclass(frozen=True)
class Handler:
    """What a message type does when received: `handle(body, peer)` returns the answer's body
    and makes its changes in the caller's transaction, or raises BadBody. With `journal`
    False an acknowledged message writes no audit row (refusals always do): witness requests,
    whose audit rows would grow the witness's log, which its peers then witness, and so on
    for ever; their record is the cosignature itself."""

    type: str
    handle: Callable[[dict, Peer], dict]
    journal: bool = True
    # How long a received message of this type is kept (its id, digest and answer), when not
    # for ever: a type its sender never sends twice, whose answers say what should not stay
    # (flask db prune deletes them; a copy older than the clock skew is refused by its time).
    forget_after: dt.timedelta | None = None
    # A question that changes nothing here (a witness comparing notes): answered afresh each
    # time from rows that only grow, nothing stored, no audit row, no transaction. A copy of
    # it sent again gets the same kind of answer the peer could ask for anyway.
    read_only: bool = False


HANDLERS: dict[str, Handler] = {}


def register(
    type_: str,
    journal: bool = True,
    forget_after: dt.timedelta | None = None,
    read_only: bool = False,
):
    """Decorator: the function handles messages of `type_` (one handler per type)."""

    def decorator(func):
        """Record the handler under its type."""
        if type_ in HANDLERS or type_ in ANSWER_TYPES:
            raise ValueError(f"a handler for {type_!r} exists already")
        HANDLERS[type_] = Handler(type_, func, journal and not read_only, forget_after, read_only)
        return func

    return decorator


def prune_forgotten() -> int:
    """Delete the received messages whose type keeps them for a while only (Handler)."""
    return sum(
        InboxMessage.prune(h.type, h.forget_after)
        for h in HANDLERS.values()
        if h.forget_after is not None
    )


@register("ping")
def ping(body: dict, peer: Peer) -> dict:
    """Echo: proves that two deployments hear each other and verify each other's signatures."""
    text = body.get("text", "")
    if set(body) - {"text"} or not isinstance(text, str) or len(text) > 200:
        raise BadBody("a ping carries at most a 'text' of up to 200 characters")
    return {"echo": text}


def answer(kind: str, *, to: str, in_reply_to: str, reason: str = "", body=None) -> str:
    """A signed acknowledgement or refusal."""
    payload = {
        "id": str(uuid.uuid4()),
        "type": kind,
        "from": base_url(),
        "to": to,
        "iat": int(time.time()),
        "in_reply_to": in_reply_to,
        "body": body or {},
    }
    if reason:
        payload["reason"] = reason
    return sign(payload, keys.signing_key())


def digest(payload: dict) -> str:
    """What makes two deliveries the same message: its type and body (not its time or
    signature, which a retry renews)."""
    return hashlib.sha256(canonical([payload.get("type"), payload.get("body")])).hexdigest()


def well_formed(payload: dict) -> bool:
    """The envelope's own fields have the right types and sizes."""
    return (
        isinstance(payload.get("id"), str)
        and 8 <= len(payload["id"]) <= 64
        and isinstance(payload.get("type"), str)
        and 0 < len(payload["type"]) <= 40
        and isinstance(payload.get("to"), str)
        and isinstance(payload.get("iat"), int)
        and isinstance(payload.get("body"), dict)
    )


# Strangers' refusals audited in one window (models.security.REFUSED_WINDOW) across all
# networks: past it they are only counted, however many networks the senders use.
STRANGER_AUDITS = 20
# A trusted peer's refused messages audited in one window; past it they are only counted (a
# peer that sends the same bad message in a loop, or means to, does not fill the log either).
PEER_REFUSAL_AUDITS = 100


def _stranger_audited() -> bool:
    """Count a stranger's refused envelope; True when it is the first of its client network in
    this window and at most STRANGER_AUDITS are audited in the window in all, this one
    included. Run in the refusal's transaction."""
    # The network as a number that fits the counter's integer column (31 bits).
    network = zlib.crc32(client_network(client_addr()).encode()) & 0x7FFFFFFF
    first = RefusedCheck.count_one("inbox", network) == 1
    return first and RefusedCheck.count_one("inbox_all", 0) <= STRANGER_AUDITS


# Refusals audited whatever the count: what a witness must be able to show (a log that was
# rewritten, or shown another way to someone else), never what a peer sends to fill the log.
ALWAYS_AUDITED = frozenset({"inconsistent_checkpoint"})


def _peer_refusal_audited(sender: str, reason: str) -> bool:
    """Count a peer's refused message; True while at most PEER_REFUSAL_AUDITS of its refusals
    are audited in this window, this one included (the peer as its address is compared, however
    it spells it), and always for ALWAYS_AUDITED reasons. Run in the refusal's transaction."""
    peer_digest = zlib.crc32(normalise_url(sender).encode()) & 0x7FFFFFFF
    counted = RefusedCheck.count_one("inbox_peer", peer_digest)
    return counted <= PEER_REFUSAL_AUDITS or reason in ALWAYS_AUDITED


def refuse(
    reason: str, payload: dict, detail: str = "", body=None, also=None, stranger: bool = False
) -> tuple[int, str]:
    """Audit the refusal and answer it, signed (with `body` when the sender needs to know
    more). Nothing else is written, but what `also()` writes with the audit row.

    A `stranger`'s envelope (unreadable, or not shown to come from a peer) is audited once per
    client network (an IPv4 address, an IPv6 /64) and window, at most STRANGER_AUDITS times a
    window in all, and otherwise only counted (RefusedCheck): anyone can post to the inbox,
    and the audit log, which the peers witness and which never shrinks, is not theirs to fill.
    A peer's refusals are audited up to PEER_REFUSAL_AUDITS a window, then only counted.
    """
    sender = str(payload.get("from", ""))[:200]
    message_id = str(payload.get("id", ""))[:64]
    with write_tx():
        if _stranger_audited() if stranger else _peer_refusal_audited(sender, reason):
            record(
                "network.refused",
                peer_url=sender,
                message_id=message_id,
                result=reason,
                detail={"type": str(payload.get("type", ""))[:40], "why": detail[:200]},
            )
        if also is not None:
            also()
    token = answer("refusal", to=sender, in_reply_to=message_id, reason=reason, body=body)
    return REFUSAL_STATUS[reason], token


def receive(token: str) -> tuple[int, str]:
    """Check one envelope and answer it: (HTTP status, signed answer)."""
    try:
        _, claimed = peek(token)
    except EnvelopeError as exc:
        return refuse("malformed", {}, exc.detail, stranger=True)
    peer = Peer.get_or_none(Peer.base_url == normalise_url(str(claimed.get("from", ""))))
    if peer is None:
        return refuse("unknown_sender", claimed, stranger=True)
    if not peer.is_active:
        return refuse("suspended_peer", claimed, stranger=True)
    try:
        payload = verify_from(peer, token)
    except EnvelopeError as exc:
        return refuse(exc.reason, claimed, exc.detail, stranger=True)
    if not well_formed(payload):
        return refuse("malformed", payload, "envelope fields")
    if normalise_url(payload["to"]) != base_url():
        return refuse("wrong_recipient", payload)
    seen = InboxMessage.get_or_none(
        (InboxMessage.sender == peer.base_url) & (InboxMessage.message_id == payload["id"])
    )
    if seen is not None:
        return _repeat(seen, payload)
    skew = current_app.config["NETWORK_CLOCK_SKEW_SECONDS"]
    if abs(int(time.time()) - payload["iat"]) > skew:
        return refuse("clock_skew", payload, f"sent at {payload['iat']}")
    handler = HANDLERS.get(payload["type"])
    if handler is None:
        return refuse("unknown_type", payload)
    try:
        return _handle(handler, payload, peer)
    except BadBody as exc:
        return refuse(exc.reason, payload, str(exc))
    except Refused as exc:
        refused = refuse(exc.reason, payload, exc.detail, body=exc.body, also=exc.also)
        if exc.refresh_peer:
            refresh_document(peer)  # at most once a minute per process: the sender tries again
        return refused
    except IntegrityError:
        # The same message arrived twice at once; the other delivery was stored first. (Any
        # other conflict is a handler's own: not this message's business to hide.)
        seen = InboxMessage.get_or_none(
            (InboxMessage.sender == peer.base_url) & (InboxMessage.message_id == payload["id"])
        )
        if seen is None:
            raise
        return _repeat(seen, payload)


def _repeat(seen: InboxMessage, payload: dict) -> tuple[int, str]:
    """A message id received before: the same answer for the same message, else a refusal."""
    if seen.digest != digest(payload):
        return refuse("replayed_id", payload, "this id was used by another message")
    return (200 if seen.outcome == "ack" else REFUSAL_STATUS[seen.reason]), seen.answer


def _handle(handler: Handler, payload: dict, peer: Peer) -> tuple[int, str]:
    """Run the handler, store the answer and audit, all in one transaction (a read-only
    question: only answered)."""
    if handler.read_only:  # no transaction: on SQLite one would queue behind every writer
        reply = handler.handle(payload["body"], peer)
        return 200, answer("ack", to=peer.base_url, in_reply_to=payload["id"], body=reply)
    with write_tx(), acting_peer(peer.base_url):
        reply = handler.handle(payload["body"], peer)
        token = answer("ack", to=peer.base_url, in_reply_to=payload["id"], body=reply)
        InboxMessage.create(
            sender=peer.base_url,
            message_id=payload["id"],
            type=payload["type"],
            digest=digest(payload),  # the body is not kept (models.network.InboxMessage)
            outcome="ack",
            answer=token,
        )
        if handler.journal:
            record(
                "network.received",
                peer_url=peer.base_url,
                message_id=payload["id"],
                detail={"type": payload["type"]},
            )
        # The peer's row last, as the outbox's settling takes it (no two-way wait).
        Peer.update(last_contact_at=utcnow()).where(Peer.id == peer.id).execute()
    return 200, token
