"""A citizen's registration, in two steps: the details, then the code their mobile number
received. The account is made only when the code comes back.

The mobile number logs in, receives the password-reset codes and the notices by SMS: an account
must not start on a number its maker does not hold (a typo, or a stranger's number that would
then get every message meant for the account). Until the code comes back the details wait in a
PendingRegistration that holds neither the ID number nor the number for itself, so a
half-done registration blocks nobody; the browser that began it holds its token in the session.
Sends are limited per registration, per network and per number (with the number-change's
codes), wrong codes per code and per network, as for every other code (core.identity).
"""

import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from core import sms
from core.audit import audit, client_net
from core.identity import (
    CODE_TTL_SECONDS,
    SEND_WINDOW,
    WRONG_CODE,
    WRONG_LOCK,
    WRONG_PER_ADDR,
    WRONG_WINDOW,
    IdentityRefused,
    hash_code,
    new_code,
    refuse_when_locked,
)
from models import PendingRegistration, Throttle, User, utcnow, write_tx
from rules.validators import mask_mobile

from .mobile import SENDS_PER_NUMBER, TAKEN

PURPOSE = "registration"
SESSION_KEY = "registration"
SENDS_PER_REGISTRATION = 3  # the first code and two new ones
# The registration's answer when the ID number has an account, with the way on for its holder.
ID_TAKEN = _l(
    "An account with this ID number exists already. If you forgot its password, reset it; if you "
    "never made it, take your ID card to an office counter, where a clerk puts your mobile "
    "number on it."
)
GONE = _l("This registration has expired or was finished. Please fill in the form again.")
NO_MORE_CODES = _l(
    "No more codes can be sent for this registration. Please fill in the form again."
)


class RegistrationRefused(IdentityRefused):
    """A step of the registration refused (core.steps convention), with a lock's end."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _send_keys(mobile: str) -> list[tuple[str, int]]:
    """Throttle keys of the sends and their limits: per network (a setting: a carrier's shared
    address registers many people), and per number over every registration and every account
    moving to it (nobody's phone is flooded with codes)."""
    return [
        (f"register-send:net:{client_net()}", current_app.config["REGISTER_SENDS_PER_NETWORK"]),
        (f"mobile-send:to:{mobile}", SENDS_PER_NUMBER),
    ]


def _count_send(mobile: str) -> None:
    keys = _send_keys(mobile)
    refuse_when_locked(keys, _l("Too many codes were sent."), RegistrationRefused)
    for key, limit in keys:
        Throttle.register_failure(key, limit=limit, window=SEND_WINDOW)


def _text(code: str) -> str:
    return _(
        "[jiaoguan] Your code to register with this number is %(code)s, valid for 10 minutes. "
        "If you did not ask for it, ignore this message: no account is made without it.",
        code=code,
    )


def _deliver(mobile: str, code: str) -> None:
    """Send the code; RegistrationRefused when the gateway does not take it."""
    try:
        sms.send(mobile, _text(code))
    except sms.SmsError:
        raise RegistrationRefused(
            _l("The message could not be sent just now. Try again in a few minutes.")
        ) from None


def current() -> PendingRegistration | None:
    """This browser's registration waiting for its code, or None."""
    token = session.get(SESSION_KEY)
    return PendingRegistration.live(_digest(token)) if isinstance(token, str) else None


def start(real_name: str, resident_id: str, mobile: str, password_hash: str) -> str:
    """Keep the details and send a code to `mobile`; returns the number masked. An earlier
    registration of this browser is replaced. RegistrationRefused when a limit holds or the
    message could not be sent (nothing is kept then)."""
    _count_send(mobile)
    token, code = secrets.token_urlsafe(24), new_code()
    token_hash = _digest(token)
    with write_tx():
        # Details left by half-done registrations go within the hour, not at the daily prune.
        PendingRegistration.prune()
        earlier = current()
        if earlier is not None:
            earlier.delete_instance()
        pending = PendingRegistration.create(
            token_hash=token_hash,
            real_name=real_name,
            resident_id=resident_id,
            mobile=mobile,
            password_hash=password_hash,
            code_hash=hash_code(token_hash, code, PURPOSE),
            code_expires_at=utcnow() + dt.timedelta(seconds=CODE_TTL_SECONDS),
        )
        audit("account.register_code_sent", pending, detail={"to": mask_mobile(mobile)})
    try:
        _deliver(mobile, code)
    except RegistrationRefused:
        PendingRegistration.delete().where(PendingRegistration.id == pending.id).execute()
        raise
    session[SESSION_KEY] = token
    return mask_mobile(mobile)


def send_again(pending: PendingRegistration) -> str:
    """A new code in place of the old one (a message lost, or a code expired); returns the
    number masked. RegistrationRefused past SENDS_PER_REGISTRATION or another limit."""
    _count_send(pending.mobile)
    code = new_code()
    expires = utcnow() + dt.timedelta(seconds=CODE_TTL_SECONDS)
    with write_tx():
        if not pending.replace_code(
            hash_code(pending.token_hash, code, PURPOSE), expires, SENDS_PER_REGISTRATION
        ):
            raise RegistrationRefused(NO_MORE_CODES)
        audit("account.register_code_sent", pending, detail={"to": mask_mobile(pending.mobile)})
    _deliver(pending.mobile, code)
    return mask_mobile(pending.mobile)


def taken(resident_id: str, mobile: str) -> list[tuple[str, str]]:
    """The fields (with their words) whose value another account has."""
    found = []
    if User.get_or_none(User.resident_id == resident_id):
        found.append(("resident_id", str(ID_TAKEN)))
    if User.get_or_none(User.mobile == mobile):
        found.append(("mobile", str(TAKEN)))
    return found


def confirm(pending: PendingRegistration, code: str) -> User:
    """Make the account when `code` is the one sent; the registration is then spent.
    RegistrationRefused at the code when it is wrong, used up or expired, or while wrong codes
    from this network lock the step; without a field when an account took the ID number or
    the number meanwhile (the registration is then dropped: the form says what is taken)."""
    keys = [(f"register-code:net:{client_net()}", WRONG_PER_ADDR)]
    refuse_when_locked(keys, _l("Too many wrong codes."), RegistrationRefused, "code")
    typed = "".join((code or "").split())
    right = hash_code(pending.token_hash, typed, PURPOSE)
    if not (pending.take_try() and hmac.compare_digest(pending.code_hash, right)):
        with write_tx():
            for key, limit in keys:
                Throttle.register_failure(key, limit=limit, window=WRONG_WINDOW, lock=WRONG_LOCK)
            audit("account.register", pending, result="refused", detail={"why": "code"})
        raise RegistrationRefused(WRONG_CODE, field="code")
    try:
        with write_tx():
            if taken(pending.resident_id, pending.mobile):
                raise IntegrityError("taken")
            user = User.create(
                real_name=pending.real_name,
                resident_id=pending.resident_id,
                mobile=pending.mobile,
                password_hash=pending.password_hash,
            )
            PendingRegistration.delete().where(PendingRegistration.id == pending.id).execute()
            audit("account.register", user, actor=user, detail={"mobile": "confirmed"})
            # Registered is logged in: the account page's recent logins start here.
            audit("login.ok", user, actor=user, detail={"at": "registration"})
    except IntegrityError:
        # Someone registered the ID number or the number between the two steps.
        PendingRegistration.delete().where(PendingRegistration.id == pending.id).execute()
        session.pop(SESSION_KEY, None)
        raise RegistrationRefused(
            _l("An account with this ID number or mobile number was made meanwhile.")
        ) from None
    session.pop(SESSION_KEY, None)
    return user
