"""Login logic as plain functions: finding the account, throttling, checking the second factor."""

import datetime as dt
import time
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core.audit import audit, client_addr
from core.devices import known_device
from core.i18n import localtime
from core.notices import kind, notify
from core.passwords import dummy_hash, verify_password
from core.throttle import Gate, gate, hashed
from models import AuditEvent, User, write_tx
from rules import totp
from rules.validators import ValidationError, mask_id, normalize_mobile

kind(
    "account.login_locked",
    title=_l("Many wrong passwords were typed for your account"),
    what=_l(
        "Logins to your account from devices and networks it has not been used from are paused "
        "until %(until)s (Beijing time)."
    ),
    next_step=_l(
        "Nothing to do if it was you. If it was not, these attempts did not log in: keep a "
        "strong password you use nowhere else, and look at the recent logins on your account "
        "page."
    ),
    endpoint="auth.account",
)


@dataclass
class LoginResult:
    """What a login step decided: the user on success, or why not (and until when locked)."""

    user: User | None = None
    error: str | None = None  # "bad-credentials" | "locked" | "bad-code" | "deactivated"
    locked_until: dt.datetime | None = None
    lock: str | None = None  # which lock: "pair" | "address" | "account" (core.throttle)


def find_account(account: str) -> User | None:
    """Citizens log in with their mobile (written as registration takes it: +86 138-…) or ID
    number, staff with their username."""
    account = "".join((account or "").split())
    if len(account) == 18:
        return User.get_or_none(User.resident_id == account.upper())
    try:
        return User.get_or_none(User.mobile == normalize_mobile(account))
    except ValidationError:
        pass
    return User.get_or_none((User.username == account.lower()) & (User.is_staff == True))  # noqa: E712


def login_gate(user: User | None, account: str) -> Gate:
    """The login counters of this account from this client address (core.throttle).

    Unknown names are counted too, hashed (what people type may be an ID number). The
    account-wide lock does not hold the owner's own addresses: those they logged in from. A
    browser the account logged in from before (its device cookie, core.devices) is held only by
    its own counters.
    """
    if user is None:
        return gate("login", "?" + hashed(account))
    trusted = AuditEvent.known_address(user.id, client_addr())
    return gate("login", str(user.id), trusted=trusted, device=known_device(user))


def check_password_step(account: str, password: str) -> LoginResult:
    """The first step: account and password, refused outright while the account is locked.

    The attempt is counted before the password is checked, in one transaction with the lock
    read, so a burst of parallel guesses cannot all slip in under the limit; a right password
    then clears the count. (The slow password hash stays outside the write transaction.)
    """
    user = find_account(account)
    attempt = login_gate(user, account)
    verdict = attempt.check_and_count()
    if verdict.kind and not attempt.counted:
        audit(
            "login.refused_locked",
            user,
            result="refused",
            actor=user,
            detail={"lock": verdict.kind},
        )
        return LoginResult(error="locked", locked_until=verdict.until, lock=verdict.kind)
    ok = verify_password(user.password_hash if user else dummy_hash(), password)
    if ok and user is not None and not user.active:
        # The right password of a deactivated account: its holder is told so (and whom to
        # ask), not sent to guess again; only one who knows the password learns it.
        with write_tx():
            audit("login.failed", user, result="deactivated", actor=user)
        attempt.forgive()
        return LoginResult(error="deactivated")
    if not ok or user is None:
        with write_tx():
            audit(
                "login.failed",
                user,
                result="failed",
                actor=user,
                detail={} if user else {"account": mask_id(account[:40])},
            )
            if user is not None and verdict.until and verdict.kind == "account":
                # This wrong password closed the account-wide lock (once a window at most): its
                # owner is told. One address's lock is not theirs to hear of, nor a flood of it.
                until = localtime(verdict.until, "yyyy-MM-dd HH:mm")
                notify(user, "account.login_locked", until=until)
        return LoginResult(
            error="locked" if verdict.until else "bad-credentials",
            locked_until=verdict.until,
            lock=verdict.kind,
        )
    if user.is_staff:
        # Staff keep the pair's and the account's count until their code is right too: knowing
        # the password must not reset the guesses at the second factor. A right password is no
        # guess from this address, though.
        attempt.forgive(kinds=("address",))
    else:
        attempt.success()
    return LoginResult(user=user)


def check_code_step(user: User, code: str) -> LoginResult:
    """The second step for staff: a current TOTP code, accepted once only."""
    attempt = login_gate(user, "")
    # The real clock, not the application's: the code comes from the authenticator's clock.
    step = totp.matching_step(
        user.totp_secret or "", code, time.time(), step=totp.AUTHENTICATOR_STEP_SECONDS
    )
    verdict = attempt.check_and_count()
    if verdict.kind and not attempt.counted:
        audit(
            "login.refused_locked",
            user,
            result="refused",
            actor=user,
            detail={"lock": verdict.kind},
        )
        return LoginResult(error="locked", locked_until=verdict.until, lock=verdict.kind)
    with write_tx():
        if step is not None and user.accept_totp_step(step):
            attempt.success()
            return LoginResult(user=user)
        audit(
            "login.code_failed",
            user,
            result="failed",
            actor=user,
            detail={"reused": step is not None},
        )
    return LoginResult(
        error="locked" if verdict.until else "bad-code",
        locked_until=verdict.until,
        lock=verdict.kind,
    )
