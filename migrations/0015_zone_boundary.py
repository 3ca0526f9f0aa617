"""A restricted zone's boundary, kept as GeoJSON (a Polygon or MultiPolygon in WGS-84
longitude/latitude), so the rules page and the pass can draw the zone (zones had no map).
Existing zones get no boundary ("") until a clerk pastes one; their pages say so.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("restricted_zone", "boundary", TextField(default=""))  # noqa: F405
    )


def down(migrator, db):
    migrator.migrate(migrator.drop_column("restricted_zone", "boundary"))
