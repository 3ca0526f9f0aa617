"""Where a licence check comes from, and which keys are this deployment's.

A check is made by this deployment's own client, or relayed by another city's deployment
(blueprints/licence/relay.py); either way the issuer counts its throttles, and a relayed check's
counts are kept apart per relaying deployment. The typing-key prefix names this deployment to
other cities' verifiers (README, "Checks across cities").
"""

import hashlib
from dataclasses import dataclass

from flask import current_app

from core.audit import client_addr
from models.licence import TYPING_ALPHABET
from rules import licencecode


def key_prefix() -> str:
    """This deployment's typing-key prefix (LICENCE_KEY_PREFIX): the first characters of every
    typing key and share code it makes, published so that other cities relay their checks
    here. At most 2 characters of the keys' own alphabet, so a key keeps 30 random bits."""
    prefix = (current_app.config.get("LICENCE_KEY_PREFIX") or "").strip().upper()
    if len(prefix) > 2 or any(c not in TYPING_ALPHABET for c in prefix):
        raise ValueError(f"LICENCE_KEY_PREFIX {prefix!r}: at most 2 of {TYPING_ALPHABET}")
    return prefix


@dataclass(frozen=True)
class Origin:
    """Where a check comes from: this deployment's own client, or a peer that relayed it.

    A relayed check names the relaying deployment (`relay`, its base URL), its city, the kind
    of checker there and, for staff, their name and office code; `client_addr` is the address
    the relaying deployment reports. Throttles are counted here, at the issuer, per relaying
    deployment and reported address, so they hold across the whole network.
    """

    client_addr: str
    relay: str = ""
    city: str = ""
    kind: str = ""
    name: str = ""
    office: str = ""
    # A relayed staff checker's opaque reference (relay.checker_ref): the same person's next
    # check is told apart from another's, without their account being named here.
    ref: str = ""

    @property
    def relay_tag(self) -> str:
        """The relaying deployment in throttle keys: a digest keeps them short whatever its
        URL ("" for our own client)."""
        return hashlib.sha256(self.relay.encode()).hexdigest()[:12] if self.relay else ""

    @property
    def client(self) -> str:
        """The unit of per-client throttles: the address, within its relaying deployment."""
        return f"{self.relay_tag}|{self.client_addr}" if self.relay else self.client_addr

    @property
    def network(self) -> str:
        """The unit of typed-code delays: the client's network, within its relaying deployment."""
        net = licencecode.client_network(self.client_addr)
        return f"{self.relay_tag}|{net}" if self.relay else net


def local_origin() -> Origin:
    """A check made by this deployment's own client (the request's address)."""
    return Origin(client_addr())
