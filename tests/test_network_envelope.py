"""Envelopes and the published document: signed, verified, and refused when anything is off."""

import json
import time

import pytest
from joserfc.jwk import OKPKey

from core.network.envelope import (
    EnvelopeError,
    peek,
    sign,
    sign_document,
    verify,
    verify_document,
)
from core.network.keys import SigningKey, fingerprint, same_fingerprint


def make_key(nbf=None, days=30) -> SigningKey:
    key = OKPKey.generate_key("Ed25519", private=True)
    nbf = int(time.time()) - 10 if nbf is None else nbf
    return SigningKey(key, key.thumbprint(), nbf, nbf + days * 86400)


def payload(**over):
    return {"id": "0f6c8b8e-msg", "type": "ping", "from": "https://a.test", "to": "https://b.test",
            "iat": int(time.time()), "body": {"text": "hi"}, **over}  # fmt: skip


def test_a_signed_envelope_verifies_with_the_senders_published_key():
    key = make_key()
    token = sign(payload(), key)
    assert verify(token, [key.public_jwk()]) == payload()
    header, _ = peek(token)
    assert header["alg"] == "Ed25519" and header["kid"] == key.kid


def test_a_tampered_payload_is_a_bad_signature():
    key = make_key()
    head, body, sig = sign(payload(), key).split(".")
    other = sign(payload(body={"text": "changed"}), key).split(".")[1]
    with pytest.raises(EnvelopeError) as err:
        verify(f"{head}.{other}.{sig}", [key.public_jwk()])
    assert err.value.reason == "bad_signature"


def test_a_key_the_sender_does_not_publish_is_refused():
    mine, forger = make_key(), make_key()
    # The forger even claims the real key's id.
    forged = SigningKey(forger.key, mine.kid, forger.nbf, forger.exp)
    with pytest.raises(EnvelopeError) as err:
        verify(sign(payload(), forged), [mine.public_jwk()])
    assert err.value.reason == "bad_signature"
    with pytest.raises(EnvelopeError):
        verify(sign(payload(), forger), [mine.public_jwk()])


def test_an_old_key_still_verifies_after_rotation_until_it_expires():
    old = make_key(nbf=int(time.time()) - 86400)
    new = make_key()
    token = sign(payload(), old)
    published = [new.public_jwk(), old.public_jwk()]
    assert verify(token, published)["id"] == payload()["id"]
    # Once the old key has expired, what it signed no longer verifies.
    with pytest.raises(EnvelopeError):
        verify(token, published, now=old.exp + 1)


def test_not_a_jws_is_malformed():
    for junk in ("", "abc", "a.b.c", "x" * 50):
        with pytest.raises(EnvelopeError) as err:
            peek(junk)
        assert err.value.reason == "malformed"


def test_only_ed25519_is_accepted():
    key = make_key()
    from joserfc import jws
    from joserfc.jwk import OctKey

    hmac_token = jws.serialize_compact({"alg": "HS256", "kid": key.kid},
                                       json.dumps(payload()), OctKey.generate_key(256))  # fmt: skip
    with pytest.raises(EnvelopeError) as err:
        verify(hmac_token, [key.public_jwk()])
    assert err.value.reason == "bad_signature"


def document(*keys):
    return {"jiaoguan": 1, "name": "Q", "base_url": "https://a.test",
            "keys": [k.public_jwk() for k in keys]}  # fmt: skip


def test_a_document_is_self_signed_by_its_newest_key():
    old = make_key(nbf=int(time.time()) - 100)
    new = make_key()
    signed = sign_document(document(new, old), [new, old])
    doc, kid = verify_document(signed)
    assert kid == new.kid and doc["name"] == "Q"
    # Signed only by the older key: refused (the fingerprint shown must be the signer's).
    with pytest.raises(EnvelopeError):
        verify_document(sign_document(document(new, old), [old]))


def test_a_rotated_document_verifies_with_the_key_already_trusted():
    old, new, stranger = make_key(nbf=int(time.time()) - 100), make_key(), make_key()
    signed = sign_document(document(new, old), [new, old])
    doc, kid = verify_document(signed, trusted=[old.public_jwk()])
    assert kid == old.kid and len(doc["keys"]) == 2
    with pytest.raises(EnvelopeError):
        verify_document(sign_document(document(stranger), [stranger]), trusted=[old.public_jwk()])


def test_a_document_whose_kid_is_not_the_thumbprint_is_refused():
    key = make_key()
    jwk = {**key.public_jwk(), "kid": "chosen-by-hand"}
    doc = {"jiaoguan": 1, "keys": [jwk]}
    with pytest.raises(EnvelopeError) as err:
        verify_document(sign_document(doc, [SigningKey(key.key, "chosen-by-hand", 0, 2**40)]))
    assert err.value.reason == "malformed"


def test_fingerprints_are_hex_groups_compared_loosely():
    key = make_key()
    shown = fingerprint(key.kid)
    assert len(shown.replace(" ", "")) == 64 and shown == shown.upper()
    assert same_fingerprint(shown.lower().replace(" ", ":"), shown)
    assert not same_fingerprint(shown[:-1] + ("0" if shown[-1] != "0" else "1"), shown)
    assert not same_fingerprint("", shown)
