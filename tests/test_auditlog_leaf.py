"""Audit leaf formats: format 1 (no salt, entries before migration 0020) keeps its bytes; format
2 seals who and from where under salted hashes, and `flask audit verify` still recomputes
every field from the stored row, so a rewritten address or salt is caught."""

import hashlib
import importlib
import json

import pytest
from peewee import IntegrityError

from app import create_app
from core.auditlog import receipts
from core.auditlog.log import integrate
from core.auditlog.verify import verify_log
from core.db import migration_runner, upgrade
from models import AuditEvent, db, utcnow
from models.audit import seal

from .helpers import fresh_database_url, on_postgres, release_database
from .test_audit import _tamper, integrate_now

frozen = importlib.import_module("migrations.0011_audit_tree")


def _entry(**fields) -> AuditEvent:
    """An appended entry from a known address, read back as stored."""
    event = AuditEvent.append(
        action="licence.check",
        object_type="ELicence",
        object_id="7",
        client_addr="198.51.100.9",
        actor="inspector1",
        detail={"via": "qr", "checker": "inspector"},
        **fields,
    )
    return AuditEvent.get_by_id(event.id)


def test_format_2_seals_who_and_where_and_opens_field_by_field(app):
    with app.app_context(), db.connection_context():
        event = _entry()
        leaf = json.loads(event.leaf())
    assert leaf["v"] == 2 and leaf["action"] == "licence.check" and leaf["object_id"] == "7"
    assert "198.51.100.9" not in event.leaf().decode() and "inspector1" not in event.leaf().decode()
    assert set(leaf["sealed"]) == {
        "actor_id",
        "actor",
        "role",
        "office",
        "client_addr",
        "detail.via",
        "detail.checker",
    }
    # A field's salt opens that field only; the salts differ field by field.
    salt = event.field_salt("client_addr")
    assert leaf["sealed"]["client_addr"] == seal(salt, "client_addr", "198.51.100.9")
    assert event.field_salt("actor") != salt and len(set(leaf["sealed"].values())) == 7


def test_format_1_entries_keep_their_leaf_bytes(app):
    with app.app_context(), db.connection_context():
        event = _entry()
        event.salt = None
        assert hashlib.sha256(b"\x00" + event.leaf()).digest() == frozen._leaf_hash(event)
        assert json.loads(event.leaf())["client_addr"] == "198.51.100.9"
        # A format-1 entry holds every field in clear: only the admin gets its receipt.
        with pytest.raises(receipts.OpenLeaf):
            receipts.build(event, receipts.LICENCE_HOLDER)


def test_verify_catches_a_rewritten_sealed_field_or_salt(app, runner):
    with app.app_context(), db.connection_context():
        first, second = _entry(), _entry()
    integrate_now(app)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context(), db.connection_context(), pytest.raises(IntegrityError):
        AuditEvent.update(salt="00" * 32).where(AuditEvent.id == first.id).execute()
    _tamper("UPDATE audit_event SET client_addr = '192.0.2.1' WHERE id = ?", first.id)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"row id={first.id}" in result.output
    # Put the address back and give the other entry another salt: caught at that entry.
    mark = "%s" if on_postgres() else "?"
    with app.app_context(), db.connection_context():
        db.execute_sql(
            f"UPDATE audit_event SET client_addr = {mark} WHERE id = {mark}",
            ("198.51.100.9", first.id),
        )
        db.execute_sql(
            f"UPDATE audit_event SET salt = {mark} WHERE id = {mark}", ("ab" * 32, second.id)
        )
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"row id={second.id}" in result.output


def test_migration_0020_keeps_older_entries_and_seals_new_ones(tmp_path):
    app = create_app(
        {
            "DATABASE_URL": fresh_database_url(tmp_path),
            "SECRET_KEY": "x",
            "NETWORK_KEY_FOLDER": str(tmp_path / "network"),
            "PUBLIC_BASE_URL": "https://jg.example.test",
        }
    )
    try:
        with app.app_context(), db.connection_context():
            migration_runner().up("0019_transfer_network")
            for n in range(3):  # as release 0019 wrote them: no salt column yet
                AuditEvent(
                    at=utcnow(),
                    actor="",
                    role="anonymous",
                    office="",
                    action="login.failed",
                    object_type="",
                    object_id=str(n),
                    result="ok",
                    client_addr="198.51.100.7",
                    detail="{}",
                ).save(force_insert=True)
        upgrade()
        with app.app_context(), db.connection_context():
            AuditEvent.append(action="login.ok", role="citizen", client_addr="198.51.100.8")
            assert integrate().tree_size == 4
            rows = list(AuditEvent.integrated())
            assert [bool(r.salt) for r in rows] == [False, False, False, True]
            assert all(json.loads(r.leaf()).get("v") is None for r in rows[:3])
            found = verify_log()
            assert found.intact and found.entries == 4, found.problem
    finally:
        release_database()
