"""Identity bound to the office's records: recorded mobiles, proofs and SMS codes.

The licence record and the vehicle keep the mobile number recorded at the office (identity
codes go only there). `identity_proof` holds how an account proved its ID number (SMS, counter,
or a notice's query code for one case); `sms_challenge` the hashed one-time codes.

Accounts that existed before this migration are unproven: registering never proved anything,
so they prove their number once, like everyone else. Numbered 0010: 0009 is the network's;
this one depends on none of its tables.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("licence_record", "mobile", CharField(max_length=11, null=True)),
        migrator.add_column("vehicle", "owner_mobile", CharField(max_length=11, null=True)),
    )

    class User(Model):
        class Meta:
            database = db
            table_name = "user"

    class AccidentCase(Model):
        class Meta:
            database = db
            table_name = "accident_case"

    class IdentityProof(Model):
        user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
        resident_id = CharField(max_length=18)
        method = CharField(max_length=12)
        case = ForeignKeyField(AccidentCase, null=True, backref="+", on_delete="CASCADE")
        mobile = CharField(max_length=11, null=True)
        clerk = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
        proven_at = DateTimeField()

        class Meta:
            database = db
            table_name = "identity_proof"
            indexes = ((("user", "case"), True),)

    class SmsChallenge(Model):
        user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
        resident_id = CharField(max_length=18)
        mobile = CharField(max_length=11)
        code_hash = CharField(max_length=64)
        created_at = DateTimeField()
        expires_at = DateTimeField()
        used_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "sms_challenge"

    db.create_tables([IdentityProof, SmsChallenge])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("sms_challenge"))
    migrator.migrate(migrator.drop_table("identity_proof"))
    migrator.migrate(
        migrator.drop_column("vehicle", "owner_mobile"),
        migrator.drop_column("licence_record", "mobile"),
    )
