"""SQLite connections are pooled per process: a request hands its connection back."""

from playhouse.pool import PooledSqliteDatabase

from models import Setting, db


def test_requests_reuse_one_pooled_connection(app, client):
    assert isinstance(db.obj, PooledSqliteDatabase)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
        assert db.is_closed()  # handed back at the end of the request
    assert len(db.obj._connections) == 1  # one connection served every request
    assert not db.obj._in_use


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
