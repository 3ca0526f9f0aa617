"""Connections are pooled per process (SQLite and PostgreSQL), SQLite writers queue on a file
lock; hot lookups reuse their SQL text."""

import fcntl
import os
import threading
import time

import pytest
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

from core import db as core_db
from models import Setting, db, write_tx

from .helpers import on_postgres

sqlite_only = pytest.mark.skipif(on_postgres(), reason="the pool is SQLite's")
postgres_only = pytest.mark.skipif(not on_postgres(), reason="PostgreSQL's pool")


@sqlite_only
def test_requests_reuse_one_pooled_connection(app, client):
    assert isinstance(db.obj, PooledSqliteDatabase)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
        assert db.is_closed()  # handed back at the end of the request
    assert len(db.obj._connections) == 1  # one connection served every request
    assert not db.obj._in_use


@sqlite_only
def test_a_connection_handed_back_mid_transaction_is_rolled_back(app):
    with db.connection_context():
        raw = db.connection()
        raw.execute("BEGIN IMMEDIATE")
        raw.execute("INSERT INTO setting (key, value) VALUES ('half', 'written')")
    # Back in the pool: the write was rolled back and the write lock released.
    with db.connection_context():
        assert db.connection() is raw
        assert Setting.get_value("half") is None
        Setting.set_value("after", "ok")
        assert Setting.get_value("after") == "ok"


@postgres_only
def test_postgres_requests_reuse_one_pooled_connection(app, client):
    assert isinstance(db.obj, PooledPostgresqlDatabase)
    assert db.obj._max_connections == app.config["PG_POOL_MAX_CONNECTIONS"]
    assert db.obj._stale_timeout == app.config["PG_POOL_STALE_SECONDS"]
    db.obj.close_all()
    backends = set()
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
        assert db.is_closed()  # handed back at the end of the request
        with db.connection_context():
            backends.add(db.execute_sql("SELECT pg_backend_pid()").fetchone()[0])
    assert len(backends) == 1  # one server process served every request
    assert len(db.obj._connections) == 1


@postgres_only
def test_a_postgres_connection_handed_back_mid_transaction_is_rolled_back(app):
    import psycopg2.extensions as ext

    with db.connection_context():
        raw = db.connection()
        pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
        db.execute_sql("BEGIN")
        db.execute_sql("INSERT INTO setting (key, value) VALUES ('half', 'written')")
        db.execute_sql("SELECT pg_advisory_xact_lock(42)")
        assert raw.get_transaction_status() == ext.TRANSACTION_STATUS_INTRANS
    # Back in the pool: rolled back (the row gone, the transaction's lock released), reused.
    assert raw.get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
    with db.connection_context():
        assert db.connection() is raw
        assert db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] == pid
        assert Setting.get_value("half") is None
        Setting.set_value("after", "ok")
        assert Setting.get_value("after") == "ok"
        held = db.execute_sql(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s", (pid,)
        ).fetchone()[0]
        assert held == 0


@postgres_only
def test_a_postgres_connection_the_server_closed_is_replaced(app):
    with db.connection_context():
        pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    import psycopg2

    from .helpers import TEST_DATABASE_URL

    admin = psycopg2.connect(TEST_DATABASE_URL)
    admin.autocommit = True
    with admin.cursor() as cur:
        # Wait (up to 5 s) until the server process is gone, as after a restart: it has said
        # goodbye on the connection's socket.
        cur.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
    admin.close()
    # The pool looks at the connection's socket when it hands it out (no round trip): the
    # dead one is dropped and the request gets a new one without an error.
    with db.connection_context():
        assert db.execute_sql("SELECT pg_backend_pid()").fetchone()[0] != pid


@pytest.fixture
def sent(app):
    """What the application sends PostgreSQL, one item per query message (a round trip): the
    pool's connections made anew with a cursor that records each statement."""
    import psycopg2.extensions as ext

    messages = []

    class Recording(ext.cursor):
        def execute(self, sql, params=None):
            messages.append(sql if isinstance(sql, str) else sql.decode())
            return super().execute(sql, params)

    db.obj.close_all()
    db.obj.connect_params["cursor_factory"] = Recording
    yield messages
    db.obj.close_all()
    del db.obj.connect_params["cursor_factory"]


@postgres_only
def test_a_postgres_request_sends_no_liveness_ping(app, client, sent):
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert sent == ["SELECT 1"] * 3  # the view's own statement, nothing from the pool


@postgres_only
def test_postgres_begin_travels_with_the_first_statement(app, sent):
    with db.connection_context():
        with write_tx():
            Setting.set_value("first", "1")
            Setting.set_value("second", "2")
        with write_tx():
            pass  # a transaction that does nothing costs nothing
        with pytest.raises(RuntimeError), write_tx():
            Setting.set_value("third", "3")
            raise RuntimeError
        with write_tx(), write_tx():  # nested: a savepoint, after the held-back BEGIN
            Setting.set_value("fourth", "4")
    assert [s.split(";")[0] for s in sent if s.startswith("BEGIN")] == ["BEGIN"] * 3
    assert [s for s in sent if s in ("COMMIT", "ROLLBACK")] == ["COMMIT", "ROLLBACK", "COMMIT"]
    assert len(sent) == 9  # 4 statements (the savepoint with BEGIN), RELEASE, 3 ends, 1 read
    import psycopg2

    from .helpers import TEST_DATABASE_URL

    other = psycopg2.connect(TEST_DATABASE_URL)  # what another node sees
    with other.cursor() as cur:
        cur.execute("SELECT key, value FROM setting ORDER BY key")
        assert cur.fetchall() == [("first", "1"), ("fourth", "4"), ("second", "2")]
    other.close()


@postgres_only
def test_a_failing_first_statement_leaves_no_transaction_open(app):
    import peewee
    import psycopg2.extensions as ext

    with db.connection_context():
        with pytest.raises(peewee.IntegrityError), write_tx():
            db.execute_sql("INSERT INTO setting (key, value) VALUES (NULL, 'x')")
        assert db.connection().get_transaction_status() == ext.TRANSACTION_STATUS_IDLE
        with write_tx():
            Setting.set_value("after", "ok")
        assert Setting.get_value("after") == "ok"


@postgres_only
def test_a_first_statement_refused_before_sending_keeps_the_transaction(app):
    """psycopg2 refuses a value it cannot adapt before anything is sent: the held-back BEGIN
    must not be lost with it, or what follows would run in autocommit and survive the
    rollback."""

    class Unadaptable:
        pass

    with db.connection_context():
        with pytest.raises(RuntimeError), write_tx():
            with pytest.raises(Exception, match="adapt"):
                db.execute_sql("SELECT %s", (Unadaptable(),))
            Setting.set_value("refused-first", "kept?")
            raise RuntimeError("roll it all back")
        assert Setting.get_value("refused-first") is None


def test_compiled_select_gives_what_the_query_gives(app, make):
    from models import User
    from models.base import compiled_select

    users = [make.citizen() for _ in range(2)]

    def build():
        return User.select().where((User.id == 0) & (User.session_token == ""))

    with db.connection_context():
        for user in users:
            rows = list(compiled_select(User, "t-user", build, user.id, user.session_token))
            assert [(u.id, u.resident_id) for u in rows] == [(user.id, user.resident_id)]
        assert not list(compiled_select(User, "t-user", build, users[0].id, "wrong-token"))
        with pytest.raises(ValueError):
            compiled_select(User, "t-user-2", build, users[0].id)


def test_compiled_select_reads_many_rows_as_the_query_reads_them(app, make):
    """Every row of the list, values converted (times, booleans), as peewee's own query gives
    them, and nothing dirty; the columns are matched once, at the statement's first run."""
    from models import User
    from models.base import compiled_select

    users = [make.citizen() for _ in range(3)]
    ids = [user.id for user in users]

    def build():
        return User.select().where(User.id >= 0).order_by(User.id)

    with db.connection_context():
        expected = [u.__data__ for u in User.select().where(User.id >= ids[0]).order_by(User.id)]
        for _ in range(2):
            rows = compiled_select(User, "t-users-from", build, ids[0])
            assert [u.__data__ for u in rows] == expected
            assert not any(u.is_dirty() for u in rows)
        assert compiled_select(User, "t-users-from", build, ids[-1] + 1) == []


def writer_lock(app):
    """Another holder of the writers' queue (a separate open file, as another process has)."""
    path = app.config["DATABASE_URL"].split("sqlite:///", 1)[1] + "-writer.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


@sqlite_only
def test_a_writer_waits_its_turn_in_the_queue(app):
    fd = writer_lock(app)
    done = threading.Event()

    def write():
        with db.connection_context(), write_tx():
            Setting.set_value("queued", "yes")
        done.set()

    thread = threading.Thread(target=write)
    thread.start()
    assert not done.wait(0.3)  # queued behind the holder
    os.close(fd)  # the holder goes (as when its process dies)
    assert done.wait(5)
    thread.join()
    with db.connection_context():
        assert Setting.get_value("queued") == "yes"


@sqlite_only
def test_the_queue_is_free_after_commit_and_after_rollback(app):
    with db.connection_context():
        with write_tx():
            Setting.set_value("a", "1")
        with pytest.raises(RuntimeError), write_tx():
            Setting.set_value("b", "2")
            raise RuntimeError
        fd = writer_lock(app)  # would block if the queue were still held
        os.close(fd)
        assert Setting.get_value("b") is None


@sqlite_only
def test_a_writer_that_waited_too_long_goes_on_to_sqlite(app, monkeypatch):
    monkeypatch.setattr(core_db, "WRITER_QUEUE_WAIT", 0.2)
    fd = writer_lock(app)  # held, but nobody holds SQLite's own lock
    try:
        started = time.monotonic()
        with db.connection_context(), write_tx():
            Setting.set_value("late", "ok")
        assert 0.2 <= time.monotonic() - started < 5
    finally:
        os.close(fd)


@sqlite_only
def test_closing_the_pool_closes_the_lock_files(app):
    with db.connection_context(), write_tx():
        Setting.set_value("x", "1")
    fds = [fd for fd in db.obj._writer_fds.values() if fd >= 0]
    assert fds
    db.obj.close_all()
    assert not db.obj._writer_fds
    for fd in fds:
        with pytest.raises(OSError):
            os.fstat(fd)


@sqlite_only
def test_without_a_lock_file_writers_rely_on_sqlite_alone(app, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("not ours")

    db.obj.close_all()
    monkeypatch.setattr(core_db.os, "open", refuse)
    with db.connection_context(), write_tx():
        Setting.set_value("unqueued", "ok")
    with db.connection_context():
        assert Setting.get_value("unqueued") == "ok"


@postgres_only
def test_a_full_postgres_pool_answers_503_not_500(app, client, monkeypatch):
    """Every pooled connection busy for longer than the wait: the translated 503 page with
    Retry-After (nothing was saved), not an unexplained 500."""
    monkeypatch.setattr(db.obj, "_max_connections", 1)
    monkeypatch.setattr(db.obj, "_wait_timeout", 1)
    held, release = threading.Event(), threading.Event()

    def hold():
        with db.connection_context():
            held.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(30)
        response = client.get("/healthz")
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
