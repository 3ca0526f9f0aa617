"""Asking a peer a question and waiting for its answer: for reads a step cannot do without
(the origin's checks of a vehicle), never for changes.

A change that must reach another deployment goes through the outbox, written with the change
itself, so that it is delivered exactly when its cause committed. A question changes nothing on
the other side but its inbox and audit rows, so it may be asked directly, outside any write
transaction, and simply asked again when it fails.
"""

import time
import uuid

from models import Peer, db, write_tx

from . import http, keys
from .envelope import EnvelopeError, sign
from .identity import base_url
from .journal import record
from .outbox import _verified_answer
from .peers import inbox_of


class AskFailed(Exception):
    """The peer could not be asked, or refused the question (`reason` is its reason code)."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def ask(recipient: str, type_: str, body: dict) -> dict:
    """Send one signed question to an active peer and return the body of its signed
    acknowledgement. Raises AskFailed (unreachable, refused, or an answer that does not
    verify). Must not run inside a write transaction: it waits on the network."""
    if db.in_transaction():
        raise RuntimeError("ask() waits on another deployment: never inside a transaction")
    peer = Peer.get_or_none(Peer.base_url == recipient)
    if peer is None or not peer.is_active:
        raise AskFailed("not_a_peer", recipient)
    message_id = str(uuid.uuid4())
    payload = {
        "id": message_id,
        "type": type_,
        "from": base_url(),
        "to": peer.base_url,
        "iat": int(time.time()),
        "body": body,
    }
    token = sign(payload, keys.signing_key())
    inbox = inbox_of(peer)
    try:
        _, text = http.post_jose(inbox, token)
        reply = _verified_answer(text.strip(), peer)
    except http.Unreachable as exc:
        raise AskFailed("unreachable", str(exc)) from exc
    except EnvelopeError as exc:
        raise AskFailed("unverified_answer", str(exc)) from exc
    if reply.get("in_reply_to") != message_id or reply.get("to") != base_url():
        raise AskFailed("unverified_answer", "the answer is not about this question")
    reason = "ok" if reply.get("type") == "ack" else str(reply.get("reason", "refused"))
    with write_tx():
        record(
            "network.sent" if reason == "ok" else "network.send_refused",
            peer_url=peer.base_url,
            message_id=message_id,
            result=reason,
            detail={"type": type_, "channel": "ask"},
        )
    if reason != "ok":
        raise AskFailed(reason)
    return reply.get("body") or {}
