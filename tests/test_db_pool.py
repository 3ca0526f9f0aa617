"""SQLite connections are pooled per process; hot lookups reuse their SQL text."""

import pytest
from playhouse.pool import PooledSqliteDatabase

from models import Setting, db

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
