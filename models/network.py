"""The network of deployments (城市间联网): trusted peers, messages received, messages to send.

Each city runs its own deployment; these tables hold what one deployment knows of the others
(core.network does the signing and the talking). Keys never live here: a deployment's private
keys are files in its instance folder, and a peer's public keys are its published document.
"""

import datetime as dt
import json

from peewee import CharField, DateTimeField, IntegerField, TextField

from .base import BaseModel, utcnow

PEER_ACTIVE = "active"
PEER_SUSPENDED = "suspended"
PEER_STATUSES = (PEER_ACTIVE, PEER_SUSPENDED)

# An outbox message waits, is delivered (acknowledged), refused by the other side for good, or
# cancelled here (its peer was removed).
OUTBOX_PENDING = "pending"
OUTBOX_DELIVERED = "delivered"
OUTBOX_REFUSED = "refused"
OUTBOX_CANCELLED = "cancelled"
OUTBOX_STATUSES = (OUTBOX_PENDING, OUTBOX_DELIVERED, OUTBOX_REFUSED, OUTBOX_CANCELLED)


class Peer(BaseModel):
    """Another city's deployment, trusted because an administrator confirmed its fingerprint.

    `base_url` is its identity in envelopes (sender and recipient); `document` is its last
    verified /.well-known/jiaoguan.json payload, whose keys verify what it signs.
    """

    base_url = CharField(max_length=200, unique=True)
    name = CharField(max_length=100, default="")
    city = CharField(max_length=50, default="")
    fingerprint = CharField(max_length=64)
    document = TextField()
    # A newer document whose claims differ from the confirmed ones (core.network.claims): its
    # claims wait for an administrator; `document` took its keys and names meanwhile.
    pending_document = TextField(null=True)
    status = CharField(max_length=12, default=PEER_ACTIVE)
    added_at = DateTimeField(default=utcnow)
    added_by = CharField(max_length=60, default="")
    last_contact_at = DateTimeField(null=True)
    # When it first answered the witnesses' question of comparing notes (core.auditlog.gossip).
    compares_notes_at = DateTimeField(null=True)

    @property
    def doc(self) -> dict:
        """The peer's published document (name, city, offices, keys) as a dict."""
        return json.loads(self.document)

    @property
    def pending(self) -> dict | None:
        """The document whose claims wait for confirmation, if any."""
        return json.loads(self.pending_document) if self.pending_document else None

    @property
    def is_active(self) -> bool:
        """Only an active peer is talked to and listened to."""
        return self.status == PEER_ACTIVE


class InboxMessage(BaseModel):
    """A message received from a peer and the signed answer given to it.

    The pair (sender, message_id) is the idempotency key: the same message again gets this
    same answer, and its handler does not run twice. `digest` tells a true retry (same type
    and body) from a different message reusing the id (refused). The body itself is not kept
    (`body` stays "{}"): bodies carry sellers' ID numbers, licence codes and checkers'
    addresses, and nothing reads them once the handler ran.
    """

    sender = CharField(max_length=200)
    message_id = CharField(max_length=64)
    type = CharField(max_length=40)
    digest = CharField(max_length=64)
    body = TextField(default="{}")
    outcome = CharField(max_length=12)  # "ack" or "refusal"
    reason = CharField(max_length=40, default="")
    answer = TextField()
    received_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("sender", "message_id"), True),)

    @classmethod
    def prune(cls, type_: str, older_than: dt.timedelta) -> int:
        """Delete the messages of this type received longer ago than `older_than`
        (core.network.inbox.prune_forgotten)."""
        cutoff = utcnow() - older_than
        return cls.delete().where((cls.type == type_) & (cls.received_at < cutoff)).execute()


class OutboxMessage(BaseModel):
    """A message to deliver, written in the transaction of the change that causes it.

    `channel` says how it travels ("network" for a signed envelope to a peer; a later notices
    feature may add "sms" or "email" and reuse the same retries and backoff). `recipient` is
    a peer's base URL on the network channel (a phone number or an address on others).
    `next_attempt_at` is also the lease: a worker claims a message by moving it forward.
    """

    message_id = CharField(max_length=64, unique=True)
    channel = CharField(max_length=20, default="network")
    recipient = CharField(max_length=200, index=True)
    type = CharField(max_length=40)
    body = TextField(default="{}")
    status = CharField(max_length=12, default=OUTBOX_PENDING)
    attempts = IntegerField(default=0)
    created_at = DateTimeField(default=utcnow)
    next_attempt_at = DateTimeField(default=utcnow)
    last_attempt_at = DateTimeField(null=True)
    last_error = CharField(max_length=200, default="")
    reason = CharField(max_length=40, default="")
    answer = TextField(default="")
    done_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("status", "next_attempt_at"), False),)

    @property
    def body_dict(self) -> dict:
        """The message body as a dict."""
        return json.loads(self.body or "{}")
