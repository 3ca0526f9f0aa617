"""Indexes that the hot lookups need (docs/PERFORMANCE.md).

traffic_violation (vehicle_id, handled): the transfer checks count a vehicle's unhandled
violations at every step and on every view of an open case. With only the two one-column
indexes, SQLite without ANALYZE statistics (a deployment never runs ANALYZE) picks the
`handled` index and walks every unhandled violation of the city: 17 ms per check with
40,000 unhandled violations, against 0.005 ms on the two-column index.

Numbered 0007: 0005 and 0006 are being written alongside this one.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(migrator.add_index("traffic_violation", ("vehicle_id", "handled"), False))


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index("traffic_violation", "traffic_violation_vehicle_id_handled")
    )
