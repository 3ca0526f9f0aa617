"""The administrator's page of peers: peering by typed fingerprint against a real deployment,
suspending and removing with confirmation, and the alert for a message a day undelivered."""

import datetime as dt

import pytest

from core.network.outbox import enqueue
from models import (
    OUTBOX_CANCELLED,
    AuditEvent,
    OutboxMessage,
    Peer,
    WitnessedLog,
    db,
    utcnow,
    write_tx,
)

from .deployments import Deployment
from .helpers import field_error, page


@pytest.fixture
def jinan(tmp_path, app):
    """A real deployment to peer with (its own SQLite file, instance folder and server)."""
    deployment = Deployment(tmp_path, "jinan")
    # The Deployment helper bound the models to Jinan's database for a moment: back to ours.
    from core.db import make_database

    db.initialize(make_database(app.config["DATABASE_URL"]))
    yield deployment
    deployment.stop()


def test_only_administrators_reach_the_peers_page(client, make, login):
    assert client.get("/network/peers").status_code == 302
    login(make.staff("vehicle_clerk"))
    assert client.get("/network/peers").status_code == 403


def test_peering_on_the_page_needs_the_typed_fingerprint(client, make, login, jinan, conn):
    login(make.staff("admin"))
    soup = page(client.post("/network/peers/fetch", data={"url": jinan.url + "/"}))
    shown = soup.find(id="peer-fingerprint").get_text(strip=True)
    assert shown == jinan.fingerprint()
    kid = soup.find("input", attrs={"name": "kid"})["value"]
    wrong = {"url": jinan.url, "kid": kid, "fingerprint": shown[:-4] + "0000"}
    soup = page(client.post("/network/peers/confirm", data=wrong), status=422)
    # Said in the page's language, not the command line's English.
    assert "指纹" in field_error(soup, "fingerprint")
    assert "fingerprint" not in field_error(soup, "fingerprint")
    down = page(client.post("/network/peers/fetch", data={"url": "http://127.0.0.1:9"}), 422)
    assert "无法" in field_error(down, "url")
    with conn():
        assert Peer.select().count() == 0
    right = {"url": jinan.url, "kid": kid, "fingerprint": shown.replace(" ", "")}
    response = client.post("/network/peers/confirm", data=right)
    assert response.status_code == 303
    soup = page(client.get("/network/peers"))
    assert jinan.url in soup.find(id="peers").get_text()
    with conn():
        assert Peer.get().base_url == jinan.url


def test_an_unreachable_or_unsigned_address_is_explained(client, make, login):
    """In the administrator's words and language: what to check, not Python's error text."""
    login(make.staff("admin"))
    english = {"Accept-Language": "en"}
    for url, said in (
        ("jinan", "beginning with https://"),  # refused by the form: nothing is fetched
        ("http://127.0.0.1:9/", "nothing answers at that address"),
        ("http://no-such-host.invalid", "no computer has that name"),
    ):
        soup = page(
            client.post("/network/peers/fetch", data={"url": url}, headers=english), status=422
        )
        error = field_error(soup, "url")
        assert said in error and "Errno" not in error and "urlopen" not in error, error


def make_peer(url="https://jg.jinan.example") -> Peer:
    return Peer.create(
        base_url=url, name="jiaoguan jinan", city="济南", fingerprint="x", document='{"keys": []}'
    )


def test_suspend_and_remove_ask_first_and_removal_cancels_waiting_messages(
    client, make, login, conn
):
    with conn(), write_tx():
        peer = make_peer()
        enqueue(peer.base_url, "ping", {"text": "x"})
        # What we cosigned of its log: kept when it is removed (added again, it is held to
        # it), forgotten only on purpose (below).
        WitnessedLog.create(
            peer_url=peer.base_url, origin="o", tree_size=48, root_hash="ab" * 32, note="n"
        )
    login(make.staff("admin"))
    soup = page(client.get(f"/network/peers/{peer.id}/suspend"))
    assert soup.find(id="peer-action-form")
    with conn():
        assert Peer.get_by_id(peer.id).status == "active"  # a GET changes nothing
    assert client.post(f"/network/peers/{peer.id}/suspend", data={}).status_code == 303
    with conn():
        assert Peer.get_by_id(peer.id).status == "suspended"
    page(client.get(f"/network/peers/{peer.id}/remove"))
    assert client.post(f"/network/peers/{peer.id}/remove", data={}).status_code == 303
    with conn():
        assert Peer.select().count() == 0
        assert OutboxMessage.get().status == OUTBOX_CANCELLED
        actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
        assert actions[-2:] == ["network.peer_suspended", "network.peer_removed"]
        assert WitnessedLog.get().tree_size == 48


def test_a_peer_that_restored_a_backup_is_forgotten_with_its_log_only_when_asked(runner, conn):
    """`remove-peer --forget-witnessed`: for a peer whose log went back (it restored a backup
    and said so); what we had cosigned goes into the audit row."""
    with conn(), write_tx():
        peer = make_peer()
        WitnessedLog.create(
            peer_url=peer.base_url, origin="o", tree_size=48, root_hash="ab" * 32, note="n"
        )
    args = ["network", "remove-peer", peer.base_url, "--forget-witnessed", "--yes"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0 and "forgotten" in result.output, result.output
    with conn():
        assert WitnessedLog.select().count() == 0
        removed = AuditEvent.get(AuditEvent.action == "network.peer_removed").detail_dict
        assert removed["witnessed"] == {"size": 48, "root": "ab" * 32}


def test_a_message_undelivered_for_a_day_is_an_alert(client, make, login, conn):
    with conn(), write_tx():
        peer = make_peer()
        fresh = enqueue(peer.base_url, "ping", {"text": "new"})
        stale = enqueue(peer.base_url, "ping", {"text": "old"})
        OutboxMessage.update(created_at=utcnow() - dt.timedelta(hours=25)).where(
            OutboxMessage.id == stale.id
        ).execute()
    login(make.staff("admin"))
    soup = page(client.get("/network/peers", headers={"Accept-Language": "en"}))
    alert = soup.find(id="overdue-alert").get_text(" ", strip=True)
    assert "1 message has waited more than a day" in alert
    assert fresh.recipient in alert
    assert "2" in soup.find(id="peers").get_text()  # two messages waiting for the peer


def test_a_side_without_a_key_prefix_is_an_alert(app, client, make, login, conn):
    with conn(), write_tx():
        make_peer()  # publishes no licence_key_prefix
        Peer.create(
            base_url="https://jg.weifang.example",
            city="潍坊",
            fingerprint="y",
            document='{"keys": [], "licence_key_prefix": "WF"}',
        )
    login(make.staff("admin"))
    alert = page(client.get("/network/peers")).find(id="prefix-alert").get_text(" ", strip=True)
    assert "本系统的识别码没有前缀" in alert and "济南未公布识别码前缀" in alert
    assert "潍坊" not in alert
    app.config["LICENCE_KEY_PREFIX"] = "QD"
    alert = page(client.get("/network/peers")).find(id="prefix-alert").get_text(" ", strip=True)
    assert "本系统" not in alert and "济南" in alert
    app.config["LICENCE_KEY_PREFIX"] = "WF"  # the same as Weifang's
    alert = page(client.get("/network/peers")).find(id="prefix-alert").get_text(" ", strip=True)
    assert "潍坊公布的识别码前缀 WF" in alert


def test_enqueue_belongs_to_the_transaction_of_its_cause(app, conn):
    with conn():
        peer = make_peer()
        with pytest.raises(RuntimeError):
            enqueue(peer.base_url, "ping", {})
        with pytest.raises(ValueError), write_tx():
            enqueue("https://not-a-peer.example", "ping", {})

        class Rollback(Exception):
            pass

        with pytest.raises(Rollback), write_tx():
            enqueue(peer.base_url, "ping", {})
            raise Rollback
        assert OutboxMessage.select().count() == 0  # rolled back with its cause
