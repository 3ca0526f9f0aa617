"""Four eyes at the counter: the acts by which a clerk makes an account someone's (activating it
after seeing the ID card, or putting a new mobile number on it) are confirmed by a second
clerk, who sees the card too and types their user name and their authenticator's current code
on the first clerk's screen.

One clerk alone could otherwise take an account over: put their own phone on it, reset its
password and activate it again; or activate an account they registered themselves under
someone else's ID number. With a second clerk it takes two, and both are named in the audit
log. The second clerk's code is used once (as at login), and only from an authenticator whose
setup was finished (a secret shown on an unfinished setup page is no one's second factor).

Wrong confirmations are counted against the clerk typing them (who is paused), and against the
colleague named: past WRONG_PER_WITNESS in a window nobody may confirm in that colleague's name
for a while, so that several clerk accounts together cannot guess one colleague's code. Neither
count touches anyone's login.

The acts ask for the confirmation only once everything else they need holds
(core.identity.activate_at_counter, blueprints/auth/mobile.send_counter_code take it as a
callable), so that a confirmation is spent only on an act that then happens.
"""

import time

from flask_babel import lazy_gettext as _l

from core.audit import audit, note
from core.i18n import localtime
from core.identity import WRONG_LOCK, WRONG_WINDOW, IdentityRefused, is_second_clerk
from core.notices import kind, notify
from models import Throttle, User, write_tx
from rules import totp

# Wrong confirmations a clerk may make in WRONG_WINDOW before pausing (a second clerk retyping
# a code that changed meanwhile makes one or two), and wrong ones in a colleague's name from
# every clerk together before confirmations in that name pause.
WRONG_PER_CLERK = 5
WRONG_PER_WITNESS = 10
FIELD = "witness_code"

kind(
    "identity.countersign_paused",
    title=_l("Confirmations in your name are paused"),
    what=_l(
        "Codes that did not match were typed under your user name to confirm counter acts. "
        "Until %(until)s (Beijing time) nobody can confirm in your name."
    ),
    next_step=_l(
        "If this was not you, tell your supervisor: someone may be trying to act at the counter "
        "in your name. Your own login is not affected."
    ),
)

# The notes under counter acts' audit rows (core.audit.note), by the act confirmed.
NOTES = {
    "activate": _l("Second clerk: %(name)s, for activating the account"),
    "mobile": _l("Second clerk: %(name)s, for the new mobile number %(mobile)s"),
    None: _l("Second clerk: %(name)s"),
}


# Under the second clerk's own confirmation (they are its actor): whose act they confirmed.
CONFIRMED_FOR = {
    "activate": _l("Confirmed for %(name)s: activating the account"),
    "mobile": _l("Confirmed for %(name)s: the new mobile number %(mobile)s"),
    None: _l("Confirmed for %(name)s"),
}


def second_clerk_note(detail) -> str | None:
    """Under a counter act's audit row: the second clerk named, and what they confirmed; under
    the confirmation itself, the clerk it was for."""
    name, notes = (
        (detail["for_clerk"], CONFIRMED_FOR)
        if detail.get("for_clerk")
        else (detail.get("witness"), NOTES)
    )
    if not name:
        return None
    words = notes.get(detail.get("act"), notes[None])
    return str(words) % {"name": name, "mobile": detail.get("mobile", "")}


for _action in ("identity.countersigned", "identity.counter_activated", "account.mobile_changed"):
    note(_action, second_clerk_note)

WRONG = _l(
    "This is not the user name of another licence or vehicle clerk of your office with their "
    "authenticator's current code."
)
SELF = _l("The second clerk must be someone other than you.")
LOCKED = _l("Too many confirmations that did not match.")


def clerk_key(clerk: User) -> str:
    """The count of this clerk's wrong confirmations."""
    return f"countersign:{clerk.id}"


def witness_key(username: str) -> str:
    """The count of wrong confirmations in this user name (known or not)."""
    return f"countersign-as:{username.casefold()[:40]}"


def countersign(clerk: User, account: User, username: str, code: str, act: str, **detail) -> User:
    """The second clerk who confirms the `act` ("activate", "mobile") of `clerk` on `account`:
    another active counter clerk, with a current code of their (set-up) authenticator not used
    before. Audited on the account with the second clerk as its actor (they confirmed, with
    their code: a search by actor finds them) naming the clerk, with `detail` (what was
    confirmed); raises IdentityRefused (at the code's field) otherwise, audited as the clerk's
    attempt."""
    username = (username or "").strip()
    keys = (clerk_key(clerk), witness_key(username))
    until = max(filter(None, (Throttle.locked_until_for(key) for key in keys)), default=None)
    if until:
        raise IdentityRefused(LOCKED, until, FIELD)
    if username.casefold() == (clerk.username or "").casefold():
        raise IdentityRefused(SELF, field="witness")
    witness = User.get_or_none(
        (User.username == username) & (User.is_staff == True) & (User.active == True)  # noqa: E712
    )
    step = None
    if witness is not None and is_second_clerk(clerk, witness):
        # The real clock, not the application's: the code comes from the authenticator's.
        step = totp.matching_step(
            witness.totp_secret, code, time.time(), step=totp.AUTHENTICATOR_STEP_SECONDS
        )
    with write_tx():
        if step is not None and witness.accept_totp_step(step):
            Throttle.reset(keys[0])
            audit(
                "identity.countersigned",
                account,
                actor=witness,
                detail={
                    "act": act,
                    "for_clerk": clerk.username,
                    "witness": witness.username,
                    **detail,
                },
            )
            return witness
        ends = [
            Throttle.register_failure(key, limit=limit, window=WRONG_WINDOW, lock=WRONG_LOCK)
            for key, limit in zip(keys, (WRONG_PER_CLERK, WRONG_PER_WITNESS), strict=True)
        ]
        if ends[1] and witness is not None:
            # The colleague named is told: someone may be trying to act in their name.
            notify(witness, "identity.countersign_paused", until=localtime(ends[1], "HH:mm"))
        audit(
            "identity.countersigned",
            account,
            actor=clerk,
            result="failed",
            detail={"act": act, "witness": username[:40], **detail},
        )
    raise IdentityRefused(WRONG, max(filter(None, ends), default=None), FIELD)
