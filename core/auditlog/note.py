"""Signed notes (C2SP signed-note) and the checkpoints they carry (C2SP tlog-checkpoint).

A checkpoint is the log's signed statement "my tree has N entries and this root": three lines
(origin, tree size, base64 root hash), a blank line, then one signature line per key,
"— <key name> base64(key id || Ed25519 signature)". The key id is the first four bytes of
SHA-256(key name || 0x0A || 0x01 || public key), as the spec recommends; the verifier key is
written "<name>+<hex key id>+base64(0x01 || public key)" as Go's sumdb/note and the witness
tools read it. No well-kept Python package implements the format (sigstore-python only
parses Rekor's checkpoints), and it is this small, so it is written here to the spec and
tested against the Go reference note (tests/core/test_auditlog_note.py).
"""

import base64
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

# A checkpoint's tree size: ASCII digits, no leading zero.
TREE_SIZE = re.compile(r"0|[1-9][0-9]*")

ED25519 = b"\x01"  # the signature type byte of plain Ed25519 signatures
DASH = "\u2014"


class NoteError(ValueError):
    """A note that is malformed or carries no valid signature of the key asked for."""


def raw_public(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32-byte RFC 8032 encoding of a public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public: bytes) -> bytes:
    """SHA-256(key name || 0x0A || 0x01 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def verifier_key(name: str, public: bytes) -> str:
    """The text form of a verifier key: name+hex(key id)+base64(0x01 || public key)."""
    encoded = base64.b64encode(ED25519 + public).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def parse_verifier_key(vkey: str) -> tuple[str, bytes]:
    """(name, 32-byte public key) of a verifier key; NoteError when it does not add up."""
    try:
        name, kid, encoded = vkey.split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise NoteError("malformed verifier key") from exc
    if not name or raw[:1] != ED25519 or len(raw) != 33 or key_id(name, raw[1:]).hex() != kid:
        raise NoteError("malformed verifier key")
    return name, raw[1:]


def sign(text: str, name: str, key: Ed25519PrivateKey) -> str:
    """The signed note of `text` (which ends in a newline) under key `name`."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("a note's text ends in one newline and has no blank line here")
    signature = key.sign(text.encode())
    blob = base64.b64encode(key_id(name, raw_public(key)) + signature).decode()
    return f"{text}\n{DASH} {name} {blob}\n"


def _split(note: str) -> tuple[str, list[tuple[str, bytes]]]:
    """(text, [(key name, key id || signature)]) of a signed note; NoteError when malformed."""
    text, sep, sigs = note.rpartition("\n\n")
    if not sep or not sigs.endswith("\n"):
        raise NoteError("not a signed note")
    signatures = []
    for line in sigs[:-1].split("\n"):
        prefix, _, rest = line.partition(" ")
        name, _, blob = rest.partition(" ")
        try:
            raw = base64.b64decode(blob, validate=True)
        except ValueError as exc:
            raise NoteError("malformed signature line") from exc
        if prefix != DASH or not name or len(raw) < 5:
            raise NoteError("malformed signature line")
        signatures.append((name, raw))
    return text + "\n", signatures


def add_signature(note: str, name: str, key: Ed25519PrivateKey) -> str:
    """The signed note with a signature of `key` under `name` added (the note as it was when
    one of its lines is that key's already): a note may carry several signatures, and each
    verifier reads those of the keys it knows."""
    text, signatures = _split(note)
    wanted = key_id(name, raw_public(key))
    if any(signer == name and raw[:4] == wanted for signer, raw in signatures):
        return note
    return note + sign(text, name, key).rpartition("\n\n")[2]


def open_note(note: str, vkeys: list[str]) -> str:
    """The text of a note signed by one of the verifier keys; NoteError otherwise."""
    text, signatures = _split(note)
    known = {}
    for vkey in vkeys:
        name, public = parse_verifier_key(vkey)
        known[(name, key_id(name, public))] = public
    verified = False
    for name, raw in signatures:
        public = known.get((name, raw[:4]))
        if public is None:
            continue  # a signature of a key not asked for (say, a witness's) is ignored
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], text.encode())
        except InvalidSignature as exc:
            raise NoteError(f"the signature of {name} does not verify") from exc
        verified = True
    if not verified:
        raise NoteError("no signature of a known key")
    return text


@dataclass(frozen=True)
class Checkpoint:
    """The body of a checkpoint: which log, how many entries, the root of their tree."""

    origin: str
    size: int
    root: bytes

    def text(self) -> str:
        """The checkpoint's note text (no extension lines)."""
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        """A checkpoint from its note text; NoteError when it is not one."""
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("not a checkpoint")
        origin, size, root = lines[:3]
        # ASCII digits, no leading zero, and within the stored (signed 64-bit) size.
        if not TREE_SIZE.fullmatch(size) or int(size) >= 2**63:
            raise NoteError("bad tree size")
        try:
            digest = base64.b64decode(root, validate=True)
        except ValueError as exc:
            raise NoteError("bad root hash") from exc
        if not origin or len(digest) != 32:
            raise NoteError("not a checkpoint")
        return cls(origin, int(size), digest)
