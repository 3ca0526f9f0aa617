"""An SMS code keeps what it is for and how many times it was tried.

`purpose`: a new code replaces the account's earlier codes of the same purpose only, so a
stranger asking for a password reset no longer voids the owner's pending identity code.
`tries`: each attempt takes one try from the code before it is compared (a conditional update),
so parallel guesses on several nodes get no more than SmsChallenge.TRIES between them, and a
stranger's wrong guesses use up one code, not the account's right to try.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(
        migrator.add_column(
            "sms_challenge", "purpose", CharField(max_length=20, default="identity-sms")
        ),
        migrator.add_column("sms_challenge", "tries", IntegerField(default=0)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("sms_challenge", "purpose"),
        migrator.drop_column("sms_challenge", "tries"),
    )
