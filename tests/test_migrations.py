"""The migrated schema is exactly what the models describe, on SQLite and on PostgreSQL."""

from playhouse.schema_diff import diff_models

from models import ALL_MODELS, AuditEvent, db, for_update

from .helpers import on_postgres


def test_migrations_match_the_models(app):
    with db.connection_context():
        diff = diff_models(db.obj, ALL_MODELS)
    assert not diff, f"models and migrations differ: {diff}"


def test_audit_triggers_exist(app):
    sql = (
        "SELECT trigger_name FROM information_schema.triggers"
        if on_postgres()
        else "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    )
    with db.connection_context():
        names = {r[0] for r in db.execute_sql(sql)}
    assert {"audit_event_no_update", "audit_event_no_delete"} <= names


def test_database_settings(app):
    with db.connection_context():
        if on_postgres():
            # Row locks are real on PostgreSQL: for_update() must emit them.
            sql, _ = for_update(AuditEvent.select()).sql()
            assert sql.endswith("FOR UPDATE")
            return
        assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] == 10000
        sql, _ = for_update(AuditEvent.select()).sql()
        assert "FOR UPDATE" not in sql  # SQLite's IMMEDIATE write lock serialises instead


def test_unhandled_violations_of_a_vehicle_use_the_two_column_index(app):
    """Without ANALYZE statistics SQLite would otherwise walk every unhandled violation of
    the city to count one vehicle's (migration 0007)."""
    if on_postgres():
        return
    from models import Vehicle

    with db.connection_context():
        sql, params = Vehicle(id=1).unhandled_violations().sql()
        plan = " ".join(row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "traffic_violation_vehicle_id_handled" in plan, plan


def test_the_check_log_view_reads_one_licence_through_its_partial_index(app):
    """The holder's check log is a view over the audit log: reading one licence's
    checks must not walk the whole log."""
    if on_postgres():
        return
    from models import LicenceCheck

    with db.connection_context():
        query = (
            LicenceCheck.select().where(LicenceCheck.elicence == 7).order_by(LicenceCheck.at.desc())
        )
        sql, params = query.limit(50).sql()
        plan = " ".join(row[3] for row in db.execute_sql("EXPLAIN QUERY PLAN " + sql, params))
    assert "audit_event_licence_check" in plan, plan


def test_sold_vehicles_forget_the_sellers_mobile(app, make, conn):
    """0026: a vehicle registered to its buyer before the fix forgets the seller's number (the
    codes proving the buyer's ID number would go to it); other vehicles keep theirs."""
    import importlib.util
    from pathlib import Path

    from blueprints.transfer import office_service
    from models import Vehicle
    from models.transfer import ARCHIVE_RECEIVED

    w = make.transfer_world()
    case = make.transfer_case(w, until=ARCHIVE_RECEIVED)
    kept = make.vehicle(w.origin, make.citizen(), owner_mobile="13700001111")
    with conn():
        office_service.register(case.id, w.clerk)
        # As a registration before the fix left it.
        Vehicle.update(owner_mobile=w.seller.mobile).where(Vehicle.id == w.vehicle.id).execute()
    path = (
        Path(__file__).parent.parent / "migrations" / "0026_sold_vehicles_forget_seller_mobile.py"
    )
    spec = importlib.util.spec_from_file_location("migration_0026", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    with conn():
        migration.up(None, db)
        assert Vehicle.get_by_id(w.vehicle.id).owner_mobile is None
        assert Vehicle.get_by_id(kept.id).owner_mobile == "13700001111"
