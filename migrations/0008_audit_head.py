"""The audit chain's head row exists from the start.

Before this, the first audit append of a fresh database created the head row itself. Two
first appends at once (two failed logins on PostgreSQL, each in its own transaction) both
found no row to lock and both inserted id 1: one of them failed on the primary key. With the
row in place every append locks the same existing row and they queue.
"""

from peewee import *  # noqa: F403

GENESIS = "0" * 64


class AuditChainHead(Model):
    seq = BigIntegerField(default=0)
    hash = CharField(max_length=64, default=GENESIS)

    class Meta:
        table_name = "audit_chain_head"


def up(migrator, db):
    with db.bind_ctx([AuditChainHead]):
        AuditChainHead.insert(id=1, seq=0, hash=GENESIS).on_conflict_ignore().execute()


def down(migrator, db):
    with db.bind_ctx([AuditChainHead]):
        AuditChainHead.delete().where(AuditChainHead.id == 1, AuditChainHead.seq == 0).execute()
