"""How an account proved that the resident ID number it registered with is its holder's (身份核验).

Registering gives an account; it does not prove that the person typing a name and an ID number
(both printed on many documents) is that person. What the account may see of records kept under
the number depends on a proof kept here:

- `sms`: a one-time code sent to the mobile number the office recorded with the holder's licence
  or vehicle (never to a number the registrant typed);
- `counter`: a licence or vehicle clerk saw the ID card at an office counter and activated the
  account (the clerk is named);
- `query_code`: the query code of an accident notice opened that one case, and nothing else.

A proof binds the ID number as it was when proven: an account whose number changes later is
unproven again.
"""

import datetime as dt

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, fn

from .base import BaseModel, compiled_get, compiled_scalar, utcnow
from .evidence import AccidentCase
from .licence import LicenceRecord
from .people import User
from .vehicles import TRANSFERRED_OUT, Vehicle

SMS = "sms"
COUNTER = "counter"
QUERY_CODE = "query_code"
PROOF_METHODS = (SMS, COUNTER, QUERY_CODE)
# The methods that prove the whole ID number (a query code proves one case only).
FULL_PROOFS = (SMS, COUNTER)


class IdentityProof(BaseModel):
    """One proof that an account's holder is the person of its resident ID number."""

    user = ForeignKeyField(User, backref="identity_proofs", on_delete="CASCADE")
    resident_id = CharField(max_length=18)
    method = CharField(max_length=12)
    # query_code: the one case the code opened.
    case = ForeignKeyField(AccidentCase, null=True, backref="+", on_delete="CASCADE")
    # sms: the recorded mobile number the code went to.
    mobile = CharField(max_length=11, null=True)
    # counter: the clerk who saw the ID card.
    clerk = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    proven_at = DateTimeField(default=utcnow)

    class Meta:
        # One row per account and case opened by code; sms/counter rows (case NULL) may repeat.
        indexes = ((("user", "case"), True),)

    @classmethod
    def proves(cls, user) -> bool:
        """True when the account proved its current ID number by SMS or at a counter."""
        if not user.resident_id:
            return False
        # Asked on every page of a holder's (the code page each code step): SQL text built once.
        found = compiled_scalar(
            "identity-proof-full",
            lambda: (
                cls.select(cls.id)
                .where((cls.user == 0) & (cls.resident_id == "") & cls.method.in_(FULL_PROOFS))
                .limit(1)
            ),
            user.id,
            user.resident_id,
            *FULL_PROOFS,
            1,  # the LIMIT
        )
        return found is not None

    @classmethod
    def logged_in_user(cls, login_id: str) -> "User | None":
        """The active account behind a Flask-Login identity (id:session token), or None, with
        whether it proved its current ID number (its `full_proof`, 1 or 0) read in the same
        statement: every page of a logged-in citizen needs the account, and most of them ask
        identity_proven too, so the two lookups cost one round trip. SQL text built once."""
        uid, _, token = (login_id or "").partition(":")
        if not uid.isdigit() or not token:
            return None
        proof = cls.alias("proof")
        user = compiled_get(
            User,
            "user-by-login-id-with-proof",
            lambda: User.select(
                User,
                fn.EXISTS(
                    proof.select(proof.id).where(
                        (proof.user == User.id)
                        & (proof.resident_id == User.resident_id)
                        & proof.method.in_(FULL_PROOFS)
                    )
                ).alias("full_proof"),
            ).where((User.id == 0) & (User.session_token == "")),
            *FULL_PROOFS,
            int(uid),
            token,
        )
        return user if user and user.active else None

    @classmethod
    def opened_case_ids(cls, user) -> set[int]:
        """The accident cases this account opened with a notice's query code."""
        if not user.resident_id:
            return set()
        rows = cls.select(cls.case).where(
            (cls.user == user.id)
            & (cls.resident_id == user.resident_id)
            & (cls.method == QUERY_CODE)
        )
        return {r.case_id for r in rows}

    @classmethod
    def latest(cls, user):
        """The account's newest full proof, or None (shown on the identity page)."""
        return (
            cls.select()
            .where(
                (cls.user == user.id)
                & (cls.resident_id == (user.resident_id or ""))
                & cls.method.in_(FULL_PROOFS)
            )
            .order_by(cls.proven_at.desc(), cls.id.desc())
            .first()
        )


class SmsChallenge(BaseModel):
    """A one-time code sent by SMS to a recorded mobile number: kept hashed, good once, briefly."""

    user = ForeignKeyField(User, backref="sms_challenges", on_delete="CASCADE")
    resident_id = CharField(max_length=18)
    mobile = CharField(max_length=11)
    # HMAC-SHA256 of the code under the deployment's secret key: a copy of the table alone does
    # not give the codes back (a plain hash of six digits would be undone in a second).
    code_hash = CharField(max_length=64)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    # What the code is for (core.identity.hash_code binds it too): identity-sms |
    # password-reset | mobile-change. A new code replaces the older ones of its purpose only.
    purpose = CharField(max_length=20, default="identity-sms")
    tries = IntegerField(default=0)  # attempts taken (take_try), right or wrong

    TRIES = 5  # attempts one code allows, from everyone together

    @classmethod
    def live_for(cls, user, purpose: str, now: dt.datetime | None = None):
        """The account's newest unused, unexpired challenge for `purpose` and its current ID
        number, or None."""
        now = now or utcnow()
        return (
            cls.select()
            .where(
                (cls.user == user.id)
                & (cls.purpose == purpose)
                & (cls.resident_id == (user.resident_id or ""))
                & cls.used_at.is_null()
                & (cls.tries < cls.TRIES)
                & (cls.expires_at > now)
            )
            .order_by(cls.created_at.desc(), cls.id.desc())
            .first()
        )

    def use(self) -> bool:
        """Spend the code, once: a conditional update, so two submissions cannot both pass."""
        updated = (
            SmsChallenge.update(used_at=utcnow())
            .where((SmsChallenge.id == self.id) & SmsChallenge.used_at.is_null())
            .execute()
        )
        return updated == 1

    def take_try(self) -> bool:
        """Take one attempt from the code before comparing it: a conditional update, so
        attempts in parallel (on any node) get no more than TRIES between them."""
        updated = (
            SmsChallenge.update(tries=SmsChallenge.tries + 1)
            .where(
                (SmsChallenge.id == self.id)
                & SmsChallenge.used_at.is_null()
                & (SmsChallenge.tries < self.TRIES)
            )
            .execute()
        )
        return updated == 1

    def give_try_back(self) -> None:
        """Return the try a right code took when the step was refused for something else (the
        new password, say): the right code costs the person nothing."""
        SmsChallenge.update(tries=SmsChallenge.tries - 1).where(
            (SmsChallenge.id == self.id) & (SmsChallenge.tries > 0)
        ).execute()

    @classmethod
    def retire_all(cls, user, purpose: str | None = None) -> None:
        """Spend every outstanding code of the account for `purpose` (a new code replaces the
        old ones of its purpose), or of every purpose (None: the account's number changed, and
        a code sent to the old one must open nothing)."""
        live = (cls.user == user.id) & cls.used_at.is_null()
        if purpose is not None:
            live &= cls.purpose == purpose
        cls.update(used_at=utcnow()).where(live).execute()


class PendingRegistration(BaseModel):
    """A registration waiting for the code sent to the mobile number it gave
    (blueprints/auth/registration.py). The account is made from it once the code comes back,
    so that nobody registers a number that is not theirs; until then it holds neither the ID
    number nor the mobile number for itself (several may name them, the one who has the phone
    wins), and `flask db prune` deletes it after LIFETIME. The browser that began it holds the
    token whose digest is kept here. Once finished, its details are wiped and the row only
    says so (a second tap on the button finds it) until it is pruned."""

    token_hash = CharField(max_length=64, unique=True)
    real_name = CharField(max_length=50)
    resident_id = CharField(max_length=18)
    mobile = CharField(max_length=11)
    password_hash = CharField(max_length=255)
    # HMAC of the code, as SmsChallenge keeps it (core.identity.hash_code, bound to the token).
    code_hash = CharField(max_length=64)
    code_expires_at = DateTimeField()
    tries = IntegerField(default=0)  # attempts at the current code, right or wrong
    created_at = DateTimeField(default=utcnow, index=True)
    finished_at = DateTimeField(null=True)  # the account was made from it

    TRIES = SmsChallenge.TRIES
    LIFETIME = dt.timedelta(hours=1)

    @classmethod
    def live(cls, token_hash: str, now: dt.datetime | None = None) -> "PendingRegistration | None":
        """The registration of this token, unless it is older than LIFETIME."""
        since = (now or utcnow()) - cls.LIFETIME
        return cls.get_or_none((cls.token_hash == token_hash) & (cls.created_at > since))

    def _unfinished(self):
        cls = PendingRegistration
        return (cls.id == self.id) & cls.finished_at.is_null()

    def take_try(self, now: dt.datetime | None = None) -> bool:
        """Take one attempt at the code read with this row before comparing it (a conditional
        update, as SmsChallenge.take_try): False when its tries are used up, it expired, a new
        code replaced it meanwhile, or the registration was finished."""
        cls = PendingRegistration
        alive = (cls.tries < self.TRIES) & (cls.code_expires_at > (now or utcnow()))
        same = cls.code_hash == self.code_hash
        return (
            cls.update(tries=cls.tries + 1).where(self._unfinished() & alive & same).execute() == 1
        )

    def replace_code(self, code_hash: str, expires_at: dt.datetime) -> bool:
        """Put a new code in place of the one this row was read with, with its tries back:
        False once finished, or when another request replaced it first (of two taps on "send
        a new code", one sends)."""
        cls = PendingRegistration
        changes = {cls.code_hash: code_hash, cls.code_expires_at: expires_at, cls.tries: 0}
        same = cls.code_hash == self.code_hash
        return cls.update(changes).where(self._unfinished() & same).execute() == 1

    def restore_code(self, replaced_by: str) -> None:
        """Put back the code this row was read with, when the one that replaced it could not be
        sent: the code the person has still works."""
        cls = PendingRegistration
        old = {cls.code_hash: self.code_hash, cls.code_expires_at: self.code_expires_at}
        cls.update({**old, cls.tries: self.tries}).where(
            (cls.id == self.id) & (cls.code_hash == replaced_by)
        ).execute()

    def finish(self) -> bool:
        """Mark it finished and wipe its details, once (a conditional update: of two taps on
        the button, one makes the account). This object keeps the details it was read with."""
        cls = PendingRegistration
        wiped = {"real_name": "", "resident_id": "", "mobile": "", "password_hash": ""}
        return cls.update(finished_at=utcnow(), **wiped).where(self._unfinished()).execute() == 1

    @classmethod
    def prune(cls, now: dt.datetime | None = None) -> int:
        """Delete the registrations older than LIFETIME (their details with them)."""
        return cls.delete().where(cls.created_at <= (now or utcnow()) - cls.LIFETIME).execute()


def recorded_mobiles(resident_id: str) -> list[str]:
    """The mobile numbers the office recorded under this ID number, the licence's first.

    Only what a clerk entered or the office imported counts: a number typed at registration
    proves nothing. Vehicles that left this office (transferred out) no longer count.
    """
    found = []
    record = LicenceRecord.get_or_none(LicenceRecord.licence_no == resident_id)
    if record is not None and record.mobile:
        found.append(record.mobile)
    vehicles = (
        Vehicle.select(Vehicle.owner_mobile)
        .where(
            (Vehicle.owner_resident_id == resident_id)
            & Vehicle.owner_mobile.is_null(False)
            & (Vehicle.status != TRANSFERRED_OUT)
        )
        .order_by(Vehicle.updated_at.desc(), Vehicle.id.desc())
    )
    for vehicle in vehicles:
        if vehicle.owner_mobile not in found:
            found.append(vehicle.owner_mobile)
    return found
