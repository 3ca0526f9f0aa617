"""The migrated schema is exactly what the models describe."""

from playhouse.schema_diff import diff_models

from models import ALL_MODELS, db


def test_migrations_match_the_models(app):
    with db.connection_context():
        diff = diff_models(db.obj, ALL_MODELS)
    assert not diff, f"models and migrations differ: {diff}"


def test_audit_triggers_exist(app):
    with db.connection_context():
        names = {
            r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type='trigger'")
        }
    assert {"audit_event_no_update", "audit_event_no_delete"} <= names


def test_sqlite_pragmas(app):
    with db.connection_context():
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 10000
