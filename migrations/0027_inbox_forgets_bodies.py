"""Received messages no longer keep their bodies.

Until now the inbox stored each message's body beside its digest: sellers' ID numbers, buyers'
names and prices, typed licence keys with their codes, and checkers' addresses, kept for ever
though nothing read them once the handler ran. The digest alone tells a retry from another
message reusing an id; the bodies stored before are cleared here.
"""


def up(migrator, db):
    db.execute_sql("UPDATE inbox_message SET body = '{}' WHERE body <> '{}'")


def down(migrator, db):
    pass  # the bodies cleared are not brought back
