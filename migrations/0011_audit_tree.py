"""The audit log becomes a Merkle tree with signed checkpoints; the chain retires.

Entries are now inserted without a number and without locking the chain head; the integrator
(core.auditlog) numbers them and keeps the RFC 9162 tree's complete subtrees in
audit_tree_node and its signed checkpoints in audit_checkpoint. This migration:

- lets audit_event.seq, prev_hash and hash be NULL (an entry is numbered by the integrator;
  rows written before keep their chain hashes, readable, and `flask audit verify` still
  checks that chain; new rows have none);
- replaces the UPDATE guard: an UPDATE may only give an unnumbered row its number, nothing
  else (DELETE stays refused);
- puts every existing row into the tree (their numbers stay); the integrator signs the first
  checkpoint of them on its first run, with the deployment's key (which lives outside the
  database, so it is not read here);
- drops audit_chain_head, the one row every audited write used to lock;
- replaces the licence_check table by a view of the same name over the `licence.check`
  entries of e-licences: every check wrote both rows with the same facts (the audit detail
  carries how and by what kind of checker), so the table's rows are dropped, not copied, and
  from now on a check writes one row. PostgreSQL gets an index on the view's licence number.
"""

import hashlib
import json

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


def _leaf_hash(row) -> bytes:
    """The leaf hash of one entry, frozen here as models.AuditEvent.leaf() defines it."""
    values = {}
    for name in COLUMNS:
        value = getattr(row, name)
        values[name] = value.isoformat(timespec="microseconds") if name == "at" else value
    text = json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(b"\x00" + text.encode()).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _triggers(db, postgres: bool) -> None:
    """DELETE refused; UPDATE refused unless it only numbers an unnumbered row."""
    same = " AND ".join(f"NEW.{c} IS NOT DISTINCT FROM OLD.{c}" for c in ("id", *COLUMNS))
    if postgres:
        db.execute_sql(
            "CREATE OR REPLACE FUNCTION audit_event_number_once() RETURNS trigger AS $$ "
            f"BEGIN IF OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {same} "
            "AND NEW.prev_hash IS NULL AND NEW.hash IS NULL THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'restrict_violation'; "
            "END; $$ LANGUAGE plpgsql"
        )
        db.execute_sql(
            "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_number_once()"
        )
        db.execute_sql(
            "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
        )
        return
    same = same.replace("IS NOT DISTINCT FROM", "IS")
    db.execute_sql(
        "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
        f"WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND {same} "
        "AND NEW.prev_hash IS NULL AND NEW.hash IS NULL) "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
    )
    db.execute_sql(
        "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
        "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
    )


def up(migrator, db):
    postgres = isinstance(db, PostgresqlDatabase)
    on = " ON audit_event" if postgres else ""
    for op in ("update", "delete"):
        db.execute_sql(f"DROP TRIGGER IF EXISTS audit_event_no_{op}{on}")
    migrator.migrate(
        migrator.drop_not_null("audit_event", "seq"),
        migrator.drop_not_null("audit_event", "prev_hash"),
        migrator.drop_not_null("audit_event", "hash"),
    )

    class AuditEvent(Model):
        seq = BigIntegerField(unique=True, null=True)
        at = DateTimeField()
        actor_id = IntegerField(null=True)
        actor = CharField(max_length=60)
        role = CharField(max_length=60)
        office = CharField(max_length=16)
        action = CharField(max_length=60)
        object_type = CharField(max_length=30)
        object_id = CharField(max_length=64)
        result = CharField(max_length=30)
        client_addr = CharField(max_length=64)
        detail = TextField()

        class Meta:
            database = db
            table_name = "audit_event"

    class AuditTreeNode(Model):
        level = SmallIntegerField()
        idx = BigIntegerField()
        hash = CharField(max_length=64)

        class Meta:
            database = db
            table_name = "audit_tree_node"
            primary_key = CompositeKey("level", "idx")

    class AuditCheckpoint(Model):
        tree_size = BigIntegerField(unique=True)
        root_hash = CharField(max_length=64)
        at = DateTimeField()
        note = TextField()

        class Meta:
            database = db
            table_name = "audit_checkpoint"

    db.create_tables([AuditTreeNode, AuditCheckpoint])

    # Every existing row into the tree, in its chain order, one level at a time.
    level, hashes, last = 0, [], 0
    while True:
        rows = list(
            AuditEvent.select().where(AuditEvent.seq > last).order_by(AuditEvent.seq).limit(5000)
        )
        if not rows:
            break
        for row in rows:
            if row.seq != len(hashes) + 1:
                raise RuntimeError(
                    f"audit_event is not numbered 1..n (found {row.seq} after {len(hashes)}): "
                    "run the old `flask audit verify` and restore a good backup first"
                )
            hashes.append(_leaf_hash(row))
        last = rows[-1].seq
    while hashes:
        for start in range(0, len(hashes), 1000):
            AuditTreeNode.insert_many(
                [
                    {"level": level, "idx": start + i, "hash": h.hex()}
                    for i, h in enumerate(hashes[start : start + 1000])
                ]
            ).execute()
        hashes = [_node(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
        level += 1
    _triggers(db, postgres)
    migrator.migrate(migrator.drop_table("audit_chain_head"))
    migrator.migrate(migrator.drop_table("licence_check"))
    _check_log_view(db, postgres)


CHECKS = "action = 'licence.check' AND object_type = 'ELicence'"


def _check_log_view(db, postgres: bool) -> None:
    """The holder's check log as a view of the audit entries of their licence."""
    if postgres:
        # object_id is text; a safe cast (no error on other rows), indexed as written.
        elicence = "(CASE WHEN object_id ~ '^[0-9]{1,18}$' THEN object_id::bigint END)"
        field = "COALESCE(detail::json ->> '{0}', '')"
        db.execute_sql(
            f"CREATE INDEX audit_event_licence_check ON audit_event ({elicence}, at) WHERE {CHECKS}"
        )
    else:
        # SQLite compares the text column with a number as text, so the partial index on
        # (object_id, at) serves the view.
        elicence = "object_id"
        field = "COALESCE(json_extract(detail, '$.{0}'), '')"
        db.execute_sql(
            f"CREATE INDEX audit_event_licence_check ON audit_event (object_id, at) WHERE {CHECKS}"
        )
    # Fixed text of this migration, no outside value.
    db.execute_sql(
        "CREATE VIEW licence_check AS SELECT id, "  # noqa: S608
        f"{elicence} AS elicence_id, at, {field.format('via')} AS via, "
        f"{field.format('checker')} AS checker_kind, actor_id AS checker_id, "
        f"{field.format('firm')} AS checker_label, result AS verdict, client_addr, "
        f"{field.format('city')} AS checker_city, {field.format('office')} AS checker_office "
        f"FROM audit_event WHERE {CHECKS}"
    )


def down(migrator, db):
    raise RuntimeError(
        "migration 0011 cannot be undone: the retired hash chain cannot be rebuilt over "
        "entries written without it; restore a backup taken before the upgrade"
    )
