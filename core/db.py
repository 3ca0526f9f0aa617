"""Binding the models to a real database, per-request connections and schema migrations."""

import os

from flask import Flask
from playhouse.db_url import connect
from playhouse.migrations import Runner
from playhouse.pool import PooledSqliteDatabase

from models import db

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def sqlite_pragmas(synchronous: str = "normal") -> dict:
    """The pragmas of DESIGN.md: WAL, foreign keys, a busy timeout instead of 'locked' errors."""
    return {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 10000,
        "cache_size": -64000,
        "synchronous": synchronous,
    }


# A pooled SQLite connection is closed for real after this many seconds (then reopened).
SQLITE_POOL_RECYCLE = 300


def make_database(url: str, sqlite_synchronous: str = "normal"):
    """A peewee database for a DATABASE_URL; SQLite writes begin IMMEDIATE.

    autoconnect is off: a query outside a request or connection_context() is a bug (a
    connection nobody closes), and fails loudly instead of leaking.

    SQLite connections are pooled per process: db.close() at the end of a request hands the
    connection back (rolling back anything left open) instead of closing it. Closing the last
    connection to a WAL database checkpoints and deletes the WAL, and every new connection
    runs the pragmas, parses the schema and starts with an empty page cache; per request that
    cost more than a licence check itself (docs/PERFORMANCE.md). The request still opens and
    closes its connection, so a query outside a request fails as before.
    """
    if url.startswith("sqlite:"):
        path = url.split("sqlite:///", 1)[1]
        return PooledSqliteDatabase(
            path,
            pragmas=sqlite_pragmas(sqlite_synchronous),
            lock_type="IMMEDIATE",  # the busy timeout is the busy_timeout pragma
            autoconnect=False,
            max_connections=None,  # one per thread that serves; gunicorn's sync worker has one
            stale_timeout=SQLITE_POOL_RECYCLE,
            # A threaded server may hand a pooled connection to another thread; the pool
            # gives each connection to one thread at a time.
            check_same_thread=False,
        )
    # A database that does not answer must give a 503 within seconds, not hang the worker.
    return connect(url, autoconnect=False, connect_timeout=3)


def init_app(app: Flask) -> None:
    """Point the model proxy at the configured database and open/close it around requests."""
    database = make_database(app.config["DATABASE_URL"], app.config["SQLITE_SYNCHRONOUS"])
    db.initialize(database)

    @app.before_request
    def _connect():
        db.connect()

    @app.teardown_request
    def _close(exc):
        if not db.is_closed():
            db.close()


def migration_runner() -> Runner:
    """peewee's own migration runner over migrations/NNNN_*.py."""
    return Runner(db.obj, MIGRATIONS_DIR)


def upgrade() -> list[str]:
    """Apply every pending migration; returns the names applied."""
    with db.connection_context():
        return migration_runner().up()
