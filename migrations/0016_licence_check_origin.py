"""Checks relayed from another city: the check log names the city and the
inspector's office."""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("licence_check", "checker_city", CharField(max_length=50, default="")),
        migrator.add_column(
            "licence_check", "checker_office", CharField(max_length=20, default="")
        ),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column("licence_check", "checker_office"),
        migrator.drop_column("licence_check", "checker_city"),
    )
