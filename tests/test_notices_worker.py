"""Killing the worker mid-delivery loses no notice and sends none twice (as the person sees it).

The SMTP server holds its answer to the first e-mail until the test has killed the worker
(`kill -9`, while the message is on the wire: the server has it, the worker never heard "250"),
so the kill lands mid-delivery by an event rather than by timing.
"""

import datetime as dt
import os
import signal
import subprocess
import sys

import rules.clock as app_clock
from core.network.outbox import LEASE
from core.notices import notify
from core.sms import DevGateway
from models import OUTBOX_DELIVERED, OUTBOX_PENDING, OutboxMessage, User, db, write_tx

from .nodes import ROOT
from .smtp import SmtpServer
from .test_notices import deliver


def worker(app, instance: str, smtp: SmtpServer, *args: str) -> subprocess.Popen:
    """`flask network worker` in a process of its own, on the test's database."""
    env = {
        **os.environ,
        "FLASK_APP": "app:create_app",
        "INSTANCE_PATH": instance,
        "DATABASE_URL": app.config["DATABASE_URL"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"],
        "NETWORK_KEY_FOLDER": os.path.join(instance, "network"),
        **{k: str(v) for k, v in smtp.settings().items()},
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "network", "worker", "--interval", "0.2", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_a_worker_killed_mid_delivery_loses_and_duplicates_none(app, make, tmp_path, monkeypatch):
    instance = str(tmp_path / "instance")
    os.makedirs(instance)
    app.config["SMS_DEV_FILE"] = os.path.join(instance, "dev-sms.jsonl")
    people = [make.citizen() for _ in range(3)]
    with db.connection_context():
        for n, person in enumerate(people):
            User.update(notice_email=True, email=f"p{n}@example.test", notice_sms=n > 0).where(
                User.id == person.id
            ).execute()
    with app.app_context(), db.connection_context(), write_tx():
        for person in people:
            notify(person, "identity.proven", method="counter", resident_id="x")
    with db.connection_context():
        first = OutboxMessage.select().order_by(OutboxMessage.id).first()
        assert first.channel == "email" and OutboxMessage.select().count() == 5

    smtp = SmtpServer()
    try:
        smtp.mailbox.hold.set()
        killed = worker(app, instance, smtp)
        # The server has the first e-mail and has not answered: kill the worker now.
        assert smtp.mailbox.arrived.wait(60), "the worker never delivered"
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        smtp.mailbox.release.set()
        with db.connection_context():
            held = OutboxMessage.get_by_id(first.id)
            # Claimed, sent, never recorded: still pending, and leased to the dead worker.
            assert held.status == OUTBOX_PENDING and held.attempts == 0
            assert held.next_attempt_at > app_clock.utc_now()

        # A new worker delivers the rest at once, but leaves the leased message alone (the
        # worker holding a lease may still be alive and sending it).
        restarted = worker(app, instance, smtp, "--once")
        assert restarted.wait(timeout=60) == 0
        with db.connection_context():
            assert OutboxMessage.get_by_id(first.id).status == OUTBOX_PENDING
            assert OutboxMessage.select().where(OutboxMessage.status == OUTBOX_PENDING).count() == 1

        # Once the lease has lapsed, the claimed-but-unrecorded delivery is sent again.
        app.config.update(smtp.settings())
        later = app_clock.utc_now() + LEASE + dt.timedelta(seconds=1)
        monkeypatch.setattr(app_clock, "utc_now", lambda: later)
        assert deliver(app) == 1
    finally:
        smtp.stop()

    with db.connection_context():
        rows = list(OutboxMessage.select())
    assert {r.status for r in rows} == {OUTBOX_DELIVERED}
    emails = {f"<{r.message_id}@jg.example.test>" for r in rows if r.channel == "email"}
    # Nothing lost: every notice's e-mail arrived ...
    assert {m["Message-ID"] for m in smtp.mailbox.messages} == emails
    # ... and the one interrupted arrived twice on the wire with the same Message-ID, by which
    # the mailbox (as mail stores and clients do) keeps it once: the person reads it once.
    assert len(smtp.mailbox.raw) == len(emails) + 1
    twice = [
        m for m in smtp.mailbox.raw if m["Message-ID"] == f"<{first.message_id}@jg.example.test>"
    ]
    assert len(twice) == 2 and twice[0].get_content() == twice[1].get_content()
    # Each SMS once, with its idempotency key.
    sms = DevGateway(app.config["SMS_DEV_FILE"]).messages(keep=None)
    keys = [m["key"] for m in sms]
    assert sorted(keys) == sorted(r.message_id for r in rows if r.channel == "sms")
