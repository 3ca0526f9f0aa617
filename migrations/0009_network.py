"""The network of deployments: trusted peers, messages received (with their answers) and the
outbox of messages to deliver."""

import datetime as dt

from peewee import *  # noqa: F403


def _now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    class Peer(Model):
        base_url = CharField(max_length=200, unique=True)
        name = CharField(max_length=100, default="")
        city = CharField(max_length=50, default="")
        fingerprint = CharField(max_length=64)
        document = TextField()
        status = CharField(max_length=12, default="active")
        added_at = DateTimeField(default=_now)
        added_by = CharField(max_length=60, default="")
        last_contact_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "peer"

    class InboxMessage(Model):
        sender = CharField(max_length=200)
        message_id = CharField(max_length=64)
        type = CharField(max_length=40)
        digest = CharField(max_length=64)
        body = TextField(default="{}")
        outcome = CharField(max_length=12)
        reason = CharField(max_length=40, default="")
        answer = TextField()
        received_at = DateTimeField(default=_now)

        class Meta:
            database = db
            table_name = "inbox_message"
            indexes = ((("sender", "message_id"), True),)

    class OutboxMessage(Model):
        message_id = CharField(max_length=64, unique=True)
        channel = CharField(max_length=20, default="network")
        recipient = CharField(max_length=200, index=True)
        type = CharField(max_length=40)
        body = TextField(default="{}")
        status = CharField(max_length=12, default="pending")
        attempts = IntegerField(default=0)
        created_at = DateTimeField(default=_now)
        next_attempt_at = DateTimeField(default=_now)
        last_attempt_at = DateTimeField(null=True)
        last_error = CharField(max_length=200, default="")
        reason = CharField(max_length=40, default="")
        answer = TextField(default="")
        done_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "outbox_message"
            indexes = ((("status", "next_attempt_at"), False),)

    db.create_tables([Peer, InboxMessage, OutboxMessage])


def down(migrator, db):
    for table in ("outbox_message", "inbox_message", "peer"):
        migrator.migrate(migrator.drop_table(table))
