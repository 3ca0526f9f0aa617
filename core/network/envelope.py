"""Signed envelopes and the signed published document, in JOSE's standard formats.

An envelope is a JWS in compact serialization (RFC 7515), signed with Ed25519 (RFC 8037,
named `Ed25519` as RFC 9864 asks), its protected header naming the key id (`kid`, the RFC 7638
thumbprint). Its payload is JSON: `id` (the message id, also the idempotency key), `type`,
`from` and `to` (deployments' public base URLs), `iat` (Unix seconds) and `body`. An answer is
an envelope too, of type `ack` or `refusal`, with `in_reply_to` and, for a refusal, `reason`.

The published document (/.well-known/jiaoguan.json) is a JWS in general JSON serialization,
signed by every key it publishes, so that a peer that knows only an older key can still verify
the document that announces the newer one.

Nothing here touches the database: these are the pure signing rules, tested on their own.
"""

import base64
import binascii
import json
import time

from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey

from .keys import ALG, SigningKey, public_key_set

TYP = "jiaoguan-envelope+jws"


class EnvelopeError(Exception):
    """An envelope or document that does not verify; `reason` is the refusal's reason code."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def _b64json(segment: str):
    """A base64url segment of JSON, decoded (to read a JWS member before verifying it)."""
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def canonical(value) -> bytes:
    """JSON with sorted keys and no spaces: the bytes that are signed and hashed."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def sign(payload: dict, key: SigningKey) -> str:
    """The payload as a compact JWS signed with `key`."""
    header = {"alg": ALG, "kid": key.kid, "typ": TYP}
    return jws.serialize_compact(header, canonical(payload), key.key, algorithms=[ALG])


def peek(token: str) -> tuple[dict, dict]:
    """The header and payload of a compact JWS, NOT verified: only to learn who claims to have
    sent it (whose keys to verify it with). Raises EnvelopeError('malformed')."""
    try:
        obj = jws.extract_compact(token.encode() if isinstance(token, str) else token)
        payload = json.loads(obj.payload)
    except (JoseError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise EnvelopeError("malformed", "not a compact JWS of JSON") from exc
    if not isinstance(payload, dict):
        raise EnvelopeError("malformed", "the payload is not a JSON object")
    return obj.headers(), payload


def usable(jwk: dict, now: int) -> bool:
    """A published key verifies only within its validity window."""
    return int(jwk.get("nbf", 0)) <= now < int(jwk.get("exp", 2**62))


def verify(token: str, jwks: list[dict], now: int | None = None) -> dict:
    """The payload of an envelope signed by one of `jwks` (a peer's published keys).

    The key is chosen by the header's kid; an unknown kid, an expired key or a signature that
    does not match is `bad_signature`. Raises EnvelopeError.
    """
    now = int(time.time()) if now is None else now
    header, _ = peek(token)
    if header.get("alg") != ALG:
        raise EnvelopeError("bad_signature", f"algorithm {header.get('alg')!r} is not accepted")
    candidates = [j for j in jwks if j.get("kid") == header.get("kid") and usable(j, now)]
    if not candidates:
        raise EnvelopeError("bad_signature", "signed with a key the sender does not publish")
    try:
        obj = jws.deserialize_compact(token, public_key_set(candidates), algorithms=[ALG])
    except (JoseError, ValueError) as exc:
        raise EnvelopeError("bad_signature", "the signature does not match") from exc
    return json.loads(obj.payload)


def sign_document(document: dict, keys: list[SigningKey]) -> dict:
    """The document as a general JSON JWS, one signature per key."""
    members = [
        {"protected": {"alg": ALG, "kid": k.kid, "typ": "jiaoguan-document+jws"}} for k in keys
    ]
    private = {k.kid: k.key for k in keys}

    def pick(member):
        """Each signature with the private key its header names."""
        return private[member.headers()["kid"]]

    return jws.serialize_json(members, canonical(document), pick, algorithms=[ALG])


def _verified_kids(serialized: dict, jwks: list[dict], now: int) -> set[str]:
    """The kids of the signatures of a general JSON JWS that verify with `jwks`."""
    valid = {j["kid"]: j for j in jwks if "kid" in j and usable(j, now)}
    good = set()
    for member in serialized.get("signatures") or []:
        flat = {"payload": serialized.get("payload"), **member}
        try:
            header = _b64json(member["protected"])
            kid = header.get("kid")
            if kid not in valid or header.get("alg") != ALG:
                continue
            jws.deserialize_json(flat, public_key_set([valid[kid]]), algorithms=[ALG])
        except (JoseError, ValueError, TypeError, KeyError, binascii.Error):
            continue
        good.add(kid)
    return good


def verify_document(serialized, trusted: list[dict] | None = None, now: int | None = None):
    """A published document checked, and the key id that vouches for it.

    With `trusted` None (a first fetch), the document must be signed by the newest of its own
    keys, and every key it publishes must carry its RFC 7638 thumbprint as its kid: then the
    fingerprint shown to the administrator names the key that really signed. With `trusted`
    (the keys already confirmed), some signature must verify with one of them. Returns
    (document, kid of the vouching key). Raises EnvelopeError('bad_signature' or 'malformed').
    """
    now = int(time.time()) if now is None else now
    if not isinstance(serialized, dict) or "payload" not in serialized:
        raise EnvelopeError("malformed", "not a JWS in general JSON serialization")
    try:
        document = _b64json(serialized["payload"])
        published = document["keys"]
        for jwk in published:
            if OKPKey.import_key(jwk).thumbprint() != jwk["kid"]:
                raise EnvelopeError("malformed", "a key's kid is not its thumbprint")
    except (JoseError, ValueError, TypeError, KeyError, binascii.Error) as exc:
        raise EnvelopeError("malformed", "unreadable document") from exc
    if trusted is None:
        current = [j for j in published if usable(j, now)]
        if not current:
            raise EnvelopeError("bad_signature", "the document publishes no valid key")
        newest = max(current, key=lambda j: int(j.get("nbf", 0)))["kid"]
        if newest not in _verified_kids(serialized, published, now):
            raise EnvelopeError("bad_signature", "not signed by its own newest key")
        return document, newest
    good = _verified_kids(serialized, trusted, now)
    if not good:
        raise EnvelopeError("bad_signature", "not signed by any key already trusted")
    return document, sorted(good)[0]
