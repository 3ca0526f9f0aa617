"""`user.last_login_at` goes: nothing read it, and the audit log's `login.ok` entries are the
record of logins (the account page lists them).

It was written in a transaction of its own after the login's (and a registration's), so for a
moment an account could exist without it, and a login's audit entry and its timestamp could
part. A login now writes only its audit entry.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(migrator.drop_column("user", "last_login_at"))


def down(migrator, db):
    migrator.migrate(migrator.add_column("user", "last_login_at", DateTimeField(null=True)))
