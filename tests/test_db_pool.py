"""SQLite connections are pooled per process and writers queue on a file lock; hot lookups
reuse their SQL text."""

import fcntl
import os
import threading
import time

import pytest
from playhouse.pool import PooledSqliteDatabase

from core import db as core_db
from models import Setting, db, write_tx

from .helpers import on_postgres

sqlite_only = pytest.mark.skipif(on_postgres(), reason="the pool is SQLite's")


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
