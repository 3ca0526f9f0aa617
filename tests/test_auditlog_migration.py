"""Migration 0011: a log written with the retired hash chain goes into the Merkle tree with
its numbers, keeps its chain readable, and goes on with new entries."""

import datetime as dt

from app import create_app
from core.auditlog.log import integrate
from core.auditlog.verify import verify_log
from core.db import migration_runner, upgrade
from models import AuditCheckpoint, AuditEvent, db

from .helpers import fresh_database_url, release_database


def test_rows_of_the_hash_chain_are_backfilled_into_the_tree(tmp_path):
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
            migration_runner().up("0009_network")
            prev = "0" * 64
            for seq in range(1, 6):  # as the hash-chained log wrote them
                row = AuditEvent(
                    seq=seq,
                    at=dt.datetime(2026, 11, 1, 8, 0, seq, 1234),
                    actor_id=None,
                    actor="",
                    role="anonymous",
                    office="",
                    action="login.failed",
                    object_type="",
                    object_id="",
                    result="ok",
                    client_addr="198.51.100.7",
                    detail="{}",
                )
                row.prev_hash, row.hash = prev, row.legacy_hash(prev)
                prev = row.hash
                row.save(force_insert=True)
        upgrade()
        with app.app_context(), db.connection_context():
            assert integrate() is not None  # the first checkpoint of the old rows
            assert AuditCheckpoint.latest().tree_size == 5
            AuditEvent.append(action="login.ok", role="citizen")
            assert integrate().tree_size == 6
            found = verify_log()
            assert found.intact and (found.entries, found.checkpoints) == (6, 2), found.problem
            assert [e.seq for e in AuditEvent.integrated()] == [1, 2, 3, 4, 5, 6]
            assert AuditEvent.get(AuditEvent.seq == 6).hash is None
    finally:
        release_database()
