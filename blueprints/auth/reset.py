"""A forgotten password, reset with a code sent by SMS to the account's mobile number.

Asking never says whether an account exists (the same answer either way), and both steps are
throttled in the database: codes sent per account and per address, wrong codes per account
and per address (core.identity's limits). A reset ends every session of the account. Staff
accounts are reset by an administrator, never here.
"""

import datetime as dt
import hashlib
import hmac
import secrets

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import sms
from core.audit import audit, client_addr
from core.identity import (
    CODE_DIGITS,
    CODE_TTL_SECONDS,
    SEND_WINDOW,
    WRONG_LOCK,
    WRONG_PER_ACCOUNT,
    WRONG_PER_ADDR,
    WRONG_WINDOW,
)
from core.passwords import hash_password
from core.steps import StepError
from models import SmsChallenge, Throttle, User, utcnow, write_tx
from rules.validators import mask_mobile

from .service import find_account

SENDS_PER_ACCOUNT = 3
SENDS_PER_ADDR = 10
WRONG_CODE = _l("This code is wrong, used or expired. Check the message, or ask for a new code.")


class ResetRefused(StepError):
    """A step of the reset refused, with the end of a lock when one holds."""

    def __init__(self, message, field: str | None = None, locked_until=None):
        super().__init__(message, field)
        self.locked_until = locked_until


def _hash(user_id: int, code: str) -> str:
    """HMAC of a reset code under the secret key, bound to the account and to this purpose (an
    identity code is no reset code, nor the other way round)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"password-reset:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _locked(keys) -> dt.datetime | None:
    ends = [end for end in (Throttle.locked_until_for(key) for key, _limit in keys) if end]
    return max(ends) if ends else None


def _citizen(account: str) -> User | None:
    """The citizen's account a mobile or ID number names (active, with a mobile), else None."""
    user = find_account(account)
    if user is None or user.is_staff or not user.active or not user.mobile:
        return None
    return user


def send_reset_code(account: str) -> None:
    """Send a reset code to the mobile of the account `account` names, if there is one; the
    caller says the same whether or not (nobody learns that an account exists). Refused only
    when this address asked too often."""
    address = (f"reset-send:addr:{client_addr()}", SENDS_PER_ADDR)
    until = _locked([address])
    if until:
        raise ResetRefused(_l("Too many codes were asked for from this network."), None, until)
    Throttle.register_failure(address[0], limit=address[1], window=SEND_WINDOW)
    user = _citizen(account)
    if user is None:
        return
    mine = (f"reset-send:user:{user.id}", SENDS_PER_ACCOUNT)
    if _locked([mine]):
        return  # the owner has codes enough this hour: nothing more is sent
    Throttle.register_failure(mine[0], limit=mine[1], window=SEND_WINDOW)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = utcnow()
    with write_tx():
        SmsChallenge.retire_all(user)
        challenge = SmsChallenge.create(
            user=user.id,
            resident_id=user.resident_id or "",
            mobile=user.mobile,
            code_hash=_hash(user.id, code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=CODE_TTL_SECONDS),
        )
        audit(
            "account.password_reset_sent",
            challenge,
            actor=user,
            detail={"to": mask_mobile(user.mobile)},
        )
    text = _(
        "[jiaoguan] Your code to reset the password is %(code)s, valid for 10 minutes. If you "
        "did not ask for it, ignore this message: your password stays as it is.",
        code=code,
    )
    try:
        sms.send(user.mobile, text)
    except sms.SmsError:
        SmsChallenge.retire_all(user)
        raise ResetRefused(
            _l("The message could not be sent just now. Try again in a few minutes.")
        ) from None


def reset_password(account: str, code: str, password: str) -> User:
    """Set a new password with the code just received; ends every session of the account.
    ResetRefused when the code is wrong, used or expired, or wrong codes locked the step."""
    user = _citizen(account)
    keys = [(f"reset-code:addr:{client_addr()}", WRONG_PER_ADDR)]
    if user is not None:
        keys.insert(0, (f"reset-code:user:{user.id}", WRONG_PER_ACCOUNT))
    until = _locked(keys)
    if until:
        raise ResetRefused(_l("Too many wrong codes."), "code", until)
    challenge = SmsChallenge.live_for(user) if user is not None else None
    typed = "".join((code or "").split())
    ok = (
        challenge is not None
        and hmac.compare_digest(challenge.code_hash, _hash(user.id, typed))
        and challenge.use()
    )
    if not ok:
        for key, limit in keys:
            Throttle.register_failure(key, limit=limit, window=WRONG_WINDOW, lock=WRONG_LOCK)
        if user is not None:
            audit("account.password_reset", user, actor=user, result="refused")
        raise ResetRefused(WRONG_CODE, "code")
    hashed = hash_password(password)  # slow on purpose: outside the write lock
    with write_tx():
        fresh = User.get_by_id(user.id)
        fresh.password_hash = hashed
        fresh.save()
        fresh.rotate_session_token()
        audit("account.password_reset", fresh, actor=fresh)
    Throttle.reset(keys[0][0])
    return fresh
