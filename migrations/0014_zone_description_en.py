"""A restricted zone's description in English, next to the Chinese one.

English pages showed the zones' Chinese descriptions: the city now writes both, as it
already did the zone's name. Existing zones get an empty English description (the Chinese one is
shown, marked as Chinese, until a clerk writes it).
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("restricted_zone", "description_en", TextField(default=""))  # noqa: F405
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("restricted_zone", "description_en"))
