"""`user.mobile_tied_at`: when the account's mobile number was tied to the person of its ID
number. A password reset by SMS proves only that someone holds the number; when the number was
only typed at registration (a typo, or a number the carrier has since given to someone else),
the reset withdraws the account's identity proofs, and the person proves again.

Existing accounts start untied: their first reset by SMS asks them to prove their identity
again (a code to the office's recorded number, or the counter), which then ties the number
when it is the recorded one.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(migrator.add_column("user", "mobile_tied_at", DateTimeField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("user", "mobile_tied_at"))
