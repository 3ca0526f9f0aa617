"""The relay's rules inside one deployment: typing-key prefixes, which keys and links go to which
peer, what a relayed check may claim, `undetermined` for a peer that does not answer, and the
signed statement of our own JSON answers. The two-city runs are in test_verify_relay.py."""

import base64
import json
import time

import pytest
from joserfc import jws
from joserfc.jwk import KeySet

from blueprints.licence import relay, service, sharing
from core.network import identity
from core.network.inbox import BadBody
from models import PEER_SUSPENDED, AuditEvent, ELicence, Peer, Throttle, write_tx
from rules import licencecode, totp

from .helpers import page
from .test_verify import verdict

PEER_URL = "http://127.0.0.1:9"  # the discard port: nothing answers there


def add_peer(prefix="QD", url=PEER_URL, offices=("370200",), city="青岛") -> Peer:
    """A trusted peer whose document publishes `prefix` (no key: it can never vouch)."""
    document = {
        "base_url": url,
        "inbox": url + "/network/inbox",
        "city": city,
        "licence_key_prefix": prefix,
        "offices": [{"code": code} for code in offices],
        "keys": [],
    }
    return Peer.create(
        base_url=url,
        name=f"jiaoguan {city}",
        city=city,
        fingerprint="x",
        document=json.dumps(document),
    )


def typed_code(elicence) -> str:
    return totp.totp(elicence.secret, step=licencecode.CODE_STEP_SECONDS).now()


def test_new_keys_and_share_codes_carry_the_published_prefix(app, make, conn):
    app.config["LICENCE_KEY_PREFIX"] = "JN"
    citizen = make.citizen()
    make.licence_record(citizen)
    with app.test_request_context(), conn():
        elicence = service.apply_for_elicence(citizen)
        share = sharing.create_share_code(elicence, 3, False, "")
        reset = service.reset_codes(elicence, citizen)
        assert elicence.typing_key.startswith("JN") and len(elicence.typing_key) == 8
        assert share.code.startswith("JN") and reset.typing_key.startswith("JN")
        assert identity.document()["licence_key_prefix"] == "JN"
        app.config["LICENCE_KEY_PREFIX"] = "JNX"
        with pytest.raises(ValueError, match="LICENCE_KEY_PREFIX"):
            service.key_prefix()
        app.config["LICENCE_KEY_PREFIX"] = "IL"  # not in the keys' alphabet
        with pytest.raises(ValueError, match="LICENCE_KEY_PREFIX"):
            service.key_prefix()


def test_keys_and_links_go_to_the_peer_that_issued_them(app, make, conn):
    local = make.elicence()
    with app.test_request_context(), conn():
        peer = add_peer("QD")
        ELicence.update(typing_key="QD" + local.typing_key[2:]).where(
            ELicence.id == local.id
        ).execute()
        # Ours first, whatever its first characters (keys made before a prefix was set).
        assert relay.issuer_of_key("QD" + local.typing_key[2:]) is None
        assert relay.issuer_of_key("qd12-3456").base_url == peer.base_url
        assert relay.issuer_of_key("JN123456") is None
        assert relay.issuer_of_share("QDABCDEF").base_url == peer.base_url
        found = relay.qr_target(f"{PEER_URL}/v/abcDEF_12/{'A' * 20}")
        assert (found[0].base_url, found[1], found[2]) == (PEER_URL, "abcDEF_12", "A" * 20)
        assert relay.qr_target(f"https://jg.example.test/v/h1/{'B' * 20}") == (None, "h1", "B" * 20)
        assert relay.qr_target("https://elsewhere.example/v/h1/code") is None
        # A suspended peer's keys are still its own (relay_check does not ask it).
        Peer.update(status=PEER_SUSPENDED).execute()
        assert relay.issuer_of_key("QD123456").base_url == peer.base_url
        assert relay.qr_target(f"{PEER_URL}/v/abcDEF_12/{'A' * 20}")[0].base_url == PEER_URL


def test_a_suspended_peers_licence_is_undetermined_never_invalid(client, conn, monkeypatch):
    """While exchange with its city is suspended here, its licence cannot be checked: the
    verdict says so (undetermined), as for a city that does not answer, and the city is not
    asked; a key of nobody's prefix stays invalid."""
    asked = []
    monkeypatch.setattr(relay, "_ask", lambda peer, payload: asked.append(payload))
    with conn():
        add_peer("QD")
        Peer.update(status=PEER_SUSPENDED).execute()
    answer = client.get("/verify/check?key=QD123456&code=123456")
    assert verdict(answer) == "undetermined"
    # Said as what it is: a pause here, which waiting a moment does not end.
    said = page(answer).get_text()
    assert "已暂停" in said and "稍后再试" not in said
    link = f"{PEER_URL}/v/abcDEF_12/{'A' * 20}"
    assert verdict(client.get("/verify/check", query_string={"key": link})) == "undetermined"
    assert verdict(client.get("/verify/share?code=QD123456&last6=123456")) == "undetermined"
    api = client.get("/api/v1/licence-check?key=QD123456&code=123456").get_json()
    assert api["verdict"] == "undetermined" and api["reason"] == "suspended"
    assert asked == []
    assert verdict(client.get("/verify/check?key=WF123456&code=123456")) == "invalid"
    with conn():
        rows = AuditEvent.select().where(AuditEvent.action == "licence.check_relayed")
        assert {r.detail_dict["reason"] for r in rows} == {"suspended"}


def test_a_peer_that_does_not_answer_gives_undetermined_never_invalid(client, make, conn):
    with conn():
        add_peer("QD")
    started = time.monotonic()
    response = client.get("/verify/check?key=QD123456&code=123456")
    soup = page(response)
    assert verdict(response) == "undetermined"
    assert time.monotonic() - started < 8.0  # the 2 s timeout, and room for a loaded machine
    assert "does not mean the licence is invalid" in soup.get_text() or "不代表" in soup.get_text()
    assert response.headers["Cache-Control"] == "no-store"
    api = client.get("/api/v1/licence-check?key=QD123456&code=123456").get_json()
    assert api["verdict"] == "undetermined" and api["issuer"] == PEER_URL
    assert api["reason"] == "unreachable"
    share = client.get("/verify/share?code=QD123456&last6=123456")
    assert verdict(share) == "undetermined"
    with conn():
        rows = AuditEvent.select().where(AuditEvent.action == "licence.check_relayed")
        assert [r.result for r in rows] == ["undetermined"] * 3


def test_a_stranger_typing_another_citys_keys_is_stopped_here(client, conn, monkeypatch):
    """Each relayed guess costs a message, a worker's wait and a row in both cities' logs: a
    client whose relays the issuer found nothing for CLIENT_FAILURES times is refused here,
    without asking the issuer and without a row per attempt, and so are its checks of our own
    licences."""
    from blueprints.licence import checks

    monkeypatch.setattr(checks, "CLIENT_FAILURES", 3)
    asked = []

    def issuer_found_nothing(peer, payload):
        asked.append(payload)
        return relay.RelayedResult("invalid", peer)

    monkeypatch.setattr(relay, "_asked", issuer_found_nothing)
    with conn():
        add_peer("QD")
    for n in range(3):
        response = client.get(f"/verify/check?key=QD12345{n}&code=123456")
        assert verdict(response) == "invalid"
    for path in (
        "/verify/check?key=QD123459&code=123456",
        "/api/v1/licence-check?key=QD123459&code=123456",
        "/verify/share?code=QD123459&last6=123456",
    ):
        response = client.get(path)
        said = response.get_json()["verdict"] if "/api/" in path else verdict(response)
        assert said == "throttled"
    assert len(asked) == 3
    assert verdict(client.get("/verify/check?key=ABCDEFGH&code=123456")) == "throttled"
    with conn():
        rows = AuditEvent.select().where(AuditEvent.action == "licence.check_relayed")
        assert rows.count() == 3


def test_a_city_that_does_not_answer_locks_nobody_out(client, make, conn, monkeypatch):
    """A peer down or suspended is no fault of the checker's: however many of its licences an
    inspector's post checks, our own licences are still checked for them; past a cap a window,
    its undetermined checks are counted, not each written to the log."""
    from blueprints.licence import checks

    monkeypatch.setattr(checks, "CLIENT_FAILURES", 3)
    monkeypatch.setattr(relay, "UNDETERMINED_AUDITS", 2)
    el = make.elicence()
    with conn():
        add_peer("QD")
        Peer.update(status=PEER_SUSPENDED).execute()
    for n in range(5):
        link = f"{PEER_URL}/v/abcDEF_12/{str(n) * 20}"
        assert verdict(client.get("/verify/check", query_string={"key": link})) == "undetermined"
    code = totp.totp(el.secret, step=licencecode.CODE_STEP_SECONDS).now()
    ours = client.get(f"/verify/check?key={el.typing_key}&code={code}")
    assert verdict(ours) == "valid"
    with conn():
        rows = AuditEvent.select().where(AuditEvent.action == "licence.check_relayed")
        assert rows.count() == 2


def test_our_json_answer_carries_our_signed_statement(client, make, app):
    el = make.elicence(points=4)
    response = client.get(f"/api/v1/licence-check?key={el.typing_key}&code={typed_code(el)}")
    body = response.get_json()
    document = client.get("/.well-known/jiaoguan.json").get_json()
    keys = KeySet.import_key_set({"keys": json.loads(_b64(document["payload"]))["keys"]})
    signed = jws.deserialize_compact(
        response.headers["Jiaoguan-Statement"], keys, algorithms=["Ed25519"]
    )
    claims = json.loads(signed.payload)
    assert claims["iss"] == app.config["PUBLIC_BASE_URL"]
    assert claims["verdict"] == body["verdict"] == "valid"
    assert claims["licence"] == body["licence"] and "points" not in claims["licence"]
    assert claims["checker"] == {"kind": "anonymous"}


def _b64(segment: str) -> bytes:
    """A base64url segment decoded (the published document's payload)."""
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


@pytest.mark.parametrize(
    "body",
    [
        {
            "via": "typed",
            "key": "QD123456",
            "code": "1",
            "checker": {"kind": "inspector", "office": "999999"},
        },
        {"via": "typed", "key": "QD123456", "code": "1", "checker": {"kind": "king"}},
        {"via": "typed", "code": "1", "checker": {"kind": "anonymous"}},
        {"via": "typed", "key": "K", "handle": "H", "code": "1", "checker": {"kind": "anonymous"}},
        {"via": "teleport", "key": "QD123456", "code": "1", "checker": {"kind": "anonymous"}},
        {"via": "typed", "key": "QD123456", "code": "1", "checker": {"kind": "anonymous"}, "x": 1},
    ],
)
def test_a_relayed_check_claims_only_what_it_may(app, conn, body):
    with app.test_request_context(), conn():
        peer = add_peer("JN", url="http://127.0.0.1:10", offices=("370100",), city="济南")
        full = {"client_addr": "10.0.0.1", "request": "r" * 36, **body}
        with pytest.raises(BadBody), write_tx():
            relay.answer_check(full, peer)


def test_a_relayed_inspector_is_logged_with_city_and_office(app, make, conn):
    el = make.elicence()
    with app.test_request_context(), conn():
        peer = add_peer("JN", url="http://127.0.0.1:10", offices=("370100",), city="济南")
        check = {
            "via": "typed",
            "key": el.typing_key,
            "code": typed_code(el),
            "checker": {"kind": "inspector", "name": "王警官", "office": "370100"},
            "client_addr": "10.0.0.1",
            "request": "r" * 36,
        }
        with write_tx():
            answer = relay.answer_check(check, peer)
        claims = json.loads(jws.extract_compact(answer["statement"].encode()).payload)
        assert claims["verdict"] == "valid" and claims["aud"] == peer.base_url
        assert claims["licence"]["licence_no"] == el.record.licence_no  # an inspector's view
        assert claims["request"] == "r" * 36
        row = el.checks.get()
        assert (row.checker_kind, row.checker_label, row.checker_office, row.checker_city) == (
            "inspector",
            "王警官",
            "370100",
            "济南",
        )


def test_a_peer_reporting_a_new_address_each_time_is_stopped_at_unknown_keys(
    app, make, conn, monkeypatch
):
    """Per-client limits count per reported address: a peer that reports a new one for each
    guess is stopped by its own ceiling (RELAY_FAILURES) on unknown keys, while checks of real
    licences relayed by it still go on."""
    from blueprints.licence import checks

    monkeypatch.setattr(checks, "RELAY_FAILURES", 3)
    el = make.elicence()
    with app.test_request_context(), conn():
        peer = add_peer("JN", url="http://127.0.0.1:10", offices=("370100",), city="济南")

        def relayed(n, key, code="123456"):
            check = {
                "via": "typed",
                "key": key,
                "code": code,
                "checker": {"kind": "anonymous"},
                "client_addr": f"10.0.{n}.1",
                "request": f"{n:036d}",
            }
            with write_tx():
                answer = relay.answer_check(check, peer)
            return json.loads(jws.extract_compact(answer["statement"].encode()).payload)

        verdicts = [relayed(n, f"ZZ{n:06d}")["verdict"] for n in range(5)]
        assert verdicts == ["invalid"] * 3 + ["throttled"] * 2
        assert relayed(9, el.typing_key, typed_code(el))["verdict"] == "valid"
        unknown = AuditEvent.select().where(
            (AuditEvent.action == "licence.check") & (AuditEvent.result == "invalid")
        )
        assert unknown.count() == 3


def test_a_typed_key_of_no_city_we_know_is_undetermined_not_invalid(app, client, make, conn):
    """A key without our prefix that no peer claims may be another city's (one not peered, or
    keys it made before setting its prefix): never a red cross. One with our prefix, or any
    unknown key of a deployment alone, is invalid; the guess counts against the client all
    the same."""
    app.config["LICENCE_KEY_PREFIX"] = "WF"
    code = "123456"

    def check(key):
        soup = page(
            client.get(f"/verify/check?key={key}&code={code}", headers={"Accept-Language": "en"})
        )
        return soup.find("meta", attrs={"name": "verification-result"})["content"], soup

    assert check("M86AX326")[0] == "invalid"  # no peer: nothing else it could be
    with conn():
        add_peer("QD")
    found, soup = check("M86AX326")
    assert found == "undetermined" and "cannot be checked here" in soup.get_text()
    assert check("WF6AX326")[0] == "invalid"  # ours, and no e-licence has it
    with conn():
        results = [
            e.result
            for e in AuditEvent.select()
            .where(AuditEvent.action == "licence.check")
            .order_by(AuditEvent.id)
        ]
        assert results == ["invalid", "undetermined", "invalid"]
        assert Throttle.get(Throttle.key.startswith("verify-client")).failures == 3
