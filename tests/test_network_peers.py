"""Two real deployments (Qingdao and Jinan, each its own database, instance folder, keys and
server) peer by typed fingerprint, ping each other through the outbox, and survive a peer that
is down. Jinan runs on PostgreSQL when TEST_DATABASE_URL points at it."""

import datetime as dt
import os
import stat
import time

import pytest

from core.network.envelope import verify_document
from models import (
    OUTBOX_DELIVERED,
    OUTBOX_PENDING,
    AuditEvent,
    InboxMessage,
    OutboxMessage,
    Peer,
)

from .deployments import Deployment, get_json, peer
from .helpers import fresh_database_url, on_postgres


@pytest.fixture
def cities(tmp_path):
    """Qingdao on SQLite, Jinan on the suite's database; not yet peered."""
    qingdao = Deployment(tmp_path, "qingdao")
    jinan = Deployment(tmp_path, "jinan", fresh_database_url(tmp_path) if on_postgres() else None)
    yield qingdao, jinan
    qingdao.stop()
    jinan.stop()


def test_the_published_document_is_signed_and_names_the_offices(cities):
    qingdao, _ = cities
    status, headers, serialized = get_json(qingdao.url + "/.well-known/jiaoguan.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    document, kid = verify_document(serialized)
    assert document["base_url"] == qingdao.url
    assert document["inbox"] == qingdao.url + "/network/inbox"
    assert document["name"] == "jiaoguan qingdao" and document["city"] == "青岛"
    assert [(o["code"], o["kind"], o["plate_prefix"]) for o in document["offices"]] == [
        ("370200", "vehicle_office", "鲁B")
    ]
    assert [k["kid"] for k in document["keys"]] == [kid]
    # The private key is a file only its owner can read, in a folder only its owner can enter.
    folder = os.path.join(qingdao.instance, "network")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(folder, "keys.json")).st_mode) == 0o600
    assert '"d"' not in str(serialized) and "'d'" not in str(document)


def test_a_wrong_fingerprint_adds_nothing_and_the_right_one_adds_the_peer(cities):
    qingdao, jinan = cities
    right = jinan.fingerprint()
    wrong = qingdao.fingerprint()  # a real fingerprint, of another deployment
    refused = qingdao.flask("network", "add-peer", jinan.url, input=wrong + "\n", check=False)
    assert refused.returncode != 0 and "not added" in refused.stderr
    assert right in refused.stdout  # the fingerprint was shown to compare
    with qingdao.database():
        assert Peer.select().count() == 0
    qingdao.flask("network", "add-peer", jinan.url, input=right.lower() + "\n")
    with qingdao.database():
        added = Peer.get()
        assert (added.base_url, added.city, added.status) == (jinan.url, "济南", "active")
        assert added.doc["offices"][0]["plate_prefix"] == "鲁A"
        assert AuditEvent.select().where(AuditEvent.action == "network.peer_added").count() == 1


def test_a_deployment_cannot_peer_with_itself(cities):
    """Its own address (whose fingerprint its administrator sees on the same page) is refused:
    a deployment that witnessed its own log would vouch for nothing."""
    qingdao, _ = cities
    refused = qingdao.flask(
        "network", "add-peer", qingdao.url, input=qingdao.fingerprint() + "\n", check=False
    )
    assert refused.returncode != 0 and "this deployment itself" in refused.stderr
    with qingdao.database():
        assert Peer.select().count() == 0


def test_a_ping_is_delivered_and_acknowledged_with_an_audit_row_on_each_side(cities):
    qingdao, jinan = cities
    peer(qingdao, jinan)
    peer(jinan, qingdao)
    message_id = qingdao.flask("network", "ping", jinan.url, "--text", "你好").stdout.strip()
    qingdao.flask("network", "worker", "--once")
    with qingdao.database():
        sent = OutboxMessage.get(OutboxMessage.message_id == message_id)
        assert sent.status == OUTBOX_DELIVERED and sent.attempts == 1
        assert Peer.get().last_contact_at is not None
        row = AuditEvent.get(AuditEvent.action == "network.sent")
        assert (row.object_id, row.actor, row.role) == (message_id, jinan.url, "peer")
    with jinan.database():
        received = InboxMessage.get()
        assert (received.message_id, received.sender, received.outcome) == (
            message_id,
            qingdao.url,
            "ack",
        )
        assert received.answer == sent.answer  # the acknowledgement Qingdao verified and kept
        assert AuditEvent.get(AuditEvent.action == "network.received").object_id == message_id
    jinan.flask("audit", "integrate", "--once")
    assert "audit log intact" in jinan.flask("audit", "verify").stdout


def test_the_outbox_waits_while_the_peer_is_down_and_delivers_when_it_is_back(cities):
    qingdao, jinan = cities
    peer(qingdao, jinan)
    peer(jinan, qingdao)
    jinan.stop()
    message_id = qingdao.flask("network", "ping", jinan.url).stdout.strip()
    qingdao.flask("network", "worker", "--once")
    with qingdao.database():
        waiting = OutboxMessage.get(OutboxMessage.message_id == message_id)
        assert waiting.status == OUTBOX_PENDING and waiting.attempts == 1
        assert waiting.last_error and waiting.next_attempt_at > waiting.last_attempt_at
        # Not due yet: another round does not try again before the backoff has passed. The
        # backoff is lengthened to an hour so that no slow start of the next round reaches it.
        waiting.next_attempt_at = waiting.last_attempt_at + dt.timedelta(hours=1)
        waiting.save()
    qingdao.flask("network", "worker", "--once")
    with qingdao.database():
        assert OutboxMessage.get(OutboxMessage.message_id == message_id).attempts == 1
    jinan.start()
    qingdao.flask("network", "retry", "--peer", jinan.url)
    qingdao.flask("network", "worker", "--once")
    with qingdao.database():
        done = OutboxMessage.get(OutboxMessage.message_id == message_id)
        assert done.status == OUTBOX_DELIVERED and done.attempts == 2
    with jinan.database():
        assert InboxMessage.select().where(InboxMessage.message_id == message_id).count() == 1


def test_a_rotated_key_is_taken_up_by_the_peer_from_the_document_the_old_key_signed(cities):
    qingdao, jinan = cities
    peer(qingdao, jinan)
    peer(jinan, qingdao)
    old = qingdao.keys()[0].kid
    qingdao.flask("network", "rotate-key")
    new = qingdao.keys()[-1].kid
    assert new != old
    message_id = qingdao.flask("network", "ping", jinan.url).stdout.strip()
    qingdao.flask("network", "worker", "--once")
    with qingdao.database():
        assert OutboxMessage.get(OutboxMessage.message_id == message_id).status == OUTBOX_DELIVERED
    with jinan.database():
        kids = {k["kid"] for k in Peer.get().doc["keys"]}
        assert kids == {old, new}
    _, _, serialized = get_json(qingdao.url + "/.well-known/jiaoguan.json")
    assert len(serialized["signatures"]) == 2


def test_a_key_retired_at_rotation_ends_within_a_day_at_the_peer(cities):
    """`rotate-key --retire-old` (a key that may have leaked): the old key ends within a day,
    not at its own end (years away), and the peer, fetching the document again for the new
    key (signed by both), takes the new end."""
    from core.network.keys import RETIRE_AFTER

    qingdao, jinan = cities
    peer(qingdao, jinan)
    peer(jinan, qingdao)
    old = qingdao.keys()[0]
    assert old.exp > time.time() + 30 * RETIRE_AFTER
    qingdao.flask("network", "rotate-key", "--retire-old")
    new = qingdao.keys()[-1].kid
    assert qingdao.keys()[0].exp <= time.time() + RETIRE_AFTER
    message_id = qingdao.flask("network", "ping", jinan.url).stdout.strip()
    qingdao.flask("network", "worker", "--once")
    with qingdao.database():
        assert OutboxMessage.get(OutboxMessage.message_id == message_id).status == OUTBOX_DELIVERED
    with jinan.database():
        ends = {k["kid"]: k["exp"] for k in Peer.get().doc["keys"]}
    assert set(ends) == {old.kid, new}
    assert ends[old.kid] <= time.time() + RETIRE_AFTER < ends[new]


def test_a_peer_document_is_fetched_again_at_most_once_a_minute(monkeypatch):
    """Anyone can send an envelope claiming a peer's address with a key id nobody knows: each
    would make us fetch that peer's document, inside the request. One process asks once a
    minute at most."""
    from core.network import peers

    asked = []

    def fetch_json(url):
        asked.append(url)
        raise peers.http.Unreachable("down")

    monkeypatch.setattr(peers.http, "fetch_json", fetch_json)
    peer = Peer(base_url="https://jg.refresh-test.example", document='{"keys": []}')
    assert not peers.refresh_document(peer) and not peers.refresh_document(peer)
    assert len(asked) == 1
    monkeypatch.setitem(peers._refreshed_at, peer.base_url, time.monotonic() - 61)
    assert not peers.refresh_document(peer)
    assert len(asked) == 2
