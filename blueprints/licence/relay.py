"""Licence checks across cities (跨城核验): another city's licence is checked by its issuer.

The e-licence is valid nationwide, but only the deployment that issued it knows its secret, its
once-only steps and its throttles. So a verifier that is shown another city's licence (a typing
key or share code with a peer's published prefix, or a peer's QR link) sends the check to the
issuer at once, signed, and waits at most NETWORK_CHECK_TIMEOUT_SECONDS (2 s) for the answer:
a request and its answer, not the outbox, because an inspector is waiting at the roadside. The
issuer decides with the same rules as for its own verifier, counted at the issuer (so they hold
across the network), and answers a signed verdict statement: a JWS of the issuer's deployment
key that the verifier checks, shows, and hands to a firm as proof it can keep.

When the issuer does not answer in time, or its answer does not verify, the verdict is
`undetermined`: never `invalid` for a licence that may be valid
(docs/DESIGN.md#between-deployments-the-network).
"""

import datetime as dt
import hashlib
import hmac
import json
import math
import re
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from flask import current_app
from joserfc import jws
from joserfc.errors import JoseError

from core.audit import audit, client_addr
from core.network import http, keys
from core.network.claims import claims_of, overlap
from core.network.envelope import EnvelopeError, canonical, peek, sign, verify
from core.network.identity import base_url
from core.network.inbox import BadBody, register
from core.network.peers import inbox_of, normalise_url, verify_from
from models import Peer, RefusedCheck, ShareCode, User, utcnow, write_tx
from rules import licencecode
from rules.validators import mask_id

from . import checks, sharing
from .origin import Origin, key_prefix

CHECK_TYPE = "licence_check"
STATEMENT_TYP = "jiaoguan-verdict+jws"
CHECKER_KINDS = ("anonymous", "inspector", "staff")
VIAS = ("qr", "typed", "photo", "json", "share")
CHECK_FIELDS = {
    *("via", "handle", "key", "code", "share", "last6", "firm"),
    *("checker", "client_addr", "request"),
}
UNDETERMINED = "undetermined"
# A licence QR's path under a deployment's address: /v/<handle>/<QR code>.
QR_PATH = re.compile(r"/v/([A-Za-z0-9_-]{1,32})/([A-Za-z0-9-]{1,32})")


# --- Which deployment issued it -------------------------------------------------------------


def _peer_by_prefix(value: str) -> Peer | None:
    """The peer whose published prefix begins this key (never our own prefix: a key with it is
    ours, and costs no query here). A suspended peer is named too: its licences are not
    checked while it is, which is `undetermined`, never the `invalid` of a key nobody issued.
    Peers whose prefixes overlap are refused (core.network.claims); of two peered before that
    rule, the longer prefix that matches is the more precise one (the first peered of two
    equal ones, which the peers page names)."""
    own = key_prefix()
    if own and value.startswith(own):
        return None
    matches = [
        (len(prefix), -peer.id, peer)
        for peer in Peer.select()
        if (prefix := claims_of(peer.doc).key_prefix)
        and not overlap(prefix, own)
        and value.startswith(prefix)
    ]
    return max(matches, key=lambda m: m[:2])[2] if matches else None


def issuer_of_key(typing_key: str) -> Peer | None:
    """The peer that issued a typing key, when the key is not one of ours (ours are looked up
    first: keys made before a prefix was set have none)."""
    value = licencecode.normalise(typing_key)
    peer = _peer_by_prefix(value) if len(value) == 8 else None
    if peer is None or checks.find_elicence(typing_key=value) is not None:
        return None
    return peer


def issuer_of_share(code: str) -> Peer | None:
    """The peer that issued a share code, when the code is not one of ours."""
    value = licencecode.normalise(code)
    peer = _peer_by_prefix(value) if len(value) == 8 else None
    if peer is None or ShareCode.get_or_none(ShareCode.code == value) is not None:
        return None
    return peer


def _qr_parts(text: str, base: str) -> tuple[str, str] | None:
    """(handle, code) when `text` is a licence QR link under the deployment address `base`."""
    url, home = urlsplit(text.strip()), urlsplit(base)
    if (url.scheme, url.netloc.lower()) != (home.scheme, home.netloc.lower()):
        return None
    prefix = home.path.rstrip("/")
    if not url.path.startswith(prefix + "/v/"):
        return None
    found = QR_PATH.fullmatch(url.path[len(prefix) :])
    return (found.group(1), found.group(2)) if found else None


def qr_target(text: str) -> tuple[Peer | None, str, str] | None:
    """Whose licence QR link this is: (None, handle, code) for ours, (peer, handle, code) for a
    peer's (a suspended one's too: see _peer_by_prefix), None for anything else."""
    if not text or "/v/" not in text:
        return None
    found = _qr_parts(text, current_app.config["PUBLIC_BASE_URL"])
    if found:
        return None, *found
    for peer in Peer.select():
        found = _qr_parts(text, peer.base_url)
        if found:
            return peer, *found
    return None


# --- The signed verdict statement -----------------------------------------------------------


def licence_view(record, full: bool, points: bool) -> dict:
    """The licence data a checker may see: the masked number for everyone, the full number for
    a police inspector, the points for an inspector or a firm the holder allowed to see them."""
    view = {
        "name": record.name,
        "licence_no_masked": mask_id(record.licence_no),
        "classes": record.class_list,
        "valid_from": record.valid_from.isoformat(),
        "valid_until": record.valid_until.isoformat(),
        "status": record.standing(),
    }
    if full:
        view["licence_no"] = record.licence_no
    if points:
        view["points"] = record.points
    return view


def statement(result, via: str, checker: dict, *, audience: str = "", request: str = "") -> str:
    """The verdict of a check made here, signed with this deployment's key (a compact JWS).

    `checker` is what the statement says about who checked (kind, and for another city's check
    its city and office); `audience` and `request` bind a relayed answer to the deployment and
    the message it answers, so it cannot be replayed for another check.
    """
    full = checker.get("kind") == "inspector"
    share = getattr(result, "share", None)
    claims = {
        "iss": base_url(),
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "verdict": result.verdict,
        "checked_at": result.checked_at.isoformat(timespec="seconds") + "Z",
        "via": via,
        "checker": checker,
    }
    if audience:
        claims.update(aud=audience, request=request)
    retry_after = getattr(result, "retry_after", 0)
    if retry_after:
        claims["retry_after"] = retry_after
    shown_again_at = getattr(result, "shown_again_at", None)
    if shown_again_at is not None:
        # The same checker's reload of a used code: the verdict is the licence as it stands.
        claims["shown_again_at"] = shown_again_at.isoformat(timespec="seconds") + "Z"
    if result.genuine:
        points = full or bool(share and share.show_points)
        claims["licence"] = licence_view(result.record, full=full, points=points)
    key = keys.signing_key()
    header = {"alg": keys.ALG, "kid": key.kid, "typ": STATEMENT_TYP}
    return jws.serialize_compact(header, canonical(claims), key.key, algorithms=[keys.ALG])


def read_statement(token: str, jwks: list[dict]) -> dict:
    """The claims of a verdict statement signed by one of `jwks`. Raises EnvelopeError."""
    header, _ = peek(token)
    if header.get("typ") != STATEMENT_TYP:
        raise EnvelopeError("bad_signature", "not a verdict statement")
    try:
        return verify(token, jwks)
    except (JoseError, ValueError) as exc:
        raise EnvelopeError("bad_signature", str(exc)) from exc


# --- The issuer's side ----------------------------------------------------------------------


def _text(body: dict, name: str, limit: int, required: bool = False) -> str:
    """A string field of a relayed check, bounded; BadBody when it is not one."""
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value.strip()):
        raise BadBody(f"{name}: a string of at most {limit} characters")
    return value


def _origin(body: dict, peer: Peer) -> Origin:
    """Who checked, as the relaying deployment vouches: its city is its own (from the peer's
    confirmed document, not the message), a staff checker's office one it publishes."""
    checker = body.get("checker")
    if not isinstance(checker, dict) or set(checker) - {"kind", "name", "office", "ref"}:
        raise BadBody("checker: {kind, name, office, ref}")
    kind = checker.get("kind")
    if kind not in CHECKER_KINDS:
        raise BadBody(f"checker kind: one of {CHECKER_KINDS}")
    name, office = _text(checker, "name", 50), _text(checker, "office", 20)
    if kind != "anonymous" and office not in {o.get("code") for o in peer.doc.get("offices", [])}:
        raise BadBody("checker office: not an office the relaying deployment publishes")
    return Origin(
        client_addr=_text(body, "client_addr", 64, required=True),
        relay=peer.base_url,
        city=peer.city or str(peer.doc.get("city", "")),
        kind=kind,
        name=name if kind != "anonymous" else "",
        office=office if kind != "anonymous" else "",
        ref=_text(checker, "ref", 32) if kind != "anonymous" else "",
    )


# A relayed check is asked once (never from the outbox), and its answer holds what the check
# returned (a licence number, a name): kept a day for the record of the exchange, then deleted.
@register(CHECK_TYPE, forget_after=dt.timedelta(days=1))
def answer_check(body: dict, peer: Peer) -> dict:
    """A check relayed by a peer: the same check as our own verifier's, with the same
    once-only rule and throttles (counted per relaying deployment and client address), and a
    signed verdict statement in the acknowledgement."""
    if set(body) - CHECK_FIELDS or body.get("via") not in VIAS:
        raise BadBody(f"a licence check carries only {sorted(CHECK_FIELDS)}")
    origin = _origin(body, peer)
    via = body["via"]
    if via == "share":
        result = sharing.check_share_code(
            _text(body, "share", 20, True),
            _text(body, "last6", 20),
            _text(body, "firm", 100),
            origin=origin,
        )
    else:
        handle, key = _text(body, "handle", 32), _text(body, "key", 20)
        if bool(handle) == bool(key):
            raise BadBody("a licence check names a handle or a key")
        result = checks.check_code(
            handle=handle or None,
            typing_key=key or None,
            code=_text(body, "code", 32, required=True),
            via=via,
            origin=origin,
        )
    claim = {"kind": "firm" if via == "share" else origin.kind, "city": origin.city}
    if origin.office:
        claim["office"] = origin.office
    request = _text(body, "request", 64, required=True)
    return {"statement": statement(result, via, claim, audience=peer.base_url, request=request)}


# --- The verifier's side --------------------------------------------------------------------


@dataclass
class RemoteRecord:
    """The licence data the issuer sent, shaped as the verifier's templates read a record."""

    name: str
    licence_no: str
    classes: str
    valid_from: str
    valid_until: str
    status: str
    points: int | None = None
    photo: None = None

    def standing(self) -> str:
        """The record's standing as the issuer reported it."""
        return self.status


@dataclass
class RelayedResult:
    """A verdict from the issuing deployment (or `undetermined` when there was none)."""

    verdict: str
    issuer: Peer
    checked_at: dt.datetime = field(default_factory=utcnow)
    record: RemoteRecord | None = None
    retry_after: int = 0
    statement: str = ""
    claims: dict = field(default_factory=dict)
    reason: str = ""

    @property
    def genuine(self) -> bool:
        """The issuer found the code genuine and current: its data may be shown."""
        return self.verdict in checks.GENUINE and self.record is not None

    @property
    def shown_again_at(self) -> dt.datetime | None:
        """When this checker first checked the code, if the issuer says this is a reload."""
        at = str(self.claims.get("shown_again_at", "")).rstrip("Z")
        try:
            return dt.datetime.fromisoformat(at) if at else None
        except ValueError:
            return None

    @property
    def shows_points(self) -> bool:
        """The issuer sent the points (an inspector's check, or a share code that shows them)."""
        return self.record is not None and self.record.points is not None


def checker_claim(checker: User | None) -> dict:
    """Who checks, as this deployment vouches to the issuer: kind, and for staff their name
    and office code."""
    kind = checks.checker_kind(checker)
    if checker is None:
        return {"kind": kind}
    office = checker.office.code if checker.office_id else ""
    return {
        "kind": kind,
        "name": checker.real_name[:50],
        "office": office,
        "ref": checker_ref(checker),
    }


def checker_ref(checker: User) -> str:
    """An opaque, stable reference to a staff checker for the issuers of the licences they
    check: the same inspector's reload of a used code is shown again there, as here, and the
    reference says nothing of the account (a keyed hash, 16 hex digits)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"relay-checker:{checker.id}".encode(), hashlib.sha256).hexdigest()[:16]


def _ask(peer: Peer, payload: dict) -> dict:
    """Send the check and return the verified claims of the issuer's statement. Raises
    http.Unreachable or EnvelopeError (its reason: bad_signature, or the issuer's refusal)."""
    inbox = inbox_of(peer)
    timeout = current_app.config["NETWORK_CHECK_TIMEOUT_SECONDS"]
    _, text = http.post_jose(inbox, sign(payload, keys.signing_key()), timeout=timeout)
    reply = verify_from(peer, text.strip())
    if (
        normalise_url(reply.get("from")) != peer.base_url
        or reply.get("in_reply_to") != payload["id"]
        or reply.get("to") != base_url()
    ):
        raise EnvelopeError("bad_signature", "the answer is not about this check")
    if reply.get("type") != "ack":
        raise EnvelopeError(str(reply.get("reason") or "refused"), "refused by the issuer")
    token = reply.get("body", {}).get("statement", "")
    claims = read_statement(token, peer.doc["keys"])
    if (
        claims.get("iss") != peer.base_url
        or claims.get("aud") != base_url()
        or claims.get("request") != payload["body"]["request"]
    ):
        raise EnvelopeError("bad_signature", "the statement is not about this check")
    claims["_token"] = token
    return claims


def _remote_record(view: dict | None) -> RemoteRecord | None:
    """The issuer's licence data as a record the templates can show."""
    if not view:
        return None
    return RemoteRecord(
        name=str(view.get("name", "")),
        licence_no=str(view.get("licence_no") or view.get("licence_no_masked", "")),
        classes=" ".join(view.get("classes") or []),
        valid_from=str(view.get("valid_from", "")),
        valid_until=str(view.get("valid_until", "")),
        status=str(view.get("status", "")),
        points=view.get("points"),
    )


# A relayed check whose issuer found no such licence: counted against this client here as an
# unknown licence is (checks.CLIENT_FAILURES), so that a stranger typing keys of another city's
# prefix is stopped here, before each guess costs a message, a worker's wait and a row in both
# logs. A city that does not answer (or is suspended) is no fault of the checker's: it never
# locks anyone out of checks, of ours above all; its `undetermined` answers are audited up to
# UNDETERMINED_AUDITS a window for each peer, then only counted (models.RefusedCheck).
FAILED_RELAYS = frozenset({"invalid"})
UNDETERMINED_AUDITS = 20


def _asked(peer: Peer, payload: dict) -> RelayedResult:
    """The issuer's verified verdict, or `undetermined` and why there is none."""
    try:
        claims = _ask(peer, payload)
    except http.Unreachable:
        return RelayedResult(UNDETERMINED, peer, reason="unreachable")
    except EnvelopeError as exc:
        return RelayedResult(UNDETERMINED, peer, reason=exc.reason)
    token = claims.pop("_token")
    checked = str(claims.get("checked_at", "")).rstrip("Z")
    return RelayedResult(
        verdict=str(claims.get("verdict", UNDETERMINED)),
        issuer=peer,
        checked_at=dt.datetime.fromisoformat(checked) if checked else utcnow(),
        record=_remote_record(claims.get("licence")),
        retry_after=int(claims.get("retry_after", 0)),
        statement=token,
        claims=claims,
    )


def relay_check(peer: Peer, check: dict, checker: User | None) -> RelayedResult:
    """Check another city's licence at its issuer, now: the issuer's signed verdict, or
    `undetermined` when it cannot be reached in time or its answer does not verify. A client
    locked here for too many failed look-ups is refused without asking nor logging (a flood
    adds no row per attempt, as in checks.check_code)."""
    lock = checks.client_locked()
    if lock:
        wait = max(1, math.ceil((lock - utcnow()).total_seconds()))
        return RelayedResult("throttled", peer, retry_after=wait, reason="client")
    message_id = str(uuid.uuid4())
    body = {
        **check,
        "checker": checker_claim(checker),
        "client_addr": client_addr(),
        "request": message_id,  # the issuer's statement names it: no replay for another check
    }
    payload = {
        "id": message_id,
        "type": CHECK_TYPE,
        "from": base_url(),
        "to": peer.base_url,
        "iat": int(time.time()),
        "body": body,
    }
    if peer.is_active:
        result = _asked(peer, payload)
    else:
        # Exchange with it is suspended here: it is not asked, and nobody vouches either way.
        result = RelayedResult(UNDETERMINED, peer, reason="suspended")
    with write_tx():
        if result.verdict in FAILED_RELAYS:
            checks.count_client_failure()
        if result.verdict == UNDETERMINED and (
            RefusedCheck.count_one("relay_undet", peer.id) > UNDETERMINED_AUDITS
        ):
            return result
        audit(
            "licence.check_relayed",
            None,
            result=result.verdict,
            actor=checker,
            detail={
                "issuer": peer.base_url,
                "via": check.get("via"),
                "message": payload["id"],
                **({"reason": result.reason} if result.reason else {}),
            },
        )
    return result


STATEMENT_HEADER = "Jiaoguan-Statement"


def api_body(result) -> dict:
    """The JSON API's answer for a relayed check, from the issuer's verified statement (or
    `undetermined` and why: nobody could vouch for more)."""
    body = {
        "verdict": result.verdict,
        "checked_at": result.checked_at.isoformat() + "Z",
        "issuer": result.issuer.base_url,
    }
    if result.verdict == UNDETERMINED:
        body["reason"] = result.reason
    elif "licence" in result.claims:
        body["licence"] = result.claims["licence"]
    return body


def local_statement(result, via: str, checker: User | None) -> tuple[str, dict]:
    """A check of one of our licences for the JSON API: our signed statement, and its
    licence data (what the answer's body shows)."""
    kind = "firm" if via == "share" else checks.checker_kind(checker)
    token = statement(result, via, {"kind": kind})
    claims = json.loads(jws.extract_compact(token.encode()).payload)
    return token, claims.get("licence")
