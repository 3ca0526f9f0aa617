"""Time-based one-time codes (RFC 6238) as this system uses them: 30 s steps, 6 digits,
accepted for their own step and the one before, and each step usable once (the caller records
the step it accepted)."""

import datetime as dt
import hmac

import pyotp

STEP_SECONDS = 30
DIGITS = 6


def totp(secret: str, digits: int = DIGITS, digest=None) -> pyotp.TOTP:
    """The pyotp TOTP object with this system's parameters."""
    kwargs = {"digits": digits, "interval": STEP_SECONDS}
    if digest is not None:
        kwargs["digest"] = digest
    return pyotp.TOTP(secret, **kwargs)


def step_at(when: dt.datetime | float) -> int:
    """The time step number (RFC 6238's T) of a moment."""
    ts = when.timestamp() if isinstance(when, dt.datetime) else when
    return int(ts // STEP_SECONDS)


def matching_step(secret: str, code: str, when: dt.datetime | float, back: int = 1) -> int | None:
    """The step whose code equals `code`: the current one or up to `back` before; else None.

    Compared in constant time; the newest matching step wins.
    """
    code = "".join((code or "").split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    generator = totp(secret)
    now_step = step_at(when)
    for step in range(now_step, now_step - back - 1, -1):
        if hmac.compare_digest(generator.generate_otp(step), code):
            return step
    return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The standard otpauth:// URI that authenticator apps read from a QR code."""
    return totp(secret).provisioning_uri(name=account, issuer_name=issuer)
