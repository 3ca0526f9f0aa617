"""The append-only, hash-chained audit log (审计日志).

Every state change and every read of someone else's personal data adds one row. Each row
stores the hash of the row before it, so changing or deleting any row breaks the chain from
that row on; `flask audit verify` walks the chain and names the first broken row.
"""

import datetime as dt
import hashlib
import json

from peewee import BigIntegerField, CharField, DateTimeField, IntegerField, TextField

from .base import (
    BaseModel,
    compiled_execute,
    compiled_get,
    compiled_insert,
    db,
    for_update,
    utcnow,
)

GENESIS = "0" * 64


class AuditChainHead(BaseModel):
    """The single row holding the chain's last sequence number and hash.

    Appending locks this row (SELECT ... FOR UPDATE on PostgreSQL; SQLite's write lock does
    the same), so concurrent writers append one after the other and never fork the chain.
    """

    seq = BigIntegerField(default=0)
    hash = CharField(max_length=64, default=GENESIS)


class AuditEvent(BaseModel):
    """One audit row: who did what to which object, with what result, from where."""

    seq = BigIntegerField(unique=True)
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
    prev_hash = CharField(max_length=64)
    hash = CharField(max_length=64)

    class Meta:
        indexes = ((("object_type", "object_id"), False),)

    HASHED = (
        "seq",
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

    def compute_hash(self, prev_hash: str) -> str:
        """SHA-256 over the previous hash and this row's fields in a canonical form."""
        values = []
        for name in self.HASHED:
            value = getattr(self, name)
            if name == "at":
                value = value.isoformat(timespec="microseconds")
            values.append(value)
        payload = json.dumps([prev_hash, *values], ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()

    @classmethod
    def append(cls, *, action: str, detail: dict | None = None, **fields) -> "AuditEvent":
        """Append one row to the chain, inside the caller's transaction (or its own)."""
        with db.atomic():
            # On every audited write: the SQL text is built once (compiled_get).
            head = compiled_get(
                AuditChainHead,
                "audit-chain-head",
                lambda: for_update(AuditChainHead.select().where(AuditChainHead.id == 1)),
                1,
            )
            if head is None:
                # Migration 0008 puts the row in place; creating it here would let two first
                # appends race on its primary key, and restart a chain whose head was deleted.
                raise RuntimeError("the audit chain head row is missing: run `flask db upgrade`")
            event = cls(
                seq=head.seq + 1,
                at=utcnow(),
                action=action,
                detail=json.dumps(detail or {}, ensure_ascii=False, sort_keys=True),
                prev_hash=head.hash,
                **{k: ("" if v is None and k != "actor_id" else v) for k, v in fields.items()},
            )
            event.object_id = str(event.object_id)
            event.hash = event.compute_hash(head.hash)
            compiled_insert(event)
            compiled_execute(
                "audit-chain-head-move",
                lambda: AuditChainHead.update(seq=0, hash="").where(AuditChainHead.id == 1),
                event.seq,
                event.hash,
                1,
            )
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

    @classmethod
    def verify_chain(cls, batch: int = 5000):
        """Walk the whole chain in order. Returns (rows checked, first broken row or None, why)."""
        prev_hash, expected_seq, checked = GENESIS, 1, 0
        last_seq = 0
        while True:
            rows = list(cls.select().where(cls.seq > last_seq).order_by(cls.seq).limit(batch))
            if not rows:
                break
            for row in rows:
                if row.seq != expected_seq:
                    return checked, row, f"sequence gap: expected {expected_seq}, found {row.seq}"
                if row.prev_hash != prev_hash:
                    return checked, row, "previous-hash link does not match the row before"
                if row.compute_hash(prev_hash) != row.hash:
                    return checked, row, "row contents do not match its hash"
                prev_hash, expected_seq, checked = row.hash, row.seq + 1, checked + 1
            last_seq = rows[-1].seq
        head = AuditChainHead.get_or_none(AuditChainHead.id == 1)
        if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
            return checked, None, "the chain head does not match the last row (rows removed)"
        return checked, None, ""

    @property
    def detail_dict(self) -> dict:
        """The detail JSON as a dict."""
        return json.loads(self.detail or "{}")
