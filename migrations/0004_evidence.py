"""Measure 4: accident cases, their parties, evidence items and the log of every look at them.

Python-side defaults (timestamps) live on the models, not in the schema.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    class Office(Model):
        class Meta:
            database = db
            table_name = "office"

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class AccidentCase(Model):
        case_no = CharField(unique=True, max_length=32)
        office = ForeignKeyField(Office, on_delete="RESTRICT")
        officer = ForeignKeyField(User, on_delete="RESTRICT")
        occurred_at = DateTimeField()
        place = CharField(max_length=200)
        description = TextField(default="")
        procedure = CharField(max_length=10, default="general")
        determination_delivered_on = DateField(null=True)
        status = CharField(index=True, max_length=30, default="opened")
        created_by = ForeignKeyField(User, on_delete="RESTRICT")
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "accident_case"

    db.create_tables([AccidentCase])

    class CaseParty(Model):
        case = ForeignKeyField(AccidentCase, on_delete="CASCADE")
        name = CharField(max_length=50)
        resident_id = CharField(index=True, max_length=18)
        mobile = CharField(max_length=11)
        role = CharField(max_length=20)
        query_code_hash = CharField(null=True, max_length=64)
        added_at = DateTimeField()

        class Meta:
            database = db
            table_name = "case_party"
            indexes = ((("case", "resident_id"), True),)

    db.create_tables([CaseParty])

    class EvidenceItem(Model):
        case = ForeignKeyField(AccidentCase, on_delete="CASCADE")
        category = CharField(max_length=30)
        title = CharField(max_length=100)
        file_path = CharField(max_length=200)
        sha256 = CharField(max_length=64)
        size = IntegerField()
        mime = CharField(max_length=40)
        released = BooleanField(default=False)
        withhold_reason = CharField(null=True, max_length=20)
        withhold_note = TextField(default="")
        uploaded_by = ForeignKeyField(User, on_delete="RESTRICT")
        uploaded_at = DateTimeField()

        class Meta:
            database = db
            table_name = "evidence_item"

    db.create_tables([EvidenceItem])

    class EvidenceAccess(Model):
        case = ForeignKeyField(AccidentCase, on_delete="RESTRICT")
        item = ForeignKeyField(EvidenceItem, null=True, on_delete="RESTRICT")
        user = ForeignKeyField(User, on_delete="RESTRICT")
        kind = CharField(max_length=10)
        as_party = BooleanField(default=False)
        at = DateTimeField(index=True)
        client_addr = CharField(max_length=64, default="")

        class Meta:
            database = db
            table_name = "evidence_access"

    db.create_tables([EvidenceAccess])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("evidence_access"))
    migrator.migrate(migrator.drop_table("evidence_item"))
    migrator.migrate(migrator.drop_table("case_party"))
    migrator.migrate(migrator.drop_table("accident_case"))
