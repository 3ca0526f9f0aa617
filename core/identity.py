"""Whether an account may see what is kept under its resident ID number, and the ways to prove it.

`identity_proven(user)` is the one predicate every page and step asks before it trusts
`User.resident_id` for access: the e-licence, the vehicles, selling a car, the accident cases
listed by ID number and truck passes for one's own trucks. A case opened with its notice's query
code is the one exception, for that case only (`may_see_case`).

The three proofs (models/identity.py): a one-time code sent by SMS to the mobile number the
office recorded with the licence or vehicle; a clerk's activation at an office counter after
seeing the ID card; a notice's query code (one case).
"""

import contextlib
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core import sms
from core.audit import audit, client_net
from core.i18n import aside, localtime, sentences
from core.notices import kind, locale_of, notify
from core.steps import StepError
from models import (
    ADMIN,
    LICENCE_CLERK,
    VEHICLE_CLERK,
    AccidentCase,
    LicenceRecord,
    Throttle,
    User,
    utcnow,
    write_tx,
)
from models.identity import (
    COUNTER,
    QUERY_CODE,
    SMS,
    IdentityProof,
    SmsChallenge,
    recorded_mobiles,
)
from rules.validators import ValidationError, mask_id, mask_mobile, normalize_person_name

CODE_TTL_SECONDS = 600
# A code refused: wrong, spent, out of tries or expired (one answer for all: which it was would
# tell a guesser something).
WRONG_CODE = _l("This code is wrong, used or expired. Check the message, or ask for a new code.")
# What a code sent to prove an identity is for (SmsChallenge.purpose; hash_code binds it).
IDENTITY_SMS = "identity-sms"
CODE_DIGITS = 6
# Codes sent: per account and per client address in an hour (each message costs the office).
SENDS_PER_ACCOUNT = 5
SENDS_PER_ADDR = 20
SEND_WINDOW = 3600
# Wrong codes: per account and per address in ten minutes, then a lock of fifteen.
WRONG_PER_ACCOUNT = 5
WRONG_PER_ADDR = 20
WRONG_WINDOW = 600
WRONG_LOCK = 900
# The roles that may activate an account at a counter.
COUNTER_ROLES = (LICENCE_CLERK, VEHICLE_CLERK)
REFERENCE_LENGTH = 6
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class IdentityRefused(StepError):
    """A proof step refused (core.steps convention), with the end of any lock that holds."""

    def __init__(self, message, locked_until=None, field: str | None = None):
        """Keep the lazy message (rendered in the reader's language) and any lock's end."""
        super().__init__(message, field)
        self.locked_until = locked_until

    def words(self) -> str:
        """The refusal in the reader's words, with the time a lock ends when there is one."""
        if not self.locked_until:
            return str(self.message)
        # Not inside the f-string: pybabel would not find the words there.
        again = _(
            "Try again after %(time)s (Beijing time).", time=localtime(self.locked_until, "HH:mm")
        )
        return sentences((self.message, again))


def help_line() -> str:
    """The vehicle office's telephone number (HELP_PHONE) as an aside to its name, for the
    sentences that tell someone to call it at once ("（0532-…）", " (0532-…)"), or "" when the
    deployment has set none: a person who finds a change they did not make is told whom to
    call, not only that they should."""
    number = current_app.config.get("HELP_PHONE", "")
    return str(aside(number)) if number else ""


def with_help_line(params: dict) -> dict:
    """A notice's parameters with the vehicle office's number as it stands now (help_line)."""
    return {**params, "help_line": help_line()}


kind(
    "identity.proven",
    title=_l("Your identity is proven"),
    what=_l("This account is now bound to ID number %(resident_id)s (%(method)s)."),
    next_step=_l(
        "You can now see your licence, vehicles and accident cases here. If this was not you, "
        "call the vehicle office%(help_line)s at once."
    ),
    endpoint="identity.index",
    prepare=lambda p: with_help_line(
        {**p, "method": str(METHOD_WORDS.get(p.get("method"), p.get("method")))}
    ),
)
METHOD_WORDS = {
    SMS: _l("a code sent to the mobile number the office recorded"),
    COUNTER: _l("your ID card shown at an office counter"),
}


# --- The predicate ---------------------------------------------------------------------------


def identity_proven(user) -> bool:
    """True when the account proved its ID number by SMS or at a counter (cached per object).

    Staff accounts and anonymous users never see records by ID number through this.
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.is_staff:
        return False
    if not user.resident_id:
        return False
    cached = getattr(user, "_identity_proven", None)
    if cached is None or cached[0] != user.resident_id:
        cached = (user.resident_id, IdentityProof.proves(user))
        user._identity_proven = cached
    return cached[1]


def logged_in_user(login_id: str) -> User | None:
    """Flask-Login's user loader: the account of the session, whose proof of its ID number is
    read in the same statement (IdentityProof.logged_in_user) and kept as identity_proven's
    answer for this request, so that the page's own check costs no second round trip."""
    user = IdentityProof.logged_in_user(login_id)
    if user is not None:
        user._identity_proven = (user.resident_id, bool(user.full_proof))
    return user


def proven_resident_id(user) -> str | None:
    """The account's ID number when proven, else None: the key to records kept under it."""
    return user.resident_id if identity_proven(user) else None


def _name_key(name: str) -> str:
    """A name as compared across records: its dots as people type them, spaces and case aside
    (王 芳 is 王芳; JOHN SMITH is John Smith)."""
    with contextlib.suppress(ValidationError):
        name = normalize_person_name(name)
    return "".join(name.split()).casefold()


def name_on_record_differs(resident_id: str, name: str) -> bool:
    """Whether the name the office keeps under this ID number with its licence record (copied
    from the ID card) is not `name`: a number mistyped into someone else's that still passes
    its check digit. An account's name counts for nothing (its holder typed it), nor does a
    vehicle's (one registered by a transfer carries the buyer's account name); a number with
    no licence record is no difference."""
    names = {
        r.name
        for r in LicenceRecord.select(LicenceRecord.name).where(
            LicenceRecord.licence_no == resident_id
        )
    }
    return bool(names) and _name_key(name) not in {_name_key(n) for n in names}


def may_see_case(user, case_id: int) -> bool:
    """A party's account may see an accident case when proven, or when it opened that case
    with the notice's query code (the party's ID number is checked by the caller)."""
    if identity_proven(user):
        return True
    if user is None or not getattr(user, "is_authenticated", False) or user.is_staff:
        return False
    return case_id in IdentityProof.opened_case_ids(user)


def visible_party_cases(user):
    """The accident cases listed to a party: all under the ID number once proven, else only
    those opened with a notice's query code."""
    if not user.resident_id or user.is_staff:
        return []
    cases = AccidentCase.for_party(user.resident_id)
    if identity_proven(user):
        return cases
    opened = IdentityProof.opened_case_ids(user)
    return cases.where(AccidentCase.id.in_(list(opened))) if opened else []


def forget(user) -> None:
    """Drop the cached answer (after a proof is added)."""
    if hasattr(user, "_identity_proven"):
        del user._identity_proven


# --- (a) A code by SMS to the recorded mobile --------------------------------------------------


def hash_code(owner: int | str, code: str, purpose: str = IDENTITY_SMS) -> str:
    """HMAC-SHA256 of a code under the secret key, bound to whom it was sent for (an account's
    id; a registration's token digest) and to what the code is for (a code sent to prove an
    identity does not reset a password, nor the reverse)."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{purpose}:{owner}:{code}".encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    """A fresh one-time code of CODE_DIGITS digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def new_challenge(user, mobile: str, purpose: str = IDENTITY_SMS) -> tuple[SmsChallenge, str]:
    """A fresh code for the account, to be sent to `mobile` for `purpose`: it replaces any
    earlier one of that purpose and is kept only hashed. Run in the write transaction that
    audits the send."""
    code = new_code()
    now = utcnow()
    SmsChallenge.retire_all(user, purpose)
    challenge = SmsChallenge.create(
        user=user.id,
        resident_id=user.resident_id or "",
        mobile=mobile,
        purpose=purpose,
        code_hash=hash_code(user.id, code, purpose),
        created_at=now,
        expires_at=now + dt.timedelta(seconds=CODE_TTL_SECONDS),
    )
    return challenge, code


def spend_code(
    user, code: str, keys, purpose: str = IDENTITY_SMS, check=None
) -> SmsChallenge | None:
    """The account's live challenge when `code` is its code for `purpose`, spent now (once);
    else None, the wrong code counted under each of the throttle `keys`. Each attempt first
    takes one of the code's tries (SmsChallenge.TRIES, from everyone together): once they are
    used up, the code is dead and a new one must be asked for. `check(challenge)`, when given,
    runs once the code is right and before it is spent: a refusal it raises leaves the code
    unspent with its try given back (the person changes the rest and sends the same code), and
    nothing that depends on the right code is told to a guesser."""
    challenge = SmsChallenge.live_for(user, purpose) if user is not None else None
    typed = "".join((code or "").split())
    if (
        challenge is not None
        and challenge.take_try()
        and hmac.compare_digest(challenge.code_hash, hash_code(user.id, typed, purpose))
    ):
        if check is not None:
            try:
                check(challenge)
            except StepError:
                challenge.give_try_back()  # the code was right: only the rest is to change
                raise
        if challenge.use():
            return challenge
    for key, limit in keys:
        Throttle.register_failure(key, limit=limit, window=WRONG_WINDOW, lock=WRONG_LOCK)
    return None


def recorded_mobile(user) -> str | None:
    """The number a code would go to: the licence record's, else the newest vehicle's."""
    if not user.resident_id:
        return None
    found = recorded_mobiles(user.resident_id)
    return found[0] if found else None


def send_keys(user) -> list[tuple[str, int]]:
    """Throttle keys of sending codes and their limits."""
    return [
        (f"identity-send:user:{user.id}", SENDS_PER_ACCOUNT),
        (f"identity-send:net:{client_net()}", SENDS_PER_ADDR),
    ]


def wrong_keys(user) -> list[tuple[str, int]]:
    """Throttle keys of wrong codes and their limits."""
    return [
        (f"identity-code:user:{user.id}", WRONG_PER_ACCOUNT),
        (f"identity-code:net:{client_net()}", WRONG_PER_ADDR),
    ]


def locked_until(keys) -> object:
    """The latest end of a lock on any of the keys, or None."""
    ends = [Throttle.locked_until_for(key) for key, _limit in keys]
    ends = [end for end in ends if end]
    return max(ends) if ends else None


def refuse_when_locked(keys, message, refused=IdentityRefused, field: str | None = None) -> None:
    """Refuse the step (`refused`, an IdentityRefused, with `message`, the lock's end and the
    `field` it belongs to) while any of the throttle `keys` is locked."""
    until = locked_until(keys)
    if until:
        raise refused(message, until, field)


def send_code(user) -> str:
    """Send a fresh code to the recorded mobile; returns that number masked.

    A new code replaces any earlier one. Refused when there is no recorded number, when the
    account is proven already, or past the hourly limits.
    """
    if identity_proven(user):
        raise IdentityRefused(_l("Your identity is proven already."))
    mobile = recorded_mobile(user)
    if mobile is None:
        raise IdentityRefused(
            _l(
                "The office has no mobile number recorded with a licence or vehicle under your "
                "ID number. Prove your identity at an office counter instead."
            )
        )
    text = _l(
        "[jiaoguan] Your identity code is %(code)s, valid for 10 minutes. It proves that an "
        "account is yours: never tell it to anyone, staff included."
    )
    return send_challenge(user, mobile, IDENTITY_SMS, send_keys(user), text, "identity.sms_sent")


def send_challenge(
    user, mobile: str, purpose: str, keys, text, action: str, actor=None, refused=IdentityRefused
) -> str:
    """Send `user` a fresh code for `purpose` by SMS to `mobile`; returns the number masked.

    Refused (`refused`, an IdentityRefused) while any of the throttle `keys` is locked, and
    each counted; the send is audited as `action` by `actor` (the account itself by default);
    `text` is the message, with %(code)s. When the gateway fails, the code is retired and the
    step refused: nobody waits for a code that never comes.
    """
    refuse_when_locked(keys, _l("Too many codes were sent."), refused)
    for key, limit in keys:
        # Counted as "failures" of the throttle: the limit-th send locks further ones.
        Throttle.register_failure(key, limit=limit, window=SEND_WINDOW)
    with write_tx():
        challenge, code = new_challenge(user, mobile, purpose)
        audit(action, challenge, actor=actor or user, detail={"to": mask_mobile(mobile)})
    with force_locale(locale_of(user)):  # the account's language, not the clerk's
        words = str(text % {"code": code})
    try:
        sms.send(mobile, words)
    except sms.SmsError:
        SmsChallenge.retire_all(user, purpose)
        raise refused(
            _l("The message could not be sent just now. Try again in a few minutes.")
        ) from None
    return mask_mobile(mobile)


def confirm_code(user, code: str) -> None:
    """Prove the account with the code just received; IdentityRefused when wrong or locked."""
    keys = wrong_keys(user)
    refuse_when_locked(keys, _l("Too many wrong codes."))
    challenge = spend_code(user, code, keys)
    if challenge is None:
        audit("identity.sms_failed", user, actor=user, result="refused")
        raise IdentityRefused(WRONG_CODE)
    with write_tx():
        IdentityProof.create(
            user=user.id, resident_id=user.resident_id, method=SMS, mobile=challenge.mobile
        )
        if challenge.mobile == user.mobile:
            # The office's recorded number is the account's: it is the person's own.
            User.update(mobile_tied_at=utcnow()).where(User.id == user.id).execute()
        audit("identity.proven", user, actor=user, detail={"method": SMS})
        notify(user, "identity.proven", method=SMS, resident_id=mask_id(user.resident_id))
    Throttle.reset(keys[0][0])
    forget(user)


def withdraw_proofs(user) -> bool:
    """Withdraw the account's identity proofs (after a password reset by SMS to a number never
    tied to the person: whoever holds the number may not be the person of the ID number). Run
    in the reset's write transaction; True when there were any (the person was told)."""
    removed = IdentityProof.delete().where(IdentityProof.user == user.id).execute()
    if removed:
        audit("identity.withdrawn", user, actor=user, detail={"proofs": removed})
        notify(user, "identity.withdrawn")
    forget(user)
    return bool(removed)


kind(
    "identity.withdrawn",
    title=_l("Prove your identity again"),
    what=_l(
        "The password of this account was reset with a code sent to its mobile number, which "
        "was never tied to your ID number. Until you prove your identity again, the account "
        "shows nothing kept under your ID number."
    ),
    next_step=_l(
        "Prove it with a code sent to the number the office recorded, or at an office counter. "
        "If you did not reset the password, call the vehicle office%(help_line)s at once."
    ),
    endpoint="identity.index",
    prepare=with_help_line,
)


# --- (b) At an office counter ------------------------------------------------------------------


def counter_reference(user) -> str:
    """A short code shown only to the logged-in account, read out at the counter.

    The clerk types it with the ID number: it proves that the person showing the ID card is the
    one logged in to this account, not merely someone who knows the account exists.
    """
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"identity-counter:{user.id}".encode(), hashlib.sha256).digest()
    n = int.from_bytes(digest[:8], "big")
    chars = []
    for _i in range(REFERENCE_LENGTH):
        n, r = divmod(n, len(REFERENCE_ALPHABET))
        chars.append(REFERENCE_ALPHABET[r])
    return "".join(chars)


@dataclass
class CounterLookup:
    """What the clerk sees before activating: the account, masked, and its standing."""

    account: User
    proven: bool


def find_for_counter(resident_id: str, reference: str) -> CounterLookup | None:
    """The citizen account with this ID number whose counter reference matches, or None."""
    account = User.get_or_none(
        (User.resident_id == resident_id) & (User.is_staff == False)  # noqa: E712
    )
    typed = "".join((reference or "").upper().split())
    if account is None or not hmac.compare_digest(counter_reference(account), typed):
        return None
    return CounterLookup(account, identity_proven(account))


def is_second_clerk(clerk, witness) -> bool:
    """Whether `witness` may confirm a counter act of `clerk` (four eyes,
    blueprints/identity/countersign.py): another active counter clerk of the same office (who
    can have seen the person and the card at that counter, not a colleague of another city)
    whose authenticator is set up (a secret shown on an unfinished setup page is no one's
    second factor), and never an administrator (who creates accounts: models.people
    NOT_WITH_ADMIN, for an account made before that rule)."""
    return (
        witness.id != clerk.id
        and witness.office_id is not None
        and witness.office_id == clerk.office_id
        and not witness.has_role(ADMIN)
        and witness.is_staff
        and witness.active
        and witness.has_role(*COUNTER_ROLES)
        and bool(witness.totp_secret)
        and witness.totp_enrolled_at is not None
    )


def activate_at_counter(clerk, account, confirm) -> None:
    """A clerk who saw the ID card activates the account, confirmed by a second clerk:
    `confirm()` returns them (blueprints/identity/countersign.py), asked only once everything
    else allows the activation, so that a confirmation is spent only on one that happens.
    Audited with both names."""
    if not (clerk.is_staff and clerk.has_role(*COUNTER_ROLES)):
        raise IdentityRefused(_l("Only licence and vehicle clerks may activate accounts."))
    if account.is_staff or not account.resident_id:
        raise IdentityRefused(_l("This is not a citizen's account."))
    witness = confirm()
    if not is_second_clerk(clerk, witness):
        raise IdentityRefused(_l("A second clerk must confirm the activation."))
    with write_tx():
        IdentityProof.create(
            user=account.id, resident_id=account.resident_id, method=COUNTER, clerk=clerk.id
        )
        audit(
            "identity.counter_activated",
            account,
            actor=clerk,
            detail={
                "clerk": clerk.real_name,
                "witness": witness.real_name,
                "office": clerk.office.code if clerk.office_id else "",
                "resident_id": mask_id(account.resident_id),
            },
        )
        notify(account, "identity.proven", method=COUNTER, resident_id=mask_id(account.resident_id))
    forget(account)


# --- (c) A notice's query code, for one case ---------------------------------------------------


def record_query_code(user, case) -> None:
    """Remember that the account opened this case with its query code (that case only)."""
    IdentityProof.insert(
        user=user.id,
        resident_id=user.resident_id,
        method=QUERY_CODE,
        case=case.id,
        proven_at=utcnow(),
    ).on_conflict_ignore().execute()
