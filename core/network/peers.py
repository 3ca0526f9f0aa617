"""Peers trusted on purpose: fetched, shown by fingerprint, added only once an administrator
types the fingerprint the other city read out to them; suspended or removed by hand."""

import json
import logging
import time
from dataclasses import dataclass

from models import (
    OUTBOX_CANCELLED,
    OUTBOX_PENDING,
    PEER_ACTIVE,
    OutboxMessage,
    Peer,
    WitnessedLog,
    db,
    is_postgres,
    utcnow,
    write_tx,
)

from . import http, identity
from .claims import CLAIM_FIELDS, claims_differ, clashes, with_confirmed_claims
from .envelope import EnvelopeError, peek, verify, verify_document
from .identity import FORMAT, INBOX_PATH
from .keys import fingerprint, same_fingerprint

log = logging.getLogger(__name__)
# pg_advisory_xact_lock's key for claims checked and written ("jgclaim" in ASCII).
CLAIMS_LOCK = 0x6A67636C61696D


class PeerError(Exception):
    """Why a peer cannot be added: a `reason` code (the pages say it in the reader's language)
    and the English detail the command line prints."""

    def __init__(self, reason: str, detail: str = "", why: str = ""):
        super().__init__(f"{detail or reason}")
        self.reason, self.detail, self.why = reason, detail, why


@dataclass
class Candidate:
    """A fetched and self-verified document, waiting for the administrator's confirmation."""

    url: str
    document: dict
    kid: str

    @property
    def fingerprint(self) -> str:
        """The fingerprint the administrator confirms with the other city."""
        return fingerprint(self.kid)


def normalise_url(url: str) -> str:
    """A deployment's base URL as compared everywhere (no trailing slash, no spaces)."""
    return (url or "").strip().rstrip("/")


def fetch_candidate(url: str) -> Candidate:
    """Fetch a deployment's document and check that it is signed by its own newest key and
    names the URL it was fetched from. Raises PeerError."""
    url = normalise_url(url)
    try:
        serialized = http.fetch_json(url + "/.well-known/jiaoguan.json")
        document, kid = verify_document(serialized)
    except http.Unreachable as exc:
        raise PeerError("unreachable", f"unreachable: {exc}", why=exc.why) from exc
    except EnvelopeError as exc:
        raise PeerError("refused", f"document refused: {exc}") from exc
    if document.get("jiaoguan") != FORMAT:
        raise PeerError("format", "unknown document format")
    if normalise_url(document.get("base_url")) != url:
        raise PeerError(
            "address", f"the document names another address: {document.get('base_url')!r}"
        )
    ours = {k["kid"] for k in identity.document()["keys"]}
    if url == normalise_url(identity.base_url()) or kid in ours:
        raise PeerError("itself", "this is this deployment itself")
    refuse_clashes(document, url)
    return Candidate(url, document, kid)


def inbox_of(peer: Peer) -> str:
    """Where messages to the peer are posted: the inbox at its own address, whatever its
    document names (core.network.claims refuses a document naming another; a peer added before
    that rule may have)."""
    return peer.base_url + INBOX_PATH


def clashes_beside(document: dict, url: str) -> list[str]:
    """Where the document of the deployment at `url` claims what this deployment or another
    peer (of any status: a suspended one may be resumed) claims (core.network.claims)."""
    others = {"this deployment": identity.document()}
    for peer in Peer.select().where(Peer.base_url != url):
        others[peer.base_url] = peer.doc
    return clashes(document, others)


def refuse_clashes(document: dict, url: str) -> None:
    """PeerError naming every clash of the document's claims, if any."""
    found = clashes_beside(document, url)
    if found:
        raise PeerError("claims", "it claims what is not its own: " + "; ".join(found))


def add_peer(candidate: Candidate, typed: str, added_by: str) -> Peer:
    """Trust the candidate when `typed` is its fingerprint; audited. Raises PeerError."""
    from core.audit import audit

    if not same_fingerprint(typed, candidate.fingerprint):
        raise PeerError(
            "fingerprint", "the fingerprint typed is not the one of this deployment's key"
        )
    with write_tx():
        _lock_claims()
        if Peer.get_or_none(Peer.base_url == candidate.url) is not None:
            raise PeerError("already", "this deployment is a peer already")
        refuse_clashes(candidate.document, candidate.url)  # a peer added meanwhile counts too
        peer = Peer.create(
            base_url=candidate.url,
            name=str(candidate.document.get("name", ""))[:100],
            city=str(candidate.document.get("city", ""))[:50],
            fingerprint=candidate.kid,
            document=json.dumps(candidate.document, ensure_ascii=False),
            added_by=added_by[:60],
        )
        audit(
            "network.peer_added",
            peer,
            detail={"url": peer.base_url, "fingerprint": candidate.fingerprint},
        )
    return peer


# A peer's document is fetched again at most this often by one process: a message with a key
# id we do not know makes us fetch it, and anyone can send one that claims a peer's address.
REFRESH_INTERVAL = 60.0
_refreshed_at: dict[str, float] = {}


def refresh_document(peer: Peer) -> bool:
    """Fetch the peer's document again and take it when a key we already trust signed it: new
    keys (a rotation on the other side) and names at once; new claims (key prefix, offices,
    inbox: core.network.claims) only once an administrator confirms them (confirm_claims),
    meanwhile kept as its pending document. True when what we use of it changed; False,
    without asking, when this process asked less than REFRESH_INTERVAL ago (the sender's
    outbox tries again)."""
    now = time.monotonic()
    if now - _refreshed_at.get(peer.base_url, -REFRESH_INTERVAL) < REFRESH_INTERVAL:
        return False
    _refreshed_at[peer.base_url] = now
    try:
        serialized = http.fetch_json(peer.base_url + "/.well-known/jiaoguan.json")
        document, _ = verify_document(serialized, trusted=peer.doc["keys"])
    except (http.Unreachable, EnvelopeError):
        return False
    if normalise_url(document.get("base_url")) != peer.base_url:
        return False
    confirmed = peer.doc
    taken = with_confirmed_claims(document, confirmed)
    pending = document if claims_differ(document, confirmed) else None
    if pending is not None and pending != peer.pending:
        log.warning("%s publishes new claims: they wait for an administrator", peer.base_url)
    if _same(taken, confirmed) and _same(pending, peer.pending):
        return False
    newest = max(taken["keys"], key=lambda j: int(j.get("nbf", 0)))["kid"]
    text = json.dumps(taken, ensure_ascii=False)
    waiting = json.dumps(pending, ensure_ascii=False) if pending else None
    with write_tx():
        Peer.update(document=text, fingerprint=newest, pending_document=waiting).where(
            Peer.id == peer.id
        ).execute()
    peer.document, peer.fingerprint, peer.pending_document = text, newest, waiting
    return not _same(taken, confirmed)


def _same(one: dict | None, other: dict | None) -> bool:
    """Two documents alike but for the time they were made."""
    if one is None or other is None:
        return one is other
    return {k: v for k, v in one.items() if k != "iat"} == {
        k: v for k, v in other.items() if k != "iat"
    }


def confirm_claims(peer: Peer, actor) -> None:
    """An administrator takes the peer's pending claims, as at peering (PeerError when they
    overlap ours or another peer's, or nothing waits); audited."""
    from core.audit import audit

    with write_tx():
        _lock_claims()
        pending = Peer.get_by_id(peer.id).pending
        if pending is None:
            raise PeerError("nothing_pending", "no new claims wait")
        refuse_clashes(pending, peer.base_url)
        Peer.update(document=json.dumps(pending, ensure_ascii=False), pending_document=None).where(
            Peer.id == peer.id
        ).execute()
        audit(
            "network.peer_claims_confirmed",
            peer,
            actor=actor,
            detail={"url": peer.base_url, "claims": {k: pending.get(k) for k in CLAIM_FIELDS}},
        )


def _lock_claims() -> None:
    """One check-and-write of claims at a time across nodes (adding a peer, confirming claims):
    the write transaction already serialises on SQLite; on PostgreSQL an advisory lock held
    until commit or rollback."""
    if is_postgres():
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (CLAIMS_LOCK,))


def verify_from(peer: Peer, token: str) -> dict:
    """A JWS from the peer (a message or an answer), verified with its keys; once more after
    fetching its document when the key is one we do not know yet (the peer rotated its key).
    EnvelopeError when it does not verify."""
    try:
        return verify(token, peer.doc["keys"])
    except EnvelopeError:
        header, _ = peek(token)
        if header.get("kid") in {j["kid"] for j in peer.doc["keys"]} or not refresh_document(peer):
            raise
        return verify(token, peer.doc["keys"])


def set_status(peer: Peer, status: str, actor=None) -> None:
    """Suspend or resume a peer; audited. A suspended peer is neither heard nor sent to."""
    from core.audit import audit

    with write_tx():
        Peer.update(status=status).where(Peer.id == peer.id).execute()
        action = "network.peer_resumed" if status == PEER_ACTIVE else "network.peer_suspended"
        audit(action, peer, actor=actor, detail={"url": peer.base_url})


def remove_peer(peer: Peer, actor=None, forget_witnessed: bool = False) -> int:
    """Forget a peer; its undelivered messages are cancelled (returns how many). What this
    deployment cosigned of its log is kept, so that a peer removed and added again is held to
    it (a rewritten log stays refused); with `forget_witnessed` (a peer that restored a backup
    and said so) it is forgotten, its size and root kept in the audit row. Audited."""
    from core.audit import audit

    with write_tx():
        cancelled = (
            OutboxMessage.update(status=OUTBOX_CANCELLED, done_at=utcnow(), reason="peer_removed")
            .where(OutboxMessage.recipient == peer.base_url, OutboxMessage.status == OUTBOX_PENDING)
            .execute()
        )
        witnessed = WitnessedLog.get_or_none(WitnessedLog.peer_url == peer.base_url)
        detail = {"url": peer.base_url, "cancelled": cancelled}
        if forget_witnessed and witnessed is not None:
            detail["witnessed"] = {"size": witnessed.tree_size, "root": witnessed.root_hash}
            witnessed.delete_instance()
        audit("network.peer_removed", peer, actor=actor, detail=detail)
        Peer.delete().where(Peer.id == peer.id).execute()
    return cancelled
