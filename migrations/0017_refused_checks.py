"""Refused checks counted per window: a table `refused_check` with one
row per (licence or truck pass, window) and a count, so a flood of attempts refused by a lock
costs one upsert each instead of an audit row each.

Numbered 0017 and independent of every other migration after 0001: it only adds its table.
"""

import datetime as dt

from peewee import *  # noqa: F403


def _now():
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def up(migrator, db):
    class RefusedCheck(Model):
        kind = CharField(max_length=12)
        object_id = IntegerField()
        window_start = DateTimeField()
        first_at = DateTimeField(default=_now)
        last_at = DateTimeField(default=_now)
        count = IntegerField(default=1)

        class Meta:
            database = db
            table_name = "refused_check"
            indexes = ((("kind", "object_id", "window_start"), True),)

    db.create_tables([RefusedCheck])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("refused_check"))
