"""Each bad message sent to a real deployment's inbox is refused with its reason code, signed,
audited, and changes nothing; a message sent twice is handled once and answered the same."""

import time
import uuid

import pytest
from joserfc.jwk import OKPKey

from core.network.envelope import sign, verify, verify_document
from core.network.keys import SigningKey
from models import AuditEvent, InboxMessage, RefusedCheck

from .deployments import Deployment, get_json, peer, post_envelope
from .helpers import fresh_database_url, on_postgres


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """Qingdao and Jinan, peered both ways (Jinan on PostgreSQL when the suite runs there)."""
    root = tmp_path_factory.mktemp("network")
    qingdao = Deployment(root, "qingdao")
    jinan = Deployment(root, "jinan", fresh_database_url(root) if on_postgres() else None)
    peer(qingdao, jinan)
    peer(jinan, qingdao)
    _, _, serialized = get_json(jinan.url + "/.well-known/jiaoguan.json")
    jinan_keys = verify_document(serialized)[0]["keys"]
    yield qingdao, jinan, jinan_keys
    qingdao.stop()
    jinan.stop()


def envelope(sender, recipient, **over) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": "ping",
        "from": sender.url,
        "to": recipient.url,
        "iat": int(time.time()),
        "body": {"text": "hello"},
        **over,
    }


def send(pair, payload, key=None):
    """Sign (with Qingdao's key unless told) and post to Jinan; the answer, verified."""
    qingdao, jinan, jinan_keys = pair
    status, text = post_envelope(jinan, sign(payload, key or qingdao.keys()[-1]))
    answer = verify(text, jinan_keys)  # every answer is signed by Jinan
    assert answer["from"] == jinan.url and answer["in_reply_to"] == payload["id"]
    return status, answer


def counts(jinan):
    with jinan.database():
        refused = AuditEvent.select().where(AuditEvent.action == "network.refused")
        return InboxMessage.select().count(), refused.count()


def assert_refused(pair, payload, reason, status, key=None, stranger=False):
    """Refused with `reason`, nothing stored, audited (a stranger's refusal, one not shown to
    come from a peer, as the first of a new window: later ones are only counted)."""
    jinan = pair[1]
    if stranger:
        new_strangers_window(jinan)  # its refusal is then the window's first: audited
    inbox_before, refused_before = counts(jinan)
    got_status, answer = send(pair, payload, key)
    assert (got_status, answer["type"], answer.get("reason")) == (status, "refusal", reason)
    assert answer["body"] == {}  # a refusal tells nothing but its reason
    inbox_after, refused_after = counts(jinan)
    assert inbox_after == inbox_before  # nothing handled, nothing stored
    assert refused_after == refused_before + 1
    with jinan.database():
        row = AuditEvent.select().order_by(AuditEvent.id.desc()).get()
        assert (row.action, row.result, row.object_id) == (
            "network.refused",
            reason,
            payload["id"][:64],
        )


def new_key() -> SigningKey:
    key = OKPKey.generate_key("Ed25519", private=True)
    return SigningKey(key, key.thumbprint(), int(time.time()) - 10, int(time.time()) + 86400)


def test_a_good_ping_is_acknowledged_with_its_echo(pair):
    qingdao, jinan, _ = pair
    status, answer = send(pair, envelope(qingdao, jinan, body={"text": "你好"}))
    assert (status, answer["type"], answer["body"]) == (200, "ack", {"echo": "你好"})


def test_a_forged_signature_is_refused(pair):
    qingdao, jinan, _ = pair
    forger = new_key()
    # Signed by another key that claims Qingdao's key id.
    forged = SigningKey(forger.key, qingdao.keys()[-1].kid, forger.nbf, forger.exp)
    assert_refused(pair, envelope(qingdao, jinan), "bad_signature", 403, key=forged, stranger=True)


def test_an_unknown_deployment_is_refused(pair):
    _, jinan, _ = pair

    class Stranger:
        url = "https://jg.stranger.example"

    payload = envelope(Stranger, jinan)
    assert_refused(pair, payload, "unknown_sender", 403, key=new_key(), stranger=True)


def test_a_suspended_peer_is_refused_until_resumed(pair):
    qingdao, jinan, _ = pair
    jinan.flask("network", "suspend", qingdao.url)
    try:
        assert_refused(pair, envelope(qingdao, jinan), "suspended_peer", 403, stranger=True)
    finally:
        jinan.flask("network", "resume", qingdao.url)
    assert send(pair, envelope(qingdao, jinan))[1]["type"] == "ack"


def test_a_message_for_another_deployment_is_refused(pair):
    qingdao, jinan, _ = pair
    payload = envelope(qingdao, jinan, to="https://jg.elsewhere.example")
    assert_refused(pair, payload, "wrong_recipient", 421)


def test_a_clock_far_off_is_refused(pair):
    qingdao, jinan, _ = pair
    for off in (-3600, 3600):
        payload = envelope(qingdao, jinan, iat=int(time.time()) + off)
        assert_refused(pair, payload, "clock_skew", 400)


@pytest.mark.parametrize(
    "over",
    [
        {"body": {"text": 42}},
        {"body": {"text": "x" * 201}},
        {"body": {"text": "hi", "extra": 1}},
        {"body": ["not", "an", "object"]},
        {"iat": "yesterday"},
        {"id": "short"},
    ],
)
def test_a_malformed_message_is_refused(pair, over):
    qingdao, jinan, _ = pair
    assert_refused(pair, envelope(qingdao, jinan, **over), "malformed", 400)


def test_an_unknown_type_is_refused(pair):
    qingdao, jinan, _ = pair
    assert_refused(pair, envelope(qingdao, jinan, type="launch_rockets"), "unknown_type", 422)


def test_not_a_jws_at_all_is_refused_as_malformed(pair):
    _, jinan, jinan_keys = pair
    status, text = post_envelope(jinan, "this is not an envelope")
    answer = verify(text, jinan_keys)
    assert (status, answer["type"], answer["reason"]) == (400, "refusal", "malformed")


def new_strangers_window(jinan) -> None:
    """Forget the strangers' refusals counted so far: the next one is a window's first."""
    with jinan.database():
        RefusedCheck.delete().where(RefusedCheck.kind.in_(("inbox", "inbox_all"))).execute()


def test_a_flood_of_strangers_envelopes_is_counted_not_written_to_the_log_one_by_one(pair):
    """Anyone may post to the inbox: 30 unreadable envelopes from one network add one audit
    row (the first of the window) to the log the peers witness, and are all counted."""
    _, jinan, _ = pair
    new_strangers_window(jinan)
    _, refused_before = counts(jinan)
    for i in range(30):
        assert post_envelope(jinan, f"junk {i}")[0] == 400
    _, refused_after = counts(jinan)
    with jinan.database():
        windows = list(RefusedCheck.select().where(RefusedCheck.kind == "inbox"))
    # One row per window the flood touched (two only when a window ended meanwhile).
    assert sum(w.count for w in windows) == 30
    assert refused_after - refused_before == len(windows)


def test_the_same_message_twice_has_one_effect_and_the_same_answer(pair):
    qingdao, jinan, _ = pair
    payload = envelope(qingdao, jinan)
    key = qingdao.keys()[-1]
    first = post_envelope(jinan, sign(payload, key))
    # A retry signs the same message again later: a new time, the same id, type and body.
    retry = post_envelope(jinan, sign({**payload, "iat": payload["iat"] + 1}, key))
    assert first == retry and first[0] == 200
    with jinan.database():
        assert InboxMessage.select().where(InboxMessage.message_id == payload["id"]).count() == 1
        received = AuditEvent.select().where(
            AuditEvent.action == "network.received", AuditEvent.object_id == payload["id"]
        )
        assert received.count() == 1


def test_a_replayed_id_with_other_content_is_refused(pair):
    qingdao, jinan, _ = pair
    payload = envelope(qingdao, jinan)
    assert send(pair, payload)[1]["type"] == "ack"
    assert_refused(pair, {**payload, "body": {"text": "something else"}}, "replayed_id", 409)
    with jinan.database():
        # Only the digest is kept: the body (an ID number, a code, in other types) is not.
        stored = InboxMessage.get(InboxMessage.message_id == payload["id"])
        assert stored.body == "{}" and len(stored.digest) == 64
