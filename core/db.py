"""Binding the models to a real database, per-request connections and schema migrations."""

import os

from flask import Flask
from peewee import SqliteDatabase
from playhouse.db_url import connect
from playhouse.migrations import Runner

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


def make_database(url: str, sqlite_synchronous: str = "normal"):
    """A peewee database for a DATABASE_URL; SQLite writes begin IMMEDIATE.

    autoconnect is off: a query outside a request or connection_context() is a bug (a
    connection nobody closes), and fails loudly instead of leaking.
    """
    if url.startswith("sqlite:"):
        path = url.split("sqlite:///", 1)[1]
        return SqliteDatabase(
            path,
            pragmas=sqlite_pragmas(sqlite_synchronous),
            lock_type="IMMEDIATE",
            timeout=10,
            autoconnect=False,
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
