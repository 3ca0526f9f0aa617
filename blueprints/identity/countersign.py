"""Four eyes at the counter: the acts by which a clerk makes an account someone's (activating it
after seeing the ID card, or putting a new mobile number on it) are confirmed by a second
clerk, who sees the card too and types their user name and their authenticator's current code
on the first clerk's screen.

One clerk alone could otherwise take an account over: put their own phone on it, reset its
password and activate it again; or activate an account they registered themselves under
someone else's ID number. With a second clerk it takes two, and both are named in the audit
log. The second clerk's code is used once (as at login), and a clerk's wrong countersignatures
are counted against that clerk alone: nobody can lock a colleague out of their own login by
typing wrong codes under their name.
"""

import time

from flask_babel import lazy_gettext as _l

from core.audit import audit
from core.identity import COUNTER_ROLES, WRONG_LOCK, WRONG_WINDOW, IdentityRefused
from models import Throttle, User, write_tx
from rules import totp

# Wrong countersignatures a clerk may make in WRONG_WINDOW before pausing (a second clerk
# retyping a code that changed meanwhile makes one or two).
WRONG_PER_CLERK = 5
FIELD = "witness_code"

WRONG = _l("This is not another clerk's user name with their authenticator's current code.")
SELF = _l("A second clerk confirms: not you.")
LOCKED = _l("Too many countersignatures that did not match.")


def throttle_key(clerk: User) -> str:
    """The count of this clerk's wrong countersignatures."""
    return f"countersign:{clerk.id}"


def countersign(clerk: User, account: User, username: str, code: str, act: str) -> User:
    """The second clerk who confirms the `act` ("activate", "mobile") of `clerk` on `account`:
    another active counter clerk, with a current code of their authenticator not used before.
    Audited on the account, naming both; raises IdentityRefused (at the code's field)
    otherwise."""
    key = throttle_key(clerk)
    until = Throttle.locked_until_for(key)
    if until:
        raise IdentityRefused(LOCKED, until, FIELD)
    username = (username or "").strip()
    if username.casefold() == (clerk.username or "").casefold():
        raise IdentityRefused(SELF, field="witness")
    witness = User.get_or_none(
        (User.username == username) & (User.is_staff == True) & (User.active == True)  # noqa: E712
    )
    step = None
    if witness is not None and witness.has_role(*COUNTER_ROLES) and witness.totp_secret:
        # The real clock, not the application's: the code comes from the authenticator's.
        step = totp.matching_step(
            witness.totp_secret, code, time.time(), step=totp.AUTHENTICATOR_STEP_SECONDS
        )
    with write_tx():
        if step is not None and witness.accept_totp_step(step):
            Throttle.reset(key)
            audit(
                "identity.countersigned",
                account,
                actor=clerk,
                detail={"act": act, "witness": witness.username, "witness_id": witness.id},
            )
            return witness
        until = Throttle.register_failure(
            key, limit=WRONG_PER_CLERK, window=WRONG_WINDOW, lock=WRONG_LOCK
        )
        audit(
            "identity.countersigned",
            account,
            actor=clerk,
            result="failed",
            detail={"act": act, "witness": username[:40]},
        )
    raise IdentityRefused(WRONG, until, FIELD)
