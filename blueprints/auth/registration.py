"""A citizen's registration, in two steps: the details, then the code their mobile number
received. The account is made only when the code comes back.

The mobile number logs in, receives the password-reset codes and the notices by SMS: an account
must not start on a number its maker does not hold (a typo, or a stranger's number that would
then get every message meant for the account). Until the code comes back the details wait in a
PendingRegistration that holds neither the ID number nor the number for itself, so a
half-done registration blocks nobody; the browser that began it holds its token in the session.

Anyone may start a registration, so its limits are weighed against what a stranger can do with
them: codes to one number are counted per network an hour (a stranger elsewhere does not stop
the owner), codes from one network an hour (the SMS bill), and codes to one number a day over
every network: nobody's phone gets more than that, at the price that a stranger who asks for
that many holds the number's registration until the next day (the refusal says until when). A
code has five tries; there is no lock on wrong codes from a network, which would refuse the
right code of everyone behind it: guessing someone else's code needs a registration of their
number for every five guesses, and those are counted.
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
    IdentityRefused,
    hash_code,
    new_code,
)
from models import PendingRegistration, Throttle, User, utcnow, write_tx
from rules.validators import mask_mobile

from .mobile import SENDS_PER_NUMBER, TAKEN

PURPOSE = "registration"
SESSION_KEY = "registration"
SENDS_PER_NUMBER_A_DAY = 10  # codes to one number over every network
DAY = 24 * 3600
CODE_TTL = dt.timedelta(seconds=CODE_TTL_SECONDS)
# The registration's answer when the ID number has an account, with the way on for its holder.
ID_TAKEN = _l(
    "An account with this ID number exists already. If you forgot its password, reset it; if you "
    "never made it, take your ID card to an office counter, where a clerk puts your mobile "
    "number on it."
)
GONE = _l("This registration has expired or was finished. Please fill in the form again.")
SENT_JUST_NOW = _l("A new code was sent a moment ago: use the one in the newest message.")
NOT_STARTED = _l("No registration is waiting for a code in this browser: fill in the form first.")


class RegistrationRefused(IdentityRefused):
    """A step of the registration refused (core.steps convention), with a lock's end."""


class Taken(RegistrationRefused):
    """An account took the ID number or the number after the first step: `fields` says which,
    with their words."""

    def __init__(self, fields: list[tuple[str, str]]):
        """The first field's words as the message (the form says each at its field)."""
        super().__init__(fields[0][1] if fields else ID_TAKEN)
        self.fields = fields


class Finished(Exception):
    """The registration was finished already (a second tap on the button made no account)."""


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _number(mobile: str) -> str:
    """A number as the throttle keeps it: a keyed digest (most numbers typed here never become
    an account's, and a plain hash of eleven digits is undone in seconds)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"register-number:{mobile}".encode(), hashlib.sha256).hexdigest()[:32]


def _send_keys(mobile: str) -> list[tuple[str, int, int]]:
    """Throttle keys of the sends, with their limits and windows."""
    net, number = client_net(), _number(mobile)
    return [
        (f"register-send:net:{net}", current_app.config["REGISTER_SENDS_PER_NETWORK"], SEND_WINDOW),
        (f"register-send:to:{number}:net:{net}", SENDS_PER_NUMBER, SEND_WINDOW),
        (f"register-send:to:{number}", SENDS_PER_NUMBER_A_DAY, DAY),
    ]


def _count_send(mobile: str) -> None:
    """RegistrationRefused while a limit of the sends holds; else this send is counted. One
    transaction with the rows locked, as core.throttle.Gate counts: a burst of parallel sends
    cannot all pass the check before any is counted."""
    keys = _send_keys(mobile)
    with write_tx():
        Throttle.ensure(*(key for key, _limit, _window in keys))
        ends = [Throttle.locked_until_for(key, lock=True) for key, _limit, _window in keys]
        until = max((end for end in ends if end), default=None)
        if until is None:
            for key, limit, window in keys:
                Throttle.register_failure(key, limit=limit, window=window)
    if until is not None:
        raise RegistrationRefused(_l("Too many codes were sent."), until)


def _deliver(mobile: str, code: str) -> None:
    """Send the code; RegistrationRefused when the gateway does not take it."""
    text = _(
        "[jiaoguan] Your code to register with this number is %(code)s, valid for 10 minutes. "
        "Never tell it to anyone. If you did not ask for it, ignore this message: no account is "
        "made without it.",
        code=code,
    )
    try:
        sms.send(mobile, text)
    except sms.SmsError:
        raise RegistrationRefused(
            _l("The message could not be sent just now. Try again in a few minutes.")
        ) from None


def _not_sent(pending: PendingRegistration) -> None:
    audit("account.register_code_sent", pending, result="failed")


def current() -> PendingRegistration | None:
    """This browser's registration (waiting for its code, or finished a moment ago), or None."""
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
        PendingRegistration.prune()  # the details of half-done ones go within the hour
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
            code_expires_at=utcnow() + CODE_TTL,
        )
        audit("account.register_code_sent", pending, detail={"to": mask_mobile(mobile)})
    try:
        _deliver(mobile, code)
    except RegistrationRefused:
        with write_tx():
            PendingRegistration.delete().where(PendingRegistration.id == pending.id).execute()
            _not_sent(pending)
        raise
    session[SESSION_KEY] = token
    return mask_mobile(mobile)


def send_again(pending: PendingRegistration) -> str:
    """A new code in place of the old one (a message lost, or a code expired); returns the
    number masked. RegistrationRefused while a limit holds; when the message cannot be sent,
    the old code stays good."""
    if pending.created_at + PendingRegistration.LIFETIME - utcnow() < CODE_TTL:
        raise RegistrationRefused(GONE)  # a new code would outlive its registration
    _count_send(pending.mobile)
    code = new_code()
    replaced_by = hash_code(pending.token_hash, code, PURPOSE)
    expires = utcnow() + CODE_TTL
    with write_tx():
        if not pending.replace_code(replaced_by, expires):
            # Finished meanwhile, or another tap on the button sent a code first.
            waiting = PendingRegistration.get_or_none(
                (PendingRegistration.id == pending.id) & PendingRegistration.finished_at.is_null()
            )
            raise RegistrationRefused(SENT_JUST_NOW if waiting else GONE)
        audit("account.register_code_sent", pending, detail={"to": mask_mobile(pending.mobile)})
    try:
        _deliver(pending.mobile, code)
    except RegistrationRefused:
        with write_tx():
            pending.restore_code(replaced_by)
            _not_sent(pending)
        raise
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
    """Make the account when `code` is the one sent, and finish the registration.

    RegistrationRefused at the code when it is wrong, used up, expired or replaced; Taken when
    an account took the ID number or the number meanwhile (the registration is then dropped);
    Finished when another request finished it a moment ago (a second tap on the button)."""
    typed = "".join((code or "").split())
    right = hash_code(pending.token_hash, typed, PURPOSE)
    if not (pending.take_try() and hmac.compare_digest(pending.code_hash, right)):
        now = PendingRegistration.get_or_none(PendingRegistration.id == pending.id)
        if now is None:
            raise RegistrationRefused(GONE)
        if now.finished_at is not None:
            raise Finished
        audit("account.register_code_wrong", pending, result="refused")
        raise RegistrationRefused(WRONG_CODE, field="code")
    try:
        with write_tx():
            if not pending.finish():
                raise Finished
            found = taken(pending.resident_id, pending.mobile)
            if found:
                raise Taken(found)
            user = User.create(
                real_name=pending.real_name,
                resident_id=pending.resident_id,
                mobile=pending.mobile,
                password_hash=pending.password_hash,
            )
            audit("account.register", user, actor=user, detail={"mobile": "confirmed"})
            # Registered is logged in: the account page's recent logins start here.
            audit("login.ok", user, actor=user, detail={"at": "registration"})
    except (Taken, IntegrityError) as exc:
        # Taken also when the unique ID number or number went between the check and now.
        found = exc.fields if isinstance(exc, Taken) else taken(pending.resident_id, pending.mobile)
        if not found:
            raise
        with write_tx():
            PendingRegistration.delete().where(PendingRegistration.id == pending.id).execute()
            audit("account.register", pending, result="refused", detail={"why": "taken"})
        raise Taken(found) from None
    return user
