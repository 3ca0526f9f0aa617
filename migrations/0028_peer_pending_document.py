"""`peer.pending_document`: a peer's newer document whose claims (key prefix, offices and their
plate prefixes, inbox) differ from those its administrator confirmed. Its keys and names are
taken at once; its claims wait for an administrator here to confirm them, as at peering: a
trusted peer could otherwise take up, by a refresh, the prefix of a city not peered yet.
"""

from peewee import *  # noqa: F403


def up(migrator, db):
    migrator.migrate(migrator.add_column("peer", "pending_document", TextField(null=True)))


def down(migrator, db):
    migrator.migrate(migrator.drop_column("peer", "pending_document"))
