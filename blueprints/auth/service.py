"""Login logic as plain functions: finding the account, throttling, checking the second factor."""

import datetime as dt
from dataclasses import dataclass

from flask import current_app

from core.audit import audit
from core.passwords import dummy_hash, verify_password
from models import Throttle, User, utcnow, write_tx
from rules import totp


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
    """One counter per account (across sessions, processes and nodes); unknown names too."""
    return f"login:{user.id}" if user else f"login:?{account.strip().lower()[:60]}"


def _fail(key: str) -> dt.datetime | None:
    cfg = current_app.config
    return Throttle.register_failure(
        key,
        limit=cfg["LOGIN_MAX_FAILURES"],
        window=cfg["LOGIN_WINDOW_SECONDS"],
        lock=cfg["LOGIN_LOCK_SECONDS"],
    )


def check_password_step(account: str, password: str) -> LoginResult:
    """The first step: account and password, refused outright while the account is locked."""
    user = find_account(account)
    key = throttle_key(user, account)
    locked = Throttle.locked_until_for(key)
    if locked:
        audit("login.refused_locked", user, result="refused", actor=user)
        return LoginResult(error="locked", locked_until=locked)
    ok = verify_password(user.password_hash if user else dummy_hash(), password)
    if not ok or user is None or not user.active:
        with write_tx():
            locked = _fail(key)
            audit("login.failed", user, result="failed", actor=user,
                  detail={} if user else {"account": account[:40]})  # fmt: skip
        return LoginResult(error="locked" if locked else "bad-credentials", locked_until=locked)
    if not user.is_staff:
        Throttle.reset(key)
    return LoginResult(user=user)


def check_code_step(user: User, code: str) -> LoginResult:
    """The second step for staff: a current TOTP code, accepted once only."""
    key = throttle_key(user, "")
    locked = Throttle.locked_until_for(key)
    if locked:
        audit("login.refused_locked", user, result="refused", actor=user)
        return LoginResult(error="locked", locked_until=locked)
    step = totp.matching_step(user.totp_secret or "", code, utcnow().replace(tzinfo=dt.UTC))
    with write_tx():
        if step is not None and user.accept_totp_step(step):
            Throttle.reset(key)
            return LoginResult(user=user)
        locked = _fail(key)
        audit("login.code_failed", user, result="failed", actor=user,
              detail={"reused": step is not None})  # fmt: skip
    return LoginResult(error="locked" if locked else "bad-code", locked_until=locked)
