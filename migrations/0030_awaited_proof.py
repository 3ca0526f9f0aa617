"""`awaited_proof`: a peer's log that has not yet proven that the checkpoint of it cosigned here
and the one another witness cosigned are one history (core.auditlog.gossip). One row per
(log, other witness), since the first time it left the two unproven; gone once it proves them.
A log that keeps in touch but withholds the proof for an hour raises an alert.
"""

import datetime as dt

from peewee import *  # noqa: F403


def _now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    class AwaitedProof(Model):
        log_url = CharField(max_length=200)
        witness_url = CharField(max_length=200)
        since = DateTimeField(default=_now)
        last_asked_at = DateTimeField(default=_now)
        asks = IntegerField(default=1)

        class Meta:
            database = db
            table_name = "awaited_proof"
            indexes = ((("log_url", "witness_url"), True),)

    db.create_tables([AwaitedProof])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("awaited_proof"))
