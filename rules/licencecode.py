"""The e-licence's two kinds of code (电子驾驶证核验码), derived from the one secret.

- The typed code: 6 digits (RFC 6238, rules/totp.py), short enough to read out and type, and
  so guessable in about a million tries; the verifier throttles it.
- The QR code: 20 characters of Crockford base32 (100 bits) of HMAC-SHA256 over a purpose
  label and the time step. Nobody types it, so it can be long enough that it cannot be guessed,
  and the QR path needs no per-licence lock that a stranger could trip.

The QR code's message starts with a purpose label, and its MAC is SHA-256 where the typed code's
is SHA-1 over the bare 8-byte step: the two never share a MAC input, so the QR code gives away
nothing about the typed code of the same step (or the other way round).

Both use the same steps, the same "own step and the one before, once only" rule and the same
last-used step of the e-licence. The step length is the caller's (a licence setting); every
function here takes step numbers, never the clock.
"""

import base64
import hashlib
import hmac
import ipaddress
import unicodedata

# Crockford's base32 alphabet: no I, L, O, U (models.licence.TYPING_ALPHABET is the same).
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# RFC 4648's base32 letter for letter into Crockford's (the standard library encodes in C).
RFC4648_TO_CROCKFORD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", CROCKFORD)
# What people (and damaged prints) turn Crockford characters into.
CROCKFORD_READINGS = str.maketrans({"O": "0", "I": "1", "L": "1"})

# The licence code's step (亮码刷新周期): how long one code stays current. The licence
# measure's own setting, independent of the staff authenticator's fixed 30 s (rules/totp.py);
# the code page, its countdown and its hints all read it from here.
CODE_STEP_SECONDS = 30
QR_PURPOSE = b"jiaoguan/e-licence/qr-code/v1"
QR_CODE_LENGTH = 20  # characters: 100 bits, at least the 96 the design asks for
QR_CODE_BITS = QR_CODE_LENGTH * 5
OLD_CODE_DIGITS = 6  # QRs printed before the long code carried the 6-digit typed code


def secret_bytes(secret_b32: str) -> bytes:
    """The key behind an e-licence secret stored as (unpadded) RFC 4648 base32."""
    padded = secret_b32.upper() + "=" * (-len(secret_b32) % 8)
    return base64.b32decode(padded)


def crockford(data: bytes, length: int) -> str:
    """The first `length` * 5 bits of `data` in Crockford base32, most significant first."""
    if length * 5 > len(data) * 8:
        raise ValueError("not enough bits for that many characters")
    return base64.b32encode(data).decode()[:length].translate(RFC4648_TO_CROCKFORD)


def _qr_code(key: bytes, step: int) -> str:
    message = QR_PURPOSE + b"\x00" + step.to_bytes(8, "big")
    return crockford(hmac.new(key, message, hashlib.sha256).digest(), QR_CODE_LENGTH)


def qr_code(secret_b32: str, step: int) -> str:
    """The QR code of one time step: HMAC-SHA256(key, label || 0x00 || step as 8 bytes)."""
    return _qr_code(secret_bytes(secret_b32), step)


def normalise(code: str | None) -> str:
    """A QR code, typing key or share code as printed or typed back: full-width characters of
    a Chinese input method (ＱＤ－３７), case, spaces, hyphens and Crockford's look-alikes
    forgiven."""
    compact = "".join(unicodedata.normalize("NFKC", code or "").split()).replace("-", "").upper()
    return compact.translate(CROCKFORD_READINGS)


def is_qr_code(code: str | None) -> bool:
    """Has the shape of a QR code (it may still be wrong)."""
    value = normalise(code)
    return len(value) == QR_CODE_LENGTH and all(c in CROCKFORD for c in value)


def is_old_format(code: str | None) -> bool:
    """A 6-digit code in a QR URL: a QR made before the long code (a stale page or screenshot)."""
    value = "".join((code or "").split())
    return len(value) == OLD_CODE_DIGITS and value.isdigit()


def matching_qr_step(secret_b32: str, code: str | None, now_step: int, back: int = 1) -> int | None:
    """The step whose QR code equals `code`: `now_step` or up to `back` before; else None.

    Compared in constant time; the newest matching step wins.
    """
    if not is_qr_code(code):
        return None
    value, key = normalise(code), secret_bytes(secret_b32)
    for step in range(now_step, now_step - back - 1, -1):
        if hmac.compare_digest(_qr_code(key, step), value):
            return step
    return None


# Typed codes (6 digits) are guessable, so wrong ones slow down their sender: the first few are
# free (people mistype), then each costs a doubling wait, up to a few minutes. One client so
# gets about ten tries in ten minutes.
TYPED_FREE_FAILURES = 3
TYPED_FIRST_DELAY = 5
TYPED_MAX_DELAY = 300


def typed_delay(failures: int) -> int:
    """Seconds one client must wait before typing this key again after `failures` wrong codes
    in the window: 0, 0, 0, 5, 10, 20, ... up to TYPED_MAX_DELAY."""
    if failures <= TYPED_FREE_FAILURES:
        return 0
    return min(TYPED_FIRST_DELAY * 2 ** (failures - TYPED_FREE_FAILURES - 1), TYPED_MAX_DELAY)


def client_network(addr: str) -> str:
    """The unit typed-code delays are counted per: an IPv4 address, or an IPv6 /64 (one
    subscriber's whole allocation, so hopping addresses inside it buys nothing)."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return addr[:64]
    if ip.version == 4:
        return str(ip)
    if ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))
