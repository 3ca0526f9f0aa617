"""A forgotten password, reset with a code sent by SMS to the account's mobile number.

Asking never says whether an account exists (the same answer either way, and the same locks:
none is kept per account, so a lock says nothing of one). Limits a stranger cannot turn
against the owner: a code is good only in the browser session that asked for it (its purpose
names a random nonce that session keeps sealed), so nobody else can guess at it or use up its
SmsChallenge.TRIES attempts, and a stranger's request replaces no code of the owner's; wrong
codes are counted per client network; the codes sent are counted per client network, and per
account only for addresses the account has not logged in from (the owner's own devices keep
their own count). A reset ends every session of the account. Staff accounts are reset by an
administrator, never here.
"""

import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from core.audit import audit, client_addr
from core.identity import (
    SEND_WINDOW,
    WRONG_CODE,
    WRONG_PER_ADDR,
    IdentityRefused,
    locked_until,
    refuse_when_locked,
    send_challenge,
    spend_code,
    withdraw_proofs,
)
from core.notices import notify
from core.passwords import check_policy, hash_password
from models import AuditEvent, SmsChallenge, Throttle, User, utcnow, write_tx
from rules.licencecode import client_network
from rules.validators import ValidationError

from .service import find_account

SENDS_PER_ACCOUNT = 3
SENDS_PER_ADDR = 10


def new_nonce() -> str:
    """The random name of one browser session's reset (48 bits), kept sealed in that session."""
    return secrets.token_hex(6)


def purpose_of(nonce: str) -> str:
    """What a reset code is for: a reset in the session that keeps `nonce` (its HMAC and its
    challenge row name it: core.identity.hash_code, SmsChallenge.purpose)."""
    return f"reset:{nonce}"


class ResetRefused(IdentityRefused):
    """A step of the reset refused, with the end of a lock when one holds (words() says it)."""


def _citizen(account: str) -> User | None:
    """The citizen's account a mobile or ID number names (active, with a mobile), else None."""
    user = find_account(account)
    if user is None or user.is_staff or not user.active or not user.mobile:
        return None
    return user


def _network() -> str:
    """The unit the address limits count: an IPv4 address, an IPv6 /64."""
    return client_network(client_addr())


def send_reset_code(account: str, nonce: str) -> None:
    """Send a reset code, good in the session that keeps `nonce`, to the mobile of the account
    `account` names, if there is one; the caller says the same whether or not (nobody learns
    that an account exists). Refused only when this network asked too often."""
    address = (f"reset-send:net:{_network()}", SENDS_PER_ADDR)
    asked = _l("Too many codes were asked for from this network.")
    refuse_when_locked([address], asked, ResetRefused)
    Throttle.register_failure(address[0], limit=address[1], window=SEND_WINDOW)
    user = _citizen(account)
    if user is None:
        return
    # A stranger's requests use up strangers' count, never the owner's own devices'.
    own = AuditEvent.known_address(user.id, client_addr())
    mine = (f"reset-send:user:{user.id}{':own' if own else ''}", SENDS_PER_ACCOUNT)
    if locked_until([mine]):
        return  # this account had codes enough this hour from here: nothing more is sent
    text = _l(
        "[jiaoguan] Your code to reset the password is %(code)s, valid for 10 minutes. If you "
        "did not ask for it, ignore this message: your password stays as it is."
    )
    # Counted here (the account's lock sends nothing, silently); the send itself counts none.
    Throttle.register_failure(mine[0], limit=mine[1], window=SEND_WINDOW)
    send_challenge(
        user,
        user.mobile,
        purpose_of(nonce),
        [],
        text,
        "account.password_reset_sent",
        None,
        ResetRefused,
    )


@dataclass(frozen=True)
class ResetDone:
    """A reset made: the account, and whether its identity proofs were withdrawn."""

    user: User
    proofs_withdrawn: bool


def reset_password(account: str, code: str, password: str, nonce: str) -> ResetDone:
    """Set a new password with the code just received, in the session that asked for it (which
    keeps `nonce`); ends every session of the account, and withdraws its identity proofs when
    its number was never tied to the person. ResetRefused when the code is wrong (or another
    session's), used or expired, or wrong codes locked the step."""
    user = _citizen(account)
    keys = [(f"reset-code:net:{_network()}", WRONG_PER_ADDR)]
    refuse_when_locked(keys, _l("Too many wrong codes."), ResetRefused, "code")

    def fits(challenge) -> None:
        """Once the code is right, before it is spent: it went to the account's number as it
        is now (a number changed since opens nothing), and the password contains neither of
        the account's identifiers (the form knew only the one typed). Asked only then, so a
        stranger without the code learns nothing of the account from it."""
        if challenge.mobile != user.mobile:
            raise ResetRefused(WRONG_CODE, field="code")
        try:
            check_policy(password, user.resident_id or "", user.mobile or "")
        except ValidationError as exc:
            raise ResetRefused(exc.args[0], field="password") from None

    if spend_code(user, code, keys, purpose_of(nonce), check=fits) is None:
        if user is not None:
            audit("account.password_reset", user, actor=user, result="refused")
        raise ResetRefused(WRONG_CODE, field="code")
    hashed = hash_password(password)  # slow on purpose: outside the write lock
    with write_tx():
        fresh = User.get_by_id(user.id)
        fresh.password_hash = hashed
        fresh.save()
        fresh.rotate_session_token()
        # The codes other sessions asked for open nothing more (each session's code has a
        # purpose of its own, so none replaced the others).
        SmsChallenge.update(used_at=utcnow()).where(
            (SmsChallenge.user == fresh.id)
            & SmsChallenge.purpose.startswith(purpose_of(""))
            & SmsChallenge.used_at.is_null()
        ).execute()
        audit("account.password_reset", fresh, actor=fresh)
        notify(fresh, "account.password_changed")
        # Holding the number proves the number, not the person: one never tied to the ID
        # number (typed at registration, perhaps since given to someone else) withdraws the
        # identity proofs, and the person proves again.
        withdrawn = fresh.mobile_tied_at is None and withdraw_proofs(fresh)
    return ResetDone(fresh, withdrawn)
