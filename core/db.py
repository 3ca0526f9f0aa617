"""Binding the models to a real database, per-request connections and schema migrations."""

import fcntl
import os
import select
import time

from flask import Flask
from playhouse.db_url import connect, parse
from playhouse.migrations import Runner
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase
from werkzeug.routing import IntegerConverter

from models import db

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "migrations")


def sqlite_pragmas(synchronous: str = "normal") -> dict:
    """The pragmas of docs/DESIGN.md#data: WAL, foreign keys, a busy timeout instead of 'locked'
    errors."""
    return {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 10000,
        "cache_size": -64000,
        "synchronous": synchronous,
    }


# A pooled SQLite connection is closed for real after this many seconds (then reopened).
SQLITE_POOL_RECYCLE = 300
# How long a request waits for a pooled PostgreSQL connection when the process has
# PG_POOL_MAX_CONNECTIONS in use (a threaded server), before it fails with a 503.
PG_POOL_WAIT = 10
# How long a writer waits in the queue before leaving it to SQLite's busy timeout.
WRITER_QUEUE_WAIT = 10.0


class QueuedWritersSqliteDatabase(PooledSqliteDatabase):
    """SQLite whose write transactions queue on an OS file lock before BEGIN IMMEDIATE.

    While another process holds SQLite's write lock, SQLite's busy handler sleeps 1, 2, 5,
    10 ... up to 100 ms between tries, so under load a waiting writer often sleeps on long
    after the lock is free: the verifier's p99 latency came from there (docs/PERFORMANCE.md).
    Writers of this application first take an exclusive flock() on `<database>-writer.lock`
    (polled every 50 us to 1 ms), then BEGIN IMMEDIATE, and let it go at COMMIT or ROLLBACK.
    SQLite's own lock still decides everything; the queue only orders our own writers. The
    kernel drops a flock when its process dies, and a writer that waited WRITER_QUEUE_WAIT
    seconds goes on to SQLite's busy timeout as before (e.g. behind a long CLI import).
    """

    def __init__(self, *args, **kwargs):
        """One lock-file descriptor per pooled connection (flock() locks belong to it)."""
        super().__init__(*args, **kwargs)
        self._writer_fds: dict[int, int] = {}

    def _writer_fd(self, conn) -> int:
        fd = self._writer_fds.get(id(conn))
        if fd is None:
            # flock() needs no write access: a lock file made by another account (say, an
            # administrator's CLI command) still works. It holds no data.
            try:
                fd = os.open(self.database + "-writer.lock", os.O_RDONLY | os.O_CREAT, 0o644)
            except OSError:
                fd = -1  # no queue then: SQLite's busy timeout alone, as before
            self._writer_fds[id(conn)] = fd
        return fd

    def _queue(self, fd: int) -> bool:
        """Take the writer lock; False when the wait ran out (SQLite's timeout decides)."""
        if fd < 0:
            return False
        pause, deadline = 0.00005, time.monotonic() + WRITER_QUEUE_WAIT
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(pause)
                pause = min(pause * 2, 0.001)

    def _leave_queue(self, conn) -> None:
        fd = self._writer_fds.get(id(conn), -1)
        if fd >= 0:
            fcntl.flock(fd, fcntl.LOCK_UN)  # a no-op when this connection does not hold it

    def begin(self, lock_type=None):
        """Queue, then BEGIN IMMEDIATE."""
        conn = self.connection()
        self._queue(self._writer_fd(conn))
        try:
            super().begin(lock_type)
        except BaseException:
            self._leave_queue(conn)
            raise

    def commit(self):
        """COMMIT, then let the next writer in."""
        try:
            return super().commit()
        finally:
            self._leave_queue(self.connection())

    def rollback(self):
        """ROLLBACK, then let the next writer in."""
        try:
            return super().rollback()
        finally:
            self._leave_queue(self.connection())

    def _close(self, conn, close_conn=False):
        # A connection handed back with a transaction still open is rolled back by the pool
        # (_can_reuse); the queue must not stay held by it either.
        self._leave_queue(conn)
        return super()._close(conn, close_conn)

    def _close_raw(self, conn):
        # The connection really closes: so does its lock-file descriptor.
        fd = self._writer_fds.pop(id(conn), -1)
        if fd >= 0:
            os.close(fd)
        return super()._close_raw(conn)


def socket_has_news(fd: int) -> bool:
    """True when the socket has something to read or is hung up, without waiting.

    An idle PostgreSQL connection has nothing to read: the server speaks only when asked. When
    the server ends the session (a restart, pg_terminate_backend, an idle timeout) it sends a
    FATAL message and closes, and the socket becomes readable.
    """
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLHUP | select.POLLERR)
    return bool(poller.poll(0))


class RoundTripSavingPostgresqlDatabase(PooledPostgresqlDatabase):
    """peewee's PostgreSQL pool with two round trips fewer per request (docs/DESIGN.md#data).

    With the database on another machine every statement costs a network round trip (2.4 ms
    in the bench), and a request's latency is mostly their number. peewee's pool sends a
    `SELECT 1` each time it hands a connection out, and `BEGIN` on its own before a
    transaction's first statement: two round trips that carry no work.

    - A connection is checked locally when handed out: closed, or in an unknown state, as
      peewee checks it, and its socket polled (socket_has_news): a server that ended the
      session (restart, terminate, idle timeout) has said so on the socket. Only a connection
      whose network path broke silently passes; its first statement then fails where the
      `SELECT 1` would have, the request gets the 503 page and the connection is dropped.
    - `BEGIN` is sent in the same message as the transaction's first statement
      (`BEGIN; UPDATE ...`, one simple-protocol query), as PostgreSQL's JDBC driver does. A
      transaction that runs no statement sends neither BEGIN nor COMMIT. The server runs the
      two in order, so the transaction is the same; a failing first statement leaves it
      aborted and the caller's rollback ends it, as before.
    """

    def _is_closed(self, conn):
        """Closed, unknown state, or the server has hung up; an open transaction is rolled back
        (peewee's own check, without its `SELECT 1`)."""
        if conn.closed:
            return True
        status = self._adapter.txn_status(conn)
        if status == self._adapter.txn_unknown:
            return True
        if status != self._adapter.txn_idle:
            try:
                self._adapter.rollback(conn)
            except Exception:
                return True
            return False
        try:
            return socket_has_news(conn.fileno())
        except (OSError, ValueError):
            return True

    def begin(self, isolation_level=None):
        """Hold BEGIN back until the transaction's first statement (execute_sql)."""
        if isolation_level is None:
            isolation_level = self._isolation_level
        stmt = "BEGIN"
        if isolation_level:
            stmt += " TRANSACTION ISOLATION LEVEL " + self._adapter.isolation_level_str(
                isolation_level
            )
        self._state.pending_begin = stmt

    def _take_pending_begin(self) -> str | None:
        stmt = getattr(self._state, "pending_begin", None)
        self._state.pending_begin = None
        return stmt

    def execute_sql(self, sql, params=None):
        """Run a statement, preceded by a held-back BEGIN in the same message."""
        begin = self._take_pending_begin()
        if begin is None:
            return super().execute_sql(sql, params)
        try:
            return super().execute_sql(f"{begin}; {sql}", params)
        except Exception:
            # Refused before it was sent (psycopg2 could not adapt a value, or the parameters
            # did not match): the server saw no BEGIN either, so it is held back again, and a
            # caller that catches the error goes on inside its transaction, not in autocommit.
            conn = self._state.conn
            unsent = conn is not None and not conn.closed
            if unsent and self._adapter.txn_status(conn) == self._adapter.txn_idle:
                self._state.pending_begin = begin
            raise

    def commit(self):
        """COMMIT, unless the transaction never began on the server (no statement ran)."""
        if self._take_pending_begin() is not None:
            return None
        return super().commit()

    def rollback(self):
        """ROLLBACK, unless the transaction never began on the server (no statement ran)."""
        if self._take_pending_begin() is not None:
            return None
        return super().rollback()

    def _close(self, conn, close_conn=False):
        # A transaction left open when the request ends: nothing held back may outlive it.
        self._state.pending_begin = None
        return super()._close(conn, close_conn)


def gunicorn_workers(database_url: str, cores: int) -> int:
    """How many sync gunicorn workers a node runs by default (gunicorn.conf.py, the bench).

    On SQLite, one per core: its requests are short and CPU-bound and the database takes one
    writer at a time, so more workers only add switching and lock waits (docs/PERFORMANCE.md,
    "Workers"). On PostgreSQL, gunicorn's own starting point, (2 x cores) + 1: the database is
    usually on another machine and a request spends most of its time waiting for its round
    trips (a licence check about 7 x 2.4 ms against 2 ms of CPU), so one worker per core
    would leave the cores idle while requests queue (docs/DESIGN.md#workers). Each worker
    holds one pooled connection: PostgreSQL's max_connections must cover workers x nodes plus
    the audit integrator, network worker and witness of each node.
    """
    cores = max(1, cores)
    if database_url.startswith(("postgres:", "postgresql:")):
        return 2 * cores + 1
    return cores


def make_database(
    url: str,
    sqlite_synchronous: str = "normal",
    pg_pool_max: int = 20,
    pg_pool_stale: int = 300,
):
    """A peewee database for a DATABASE_URL; SQLite writes begin IMMEDIATE.

    autoconnect is off: a query outside a request or connection_context() is a bug (a
    connection nobody closes), and fails loudly instead of leaking.

    Connections are pooled per process on both backends: db.close() at the end of a request
    hands the connection back (rolling back anything left open) instead of closing it. On
    SQLite, closing the last connection to a WAL database checkpoints and deletes the WAL, and
    every new connection runs the pragmas, parses the schema and starts with an empty page
    cache; per request that cost more than a licence check itself (docs/PERFORMANCE.md). On
    PostgreSQL a new connection is a TCP (and maybe TLS) handshake, authentication and a new
    server process: several round trips and milliseconds per request, more than a check's
    statements when the database is on another machine. A pooled PostgreSQL connection is
    kept at most `pg_pool_stale` seconds (then reopened), at most `pg_pool_max` are open per
    process, and one handed back inside a transaction is rolled back before it is reused
    (peewee's pool asks psycopg2 for the transaction status; a connection whose status is
    unknown, the server gone, is closed instead). A connection is checked without a round trip
    when it is handed out (RoundTripSavingPostgresqlDatabase), so one the server dropped is
    replaced, not failed on.
    The request still opens and closes its connection, so a query outside a request fails as
    before.
    """
    if url.startswith("sqlite:"):
        path = url.split("sqlite:///", 1)[1]
        return QueuedWritersSqliteDatabase(
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
    if url.startswith(("postgres:", "postgresql:")):
        params = parse(url)
        # A database that does not answer must give a 503 within seconds, not hang the worker.
        params.setdefault("connect_timeout", 3)
        return RoundTripSavingPostgresqlDatabase(
            params.pop("database"),
            autoconnect=False,
            max_connections=pg_pool_max,
            stale_timeout=pg_pool_stale,
            timeout=PG_POOL_WAIT,
            **params,
        )
    return connect(url, autoconnect=False, connect_timeout=3)


# The largest id an id column holds on every database (PostgreSQL's integer, peewee's AutoField).
ID_MAX = 2**31 - 1


class IdConverter(IntegerConverter):
    """`<int:...>` in a route: a number above ID_MAX is no page (404) rather than a query the
    database refuses (SQLite's OverflowError, PostgreSQL's "integer out of range": a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(url_map, *args, **kwargs)


def id_or_none(typed: str | None) -> int | None:
    """An id sent back in a form (a hidden field), or None when it is not one an id column holds."""
    value = (typed or "").strip()
    if not (value.isascii() and value.isdigit()) or int(value) > ID_MAX:
        return None
    return int(value)


def init_app(app: Flask) -> None:
    """Point the model proxy at the configured database and open/close it around requests; ids
    in routes stay within what the database holds."""
    app.url_map.converters["int"] = IdConverter
    database = make_database(
        app.config["DATABASE_URL"],
        app.config["SQLITE_SYNCHRONOUS"],
        pg_pool_max=app.config["PG_POOL_MAX_CONNECTIONS"],
        pg_pool_stale=app.config["PG_POOL_STALE_SECONDS"],
    )
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
