"""The audit log (审计日志): append-only entries in a Merkle tree with signed checkpoints.

Every state change and every read of someone else's personal data adds one entry, inserted
in the transaction of the change. The integrator (core.auditlog) numbers committed entries,
adds them to an RFC 9162 Merkle tree whose complete subtrees are kept here (AuditTreeNode),
and signs a checkpoint of the tree (AuditCheckpoint). A checkpoint commits to every entry
before it: changing or deleting one, even with every later hash recomputed, gives another
root, which the deployment's key never signed (`flask audit verify`); an entry's inclusion
proof against a checkpoint is a receipt anyone can check offline (`flask audit prove`).
"""

import datetime as dt
import hashlib
import hmac
import json
import secrets
from functools import reduce
from operator import or_

from peewee import (
    BigIntegerField,
    CharField,
    CompositeKey,
    DateTimeField,
    IntegerField,
    SmallIntegerField,
    TextField,
)

from .base import BaseModel, compiled_insert, utcnow

GENESIS = "0" * 64  # the first row's prev_hash in the retired hash chain (rows before 0011)


# One encoder for every leaf: json.dumps with these options builds a new one per call, which
# cost the integrator as much as the encoding (a format-2 leaf encodes eight or so values).
_CANONICAL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical(value) -> str:
    """JSON with sorted keys, no spaces, non-ASCII kept: the one spelling leaves use."""
    return _CANONICAL.encode(value)


def seal(field_salt: bytes, name: str, value) -> str:
    """The commitment to one sealed field of a format-2 leaf (docs/verify_receipt.py
    recomputes it from a disclosed field's salt and value)."""
    payload = field_salt + name.encode() + b"\n" + canonical(value).encode()
    return hashlib.sha256(payload).hexdigest()


class AuditEvent(BaseModel):
    """One audit row: who did what to which object, with what result, from where.

    A row is inserted with no sequence number, in the transaction of the change it records,
    and locks nothing shared; the integrator (core.auditlog.integrator) numbers it once it
    is committed and adds it to the Merkle tree. `prev_hash` and `hash` belong to the hash
    chain that migration 0011 retired: rows written before it keep them, newer rows have none.
    """

    seq = BigIntegerField(unique=True, null=True)
    at = DateTimeField(index=True)
    actor_id = IntegerField(null=True, index=True)
    actor = CharField(max_length=60, default="")
    role = CharField(max_length=60, default="")
    office = CharField(max_length=16, default="")
    action = CharField(max_length=60, index=True)
    object_type = CharField(max_length=30, default="")
    object_id = CharField(max_length=64, default="", index=True)
    result = CharField(max_length=30, default="ok")
    client_addr = CharField(max_length=64, default="")
    detail = TextField(default="{}")
    prev_hash = CharField(max_length=64, null=True)
    hash = CharField(max_length=64, null=True)
    # The entry's random salt (hex, 32 bytes; migration 0020). An entry with a salt has a
    # leaf of format 2, which seals who did it and from where (SEALED_FIELDS) under salted
    # hashes; an entry without one (written before 0020) keeps its format-1 leaf.
    salt = CharField(max_length=64, null=True)

    class Meta:
        indexes = ((("object_type", "object_id"), False),)

    # The fields a Merkle leaf carries, in this order (the sequence number is the leaf's
    # position in the tree, so it is not repeated inside).
    LEAF_FIELDS = (
        "at",
        "actor_id",
        "actor",
        "role",
        "office",
        "action",
        "object_type",
        "object_id",
        "result",
        "client_addr",
        "detail",
    )

    # Leaf format 2: these fields stay readable in the leaf; every other field (who, from
    # which address, the detail key by key) is sealed as a salted hash, so a receipt shows a
    # reader only the fields it discloses to them (with their field salts).
    OPEN_FIELDS = ("at", "action", "object_type", "object_id", "result")
    SEALED_FIELDS = ("actor_id", "actor", "role", "office", "client_addr")

    def _values(self) -> dict:
        """LEAF_FIELDS as the leaf writes them (the time in ISO form, to the microsecond)."""
        values = {name: getattr(self, name) for name in self.LEAF_FIELDS}
        values["at"] = values["at"].isoformat(timespec="microseconds")
        return values

    def sealed_values(self) -> dict:
        """{sealed field name: value} of a format-2 entry: SEALED_FIELDS, then the detail one
        key at a time as "detail.<key>" (a reader may see how a licence was checked and not
        who checked it); a detail that is not a JSON object is sealed whole as "detail"."""
        values = {name: getattr(self, name) for name in self.SEALED_FIELDS}
        detail = json.loads(self.detail or "{}")
        if isinstance(detail, dict):
            values.update({f"detail.{key}": value for key, value in detail.items()})
        else:
            values["detail"] = detail
        return values

    def field_salt(self, name: str, salt: bytes | None = None) -> bytes:
        """The salt of one sealed field: HMAC-SHA256(entry salt, field name). Disclosing it
        opens that field only; the entry's salt itself is never shown. (`salt`: the entry's
        salt as bytes, when the caller has it.)"""
        return hmac.digest(salt or bytes.fromhex(self.salt), name.encode(), "sha256")

    def leaf(self) -> bytes:
        """The entry as the bytes its Merkle leaf hashes (a receipt carries them).

        Format 1 (no salt: entries written before migration 0020): a JSON object of
        LEAF_FIELDS. Format 2: {"v": 2, OPEN_FIELDS..., "sealed": {name: commitment}} with
        commitment(name) = hex SHA-256(field salt || name || 0x0A || canonical JSON value).
        Both: keys sorted, no spaces, UTF-8.
        """
        values = self._values()
        if self.salt:
            values = {name: values[name] for name in self.OPEN_FIELDS}
            values["v"] = 2
            salt = bytes.fromhex(self.salt)
            values["sealed"] = {
                name: seal(self.field_salt(name, salt), name, value)
                for name, value in self.sealed_values().items()
            }
        return canonical(values).encode()

    @classmethod
    def append(cls, *, action: str, detail: dict | None = None, **fields) -> "AuditEvent":
        """Insert one row in the caller's transaction (or its own), unnumbered: no shared row
        is locked, so audited writes of every node run side by side."""
        event = cls(
            seq=None,
            salt=secrets.token_hex(32),
            at=utcnow(),
            action=action,
            detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
            **{k: ("" if v is None and k != "actor_id" else v) for k, v in fields.items()},
        )
        event.object_id = str(event.object_id)
        compiled_insert(event)
        return event

    @classmethod
    def known_address(cls, actor_id: int, addr: str, days: int = 90) -> bool:
        """Whether the account logged in from this client address within `days`.

        Such an address is the owner's own (a device they use): the slow account-wide login
        lock does not close it, so a stranger elsewhere cannot lock the owner out.
        """
        since = utcnow() - dt.timedelta(days=days)
        return (
            cls.select(cls.id)
            .where(
                (cls.actor_id == actor_id)
                & (cls.action == "login.ok")
                & (cls.client_addr == addr)
                & (cls.at >= since)
            )
            .exists()
        )

    @property
    def detail_dict(self) -> dict:
        """The detail JSON as a dict."""
        return json.loads(self.detail or "{}")

    def legacy_hash(self, prev_hash: str) -> str:
        """The retired chain's hash of a row written before migration 0011: SHA-256 over the
        previous hash and the row's fields in a canonical form."""
        values = [self.seq, *(getattr(self, name) for name in self.LEAF_FIELDS)]
        values[1] = values[1].isoformat(timespec="microseconds")
        payload = json.dumps([prev_hash, *values], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    @classmethod
    def integrated(cls):
        """The numbered entries, in tree order."""
        return cls.select().where(cls.seq.is_null(False)).order_by(cls.seq)


# The holder's check log (the LicenceCheck view, migration 0011) reads one licence's checks
# newest first. On SQLite this partial index is exactly that; PostgreSQL's index of the same
# name is on the view's safe cast of object_id to a number instead (the schema check pairs
# partial indexes by name).
AuditEvent.add_index(
    AuditEvent.index(
        AuditEvent.object_id,
        AuditEvent.at,
        name="audit_event_licence_check",
        where=(AuditEvent.action == "licence.check") & (AuditEvent.object_type == "ELicence"),
    )
)


class AuditTreeNode(BaseModel):
    """The hash of one complete subtree of the audit log's Merkle tree.

    Node (level, index) covers entries index * 2^level + 1 ... (index + 1) * 2^level (level
    0: one entry's leaf hash). Only complete subtrees are kept, each written once when the
    integrator completes it, so any root or proof reads O(log n) of them (rules.merkle).
    """

    level = SmallIntegerField()
    idx = BigIntegerField()
    hash = CharField(max_length=64)

    class Meta:
        primary_key = CompositeKey("level", "idx")

    @classmethod
    def fetch(cls, keys) -> dict:
        """{(level, index): hash bytes} of these nodes, in one query (missing ones absent)."""
        keys = list(keys)
        if not keys:
            return {}
        where = reduce(or_, ((cls.level == lv) & (cls.idx == ix) for lv, ix in keys))
        return {(n.level, n.idx): bytes.fromhex(n.hash) for n in cls.select().where(where)}


class AuditCheckpoint(BaseModel):
    """One signed checkpoint: the tree's size and root at a time, as a C2SP signed note."""

    tree_size = BigIntegerField(unique=True)
    root_hash = CharField(max_length=64)
    at = DateTimeField()
    note = TextField()
    # When a newer key's signature was added (core.auditlog.log._signed_now): the witnesses
    # that cosigned before are asked again, so that what they keep carries it too.
    signed_again_at = DateTimeField(null=True)

    @classmethod
    def latest(cls) -> "AuditCheckpoint | None":
        """The newest checkpoint (the largest tree), or None before the first."""
        return cls.select().order_by(cls.tree_size.desc()).first()

    @classmethod
    def covering(cls, seq: int) -> "AuditCheckpoint | None":
        """The newest checkpoint whose tree holds entry `seq`."""
        return cls.select().where(cls.tree_size >= seq).order_by(cls.tree_size.desc()).first()
