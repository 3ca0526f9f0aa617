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


# SQL text of fixed-shape queries, per (name, database class): see compiled_select.
_SQL_TEXTS: dict = {}


def compiled_select(model, name: str, build, *params):
    """Run a fixed-shape SELECT whose SQL text peewee builds once per database dialect.

    Turning a query into SQL text is most of what a one-row lookup costs in peewee (about
    0.15 ms, more than SQLite takes to run it: docs/PERFORMANCE.md), and the lookups run on
    every request build the same text each time. `build()` returns the query with stand-in
    values; its parameters must be `params`, in the same order (checked once). Rows come back
    as `model` instances, as from the query itself.
    """
    key = (name, type(db.obj))
    sql = _SQL_TEXTS.get(key)
    if sql is None:
        sql, sample = build().sql()
        if len(sample) != len(params):
            raise ValueError(f"{name}: the query has {len(sample)} parameters, not {len(params)}")
        _SQL_TEXTS[key] = sql
    return model.raw(sql, *params)


def for_update(query):
    """Lock the selected rows until the transaction ends, where the database has row locks.

    PostgreSQL gets SELECT ... FOR UPDATE; SQLite has no row locks, and its IMMEDIATE
    transaction already holds the one write lock, which serialises the same way.
    """
    return query.for_update() if is_postgres() else query
