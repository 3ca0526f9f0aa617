"""Time-based one-time codes (RFC 6238) as this system uses them: 6 digits, accepted for their
own step and the one before, and each step usable once (the caller records the step it
accepted).

Two clocks use them, and each names its own step: the staff authenticator's is fixed at
AUTHENTICATOR_STEP_SECONDS, while the licence code's (亮码) is the licence measure's setting
(rules/licencecode.py CODE_STEP_SECONDS). No function here has a default step, so that
changing one clock cannot move the other.
"""

import datetime as dt
import hmac
import unicodedata

import pyotp

# Fixed, not a setting: authenticator apps (Google Authenticator among them) ignore the period
# of the otpauth:// URI and always show 30-second codes, so any other value locks staff out.
AUTHENTICATOR_STEP_SECONDS = 30
DIGITS = 6


def totp(secret: str, *, step: int, digits: int = DIGITS, digest=None) -> pyotp.TOTP:
    """The pyotp TOTP object for `secret` with a step of `step` seconds."""
    kwargs = {"digits": digits, "interval": step}
    if digest is not None:
        kwargs["digest"] = digest
    return pyotp.TOTP(secret, **kwargs)


def step_at(when: dt.datetime | float, *, step: int) -> int:
    """The time step number (RFC 6238's T) of a moment, for steps of `step` seconds."""
    ts = when.timestamp() if isinstance(when, dt.datetime) else when
    return int(ts // step)


def seconds_left(when: float, *, step: int) -> int:
    """The whole seconds the code of `when`'s step stays current (1 to `step`)."""
    return step - int(when % step)


def typed_digits(code: str | None) -> str:
    """A code as typed, read as the digits meant: spaces dropped ("123 456", as pages show
    it) and full-width digits (a Chinese input method's １２３４５６) made ASCII."""
    return "".join(unicodedata.normalize("NFKC", code or "").split())


def well_formed(code: str) -> bool:
    """True when `code` (already read by typed_digits) is six ASCII digits."""
    return len(code) == DIGITS and code.isascii() and code.isdigit()


def matching_step(
    secret: str, code: str, when: dt.datetime | float, *, step: int, back: int = 1
) -> int | None:
    """The step whose code equals `code`: the current one or up to `back` before; else None.

    Compared in constant time; the newest matching step wins.
    """
    code = typed_digits(code)
    if not well_formed(code):
        return None
    generator = totp(secret, step=step)
    now_step = step_at(when, step=step)
    for number in range(now_step, now_step - back - 1, -1):
        if hmac.compare_digest(generator.generate_otp(number), code):
            return number
    return None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The standard otpauth:// URI that authenticator apps read from a QR code (staff only)."""
    return totp(secret, step=AUTHENTICATOR_STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )
