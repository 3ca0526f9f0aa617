"""Audit leaves of format 2: a random salt per entry (`audit_event.salt`).

An entry with a salt hashes into the Merkle tree as a format-2 leaf, which keeps the time,
action, object and result readable and seals who did it, from which address and the
detail (key by key) under salted hashes (models.AuditEvent.leaf). A receipt handed to the
person an entry is about then discloses only the fields that person may see. Entries
written before this migration have no salt and keep their format-1 leaf bytes, so the tree
and every signed checkpoint stay as they are; nothing is rewritten here.

The UPDATE guard of migration 0011 is recreated with the new column among those that may
never change once written.
"""

from peewee import *  # noqa: F403

COLUMNS = (
    "at",
    "actor_id",
    "actor",
    "role",
    "office",
    "action",
    "object_type",
    "object_id",
    "result",
    "client_addr",
    "detail",
)


def _guard(db, postgres: bool, columns) -> None:
    """The UPDATE guard: only giving an unnumbered row its number is allowed."""
    same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in ("id", *columns))
    if postgres:
        # Fixed column names of this migration only, no outside value.
        db.execute_sql(
            "CREATE OR REPLACE FUNCTION audit_event_number_once() RETURNS trigger AS $$ "
            f"BEGIN IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {same} "
            "AND NEW.prev_hash IS NULL AND NEW.hash IS NULL THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'restrict_violation'; "
            "END; $$ LANGUAGE plpgsql"
        )
        return
    same = same.replace("IS NOT DISTINCT FROM", "IS")
    db.execute_sql("DROP TRIGGER IF EXISTS audit_event_no_update")
    db.execute_sql(
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        f"WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {same} "
        "AND NEW.prev_hash IS NULL AND NEW.hash IS NULL) "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
    )


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    migrator.migrate(
        migrator.add_column("audit_event", "salt", CharField(max_length=64, null=True))
    )
    _guard(db, postgres, (*COLUMNS, "salt"))


def down(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    _guard(db, postgres, COLUMNS)
    migrator.migrate(migrator.drop_column("audit_event", "salt"))
