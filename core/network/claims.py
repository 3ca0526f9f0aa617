"""What a deployment's document claims as its own, and the rule that no two deployments of the
network claim the same (docs/DESIGN.md#between-deployments-the-network).

A document claims three things that route traffic to it: the first characters of its licence
keys and share codes (a typed check of such a key is sent there), its offices' codes and plate
prefixes (a sale of a car with such a plate asks there), and its inbox (where messages are
posted). A peer could otherwise publish another city's prefix, or a shorter one that begins it,
and be sent that city's checks and sellers' ID numbers; or name an inbox at an address inside
our own network. So a document whose claims overlap ours or another peer's is refused when
it is added, and the inbox must be at the deployment's own address. A newer document's claims
are taken only once an administrator confirms them (core.network.peers.refresh_document), as at
peering: a trusted peer could otherwise take up, by a refresh, the prefix of a city not peered
yet. Two prefixes overlap when one begins the other (a peer's "Q" takes every "QD" key).
"""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .identity import INBOX_PATH


@dataclass(frozen=True)
class Claims:
    """What one document claims."""

    key_prefix: str = ""
    plate_prefixes: frozenset[str] = field(default_factory=frozenset)
    office_codes: frozenset[str] = field(default_factory=frozenset)


# The fields of a document that are its claims: taken only as an administrator confirmed them.
CLAIM_FIELDS = ("licence_key_prefix", "offices", "inbox")


def with_confirmed_claims(document: dict, confirmed: dict) -> dict:
    """A newer document with the claims of the confirmed one (its keys, names and the rest
    as it publishes them now)."""
    taken = {k: v for k, v in document.items() if k not in CLAIM_FIELDS}
    return {**taken, **{k: confirmed[k] for k in CLAIM_FIELDS if k in confirmed}}


def claims_differ(document: dict, confirmed: dict) -> bool:
    """Whether a newer document claims otherwise than the confirmed one."""
    return any(document.get(k) != confirmed.get(k) for k in CLAIM_FIELDS)


def claims_of(document: dict) -> Claims:
    """The claims a document makes (a malformed office claims nothing)."""
    offices = [o for o in document.get("offices") or [] if isinstance(o, dict)]
    return Claims(
        key_prefix=str(document.get("licence_key_prefix") or "").strip().upper(),
        plate_prefixes=frozenset(str(o.get("plate_prefix") or "") for o in offices) - {""},
        office_codes=frozenset(str(o.get("code") or "") for o in offices) - {""},
    )


def overlap(a: str, b: str) -> bool:
    """Whether two prefixes would route some of the same keys or plates."""
    return bool(a) and bool(b) and (a.startswith(b) or b.startswith(a))


def clashes(document: dict, others: dict[str, dict]) -> list[str]:
    """Why `document` may not be trusted beside the documents of `others` (a name for each,
    ours among them): every claim it shares with one of them, and an inbox away from its own
    address. Empty when none."""
    mine = claims_of(document)
    found = []
    for name, other_document in others.items():
        theirs = claims_of(other_document)
        if overlap(mine.key_prefix, theirs.key_prefix):
            found.append(f"licence key prefix {mine.key_prefix!r} overlaps {name}'s")
        for plate in sorted(mine.plate_prefixes):
            if any(overlap(plate, other) for other in theirs.plate_prefixes):
                found.append(f"plate prefix {plate!r} overlaps {name}'s")
        for code in sorted(mine.office_codes & theirs.office_codes):
            found.append(f"office {code} is {name}'s")
    if not inbox_at_home(document):
        found.append(f"its inbox {document.get('inbox')!r} is not at its own address")
    return found


def inbox_at_home(document: dict) -> bool:
    """Whether the document's inbox is the deployment's own: its base URL and the inbox path."""
    base = urlsplit(str(document.get("base_url") or ""))
    inbox = urlsplit(str(document.get("inbox") or ""))
    return (
        base.scheme in ("http", "https")
        and (inbox.scheme, inbox.netloc.lower()) == (base.scheme, base.netloc.lower())
        and inbox.path == base.path.rstrip("/") + INBOX_PATH
        and not inbox.query
        and not inbox.fragment
    )
