"""The deployment's signing keys (Ed25519): made on first use, kept in files, rotated by hand.

The private keys live in one JSON file in the key folder (NETWORK_KEY_FOLDER, by default
`instance/network`), mode 600 in a mode 700 folder, never in the database: a database backup
or dump must not carry the deployment's identity. Each key has a key id (its RFC 7638 JWK
thumbprint) and a validity window; the newest valid key signs, and every key not yet expired
stays published, so messages and documents signed before a rotation still verify.
"""

import base64
import fcntl
import functools
import hmac
import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass

import click
from flask import current_app
from joserfc.jwk import KeySet, OKPKey

ALG = "Ed25519"  # the fully-specified JOSE name of EdDSA over Ed25519 (RFC 9864)
KEY_FILE = "keys.json"
DAY = 86400


@dataclass(frozen=True)
class SigningKey:
    """One key pair of this deployment with its validity (Unix seconds)."""

    key: OKPKey
    kid: str
    nbf: int
    exp: int

    def public_jwk(self) -> dict:
        """The public half as a JWK with its id, use and validity (as published)."""
        return {
            **self.key.as_dict(private=False),
            "kid": self.kid,
            "use": "sig",
            "alg": ALG,
            "nbf": self.nbf,
            "exp": self.exp,
        }


def key_folder() -> str:
    """Where this deployment's keys are kept (made, mode 700, when missing)."""
    folder = current_app.config["NETWORK_KEY_FOLDER"]
    os.makedirs(folder, mode=0o700, exist_ok=True)
    return folder


@contextmanager
def _locked(folder: str):
    """Hold an exclusive lock on the folder's lock file: two workers of one node starting at
    once must not both make a first key (each would sign with a key the other never saw)."""
    fd = os.open(os.path.join(folder, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _read(folder: str) -> list[dict]:
    """The key entries on file (none before the first key is made)."""
    try:
        with open(os.path.join(folder, KEY_FILE)) as fh:
            return json.load(fh)["keys"]
    except FileNotFoundError:
        return []


def _write(folder: str, entries: list[dict]) -> None:
    """Replace the key file atomically, created mode 600 (never readable by others)."""
    tmp = os.path.join(folder, f".{KEY_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"keys": entries}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, os.path.join(folder, KEY_FILE))


def _new_entry(days: int, now: int) -> dict:
    """A fresh key pair, its thumbprint as kid, valid from now for `days`."""
    key = OKPKey.generate_key("Ed25519", private=True)
    return {
        "jwk": key.as_dict(private=True),
        "kid": key.thumbprint(),
        "nbf": now,
        "exp": now + days * DAY,
    }


def _as_key(entry: dict) -> SigningKey:
    """A key entry on file as a SigningKey."""
    return SigningKey(OKPKey.import_key(entry["jwk"]), entry["kid"], entry["nbf"], entry["exp"])


class KeysMissing(RuntimeError):
    """The key file is gone while the database holds checkpoints this deployment signed."""


MISSING = (
    "the deployment's signing keys ({path}) are missing, but its database holds checkpoints "
    "signed with them: put back the key folder from the backup (README, 'Restoring a "
    "backup'). To start a new identity on purpose (the peers must be told and peer again; the "
    "old checkpoints no longer verify), run `flask network rotate-key`."
)


def said_when_missing(command):
    """A command that needs the keys says KeysMissing in one sentence (exit 1), not as a
    traceback."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except KeysMissing as exc:
            raise click.ClickException(str(exc)) from None

    return wrapped


def _signed_before() -> bool:
    """Whether this deployment has signed before: a checkpoint of its log (each is signed
    with its key). A first key made then would be a new identity nobody knows. (A peer proves
    nothing: one may be added from the command line before our key was ever used.)"""
    from models import AuditCheckpoint, db

    if not db.is_closed():  # a request's connection: left open for it
        return AuditCheckpoint.select().exists()
    with db.connection_context():
        return AuditCheckpoint.select().exists()


def all_keys(now: int | None = None, expired: bool = False) -> list[SigningKey]:
    """Every key not yet expired (every key ever made, with `expired`: the audit log's old
    checkpoints stay verifiable), newest first; the first one is made on first use, never
    silently after the key file was lost (KeysMissing: a restore without its keys)."""
    now = int(time.time()) if now is None else now
    folder = key_folder()
    entries = _read(folder)
    if not entries and _signed_before():
        raise KeysMissing(MISSING.format(path=os.path.join(folder, KEY_FILE)))
    if not any(e["exp"] > now for e in entries):
        with _locked(folder):
            entries = _read(folder)
            if not any(e["exp"] > now for e in entries):
                entries.append(_new_entry(current_app.config["NETWORK_KEY_DAYS"], now))
                _write(folder, entries)
    # Newest first; of two made in the same second, the one made later (later on file).
    kept = [(e["nbf"], n, e) for n, e in enumerate(entries) if expired or e["exp"] > now]
    return [_as_key(e) for _nbf, _n, e in sorted(kept, key=lambda t: t[:2], reverse=True)]


def signing_key() -> SigningKey:
    """The key that signs now: the newest one already valid."""
    now = int(time.time())
    return next(k for k in all_keys(now) if k.nbf <= now)


# How long a retired key lives on (rotate's retire_old): a day in which it still signs our
# document beside the new key, so that the peers, which trust only keys they know, take the
# new key and the old one's new end from it.
RETIRE_AFTER = DAY


def rotate(retire_old: bool = False) -> SigningKey:
    """Add a new key, which signs from now on; the older ones stay published until they expire,
    or, with `retire_old` (a key that may have leaked), within RETIRE_AFTER: the peers learn
    the new end when they next fetch our document (our next message, signed by a key they do
    not know yet, makes them), and take nothing the old key signs after it. Here it still
    verifies what it signed before (the audit log's old checkpoints)."""
    folder = key_folder()
    now = int(time.time())
    with _locked(folder):
        entries = _read(folder)
        if retire_old:
            entries = [{**e, "exp": min(e["exp"], now + RETIRE_AFTER)} for e in entries]
        entry = _new_entry(current_app.config["NETWORK_KEY_DAYS"], now)
        _write(folder, [*entries, entry])
    return _as_key(entry)


def fingerprint(kid: str) -> str:
    """A key id (base64url SHA-256 thumbprint) as upper-case hex in groups of four: easier to
    read aloud on the telephone to the other city than base64."""
    raw = base64.urlsafe_b64decode(kid + "=" * (-len(kid) % 4))
    text = raw.hex().upper()
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def same_fingerprint(typed: str, expected: str) -> bool:
    """Whether what the administrator typed is the fingerprint (spaces, colons, case ignored)."""

    def norm(s: str) -> str:
        """Without separators, upper case."""
        return "".join(ch for ch in s.upper() if ch not in " :-\t\n")

    return bool(typed) and hmac.compare_digest(norm(typed), norm(expected))


def public_key_set(jwks: list[dict]) -> KeySet:
    """A joserfc key set of published public JWKs (their validity fields are ignored here)."""
    return KeySet([OKPKey.import_key(j, {"kid": j["kid"]}) for j in jwks])
