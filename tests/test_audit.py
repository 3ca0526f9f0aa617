"""The hash-chained, append-only audit log and its verify command."""

import pytest
from peewee import IntegrityError

from models import AuditEvent, db

from .factories import Factory
from .helpers import on_postgres


def _some_events(make, client, n=3):
    user = make.citizen()
    for _ in range(n):
        client.post("/login", data={"account": user.mobile, "password": Factory.PASSWORD})
        client.post("/logout", data={})
    return user


def test_rows_chain_and_verify(app, client, make, runner, conn):
    _some_events(make, client)
    with conn():
        rows = list(AuditEvent.select().order_by(AuditEvent.seq))
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        for before, after in zip(rows, rows[1:], strict=False):
            assert after.prev_hash == before.hash
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{len(rows)} rows" in result.output


def test_the_first_appends_of_a_fresh_database_all_land(app, conn):
    """Regression: the chain head used to be created by the first append, and two first
    appends at once (on PostgreSQL) both inserted it; one failed on its primary key."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from models.base import write_tx

    start = threading.Barrier(8)

    def append(i):
        with app.app_context(), db.connection_context():
            start.wait(timeout=10)  # all connected, then all append at once
            with write_tx():
                AuditEvent.append(action="test.first", object_type="test", object_id=i)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(8)))
    with conn():
        seqs = sorted(r.seq for r in AuditEvent.select().where(AuditEvent.action == "test.first"))
        assert seqs == list(range(1, 9))
        assert AuditEvent.verify_chain()[1:] == (None, "")


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


def test_tampering_with_one_row_is_found_and_named(client, make, runner, conn):
    _some_events(make, client)
    with conn():
        victim = AuditEvent.select().order_by(AuditEvent.seq).offset(2).first()
    _tamper("UPDATE audit_event SET result = 'ok', actor = 'someone' WHERE id = ?", victim.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"row id={victim.id} seq={victim.seq}" in result.output
    assert "do not match its hash" in result.output


def test_deleting_a_row_is_found(client, make, runner, conn):
    _some_events(make, client)
    with conn():
        victim = AuditEvent.select().order_by(AuditEvent.seq).offset(1).first()
    _tamper("DELETE FROM audit_event WHERE id = ?", victim.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "sequence gap" in result.output


def test_deleting_the_newest_row_is_found(client, make, runner, conn):
    _some_events(make, client)
    _tamper("DELETE FROM audit_event WHERE seq = (SELECT MAX(seq) FROM audit_event)")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "chain head" in result.output


def test_rehashing_a_row_does_not_hide_the_change(client, make, runner, conn):
    """Recomputing the changed row's own hash breaks the link to the row after it."""
    _some_events(make, client)
    with conn():
        victim = AuditEvent.select().order_by(AuditEvent.seq).offset(1).first()
        victim.actor = "someone-else"
        new_hash = victim.compute_hash(victim.prev_hash)
    _tamper(
        "UPDATE audit_event SET actor = ?, hash = ? WHERE id = ?",
        "someone-else",
        new_hash,
        victim.id,
    )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"seq={victim.seq + 1}" in result.output
