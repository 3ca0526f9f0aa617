"""`pending_registration`: a registration waiting for the code sent to the mobile number it gave.
The account is made only once that code comes back, so that nobody registers a number that is
not theirs (notices by SMS then reach only numbers someone confirmed). A half-done registration
holds neither the ID number nor the number, and `flask db prune` deletes it after an hour (a
finished one keeps no details, only that it was finished).
Accounts registered before this stay as they are.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    class PendingRegistration(Model):
        token_hash = CharField(max_length=64, unique=True)
        real_name = CharField(max_length=50)
        resident_id = CharField(max_length=18)
        mobile = CharField(max_length=11)
        password_hash = CharField(max_length=255)
        code_hash = CharField(max_length=64)
        code_expires_at = DateTimeField()
        tries = IntegerField(default=0)
        created_at = DateTimeField(index=True)
        finished_at = DateTimeField(null=True)

        class Meta:
            database = db
            table_name = "pending_registration"

    db.create_tables([PendingRegistration])


def down(migrator, db):
    migrator.migrate(migrator.drop_table("pending_registration"))
