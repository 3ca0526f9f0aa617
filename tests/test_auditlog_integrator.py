"""The integrator: one at a time across nodes, in whole batches, nothing lost or repeated.

Runs on the suite's database: one SQLite file, or PostgreSQL when TEST_DATABASE_URL points at
it (the real several-node deployment, where the advisory lock is what serialises).
"""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app
from core.auditlog import log
from core.auditlog.verify import verify_log
from core.db import upgrade
from models import AuditCheckpoint, AuditEvent, db, write_tx

from .helpers import fresh_database_url, release_database
from .nodes import ROOT, Node
from .test_faults import FROM_ONE_ADDRESS, register, registration


@pytest.fixture
def deployment(tmp_path):
    """A migrated database, the app bound to it, and the environment of its commands."""
    url = fresh_database_url(tmp_path)
    settings = {
        "DATABASE_URL": url,
        "SECRET_KEY": "shared-by-all-nodes",
        "PUBLIC_BASE_URL": "https://jg.example.test",
        "NETWORK_KEY_FOLDER": str(tmp_path / "network"),
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
    }
    app = create_app(settings)
    upgrade()
    env = {**os.environ, "FLASK_APP": "app:create_app", **settings}
    yield app, env
    release_database()


def integrator(env, *args):
    """`flask audit integrate ...` as its own process (as the worker runs it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "audit", "integrate", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def numbers():
    """Every entry's sequence number (None: not integrated), in id order."""
    with db.connection_context():
        return [e.seq for e in AuditEvent.select(AuditEvent.seq).order_by(AuditEvent.id)]


def test_kill_9_of_the_integrator_mid_batch_loses_nothing_and_repeats_nothing(deployment):
    app, env = deployment
    # 200 batches: far more work than any pause of this process while it waits for the first.
    total, batch = 10_000, 50
    with app.app_context(), db.connection_context(), write_tx():
        for i in range(total):
            AuditEvent.append(action="test.entry", object_type="test", object_id=i)
    proc = integrator(env, "--batch", str(batch), "--interval", "0.05")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the first batch is in: it is working on the next
            with db.connection_context():
                if AuditCheckpoint.select().exists():
                    break
            time.sleep(0.005)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    seqs = [s for s in numbers() if s is not None]
    # Only whole batches: each is one transaction, and the one in hand rolled back.
    assert 0 < len(seqs) < total and len(seqs) % batch == 0
    assert sorted(seqs) == list(range(1, len(seqs) + 1))

    done = integrator(env, "--once")
    assert done.wait(timeout=120) == 0, done.stdout.read()
    seqs = numbers()
    assert seqs == list(range(1, total + 1))  # none lost, none twice, in commit (id) order
    with app.app_context(), db.connection_context():
        found = verify_log()
    assert found.intact and found.entries == total and found.waiting == 0, found.problem


def test_two_nodes_appending_with_two_integrators_number_every_entry_once(deployment, tmp_path):
    app, env = deployment
    settings = {k: env[k] for k in ("NETWORK_KEY_FOLDER", "PASSWORD_HASH_METHOD")}
    settings.update(FROM_ONE_ADDRESS)
    nodes = [Node(env["DATABASE_URL"], str(tmp_path), **settings) for _ in range(2)]
    integrators = [integrator(env, "--interval", "0.05") for _ in range(2)]
    for proc in integrators:  # both running (and stoppable by SIGTERM) before the writes
        assert b"integrator running" in proc.stdout.readline()
    try:
        with ThreadPoolExecutor(4) as pool:
            statuses = list(
                pool.map(
                    lambda n: register(nodes[n % 2].url, str(tmp_path), registration(7000 + n)),
                    range(40),
                )
            )
        assert statuses.count(303) == 40
    finally:
        for node in nodes:
            node.stop()
        for proc in integrators:
            proc.send_signal(signal.SIGTERM)
        for proc in integrators:
            assert proc.wait(timeout=60) == 0
    done = integrator(env, "--once")
    assert done.wait(timeout=120) == 0
    seqs = numbers()
    assert None not in seqs and sorted(seqs) == list(range(1, len(seqs) + 1))
    with db.connection_context():
        registered = AuditEvent.select().where(AuditEvent.action == "account.register").count()
    assert registered == 40
    with app.app_context(), db.connection_context():
        found = verify_log()
    assert found.intact and found.entries == len(seqs), found.problem


def test_an_entry_written_while_the_leaves_are_hashed_joins_the_same_batch(deployment, monkeypatch):
    """The leaves are hashed before the write transaction: an entry committed in between is
    still numbered in that batch, in id order, and the tree verifies."""
    app, _env = deployment
    hashed = log._leaf_hashes

    def hash_then_write(query, limit=None):
        leaves = hashed(query, limit)
        if limit is not None:  # the read before the transaction: a writer commits meanwhile
            with write_tx():
                AuditEvent.append(action="test.entry", object_type="test", object_id="late")
        return leaves

    with app.app_context(), db.connection_context():
        with write_tx():
            for i in range(3):
                AuditEvent.append(action="test.entry", object_type="test", object_id=i)
        total = AuditEvent.select().count() + 1
        monkeypatch.setattr(log, "_leaf_hashes", hash_then_write)
        assert log.integrate().tree_size == total
        found = verify_log()
    assert numbers() == list(range(1, total + 1))
    assert found.intact and found.entries == total and found.waiting == 0, found.problem


def test_entries_another_integrator_took_meanwhile_are_not_numbered_again(deployment, monkeypatch):
    """Another integrator may number the entries between this one's hashing and its write
    transaction: this one then finds nothing waiting, and numbers nothing twice."""
    app, _env = deployment
    hashed = log._leaf_hashes
    other = []

    def hash_then_other_integrator(query, limit=None):
        leaves = hashed(query, limit)
        if limit is not None and not other:
            other.append(None)  # once: the other integrator hashes its own leaves unhindered
            other[0] = log.integrate()  # the other integrator, between read and write
        return leaves

    with app.app_context(), db.connection_context():
        with write_tx():
            for i in range(3):
                AuditEvent.append(action="test.entry", object_type="test", object_id=i)
        total = AuditEvent.select().count()
        monkeypatch.setattr(log, "_leaf_hashes", hash_then_other_integrator)
        assert log.integrate() is None
        assert other[0].tree_size == total
        found = verify_log()
    assert numbers() == list(range(1, total + 1))
    assert found.intact and found.entries == total, found.problem


class FakeClock:
    """time.monotonic and time.sleep for run_integrator: sleeping moves the clock and is
    recorded, so a test sees every pause the integrator took."""

    def __init__(self):
        self.now, self.sleeps = 1000.0, []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def append_entries(n: int, name: str = "test.entry") -> None:
    with write_tx():
        for i in range(n):
            AuditEvent.append(action=name, object_type="test", object_id=i)


def test_a_steady_stream_is_integrated_once_per_interval(deployment, monkeypatch):
    """Entries that keep arriving while a batch runs wait for the next beat: one batch and one
    checkpoint per interval, not a string of tiny batches each taking the write lock."""
    app, _env = deployment
    clock = FakeClock()
    integrate, calls = log.integrate, []

    def integrate_while_writers_write(batch):
        calls.append(batch)
        checkpoint = integrate(batch)
        append_entries(2)  # committed while this batch ran: they wait for the next one
        clock.now += 0.1  # the batch took a tenth of a second
        return checkpoint

    monkeypatch.setattr(log, "time", clock)
    monkeypatch.setattr(log, "integrate", integrate_while_writers_write)
    with app.app_context(), db.connection_context():
        append_entries(3)
        before = AuditCheckpoint.select().count()
        # Stopped after four pauses, or after ten batches if it never paused.
        stop = lambda: len(clock.sleeps) >= 4 or len(calls) >= 10  # noqa: E731
        log.run_integrator(interval=0.5, stop=stop)
        made = AuditCheckpoint.select().count() - before
        waiting = AuditEvent.select().where(AuditEvent.seq.is_null()).count()
    # Five beats (the fifth sees stop()), each one checkpoint: the first of the 3 entries
    # (and whatever migrations logged), each later one of the 2 written during the last.
    assert made == 5
    assert clock.sleeps == [pytest.approx(0.4)] * 4
    assert waiting == 2  # written during the last batch, for the next beat


def test_a_backlog_is_integrated_batch_after_batch_without_pausing(deployment, monkeypatch):
    """A full batch means more may wait (a restart after an outage): the next one starts at
    once, and the pause comes after the first batch that is not full."""
    app, _env = deployment
    clock = FakeClock()
    monkeypatch.setattr(log, "time", clock)
    with app.app_context(), db.connection_context():
        log.run_integrator(once=True)  # what the migrations logged
        size = log.tree_size()
        append_entries(25)
        log.run_integrator(interval=0.5, batch=10, stop=lambda: len(clock.sleeps) >= 1)
        sizes = [c.tree_size for c in AuditCheckpoint.select().order_by(AuditCheckpoint.id)]
    assert sizes[-3:] == [size + 10, size + 20, size + 25]
    assert clock.sleeps == [0.5]


def test_a_rotated_key_signs_the_quiet_logs_newest_checkpoint_again(deployment):
    """After a key rotation the newest checkpoint of a log with no new entry gets the new
    key's signature too: a witness that trusts only the key valid now (the old one expired)
    cosigns it, and the old signature still verifies the old way."""
    from core.auditlog.note import open_note, raw_public, verifier_key
    from core.auditlog.witness import witness_checkpoint
    from core.network import keys
    from core.network.inbox import Refused
    from models import Peer

    app, _env = deployment
    with app.app_context(), db.connection_context():
        append_entries(3)
        first = log.integrate()
        assert log.integrate() is None  # nothing new, and signed by the key of now
        old_key, new_key = keys.signing_key(), keys.rotate()
        # Made in the same second as the first: the one made later signs all the same.
        assert keys.signing_key().kid == new_key.kid != old_key.kid
        name = log.origin()

        def vkey(signing_key):
            return verifier_key(name, raw_public(signing_key.key.private_key))

        with write_tx():
            witness = Peer.create(
                base_url=app.config["PUBLIC_BASE_URL"],
                city="某市",
                fingerprint="x",
                document=f'{{"keys": [{json.dumps(new_key.public_jwk())}]}}',
            )
        ask = {"checkpoint": first.note, "old": 0, "proof": []}
        with pytest.raises(Refused) as refused, write_tx():
            witness_checkpoint(ask, witness)
        assert refused.value.reason == "bad_checkpoint_signature"

        again = log.integrate()
        assert (again.id, again.tree_size, again.root_hash) == (
            first.id,
            first.tree_size,
            first.root_hash,
        )
        assert again.note.startswith(first.note) and again.note != first.note
        stored = AuditCheckpoint.get_by_id(first.id).note
        assert stored == again.note
        assert open_note(stored, [vkey(new_key)]) == open_note(stored, [vkey(old_key)])
        assert log.integrate() is None  # once
        with write_tx():
            answer = witness_checkpoint({**ask, "checkpoint": stored}, witness)
        assert answer["size"] == first.tree_size
        found = verify_log()
    assert found.intact and found.checkpoints == 1, found.problem
