"""The database handle, the base model and the transaction helper every write goes through."""

import datetime as dt
from contextlib import contextmanager

from peewee import DatabaseProxy, Model, PostgresqlDatabase

db = DatabaseProxy()


def utcnow() -> dt.datetime:
    """Now in UTC, naive: every time in the database is UTC."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class BaseModel(Model):
    """Base of all models: bound to the proxy, snake_case table names."""

    class Meta:
        database = db
        legacy_table_names = False


def is_postgres() -> bool:
    """True when the proxy points at PostgreSQL (row locks instead of SQLite's IMMEDIATE)."""
    return isinstance(db.obj, PostgresqlDatabase)


@contextmanager
def write_tx():
    """One short write transaction.

    On SQLite the database is opened with lock_type IMMEDIATE, so the write lock is taken at
    BEGIN and two writers queue on busy_timeout instead of failing mid-transaction. On PostgreSQL
    the callers that must serialise take row locks (SELECT ... FOR UPDATE) or use conditional
    updates inside this transaction.
    """
    with db.atomic() as tx:
        yield tx


def for_update(query):
    """Lock the selected rows until the transaction ends, where the database has row locks.

    PostgreSQL gets SELECT ... FOR UPDATE; SQLite has no row locks, and its IMMEDIATE
    transaction already holds the one write lock, which serialises the same way.
    """
    return query.for_update() if is_postgres() else query
