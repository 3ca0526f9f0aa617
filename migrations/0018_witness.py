"""Witnessing between deployments: the cosignatures our checkpoints
received, the newest checkpoint of each peer's log we cosigned, and the alerts raised when a
checkpoint is not consistent with what a witness saw.

Numbered 0018 (0016 and 0017 belong to other work); it depends only on audit_checkpoint
(migration 0011).
"""

import datetime as dt

from peewee import *  # noqa: F403


def _now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    class AuditCheckpoint(Model):
        class Meta:
            database = db
            table_name = "audit_checkpoint"

    class AuditCosignature(Model):
        checkpoint = ForeignKeyField(AuditCheckpoint, backref="+", on_delete="CASCADE")
        witness_url = CharField(max_length=200)
        witness_city = CharField(max_length=50, default="")
        name = CharField(max_length=200)
        signature = TextField()
        cosigned_at = DateTimeField()
        received_at = DateTimeField(default=_now)

        class Meta:
            database = db
            table_name = "audit_cosignature"
            indexes = ((("checkpoint", "witness_url"), True),)

    class WitnessedLog(Model):
        peer_url = CharField(max_length=200, unique=True)
        origin = CharField(max_length=200)
        tree_size = BigIntegerField()
        root_hash = CharField(max_length=64)
        note = TextField()
        cosigned_at = DateTimeField(default=_now)

        class Meta:
            database = db
            table_name = "witnessed_log"

    class WitnessAlert(Model):
        side = CharField(max_length=10)
        peer_url = CharField(max_length=200)
        reason = CharField(max_length=40)
        tree_size = BigIntegerField(null=True)
        detail = TextField(default="")
        raised_at = DateTimeField(default=_now, index=True)
        acknowledged_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "witness_alert"

    db.create_tables([AuditCosignature, WitnessedLog, WitnessAlert])


def down(migrator, db):
    for table in ("witness_alert", "witnessed_log", "audit_cosignature"):
        migrator.migrate(migrator.drop_table(table))
