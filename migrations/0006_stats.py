"""Operations statistics: the counters kept with each event, and an index on registration times.

0005 is the truck passes' migration; this one does not depend on it.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    class StatCounter(Model):
        day = DateField()
        hour = SmallIntegerField()
        office = CharField(max_length=16, default="")
        measure = CharField(max_length=20)
        metric = CharField(max_length=20)
        count = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "stat_counter"
            indexes = ((("day", "hour", "office", "measure", "metric"), True),)

    db.create_tables([StatCounter])

    # How long transfers took is read from the registered cases of a date range.
    migrator.migrate(migrator.add_index("transfer_case", ("registered_at",)))


def down(migrator, db):
    migrator.migrate(migrator.drop_index("transfer_case", "transfer_case_registered_at"))
    migrator.migrate(migrator.drop_table("stat_counter"))
