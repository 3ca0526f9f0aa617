"""The append-only audit log, its Merkle tree and its verify command.

Rows are integrated (numbered into the tree) before they are verified; each tampering test
names the row it changes and expects verify to name it. The two rewrite attacks (one row
changed with every later hash recomputed; a row deleted and the rest renumbered) are at the
end.
"""

import pytest
from peewee import IntegrityError

from core.auditlog.log import integrate
from models import AuditCheckpoint, AuditEvent, AuditTreeNode, db
from rules import merkle

from .factories import Factory
from .helpers import on_postgres


def integrate_now(app, each=False):
    """Run the integrator in-line (the worker does it every half second in a deployment);
    with `each`, one checkpoint per entry, so a change is named to the entry."""
    with app.app_context(), db.connection_context():
        while integrate(batch=1 if each else 5000) is not None:
            pass


def _some_events(make, client, n=3):
    user = make.citizen()
    for _ in range(n):
        client.post("/login", data={"account": user.mobile, "password": Factory.PASSWORD})
        client.post("/logout", data={})
    return user


def test_rows_are_numbered_and_verify(app, client, make, runner, conn):
    _some_events(make, client)
    with conn():
        assert not AuditEvent.select().where(AuditEvent.seq.is_null(False)).exists()
    integrate_now(app)
    with conn():
        rows = list(AuditEvent.select().order_by(AuditEvent.seq))
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        assert [r.id for r in rows] == sorted(r.id for r in rows)  # in commit order
        assert AuditCheckpoint.latest().tree_size == len(rows)
        assert all(r.hash is None for r in rows)  # the retired chain's columns stay empty
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} entries" in result.output


def test_the_first_appends_of_a_fresh_database_all_land(app, conn):
    """Regression: the chain head used to be created by the first append, and two first
    appends at once (on PostgreSQL) both inserted it; one failed on its primary key."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from core.auditlog.verify import verify_log
    from models.base import write_tx

    start = threading.Barrier(8)

    def append(i):
        with app.app_context(), db.connection_context():
            start.wait(timeout=10)  # all connected, then all append at once
            with write_tx():
                AuditEvent.append(action="test.first", object_type="test", object_id=i)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(8)))
    integrate_now(app)
    with app.app_context(), conn():
        seqs = sorted(r.seq for r in AuditEvent.select().where(AuditEvent.action == "test.first"))
        assert seqs == list(range(1, 9))
        assert verify_log().intact


def test_rows_carry_actor_role_office_and_address(client, make, conn):
    staff = make.staff("admin")
    make.login(client, staff)
    with conn():
        row = AuditEvent.get(AuditEvent.action == "login.ok")
    assert row.actor == staff.username and row.role == "admin"
    assert row.office == staff.office.code and row.client_addr == "127.0.0.1"


def test_database_refuses_update_and_delete(client, make, conn):
    _some_events(make, client, 1)
    with conn(), pytest.raises(IntegrityError, match="append-only"):
        AuditEvent.update(result="forged").execute()
    with conn(), pytest.raises(IntegrityError, match="append-only"):
        AuditEvent.delete().execute()


def _tamper(sql, *params):
    """What someone with raw database access could do: drop the guard, then change a row."""
    on = " ON audit_event" if on_postgres() else ""
    with db.connection_context():
        db.execute_sql(f"DROP TRIGGER audit_event_no_update{on}")
        db.execute_sql(f"DROP TRIGGER audit_event_no_delete{on}")
        db.execute_sql(sql.replace("?", "%s") if on_postgres() else sql, params)


def test_tampering_with_one_row_is_found_and_named(app, client, make, runner, conn):
    _some_events(make, client)
    integrate_now(app)
    with conn():
        victim = AuditEvent.select().order_by(AuditEvent.seq).offset(2).first()
    _tamper("UPDATE audit_event SET result = 'ok', actor = 'someone' WHERE id = ?", victim.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row id={victim.id} seq={victim.seq}" in result.output
    assert "does not match its leaf in the tree" in result.output


def test_deleting_a_row_is_found(app, client, make, runner, conn):
    _some_events(make, client)
    integrate_now(app)
    with conn():
        victim = AuditEvent.select().order_by(AuditEvent.seq).offset(1).first()
    _tamper("DELETE FROM audit_event WHERE id = ?", victim.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "sequence gap" in result.output


def test_deleting_the_newest_row_is_found(app, client, make, runner, conn):
    _some_events(make, client)
    integrate_now(app)
    _tamper("DELETE FROM audit_event WHERE seq = (SELECT MAX(seq) FROM audit_event)")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "were removed" in result.output


def test_rehashing_a_row_does_not_hide_the_change(app, client, make, runner, conn):
    """Recomputing the changed row's own leaf in the tree leaves the nodes above it and the
    signed checkpoints as they were: the entries no longer make the signed root."""
    _some_events(make, client)
    integrate_now(app, each=True)
    with conn():
        victim = AuditEvent.select().order_by(AuditEvent.seq).offset(1).first()
        victim.actor = "someone-else"
        new_leaf = merkle.leaf_hash(victim.leaf()).hex()
    _tamper("UPDATE audit_event SET actor = ? WHERE id = ?", "someone-else", victim.id)
    _rewrite(
        "UPDATE audit_tree_node SET hash = ? WHERE level = 0 AND idx = ?", new_leaf, victim.seq - 1
    )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"seq {victim.seq}..{victim.seq}" in result.output and "signed root" in result.output


def _rewrite(sql, *params):
    """Raw SQL on the tree's tables (they have no guard of their own: the signatures are)."""
    with db.connection_context():
        db.execute_sql(sql.replace("?", "%s") if on_postgres() else sql, params)


def _rebuild_tree():
    """What an attacker who rewrote the entries does next: the whole tree recomputed from
    them (every leaf and node), so that the kept tree matches the forged entries."""
    with db.connection_context(), db.atomic():
        leaves = [merkle.leaf_hash(e.leaf()) for e in AuditEvent.integrated()]
        AuditTreeNode.delete().execute()
        nodes = merkle.append_nodes(0, leaves, {})
        AuditTreeNode.insert_many(
            [{"level": lv, "idx": ix, "hash": h.hex()} for (lv, ix), h in nodes.items()]
        ).execute()


def test_attack_change_one_row_and_recompute_everything_after_it(app, client, make, runner, conn):
    """Rewrite attack (a): one row changed, every later hash (the whole tree) recomputed.
    The checkpoints are signed with a key the database does not hold, so they stay."""
    _some_events(make, client)
    integrate_now(app, each=True)
    with conn():
        victim = AuditEvent.select().order_by(AuditEvent.seq).offset(2).first()
        count = AuditEvent.select().count()
    _tamper("UPDATE audit_event SET result = 'forged' WHERE id = ?", victim.id)
    _rebuild_tree()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"seq {victim.seq}..{victim.seq}" in result.output
    assert f"({victim.seq - 1} entries verified before it)" in result.output
    # Re-signing the forged roots with a key of one's own does not help either.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from core.auditlog.note import Checkpoint, sign

    forger = Ed25519PrivateKey.generate()
    with app.app_context(), db.connection_context():
        from core.auditlog.log import origin

        for cp in AuditCheckpoint.select():
            nodes = AuditTreeNode.fetch(merkle.frontier_keys(cp.tree_size))
            root = merkle.range_hash(0, cp.tree_size, nodes)
            note = sign(Checkpoint(origin(), cp.tree_size, root).text(), origin(), forger)
            _rewrite(
                "UPDATE audit_checkpoint SET root_hash = ?, note = ? WHERE id = ?",
                root.hex(),
                note,
                cp.id,
            )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "no signature of a known key" in result.output
    assert count > victim.seq


def test_attack_delete_a_row_and_renumber(app, client, make, runner, conn):
    """Rewrite attack (b): a row deleted, the later rows renumbered, the tree rebuilt."""
    _some_events(make, client)
    integrate_now(app, each=True)
    with conn():
        victim = AuditEvent.select().order_by(AuditEvent.seq).offset(1).first()
    _tamper("DELETE FROM audit_event WHERE id = ?", victim.id)
    with db.connection_context():
        db.execute_sql(f"UPDATE audit_event SET seq = -seq WHERE seq > {victim.seq}")
        db.execute_sql("UPDATE audit_event SET seq = -seq - 1 WHERE seq < 0")
    _rebuild_tree()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"seq {victim.seq}..{victim.seq}" in result.output and "signed root" in result.output
