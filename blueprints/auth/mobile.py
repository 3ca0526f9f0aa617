"""A citizen's new mobile number: asked with the current password (or, for someone who lost the
phone or whose ID number someone else registered, by a clerk at an office counter who saw the
ID card), confirmed with a code sent to the new number, and told to the old one.

The mobile number logs in, receives the password-reset codes and the notices by SMS, so a
change needs what only the owner has: the password (a session left open is not enough) and
the new phone. Wrong passwords and wrong codes are throttled per account and per address (at a
counter: per clerk), and the sends too. A change retires every other code of the account, and
the old number is told by SMS, so that a change the owner did not make does not go unnoticed.
"""

import contextlib
import secrets

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from core import sms
from core.audit import audit, client_net
from core.identity import (
    WRONG_CODE,
    WRONG_PER_ACCOUNT,
    WRONG_PER_ADDR,
    WRONG_WINDOW,
    IdentityRefused,
    help_line,
    identity_proven,
    is_second_clerk,
    refuse_when_locked,
    send_challenge,
    spend_code,
    with_help_line,
)
from core.notices import kind, locale_of, notify
from core.passwords import hash_password, verify_password
from models import SmsChallenge, Throttle, User, utcnow, write_tx
from rules.validators import mask_mobile

SENDS_PER_ACCOUNT = 3
SENDS_PER_ADDR = 10
SENDS_PER_NUMBER = 3  # codes to one new number, from all accounts together
SENDS_PER_CLERK = 20  # an office counter serves many people an hour, a clerk not hundreds
# What a code is for: its HMAC names it (core.identity.hash_code). The counter's codes have
# their own purpose and counters: a session left on a lost phone cannot see, void or lock them.
PURPOSE = "mobile-change"
COUNTER_PURPOSE = "mobile-counter"
TAKEN = _l(
    "This mobile number is used by another account. If that account is yours, log in with it or "
    "reset its password."
)

kind(
    "account.mobile_changed",
    title=_l("Your mobile number was changed"),
    what=_l("This account now uses the mobile number %(to)s (it used %(from_)s)."),
    next_step=_l(
        "Log in and receive codes and messages with the new number. If this was not you, call "
        "the vehicle office%(help_line)s at once."
    ),
    endpoint="auth.account",
    prepare=with_help_line,
)
kind(
    "account.password_changed",
    title=_l("Your password was changed"),
    what=_l("The password of this account was changed, and its other sessions were logged out."),
    next_step=_l(
        "Nothing to do if it was you. If it was not, reset the password at once and call the "
        "vehicle office%(help_line)s."
    ),
    endpoint="auth.account",
    prepare=with_help_line,
    security=True,
)


class MobileRefused(IdentityRefused):
    """A step of the change refused, with the end of a lock when one holds (words() says it)."""


def _keys(step: str, user: User, clerk: User | None = None) -> list[tuple[str, int]]:
    """Throttle keys of wrong passwords ("password") or codes ("code"), with their limits: per
    account, and per address (at a counter: per clerk)."""
    if clerk is not None:
        return [
            (f"mobile-counter-{step}:user:{user.id}", WRONG_PER_ACCOUNT),
            (f"mobile-counter-{step}:clerk:{clerk.id}", WRONG_PER_ADDR),
        ]
    return [
        (f"mobile-{step}:user:{user.id}", WRONG_PER_ACCOUNT),
        (f"mobile-{step}:net:{client_net()}", WRONG_PER_ADDR),
    ]


def _taken(mobile: str, user: User) -> bool:
    return User.select().where((User.mobile == mobile) & (User.id != user.id)).exists()


def _refuse_during_counter_change(user: User) -> None:
    """A clerk is changing the number after seeing the ID card (a lost phone): whoever holds
    that phone must not race the counter with a number of their own."""
    if SmsChallenge.live_for(user, COUNTER_PURPOSE) is not None:
        raise MobileRefused(_l("An office counter is changing this account's number just now."))


def check_new_number(user: User, mobile: str) -> None:
    """MobileRefused at the number's field when it is the account's own or another's."""
    if mobile == user.mobile:
        raise MobileRefused(_l("This is the number the account uses already."), field="mobile")
    if _taken(mobile, user):
        raise MobileRefused(TAKEN, field="mobile")


def check_current_password(user: User, password: str, field: str) -> None:
    """The account's current password, asked before a change (of the number, of the password):
    MobileRefused at `field` when wrong, or while too many wrong ones lock it. Counted per
    account and per network together for every such page, and audited: a session left open
    on a shared computer is not a way to guess the password at leisure."""
    password_keys = _keys("password", user)
    refuse_when_locked(password_keys, _l("Too many wrong passwords."), MobileRefused, field)
    if not verify_password(user.password_hash, password):
        with write_tx():
            for key, limit in password_keys:
                Throttle.register_failure(key, limit=limit, window=WRONG_WINDOW)
            audit("account.password_wrong", user, actor=user, result="refused")
        raise MobileRefused(_l("The current password is not right."), field=field)
    Throttle.reset(password_keys[0][0])


def send_change_code(user: User, mobile: str, password: str) -> str:
    """Check the password and the new number, and send it a code; returns it masked.
    MobileRefused (with the field at fault) when the password is wrong, the number is the
    account's own or another's, or a limit holds."""
    _refuse_during_counter_change(user)
    check_current_password(user, password, "password")
    check_new_number(user, mobile)
    text = _l(
        "[jiaoguan] Your code to make this number your account's is %(code)s, valid for 10 "
        "minutes. If you did not ask for it, ignore this message."
    )
    keys = [
        (f"mobile-send:user:{user.id}", SENDS_PER_ACCOUNT),
        (f"mobile-send:net:{client_net()}", SENDS_PER_ADDR),
        # A number is not someone's to be sent codes by every account a stranger registers.
        (f"mobile-send:to:{mobile}", SENDS_PER_NUMBER),
    ]
    return send_challenge(
        user, mobile, PURPOSE, keys, text, "account.mobile_code_sent", user, MobileRefused
    )


def _counter_send_keys(clerk: User, account: User) -> list[tuple[str, int]]:
    """Throttle keys of the counter's sends, with their limits: per account and per clerk."""
    return [
        (f"mobile-counter-send:user:{account.id}", SENDS_PER_ACCOUNT),
        (f"mobile-counter-send:clerk:{clerk.id}", SENDS_PER_CLERK),
    ]


def _check_counter_change(clerk: User, account: User, mobile: str) -> None:
    """MobileRefused (at its field) unless `account` is an active citizen's, `mobile` may
    become its number and no limit of the sends holds."""
    if account.is_staff or not account.active:
        raise MobileRefused(_l("This is not an active citizen's account."), field="resident_id")
    check_new_number(account, mobile)
    refuse_when_locked(
        _counter_send_keys(clerk, account), _l("Too many codes were sent."), MobileRefused
    )


def send_counter_code(clerk: User, account: User, mobile: str, confirm) -> tuple[str, User]:
    """At an office counter, for a person who lost the phone or whose ID number someone else
    registered: after seeing the ID card, the clerk, confirmed by a second clerk, sends a code
    to the person's number, which they read out. `confirm()` returns that clerk
    (blueprints/identity/countersign.py), asked only once everything else allows the send, so
    that a confirmation is spent only on a code that is then sent. Every session of the
    account ends now (a session left on a lost phone must not interfere). Throttled per account
    and per clerk; returns the number masked and the second clerk."""
    _check_counter_change(clerk, account, mobile)
    witness = confirm()
    if not is_second_clerk(clerk, witness):
        raise MobileRefused(_l("A second clerk must confirm the new number."))
    text = _l(
        "[jiaoguan] The office counter asks for this code to bind this number to your account: "
        "%(code)s, valid for 10 minutes. Tell it only to the clerk in front of you."
    )
    keys = _counter_send_keys(clerk, account)
    masked = send_challenge(
        account,
        mobile,
        COUNTER_PURPOSE,
        keys,
        text,
        "account.mobile_code_sent",
        clerk,
        MobileRefused,
    )
    with write_tx():  # once the code is on its way (a refused send ends no session)
        User.get_by_id(account.id).rotate_session_token()
    return masked, witness


def pending_mobile(user: User) -> str | None:
    """The new number a live code of the citizen's own change was sent to, masked; None when
    there is none."""
    challenge = SmsChallenge.live_for(user, PURPOSE)
    return mask_mobile(challenge.mobile) if challenge is not None else None


def confirm_change(
    user: User, code: str, clerk: User | None = None, witness: User | None = None
) -> User:
    """Make the number the code was sent to the account's; every other code of the account is
    retired (one sent to the old number, a reset code say, must open nothing), and the old
    number is told by SMS.

    At a counter (`clerk`): the password is made unusable and the e-mail address dropped (they
    may be a thief's, or the impostor's who registered the ID number) and every session ends.
    Confirmed by a second clerk (`witness`, named in its audit row), who also saw the ID card
    of the person holding the new phone, the number is tied to the person: the reset that
    follows keeps the account's identity proofs. Without one (no view does that) it is not,
    and that reset withdraws them. MobileRefused when the code is wrong, used or expired, when
    wrong codes locked the step, or when another account has the number meanwhile."""
    purpose = COUNTER_PURPOSE if clerk is not None else PURPOSE
    if clerk is None:
        _refuse_during_counter_change(user)
    keys = _keys("code", user, clerk)
    refuse_when_locked(keys, _l("Too many wrong codes."), MobileRefused)
    actor = clerk or user

    def still_free(challenge) -> None:
        if _taken(challenge.mobile, user):
            audit("account.mobile_changed", user, actor=actor, result="refused")
            raise MobileRefused(TAKEN, field="code")

    challenge = spend_code(user, code, keys, purpose, check=still_free)
    if challenge is None:
        audit("account.mobile_changed", user, actor=actor, result="refused")
        raise MobileRefused(WRONG_CODE, field="code")
    unusable = hash_password(secrets.token_urlsafe(32)) if clerk is not None else None
    try:
        with write_tx():
            fresh = User.get_by_id(user.id)
            old = fresh.mobile
            fresh.mobile = challenge.mobile
            if clerk is not None:
                fresh.password_hash = unusable
                fresh.email, fresh.notice_email = None, False
                # Two clerks saw the card of the person holding this phone (countersign).
                fresh.mobile_tied_at = utcnow() if witness is not None else None
                fresh.rotate_session_token()
            else:
                # Tied to the person when the account moving to it is proven.
                fresh.mobile_tied_at = utcnow() if identity_proven(fresh) else None
            fresh.save()
            SmsChallenge.retire_all(fresh)
            words = {"from_": mask_mobile(old), "to": mask_mobile(fresh.mobile)}
            confirmed = {"witness": witness.username} if witness is not None else {}
            audit("account.mobile_changed", fresh, actor=actor, detail={**words, **confirmed})
            notify(fresh, "account.mobile_changed", **words)
    except IntegrityError:  # another account took the number between the check and the save
        raise MobileRefused(TAKEN, field="code") from None
    Throttle.reset(keys[0][0])
    if old:
        with force_locale(locale_of(fresh)):
            text = _(
                "[jiaoguan] Your account now uses the mobile number %(to)s instead of this "
                "one. If this was not you, call the vehicle office%(help_line)s at once.",
                to=mask_mobile(fresh.mobile),
                help_line=help_line(),
            )
        # The change stands if this fails: the account's inbox has the notice.
        with contextlib.suppress(sms.SmsError):
            sms.send(old, text)
    return fresh
