"""Cosignatures (C2SP tlog-cosignature v1): a witness's signed statement about a checkpoint.

A cosignature is one more signature line on the log's checkpoint note:
"— <cosigner name> base64(key id || u64 timestamp || Ed25519 signature)", where the key id is
SHA-256(name || 0x0A || 0x04 || public key)[:4] and the signed message is
"cosignature/v1\\ntime <timestamp>\\n" followed by the checkpoint's note text. It says: as of
that time, this is the largest tree of that log the witness saw that is consistent with
everything it saw before.

The witness signs with its deployment key, the one its peers already trust by fingerprint:
the spec lets a key serve another format under another signature type byte (0x04 here, 0x01
for the log's own checkpoints), and the "cosignature/v1" header keeps the two messages apart.
The cosigner name is the deployment's address without the scheme, then /witness.
"""

import base64
import hashlib
import struct

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .note import DASH, NoteError, raw_public

COSIGNATURE_V1 = b"\x04"  # the signature type byte of timestamped Ed25519 cosignatures
HEADER = "cosignature/v1"


def cosigner_name(base_url: str) -> str:
    """The cosigner key name of the deployment at `base_url` (schema-less, as C2SP advises)."""
    return base_url.split("://", 1)[-1].rstrip("/") + "/witness"


def key_id(name: str, public: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x04 || public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + COSIGNATURE_V1 + public).digest()[:4]


def cosigner_key(name: str, public: bytes) -> str:
    """A cosigner's verifier key in C2SP text form, `name+hex key id+base64(0x04 || key)`: what
    docs/verify_receipt.py --witness takes."""
    encoded = base64.b64encode(COSIGNATURE_V1 + public).decode()
    return f"{name}+{key_id(name, public).hex()}+{encoded}"


def message(text: str, timestamp: int) -> bytes:
    """What a cosigner signs: the header line, the time line, then the checkpoint's text."""
    return f"{HEADER}\ntime {timestamp}\n{text}".encode()


def cosign(text: str, name: str, key: Ed25519PrivateKey, timestamp: int) -> str:
    """The cosignature line of the checkpoint note text `text` (its final newline included)."""
    signature = key.sign(message(text, timestamp))
    blob = key_id(name, raw_public(key)) + struct.pack(">Q", timestamp) + signature
    return f"{DASH} {name} {base64.b64encode(blob).decode()}"


def verify_cosignature(line: str, text: str, name: str, publics: list[bytes]) -> int:
    """The timestamp of a cosignature line by `name` with one of the `publics` (raw Ed25519
    keys) over the checkpoint text `text`; NoteError when it is not one."""
    prefix, _, rest = line.strip("\n").partition(" ")
    signer, _, blob = rest.partition(" ")
    try:
        raw = base64.b64decode(blob, validate=True)
    except ValueError as exc:
        raise NoteError("malformed cosignature line") from exc
    if prefix != DASH or signer != name or len(raw) != 4 + 8 + 64:
        raise NoteError("malformed cosignature line")
    timestamp = struct.unpack(">Q", raw[4:12])[0]
    if timestamp >= 2**63:
        raise NoteError("cosignature time out of range")
    for public in publics:
        if key_id(name, public) != raw[:4]:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[12:], message(text, timestamp))
        except InvalidSignature as exc:
            raise NoteError(f"the cosignature of {name} does not verify") from exc
        return timestamp
    raise NoteError(f"no key of {name} made this cosignature")
