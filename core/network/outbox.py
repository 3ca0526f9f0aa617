"""The outbox: messages written with the change that causes them, delivered by a worker.

`enqueue()` is called inside the caller's write transaction, so a message exists exactly when
its cause was committed. The worker (`flask network worker`) claims due messages, delivers
each through its channel and records the outcome; a message that could not be delivered is
tried again later, waiting twice as long each time (up to an hour). Nothing is sent from
inside a request, and nothing is lost while a peer is down.

Delivery is by channel: "network" signs an envelope for a peer and wants its signed
acknowledgement. A notices feature (SMS, e-mail) can register a channel of its own and reuse
the claiming, retries and backoff here.
"""

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app

from models import (
    OUTBOX_CANCELLED,
    OUTBOX_DELIVERED,
    OUTBOX_PENDING,
    OUTBOX_REFUSED,
    OutboxMessage,
    Peer,
    db,
    utcnow,
    write_tx,
)

from . import http, keys
from .envelope import EnvelopeError, canonical, sign
from .identity import base_url
from .journal import record
from .peers import inbox_of, verify_from

BACKOFF_FIRST = dt.timedelta(seconds=10)
BACKOFF_MAX = dt.timedelta(hours=1)
# A worker's claim on a message: another worker leaves it alone this long.
LEASE = dt.timedelta(seconds=120)
# Refusals that may pass later: the peer has not added us yet, has suspended us for now, our
# clocks disagree, it still holds our old keys, or an earlier message has not reached it yet.
TRANSIENT_REFUSALS = {"unknown_sender", "suspended_peer", "clock_skew", "bad_signature", "not_yet"}


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt came to."""

    status: str  # OUTBOX_DELIVERED, OUTBOX_REFUSED, OUTBOX_CANCELLED, or OUTBOX_PENDING (retry)
    reason: str = ""
    error: str = ""
    answer: str = ""


CHANNELS: dict[str, Callable[[OutboxMessage], Outcome]] = {}


def channel(name: str):
    """Decorator: the function delivers the messages of channel `name`."""

    def decorator(func):
        """Record the delivery function under its channel."""
        CHANNELS[name] = func
        return func

    return decorator


def enqueue(recipient: str, type_: str, body: dict, channel: str = "network") -> OutboxMessage:
    """Write a message to deliver, inside the caller's write transaction (refused outside one:
    a message must commit or roll back with the change that causes it)."""
    if not db.in_transaction():
        raise RuntimeError("enqueue() must run inside the write transaction of its cause")
    if channel not in CHANNELS:
        raise ValueError(f"no channel {channel!r}")
    if channel == "network" and Peer.get_or_none(Peer.base_url == recipient) is None:
        raise ValueError(f"{recipient} is not a peer")
    return OutboxMessage.create(
        message_id=str(uuid.uuid4()),
        channel=channel,
        recipient=recipient,
        type=type_,
        body=canonical(body).decode(),
    )


def backoff(attempts: int) -> dt.timedelta:
    """How long to wait after the `attempts`-th failed attempt: 10 s, 20 s, 40 s ... 1 h."""
    return min(BACKOFF_FIRST * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _claim(message_id: int, due_at: dt.datetime) -> bool:
    """Take a due message for this worker (a conditional update: one worker wins)."""
    with write_tx():
        return bool(
            OutboxMessage.update(next_attempt_at=utcnow() + LEASE)
            .where(
                OutboxMessage.id == message_id,
                OutboxMessage.status == OUTBOX_PENDING,
                OutboxMessage.next_attempt_at == due_at,
            )
            .execute()
        )


def _settle(message: OutboxMessage, outcome: Outcome) -> None:
    """Record an attempt's outcome, audited when the message was delivered or refused."""
    now = utcnow()
    attempts = message.attempts + 1
    changes = {
        OutboxMessage.attempts: attempts,
        OutboxMessage.last_attempt_at: now,
        OutboxMessage.last_error: outcome.error[:200],
        OutboxMessage.reason: outcome.reason[:40],
    }
    if outcome.status == OUTBOX_PENDING:
        changes[OutboxMessage.next_attempt_at] = now + backoff(attempts)
    else:
        changes.update(
            {
                OutboxMessage.status: outcome.status,
                OutboxMessage.done_at: now,
                OutboxMessage.answer: outcome.answer,
            }
        )
    with write_tx():
        OutboxMessage.update(changes).where(OutboxMessage.id == message.id).execute()
        # Notices (channels sms, email) are not journalled here: their recipient is a person's
        # number or address, not a peer (core.notices keeps them on the notice's outbox row).
        if outcome.status in (OUTBOX_DELIVERED, OUTBOX_REFUSED) and message.channel == "network":
            action = (
                "network.sent" if outcome.status == OUTBOX_DELIVERED else "network.send_refused"
            )
            # The audit row before the peer's row: the inbox takes them in this order too (a
            # handler's audit rows, then the peer), so that two transactions cannot wait for
            # each other (PostgreSQL would abort one as a deadlock).
            record(
                action,
                peer_url=message.recipient,
                message_id=message.message_id,
                result=outcome.reason or "ok",
                detail={"type": message.type, "channel": message.channel, "attempts": attempts},
            )
            Peer.update(last_contact_at=now).where(Peer.base_url == message.recipient).execute()


def deliver_due(limit: int = 50) -> int:
    """Attempt every message due now (at most `limit`); returns how many were attempted."""
    due = list(
        OutboxMessage.select(OutboxMessage.id, OutboxMessage.next_attempt_at)
        .where(OutboxMessage.status == OUTBOX_PENDING, OutboxMessage.next_attempt_at <= utcnow())
        .order_by(OutboxMessage.next_attempt_at)
        .limit(limit)
    )
    attempted = 0
    for row in due:
        if not _claim(row.id, row.next_attempt_at):
            continue
        message = OutboxMessage.get_by_id(row.id)
        try:
            outcome = CHANNELS[message.channel](message)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
            current_app.logger.exception("delivering outbox message %s", message.message_id)
            outcome = Outcome(OUTBOX_PENDING, error=f"{type(exc).__name__}: {exc}")
        _settle(message, outcome)
        attempted += 1
    return attempted


def retry_now(recipient: str | None = None) -> int:
    """Make every waiting message (of one recipient) due now, e.g. once a peer is back."""
    query = OutboxMessage.update(next_attempt_at=utcnow()).where(
        OutboxMessage.status == OUTBOX_PENDING
    )
    if recipient:
        query = query.where(OutboxMessage.recipient == recipient)
    with write_tx():
        return query.execute()


def overdue(hours: int | None = None):
    """Messages still undelivered after `hours` (NETWORK_ALERT_HOURS): the administrator's alert."""
    hours = current_app.config["NETWORK_ALERT_HOURS"] if hours is None else hours
    return (
        OutboxMessage.select()
        .where(
            OutboxMessage.status == OUTBOX_PENDING,
            OutboxMessage.created_at <= utcnow() - dt.timedelta(hours=hours),
        )
        .order_by(OutboxMessage.created_at)
    )


@channel("network")
def deliver_envelope(message: OutboxMessage) -> Outcome:
    """Sign the message now (current key, current time) and POST it to the peer's inbox; it is
    delivered only on an acknowledgement that the peer really signed."""
    peer = Peer.get_or_none(Peer.base_url == message.recipient)
    if peer is None:
        return Outcome(OUTBOX_CANCELLED, reason="peer_removed")
    if not peer.is_active:
        return Outcome(OUTBOX_PENDING, error="peer suspended here")
    payload = {
        "id": message.message_id,
        "type": message.type,
        "from": base_url(),
        "to": peer.base_url,
        "iat": int(time.time()),
        "body": json.loads(message.body),
    }
    token = sign(payload, keys.signing_key())
    inbox = inbox_of(peer)
    try:
        _, text = http.post_jose(inbox, token)
    except http.Unreachable as exc:
        return Outcome(OUTBOX_PENDING, error=str(exc))
    try:
        reply = _verified_answer(text.strip(), peer)
    except EnvelopeError as exc:
        return Outcome(OUTBOX_PENDING, error=f"answer not verified: {exc}")
    if reply.get("in_reply_to") != message.message_id or reply.get("to") != base_url():
        return Outcome(OUTBOX_PENDING, error="the answer is not about this message")
    if reply.get("type") == "ack":
        return Outcome(OUTBOX_DELIVERED, answer=text.strip())
    reason = str(reply.get("reason", ""))
    if reply.get("type") == "refusal" and reason not in TRANSIENT_REFUSALS:
        return Outcome(OUTBOX_REFUSED, reason=reason, answer=text.strip())
    return Outcome(OUTBOX_PENDING, reason=reason, error=f"refused for now: {reason}")


def _verified_answer(text: str, peer: Peer) -> dict:
    """The peer's answer verified with its keys (once more after a key refresh)."""
    reply = verify_from(peer, text)
    if reply.get("from") != peer.base_url:
        raise EnvelopeError("bad_signature", "answered by another deployment")
    return reply


def run_worker(once: bool = False, interval: float = 2.0, stop=lambda: False) -> None:
    """Deliver due messages until stopped; each round on a connection of its own."""
    while True:
        try:
            with db.connection_context():
                attempted = deliver_due()
        except Exception:  # noqa: BLE001 - the worker outlives a failed round (e.g. the
            # database aborting a transaction); a message claimed in it is tried again once its
            # lease ends, and the receiver answers a repeated message without a second effect.
            if once:
                raise
            current_app.logger.exception("outbox round failed; trying again")
            attempted = 0
        if once or stop():
            return
        if not attempted:
            time.sleep(interval)
