"""Notices: the inbox table, and on the account an optional e-mail address
and the channels chosen (SMS, e-mail) besides the inbox.

Numbered 0012 (0011 is the audit log's); it depends on none of 0011's tables. Deliveries go
through the outbox of 0009 (channels "sms" and "email"), which needs no change.
"""

import datetime as dt

from peewee import *  # noqa: F403


def _now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("user", "email", CharField(max_length=254, null=True)),
        migrator.add_column("user", "notice_sms", BooleanField(default=False)),
        migrator.add_column("user", "notice_email", BooleanField(default=False)),
    )

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class Notice(Model):
        user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
        message_id = CharField(max_length=64, unique=True)
        kind = CharField(max_length=60)
        params = TextField(default="{}")
        created_at = DateTimeField(default=_now)
        read_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "notice"
            indexes = ((("user", "read_at"), False),)

    db.create_tables([Notice])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("notice"))
    migrator.migrate(
        migrator.drop_column("user", "notice_email"),
        migrator.drop_column("user", "notice_sms"),
        migrator.drop_column("user", "email"),
    )
