"""The audit chain's head row exists from the start.

Before this, the first audit append of a fresh database created the head row itself. Two
first appends at once (two failed logins on PostgreSQL, each in its own transaction) both
found no row to lock and both inserted id 1: one of them failed on the primary key. With the
row in place every append locks the same existing row and they queue.
"""

from peewee import *  # noqa: F403

GENESIS = "0" * 64


def up(migrator, db):
    db.execute_sql(
        "INSERT INTO audit_chain_head (id, seq, hash) "
        "SELECT 1, 0, %s WHERE NOT EXISTS (SELECT 1 FROM audit_chain_head WHERE id = 1)"
        % db.param,
        (GENESIS,),
    )


def down(migrator, db):
    db.execute_sql("DELETE FROM audit_chain_head WHERE id = 1 AND seq = 0")
