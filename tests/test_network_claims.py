"""What a peer's document claims as its own (core.network.claims): a key prefix, offices and
plate prefixes that overlap ours or another peer's, or an inbox away from its address, are
refused when the peer is added and when its document is fetched again; peers that overlapped
before the rule are sent nothing that both could claim."""

import json
import time

import pytest

from blueprints.licence import relay
from blueprints.transfer import links
from core.network import keys, peers
from core.network.claims import clashes, inbox_at_home, overlap
from core.network.envelope import sign_document
from models import AuditEvent, Peer, write_tx

from .helpers import page


def doc(url="https://jg.weifang.example", prefix="WF", offices=(("370700", "鲁G"),), **more):
    return {
        "jiaoguan": 1,
        "base_url": url,
        "inbox": url + "/network/inbox",
        "licence_key_prefix": prefix,
        "offices": [{"code": code, "plate_prefix": plate} for code, plate in offices],
        "keys": [],
        **more,
    }


def jinan_peer() -> Peer:
    """Jinan, peered: key prefix JN, office 370100 issuing 鲁A plates."""
    url = "https://jg.jinan.example"
    return Peer.create(
        base_url=url,
        city="济南",
        fingerprint="x",
        document=json.dumps(doc(url, "JN", (("370100", "鲁A"),))),
    )


def test_prefixes_overlap_when_one_begins_the_other():
    assert overlap("Q", "QD") and overlap("QD", "Q") and overlap("QD", "QD")
    assert not overlap("QD", "QE") and not overlap("", "QD") and not overlap("QD", "")


def test_every_shared_claim_is_named():
    jinan = doc("https://jg.jinan.example", "JN", (("370100", "鲁A"),))
    assert clashes(doc(), {"jinan": jinan}) == []
    greedy = doc(prefix="J", offices=(("370100", "鲁G"), ("370701", "鲁A")))
    found = clashes(greedy, {"jinan": jinan})
    assert found == [
        "licence key prefix 'J' overlaps jinan's",
        "plate prefix '鲁A' overlaps jinan's",
        "office 370100 is jinan's",
    ]


@pytest.mark.parametrize(
    "inbox, home",
    [
        ("https://jg.weifang.example/network/inbox", True),
        ("https://JG.weifang.example/network/inbox", True),
        ("http://jg.weifang.example/network/inbox", False),
        ("https://127.0.0.1:5432/network/inbox", False),
        ("https://jg.weifang.example/admin", False),
        ("https://jg.weifang.example/network/inbox?x=1", False),
    ],
)
def test_the_inbox_is_at_the_deployments_own_address(inbox, home):
    assert inbox_at_home({**doc(), "inbox": inbox}) is home
    assert bool(clashes({**doc(), "inbox": inbox}, {})) is not home


def test_a_candidate_overlapping_us_or_a_peer_is_refused(app, conn):
    app.config["LICENCE_KEY_PREFIX"] = "QD"
    with app.test_request_context(), conn():
        with write_tx():
            jinan_peer()
        assert peers.clashes_beside(doc(), "https://jg.weifang.example") == []
        with pytest.raises(peers.PeerError, match="'Q' overlaps this deployment's"):
            peers.refuse_clashes(doc(prefix="Q"), "https://jg.weifang.example")
        with pytest.raises(peers.PeerError, match="'鲁A' overlaps https://jg.jinan.example's"):
            peers.refuse_clashes(doc(offices=(("370799", "鲁A"),)), "https://jg.weifang.example")
        # Its own document, fetched again, is not compared with itself.
        jinan = Peer.get()
        assert peers.clashes_beside(jinan.doc, jinan.base_url) == []


def test_a_refreshed_documents_keys_are_taken_and_its_new_claims_wait(
    app, client, make, login, conn, monkeypatch, tmp_path
):
    """A trusted peer's newer document, signed by its confirmed key: its keys and names are
    taken at once (a rotation must never be held up), its claims only once an administrator
    confirms them, as at peering; a claim that overlaps another peer's is refused even then."""
    app.config["NETWORK_KEY_FOLDER"] = str(tmp_path / "weifang-keys")
    with app.app_context():
        key = keys.signing_key()  # Weifang's key, made in a folder of its own
    url = "https://jg.weifang.example"
    served = {}
    monkeypatch.setattr(peers.http, "fetch_json", lambda asked: served[asked])
    app.config["NETWORK_KEY_FOLDER"] = str(tmp_path / "our-keys")

    def publish(**change):
        peers._refreshed_at.clear()
        served[url + "/.well-known/jiaoguan.json"] = sign_document(
            doc(keys=[key.public_jwk()], iat=int(time.time()), **change), [key]
        )

    with app.test_request_context(), conn():
        with write_tx():
            jinan_peer()
            weifang = Peer.create(
                base_url=url,
                city="潍坊",
                fingerprint=key.kid,
                document=json.dumps(doc(keys=[key.public_jwk()])),
            )
        publish(prefix="J", name="潍坊交管")  # a claim that overlaps Jinan's
        assert peers.refresh_document(weifang)
        stored = Peer.get_by_id(weifang.id)
        assert stored.doc["licence_key_prefix"] == "WF" and stored.doc["name"] == "潍坊交管"
        assert stored.pending["licence_key_prefix"] == "J"
        assert relay.issuer_of_key("JN123456").base_url == "https://jg.jinan.example"
    admin = make.staff("admin")
    login(admin)
    assert page(client.get("/network/peers")).find(id="claims-alert")
    claims_url = f"/network/peers/{weifang.id}/claims"
    shown = page(client.get(claims_url)).find(id="claims").get_text(" ")
    assert "WF" in shown and "J" in shown
    refused = page(client.post(claims_url, data={}), 422)
    assert "重叠" in refused.select_one(".form-error").get_text()
    with app.test_request_context(), conn():
        assert Peer.get_by_id(weifang.id).doc["licence_key_prefix"] == "WF"
        publish(prefix="WF", name="潍坊交管", offices=(("370700", "鲁G"), ("370781", "鲁V")))
        assert not peers.refresh_document(Peer.get_by_id(weifang.id))  # nothing used changed
        assert Peer.get_by_id(weifang.id).pending["offices"][1]["code"] == "370781"
    assert client.post(claims_url, data={}).status_code == 303
    with conn():
        taken = Peer.get_by_id(weifang.id)
        assert taken.pending is None and len(taken.doc["offices"]) == 2
        row = AuditEvent.get(AuditEvent.action == "network.peer_claims_confirmed")
        assert row.actor_id == admin.id


def test_peers_that_overlapped_before_the_rule_are_sent_to_the_more_precise(app, conn):
    with app.test_request_context(), conn():
        with write_tx():
            for url, prefix, plate in (
                ("https://jg.a.example", "Q", "鲁H"),
                ("https://jg.b.example", "QD", "鲁H"),
                ("https://jg.c.example", "WF", "鲁G"),
            ):
                Peer.create(
                    base_url=url,
                    city="某市",
                    fingerprint="x",
                    document=json.dumps(doc(url, prefix, ((url[-12:], plate),))),
                )
        # Never the red "invalid" of a key nobody issued: the more precise prefix answers.
        assert relay.issuer_of_key("QD123456").base_url == "https://jg.b.example"
        assert relay.issuer_of_key("QE123456").base_url == "https://jg.a.example"
        assert relay.issuer_of_key("WF123456").base_url == "https://jg.c.example"
        assert links.peer_for_plate("鲁H12345").base_url == "https://jg.a.example"
        assert links.peer_for_plate("鲁G12345").base_url == "https://jg.c.example"


def test_messages_go_to_the_inbox_at_the_peers_own_address():
    """A peer added before the rule may name an inbox elsewhere (inside our network, say):
    messages still go to its own address."""
    peer = Peer(
        base_url="https://jg.weifang.example", document=json.dumps(doc(inbox="http://10.0.0.1/x"))
    )
    assert peers.inbox_of(peer) == "https://jg.weifang.example/network/inbox"
