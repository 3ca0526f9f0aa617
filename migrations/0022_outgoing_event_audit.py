"""Each step on an outgoing transfer's timeline names its audit entry
(`outgoing_event.audit_event_id`), as the destination's steps do since 0021.

The origin's timeline of a sale to another city links each step this city's log records (the
seller's confirmation or refusal, the archive sent or refused, the record opened, the archive
asked for, the car transferred out, the case closed) to that entry's receipt. Steps written
before this migration keep a null link: they have no receipt link. Nothing is backfilled.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    class AuditEvent(Model):
        class Meta:
            database = db
            table_name = "audit_event"

    migrator.migrate(
        migrator.add_column(
            "outgoing_event",
            "audit_event_id",
            ForeignKeyField(
                AuditEvent, field=AuditEvent.id, null=True, backref="+", on_delete="RESTRICT"
            ),
        )
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("outgoing_event", "audit_event_id"))
