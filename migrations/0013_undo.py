"""Slips that can be undone, reasons shown.

- `office.address` / `address_en`: where people bring a car, named in the next-step sentences.
- `licence_record.status_changed_at`: the holder sees the date of a suspension or revocation.
- `inspection.case` is no longer unique: a failed inspection is kept when the vehicle is
  inspected again (the transfer's new `inspection_failed` state).
- `name_correction`: a citizen's request to correct the name on their account, for a clerk.
- `review_request`: a party's request for a review (复核) of an accident case's evidence.

Numbered 0013 (0011 and 0012 belong to other work of the same issue); it depends on none of
their tables.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("office", "address", CharField(max_length=200, default="")),
        migrator.add_column("office", "address_en", CharField(max_length=200, default="")),
        migrator.add_column("licence_record", "status_changed_at", DateTimeField(null=True)),
        migrator.drop_index("inspection", "inspection_case_id"),
        migrator.add_index("inspection", ("case_id",), False),
    )

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class AccidentCase(Model):
        class Meta:
            database = db
            table_name = "accident_case"

    class CaseParty(Model):
        class Meta:
            database = db
            table_name = "case_party"

    class NameCorrection(Model):
        user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
        old_name = CharField(max_length=50)
        new_name = CharField(max_length=50)
        note = CharField(max_length=200, default="")
        status = CharField(max_length=10, default="pending", index=True)
        requested_at = DateTimeField()
        decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        decided_at = DateTimeField(null=True)
        answer = CharField(max_length=200, default="")

        class Meta:
            database = db
            table_name = "name_correction"

    class ReviewRequest(Model):
        case = ForeignKeyField(AccidentCase, backref="+", on_delete="CASCADE")
        party = ForeignKeyField(CaseParty, backref="+", on_delete="CASCADE")
        user = ForeignKeyField(User, backref="+", on_delete="RESTRICT")
        grounds = TextField()
        status = CharField(max_length=10, default="pending", index=True)
        requested_at = DateTimeField()
        answered_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
        answered_at = DateTimeField(null=True)
        answer = TextField(default="")

        class Meta:
            database = db
            table_name = "review_request"

    db.create_tables([NameCorrection, ReviewRequest])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("review_request"))
    migrator.migrate(migrator.drop_table("name_correction"))
    migrator.migrate(
        migrator.drop_index("inspection", "inspection_case_id"),
        migrator.add_index("inspection", ("case_id",), True),
        migrator.drop_column("licence_record", "status_changed_at"),
        migrator.drop_column("office", "address_en"),
        migrator.drop_column("office", "address"),
    )
