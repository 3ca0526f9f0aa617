"""Witnessing (见证) between deployments: cosignatures of our checkpoints, what we last cosigned
of each peer's log, and the alerts raised when a checkpoint is not consistent.

Each deployment witnesses the others' audit logs (core.auditlog.witness): it cosigns a peer's
checkpoint only when a consistency proof shows it extends the last one it cosigned. The log
keeps the cosignatures it received (AuditCosignature); the witness keeps, per peer, the newest
checkpoint it cosigned (WitnessedLog); either side records an inconsistency as a WitnessAlert
that the administrator sees until they acknowledge it.
"""

from peewee import (
    BigIntegerField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from .audit import AuditCheckpoint
from .base import BaseModel, utcnow

# Which side of a witness request raised an alert: the log (our checkpoint was refused by a
# witness) or the witness (a peer's checkpoint was refused here).
ALERT_LOG = "log"
ALERT_WITNESS = "witness"
ALERT_SIDES = (ALERT_LOG, ALERT_WITNESS)


class AuditCosignature(BaseModel):
    """A witness's cosignature of one of our checkpoints (a C2SP tlog-cosignature line)."""

    checkpoint = ForeignKeyField(AuditCheckpoint, backref="cosignatures", on_delete="CASCADE")
    witness_url = CharField(max_length=200)
    witness_city = CharField(max_length=50, default="")
    name = CharField(max_length=200)  # the cosigner's key name in the signature line
    signature = TextField()  # "— <name> base64(key id || timestamp || signature)"
    cosigned_at = DateTimeField()  # the time the witness signed (inside its signature)
    received_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("checkpoint", "witness_url"), True),)

    @classmethod
    def last_size(cls, witness_url: str) -> int:
        """The largest of our trees this witness cosigned (0: none yet)."""
        row = (
            AuditCheckpoint.select(AuditCheckpoint.tree_size)
            .join(cls)
            .where(cls.witness_url == witness_url)
            .order_by(AuditCheckpoint.tree_size.desc())
            .first()
        )
        return row.tree_size if row else 0


class WitnessedLog(BaseModel):
    """The newest checkpoint of a peer's log that this deployment cosigned (one row per peer)."""

    peer_url = CharField(max_length=200, unique=True)
    origin = CharField(max_length=200)
    tree_size = BigIntegerField()
    root_hash = CharField(max_length=64)
    note = TextField()
    cosigned_at = DateTimeField(default=utcnow)


class WitnessAlert(BaseModel):
    """A checkpoint that was not consistent with what a witness saw, on the side that learnt it.

    `reason` is the refusal's reason code; `detail` says what did not add up (sizes, roots);
    `evidence`, for a log seen to fork, the signed notes that show it (core.auditlog.evidence).
    """

    side = CharField(max_length=10)
    peer_url = CharField(max_length=200)
    reason = CharField(max_length=40)
    tree_size = BigIntegerField(null=True)
    detail = TextField(default="")
    evidence = TextField(default="")  # JSON, or "" when the alert rests on no signed notes
    raised_at = DateTimeField(default=utcnow, index=True)
    acknowledged_at = DateTimeField(null=True)

    @classmethod
    def open(cls):
        """Alerts nobody has acknowledged yet, newest first."""
        return cls.select().where(cls.acknowledged_at.is_null()).order_by(cls.raised_at.desc())


class AwaitedProof(BaseModel):
    """A peer's log that has not yet proven the checkpoint of it cosigned here and the one
    another witness cosigned to be one history (core.auditlog.gossip), since `since`; the row
    goes once it proves them (or the two agree)."""

    log_url = CharField(max_length=200)
    witness_url = CharField(max_length=200)
    since = DateTimeField(default=utcnow)
    last_asked_at = DateTimeField(default=utcnow)
    asks = IntegerField(default=1)

    class Meta:
        indexes = ((("log_url", "witness_url"), True),)
