"""Measure 1: licence records, e-licences, their checks and share codes.

Python-side defaults (timestamps, handles, keys) live on the models, not in the schema.
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

    class LicenceRecord(Model):
        licence_no = CharField(unique=True, max_length=18)
        file_no = CharField(unique=True, max_length=12)
        name = CharField(max_length=50)
        sex = CharField(max_length=1)
        birth_date = DateField()
        nationality = CharField(max_length=30, default="中国")
        address = CharField(max_length=200)
        photo = CharField(null=True, max_length=200)
        classes = CharField(max_length=60)
        first_issue_date = DateField()
        valid_from = DateField()
        valid_until = DateField()
        points = IntegerField(default=0)
        status = CharField(index=True, max_length=20, default="valid")
        status_reason = CharField(max_length=200, default="")
        issuing_office = ForeignKeyField(Office, on_delete="RESTRICT")
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "licence_record"

    db.create_tables([LicenceRecord])

    class ELicence(Model):
        holder = ForeignKeyField(User, on_delete="RESTRICT")
        record = ForeignKeyField(LicenceRecord, unique=True, on_delete="RESTRICT")
        handle = CharField(unique=True, max_length=32)
        typing_key = CharField(unique=True, max_length=8)
        secret = CharField(max_length=64)
        last_used_step = IntegerField(null=True)
        issued_at = DateTimeField()
        codes_reset_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "e_licence"

    db.create_tables([ELicence])

    class LicenceCheck(Model):
        elicence = ForeignKeyField(ELicence, on_delete="CASCADE")
        at = DateTimeField()
        via = CharField(max_length=10)
        checker_kind = CharField(max_length=12)
        checker = ForeignKeyField(User, null=True, on_delete="SET NULL")
        checker_label = CharField(max_length=100, default="")
        verdict = CharField(max_length=20)
        client_addr = CharField(max_length=64, default="")

        class Meta:
            database = db
            table_name = "licence_check"
            indexes = ((("elicence", "at"), False),)

    db.create_tables([LicenceCheck])

    class ShareCode(Model):
        elicence = ForeignKeyField(ELicence, on_delete="CASCADE")
        code = CharField(unique=True, max_length=8)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        show_points = BooleanField(default=False)
        note = CharField(max_length=60, default="")
        cancelled_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "share_code"

    db.create_tables([ShareCode])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("share_code"))
    migrator.migrate(migrator.drop_table("licence_check"))
    migrator.migrate(migrator.drop_table("e_licence"))
    migrator.migrate(migrator.drop_table("licence_record"))
