"""Backups made while the application serves are consistent, and restoring one gives back
exactly what was backed up."""

import os
import sqlite3
import threading

import pytest

from models import AuditEvent, User, db

from .helpers import wait_for
from .nodes import Node
from .test_faults import FROM_ONE_ADDRESS, audit_rows_cover_every_user, register, registration


def snapshot() -> tuple:
    """Every user and every audit row, as plain values."""
    with db.connection_context():
        users = [tuple(u.__data__.values()) for u in User.select().order_by(User.id)]
        events = [(e.id, e.seq, e.leaf()) for e in AuditEvent.select().order_by(AuditEvent.id)]
    return users, events


def writing(thread: threading.Thread) -> bool:
    """The writer goes on (a request that failed ends it, and the test with it)."""
    assert thread.is_alive(), "the writer stopped"
    return True


def test_backup_while_serving_then_restore_gives_back_that_moment(app, runner, tmp_path):
    url = app.config["DATABASE_URL"]
    node = Node(url, str(tmp_path), workers=2, **FROM_ONE_ADDRESS)
    stop, written = threading.Event(), []

    def writer():
        n = 0
        while not stop.is_set():
            if register(node.url, str(tmp_path), registration(5000 + n)) == 303:
                written.append(n)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(lambda: writing(thread) and len(written) >= 5, what="5 registrations")
        path = tmp_path / "backup.db"
        result = runner.invoke(args=["db", "backup", str(path)])
        assert result.exit_code == 0, result.output
        # The app goes on serving and writing.
        wait_for(lambda: writing(thread) and len(written) >= 10, what="10 registrations")
    finally:
        stop.set()
        thread.join(timeout=30)
        node.stop()
    after = snapshot()
    result = runner.invoke(args=["db", "restore", str(path), "--yes"])
    assert result.exit_code == 0, result.output
    restored = snapshot()
    # The backup was taken in the middle: it holds fewer users than at the end, and is whole.
    assert 5 <= len(restored[0]) < len(after[0])
    assert restored[0] == after[0][: len(restored[0])]
    assert restored[1] == after[1][: len(restored[1])]
    with db.connection_context():
        assert audit_rows_cover_every_user()
    # The restored entries integrate into a tree that verifies.
    assert runner.invoke(args=["audit", "integrate", "--once"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and f"{len(restored[1])} entries" in result.output


def test_restore_asks_for_confirmation(app, runner, tmp_path):
    path = tmp_path / "b.db"
    runner.invoke(args=["db", "backup", str(path)])
    result = runner.invoke(args=["db", "restore", str(path)], input="n\n")
    assert result.exit_code != 0 and "Replace every row" in result.output


def test_a_backup_is_its_owners_alone_and_says_what_it_holds(app, runner, tmp_path):
    path = tmp_path / "b.db"
    result = runner.invoke(args=["db", "backup", str(path)])
    assert result.exit_code == 0, result.output
    from core.backup import known_migrations

    assert f"schema at {known_migrations()[-1]}" in result.output
    if app.config["DATABASE_URL"].startswith("sqlite"):
        assert path.stat().st_mode & 0o777 == 0o600
    missing = runner.invoke(args=["db", "backup", str(tmp_path / "no" / "b.db")])
    assert missing.exit_code == 2 and "no folder" in missing.output


def test_a_restore_refuses_what_is_no_backup_of_this_application(app, runner, tmp_path):
    """A mistyped path to a database with no schema (an INSTANCE_PATH that made a new empty
    file), or a file that is no database: the live database is left as it is."""
    if not app.config["DATABASE_URL"].startswith("sqlite"):
        pytest.skip("on PostgreSQL pg_restore refuses what is not a pg_dump archive itself")
    before = snapshot()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    text = tmp_path / "notes.db"
    text.write_text("not a database\n" * 100)
    newer = tmp_path / "newer.db"
    assert runner.invoke(args=["db", "backup", str(newer)]).exit_code == 0
    with sqlite3.connect(newer) as made_later:
        made_later.execute(
            "INSERT INTO schema_migration (name, applied) VALUES ('9999_future', '2030-01-01')"
        )
    for path, said in (
        (empty, "holds no schema"),
        (text, "not an SQLite database"),
        (newer, "made by a newer version (migrations 9999_future"),
    ):
        result = runner.invoke(args=["db", "restore", str(path), "--yes"])
        assert result.exit_code == 1 and said in result.output, result.output
    assert snapshot() == before


def test_a_backup_that_fails_leaves_nothing_behind(runner, tmp_path, monkeypatch):
    def broken(_url, tmp):
        with open(tmp, "wb") as fh:
            fh.write(b"half")
        raise OSError("disk full")

    monkeypatch.setattr("core.backup._write_backup", broken)
    folder = tmp_path / "backups"
    folder.mkdir()
    result = runner.invoke(args=["db", "backup", str(folder / "b.db")])
    assert result.exit_code != 0 and list(folder.iterdir()) == []


def test_a_database_with_no_schema_gives_no_backup(runner, tmp_path, monkeypatch):
    """As `flask db backup` run with the wrong INSTANCE_PATH would find one."""
    monkeypatch.setattr("core.backup.migrations_in", lambda _connection: [])
    path = tmp_path / "b.db"
    result = runner.invoke(args=["db", "backup", str(path)])
    assert result.exit_code == 1 and "no schema" in result.output
    assert not path.exists()


def test_lost_network_keys_are_said_not_silently_replaced(app, runner, make):
    """A restore without the key folder: the deployment signed checkpoints with keys that are
    gone. No new identity is made behind the administrator's back (the peers would not know
    it, and the log's checkpoints would stop verifying); the commands say what to do, and a
    new key is made only when asked for (`rotate-key`)."""
    with app.test_request_context():
        from core.audit import audit

        with db.connection_context():
            audit("demo.load", None)
    assert runner.invoke(args=["audit", "integrate", "--once"]).exit_code == 0
    key_file = os.path.join(app.config["NETWORK_KEY_FOLDER"], "keys.json")
    os.remove(key_file)
    for args in (["network", "show-key"], ["audit", "verify"], ["audit", "integrate", "--once"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 1, (args, result.output)
        assert "signing keys" in result.output and "Restoring a backup" in result.output
    assert not os.path.exists(key_file)
    assert runner.invoke(args=["network", "rotate-key"]).exit_code == 0
    assert runner.invoke(args=["network", "show-key"]).exit_code == 0
