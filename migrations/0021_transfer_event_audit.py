"""Each timeline step names its audit entry (`transfer_event.audit_event_id`).

A transfer case's timeline links each step to the receipt of the entry written with it. The
step now stores that entry's id, set in the step's own transaction, instead of the entry being
guessed afterwards from its action, actor and time. Steps written before this migration, and
steps no entry records, keep a null link: they have no receipt link. Nothing is backfilled.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    class AuditEvent(Model):
        class Meta:
            database = db
            table_name = "audit_event"

    migrator.migrate(
        migrator.add_column(
            "transfer_event",
            "audit_event_id",
            ForeignKeyField(
                AuditEvent, field=AuditEvent.id, null=True, backref="+", on_delete="RESTRICT"
            ),
        )
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("transfer_event", "audit_event_id"))
