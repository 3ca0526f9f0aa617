"""`witness_alert.evidence`: what an alert about a log that forked rests on, as signed notes
anyone can check (core.auditlog.evidence): the checkpoints the log signed that do not make one
history, whose and where they came from, and the proof the log gave, if any. Empty for the
alerts that are not such findings (a peer unreachable, a refusal of another kind).
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(migrator.add_column("witness_alert", "evidence", TextField(default="")))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("witness_alert", "evidence"))
