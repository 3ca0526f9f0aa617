"""Login logic as plain functions: finding the account, throttling, checking the second factor."""

import datetime as dt
import hashlib
import time
from dataclasses import dataclass

from flask import current_app

from core.audit import audit
from core.passwords import dummy_hash, verify_password
from models import Throttle, User, write_tx
from rules import totp
from rules.validators import mask_id


@dataclass
class LoginResult:
    """What a login step decided: the user on success, or why not (and until when locked)."""

    user: User | None = None
    error: str | None = None  # "bad-credentials" | "locked" | "bad-code"
    locked_until: dt.datetime | None = None


def find_account(account: str) -> User | None:
    """Citizens log in with their mobile or ID number, staff with their username."""
    account = "".join((account or "").split())
    if len(account) == 18:
        return User.get_or_none(User.resident_id == account.upper())
    if len(account) == 11 and account.isdigit():
        return User.get_or_none(User.mobile == account)
    return User.get_or_none((User.username == account.lower()) & (User.is_staff == True))  # noqa: E712


def throttle_key(user: User | None, account: str) -> str:
    """One counter per account (across sessions, processes and nodes); unknown names too
    (hashed: what people type may be an ID number, which is not kept in clear)."""
    if user:
        return f"login:{user.id}"
    digest = hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]
    return f"login:?{digest}"


def _fail(key: str) -> dt.datetime | None:
    cfg = current_app.config
    return Throttle.register_failure(
        key,
        limit=cfg["LOGIN_MAX_FAILURES"],
        window=cfg["LOGIN_WINDOW_SECONDS"],
        lock=cfg["LOGIN_LOCK_SECONDS"],
    )


def check_password_step(account: str, password: str) -> LoginResult:
    """The first step: account and password, refused outright while the account is locked.

    The attempt is counted before the password is checked, in one transaction with the lock
    read, so a burst of parallel guesses cannot all slip in under the limit; a right password
    then clears the count. (The slow password hash stays outside the write transaction.)
    """
    user = find_account(account)
    key = throttle_key(user, account)
    with write_tx():
        locked = Throttle.locked_until_for(key, lock=True)
        if not locked:
            counted_lock = _fail(key)
    if locked:
        audit("login.refused_locked", user, result="refused", actor=user)
        return LoginResult(error="locked", locked_until=locked)
    ok = verify_password(user.password_hash if user else dummy_hash(), password)
    if not ok or user is None or not user.active:
        audit("login.failed", user, result="failed", actor=user,
              detail={} if user else {"account": mask_id(account[:40])})  # fmt: skip
        return LoginResult(error="locked" if counted_lock else "bad-credentials",
                           locked_until=counted_lock)  # fmt: skip
    if not user.is_staff:
        # Staff keep the count until their code is right too: knowing the password must not
        # reset the guesses at the second factor.
        Throttle.reset(key)
    return LoginResult(user=user)


def check_code_step(user: User, code: str) -> LoginResult:
    """The second step for staff: a current TOTP code, accepted once only."""
    key = throttle_key(user, "")
    # The real clock, not the application's: the code comes from the authenticator's clock.
    step = totp.matching_step(
        user.totp_secret or "", code, time.time(), step=totp.AUTHENTICATOR_STEP_SECONDS
    )
    with write_tx():
        # Read the lock inside the transaction that counts the failure (no burst slips by).
        locked = Throttle.locked_until_for(key, lock=True)
        if locked:
            audit("login.refused_locked", user, result="refused", actor=user)
            return LoginResult(error="locked", locked_until=locked)
        if step is not None and user.accept_totp_step(step):
            Throttle.reset(key)
            return LoginResult(user=user)
        locked = _fail(key)
        audit("login.code_failed", user, result="failed", actor=user,
              detail={"reused": step is not None})  # fmt: skip
    return LoginResult(error="locked" if locked else "bad-code", locked_until=locked)
