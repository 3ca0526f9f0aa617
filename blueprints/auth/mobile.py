"""A citizen's new mobile number: asked with the current password (or, for someone who lost the
phone, by a clerk at an office counter who saw the ID card), confirmed with a code sent to the
new number, and told to the old one.

The mobile number logs in, receives the password-reset codes and the notices by SMS, so a
change needs what only the owner has: the password (a session left open is not enough) and
the new phone. Wrong passwords and wrong codes are throttled per account and per address, and
the sends per account and per address (core.identity's limits). The old number is told by SMS
that the number changed, so that a change the owner did not make does not go unnoticed.
"""

import contextlib

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import sms
from core.audit import audit, client_addr
from core.identity import (
    WRONG_PER_ACCOUNT,
    WRONG_PER_ADDR,
    WRONG_WINDOW,
    IdentityRefused,
    identity_proven,
    locked_until,
    send_challenge,
    spend_code,
)
from core.notices import kind, notify
from core.passwords import verify_password
from models import SmsChallenge, Throttle, User, utcnow, write_tx
from rules.validators import mask_mobile

SENDS_PER_ACCOUNT = 3
SENDS_PER_ADDR = 10
SENDS_PER_CLERK = 30  # an office counter serves many people an hour
# What a code of this step is for: its HMAC names it (core.identity.hash_code).
PURPOSE = "mobile-change"
WRONG_CODE = _l("This code is wrong, used or expired. Check the message, or ask for a new code.")
TAKEN = _l("This mobile number is used by another account.")

kind(
    "account.mobile_changed",
    title=_l("Your mobile number was changed"),
    what=_l("This account now uses the mobile number %(to)s (it used %(from_)s)."),
    next_step=_l(
        "Log in and receive codes and messages with the new number. If this was not you, call "
        "the vehicle office at once."
    ),
    endpoint="auth.account",
)


class MobileRefused(IdentityRefused):
    """A step of the change refused, with the end of a lock when one holds (words() says it)."""


def _wrong_keys(user, step: str) -> list[tuple[str, int]]:
    """Throttle keys of wrong passwords ("password") or codes ("code") and their limits."""
    return [
        (f"mobile-{step}:user:{user.id}", WRONG_PER_ACCOUNT),
        (f"mobile-{step}:addr:{client_addr()}", WRONG_PER_ADDR),
    ]


def _refuse_when_locked(keys, message) -> None:
    until = locked_until(keys)
    if until:
        raise MobileRefused(message, until)


def check_new_number(user: User, mobile: str) -> None:
    """MobileRefused at the number's field when it is the account's own or another's."""
    if mobile == user.mobile:
        raise MobileRefused(_l("This is the number the account uses already."), field="mobile")
    if User.select().where(User.mobile == mobile).exists():
        raise MobileRefused(TAKEN, field="mobile")


def send_change_code(user: User, mobile: str, password: str) -> str:
    """Check the password and the new number, and send it a code; returns it masked.
    MobileRefused (with the field at fault) when the password is wrong, the number is the
    account's own or another's, or a limit holds."""
    password_keys = _wrong_keys(user, "password")
    _refuse_when_locked(password_keys, _l("Too many wrong passwords."))
    if not verify_password(user.password_hash, password):
        for key, limit in password_keys:
            Throttle.register_failure(key, limit=limit, window=WRONG_WINDOW)
        raise MobileRefused(_l("The current password is not right."), field="password")
    Throttle.reset(password_keys[0][0])
    check_new_number(user, mobile)
    text = _l(
        "[jiaoguan] Your code to make this number your account's is %(code)s, valid for 10 "
        "minutes. If you did not ask for it, ignore this message."
    )
    return _send_code(
        user, mobile, user, (f"mobile-send:addr:{client_addr()}", SENDS_PER_ADDR), text
    )


def send_counter_code(clerk: User, account: User, mobile: str) -> str:
    """At an office counter, for a person who lost the phone (and maybe the password): after
    seeing the ID card, the clerk sends a code to the new number, which the person reads out.
    Throttled per account and per clerk; returns the number masked."""
    check_new_number(account, mobile)
    text = _l(
        "[jiaoguan] The office counter asks for this code to put this number on your account: "
        "%(code)s, valid for 10 minutes. Tell it only to the clerk in front of you."
    )
    return _send_code(
        account, mobile, clerk, (f"mobile-send:clerk:{clerk.id}", SENDS_PER_CLERK), text
    )


def _send_code(user: User, mobile: str, actor: User, limit: tuple[str, int], text) -> str:
    """Send `user` a code for the new number, counted per account and under `limit` (the
    address's, or the clerk's); returns the number masked."""
    keys = [(f"mobile-send:user:{user.id}", SENDS_PER_ACCOUNT), limit]
    return send_challenge(
        user, mobile, PURPOSE, keys, text, "account.mobile_code_sent", actor, MobileRefused
    )


def pending_mobile(user: User) -> str | None:
    """The new number a live code of this step was sent to, masked; None when there is none."""
    challenge = SmsChallenge.live_for(user, PURPOSE)
    return mask_mobile(challenge.mobile) if challenge is not None else None


def confirm_change(user: User, code: str, clerk: User | None = None) -> User:
    """Make the number the code was sent to the account's (at a counter: named the `clerk`,
    whose wrong codes count too, and every session of the account ends, as the lost phone may
    still be logged in); the old number is told by SMS. MobileRefused when the code is
    wrong, used or expired, when wrong codes locked the step, or when another account took the
    number meanwhile."""
    keys = _wrong_keys(user, "code")
    if clerk is not None:
        keys[1] = (f"mobile-code:clerk:{clerk.id}", WRONG_PER_ADDR)
    _refuse_when_locked(keys, _l("Too many wrong codes."))
    challenge = spend_code(user, code, keys, PURPOSE)
    actor = clerk or user
    if challenge is None:
        audit("account.mobile_changed", user, actor=actor, result="refused")
        raise MobileRefused(WRONG_CODE, field="code")
    with write_tx():
        fresh = User.get_by_id(user.id)
        old = fresh.mobile
        if User.select().where((User.mobile == challenge.mobile) & (User.id != user.id)).exists():
            raise MobileRefused(TAKEN, field="code")
        fresh.mobile = challenge.mobile
        # Tied to the person when a clerk saw the ID card, or the proven account moved to it.
        fresh.mobile_tied_at = utcnow() if clerk is not None or identity_proven(fresh) else None
        fresh.save()
        if clerk is not None:
            fresh.rotate_session_token()  # the lost phone may still be logged in
        words = {"from_": mask_mobile(old), "to": mask_mobile(fresh.mobile)}
        audit("account.mobile_changed", fresh, actor=actor, detail={**words})
        notify(fresh, "account.mobile_changed", **words)
    Throttle.reset(keys[0][0])
    if old:
        text = _(
            "[jiaoguan] Your account now uses the mobile number %(to)s instead of this one. If "
            "this was not you, call the vehicle office at once.",
            to=mask_mobile(fresh.mobile),
        )
        # The change stands if this fails: the account's inbox has the notice.
        with contextlib.suppress(sms.SmsError):
            sms.send(old, text)
    return fresh
