"""Driving-licence records, e-licences (电子驾驶证), their checks and share codes."""

import base64
import datetime as dt
import secrets

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
)

from rules.clock import beijing_today

from .base import BaseModel, compiled_execute, compiled_get, compiled_get_joined, utcnow
from .people import Office, User

# 准驾车型: the licence classes of GA/T 947 / the Ministry's Order 162.
LICENCE_CLASSES = (
    "A1",
    "A2",
    "A3",
    "B1",
    "B2",
    "C1",
    "C2",
    "C3",
    "C4",
    "C5",
    "C6",
    "D",
    "E",
    "F",
    "M",
    "N",
    "P",
)

# Record statuses. `valid` is good standing; every other status refuses the e-licence.
VALID = "valid"
POINTS_FULL = "points_full"
SUSPENDED = "suspended"
REVOKED = "revoked"
CANCELLED = "cancelled"
OVERDUE_REVIEW = "overdue_review"
EXPIRED = "expired"
RECORD_STATUSES = (VALID, POINTS_FULL, SUSPENDED, REVOKED, CANCELLED, OVERDUE_REVIEW, EXPIRED)
POINTS_PER_CYCLE = 12

# Crockford's base32 alphabet: no I, L, O, U, so typed keys are not misread.
TYPING_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_typing_key(prefix: str = "") -> str:
    """An 8-character key that identifies an e-licence when typed: the deployment's prefix
    (LICENCE_KEY_PREFIX, 0 to 2 characters, naming the issuing city to other cities' verifiers)
    and random characters for the rest (40 random bits without a prefix, 30 with two)."""
    # One random byte per character, its low five bits choosing among the alphabet's 32
    # (256 is a multiple of 32, so every character is equally likely): one call for random
    # bytes instead of one per character, as every new e-licence makes two of these.
    return prefix + "".join(TYPING_ALPHABET[b % 32] for b in secrets.token_bytes(8 - len(prefix)))


def new_secret() -> str:
    """A new e-licence secret: 160 random bits in base32, what pyotp.random_base32() gives,
    made from one call for random bytes instead of one per character (an e-licence
    application, most of the day's work, makes one)."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


def new_handle() -> str:
    """The opaque identifier of an e-licence in QR URLs (never the ID number)."""
    return secrets.token_urlsafe(12)


class LicenceRecord(BaseModel):
    """The licence as the vehicle office keeps it; the e-licence shows it as it is now."""

    # In China the licence number is the holder's resident ID number.
    licence_no = CharField(max_length=18, unique=True)
    file_no = CharField(max_length=12, unique=True)
    name = CharField(max_length=50)
    sex = CharField(max_length=1)  # M / F
    birth_date = DateField()
    nationality = CharField(max_length=30, default="中国")
    address = CharField(max_length=200)
    # The mobile number the office recorded with the licence: identity codes go only here.
    mobile = CharField(max_length=11, null=True)
    photo = CharField(max_length=200, null=True)  # relative path under UPLOAD_FOLDER
    classes = CharField(max_length=60)  # space-separated, e.g. "C1 D"
    first_issue_date = DateField()
    valid_from = DateField()
    valid_until = DateField()
    points = IntegerField(default=0)  # penalty points in the current 12-point cycle
    status = CharField(max_length=20, default=VALID, index=True)
    status_reason = CharField(max_length=200, default="")
    # When the clerk last changed the status: the holder sees the date of a suspension.
    status_changed_at = DateTimeField(null=True)
    issuing_office = ForeignKeyField(Office, backref="licence_records", on_delete="RESTRICT")
    updated_at = DateTimeField(default=utcnow)

    # The lookups of every verifier check and application: their SQL text is built once
    # (compiled_get), as building it costs more than running it.
    @classmethod
    def by_licence_no(cls, licence_no: str) -> "LicenceRecord | None":
        """The record with this licence number (the holder's ID number), or None."""
        return compiled_get(
            cls,
            "licence-record-by-number",
            lambda: cls.select().where(cls.licence_no == ""),
            licence_no,
        )

    @classmethod
    def by_licence_no_with_office(cls, licence_no: str) -> "LicenceRecord | None":
        """The record with this licence number, or None, with the code of the office that keeps
        it (its `office_code`, which the application's counters are kept under) read in the same
        statement: an e-licence application, most of the day's work, needs both."""
        return compiled_get(
            cls,
            "licence-record-by-number-with-office",
            lambda: (
                cls.select(cls, Office.code.alias("office_code"))
                .join(Office, on=(cls.issuing_office == Office.id))
                .where(cls.licence_no == "")
            ),
            licence_no,
        )

    @classmethod
    def by_id(cls, record_id: int) -> "LicenceRecord | None":
        """The record with this id, or None."""
        return compiled_get(
            cls, "licence-record-by-id", lambda: cls.select().where(cls.id == 0), record_id
        )

    @property
    def class_list(self) -> list[str]:
        """The licence classes as a list."""
        return self.classes.split()

    def standing(self, today: dt.date | None = None) -> str:
        """The status as of today: a valid record past its end date is expired, and one with
        12 points or more is points-full, whatever the stored status says."""
        today = today or beijing_today()
        if self.status != VALID:
            return self.status
        if self.valid_until < today:
            return EXPIRED
        if self.points >= POINTS_PER_CYCLE:
            return POINTS_FULL
        return VALID

    def in_good_standing(self, today: dt.date | None = None) -> bool:
        """True when the licence may be used to drive today."""
        return self.standing(today) == VALID


class ELicence(BaseModel):
    """A holder's electronic licence: the secret behind its codes and the handles that name it.

    Revoking all codes replaces secret, handle and typing key at once: every code and QR shown
    before stops working, and a pause of typed checks caused by someone else's guesses (kept per
    handle) no longer applies.
    """

    holder = ForeignKeyField(User, backref="elicences", on_delete="RESTRICT")
    record = ForeignKeyField(LicenceRecord, unique=True, backref="elicences", on_delete="RESTRICT")
    handle = CharField(max_length=32, unique=True, default=new_handle)
    typing_key = CharField(max_length=8, unique=True, default=new_typing_key)
    secret = CharField(max_length=64)
    # The newest TOTP step accepted: each code is good once (a conditional UPDATE).
    last_used_step = IntegerField(null=True)
    issued_at = DateTimeField(default=utcnow)
    codes_reset_at = DateTimeField(null=True)

    # The lookups of every verifier check: their SQL text is built once (compiled_get).
    @classmethod
    def by_handle(cls, handle: str) -> "ELicence | None":
        """The e-licence a QR names by its handle, or None."""
        return compiled_get(
            cls, "elicence-by-handle", lambda: cls.select().where(cls.handle == ""), handle
        )

    @classmethod
    def by_typing_key(cls, typing_key: str) -> "ELicence | None":
        """The e-licence with this typed key (in canonical form), or None."""
        return compiled_get(
            cls,
            "elicence-by-typing_key",
            lambda: cls.select().where(cls.typing_key == ""),
            typing_key,
        )

    # The code of the office that keeps the licence record, when read with it (for_check):
    # the check's statistics count there (core.stats) without asking for it again.
    record_office_code: str | None = None

    @classmethod
    def for_check(cls, by: str, value: str) -> "ELicence | None":
        """The e-licence a check names by its handle or typing key (`by`: "handle" or
        "typing_key"), with its licence record and that record's office code, in one query:
        every verifier check reads them, and each lookup of its own was a round trip."""
        field = {"handle": cls.handle, "typing_key": cls.typing_key}[by]
        found = cls._with_record(
            f"elicence-for-check-by-{by}",
            lambda: (
                cls.select(cls, LicenceRecord, Office.code)
                .join(LicenceRecord)
                .join(Office)
                .where(field == "")
            ),
            value,
        )
        if found is None:
            return None
        elicence, office_code = found
        elicence.record_office_code = office_code
        return elicence

    @classmethod
    def with_record_of_holder(cls, user_id: int) -> "ELicence | None":
        """The e-licence kept under this account (the first, if ever more than one), with its
        licence record read in the same query, or None: every page of the holder's that shows
        the licence reads both (the code page each code step)."""
        found = cls._with_record(
            "elicence-with-record-by-holder",
            lambda: (
                cls.select(cls, LicenceRecord).join(LicenceRecord).where(cls.holder == 0).limit(1)
            ),
            user_id,
            1,  # the LIMIT
        )
        return found[0] if found is not None else None

    @classmethod
    def _with_record(cls, name: str, build, *params) -> tuple | None:
        """(e-licence, *further columns) of a fixed-shape SELECT of the e-licence and its
        licence record (compiled_get_joined), the record set on the e-licence; None when no
        row matched."""
        found = compiled_get_joined((cls, LicenceRecord), name, build, *params)
        if found is None:
            return None
        elicence, record, *rest = found
        elicence.record = record
        elicence._dirty.clear()  # the record it was read with: nothing to save
        return (elicence, *rest)

    @classmethod
    def by_record(cls, record_id: int) -> "ELicence | None":
        """The e-licence of a licence record (there is at most one), or None."""
        return compiled_get(
            cls, "elicence-by-record", lambda: cls.select().where(cls.record == 0), record_id
        )

    def accept_step(self, step: int) -> bool:
        """Use this step's code, once, safely across processes and nodes."""
        # On every verifier check: the SQL text is built once (compiled_execute).
        updated = compiled_execute(
            "elicence-accept-step",
            lambda: ELicence.update(last_used_step=0).where(
                (ELicence.id == 0)
                & (ELicence.last_used_step.is_null() | (ELicence.last_used_step < 0))
            ),
            step,
            self.id,
            step,
        )
        return updated == 1

    @property
    def throttle_key(self) -> str:
        """Wrong typed codes from every address are counted here, per handle (so revoking all
        codes escapes someone's guessing); wrong QR codes are counted nowhere."""
        return f"licence:{self.handle}"


class LicenceCheck(BaseModel):
    """One check of an e-licence (查验记录), shown to the holder in their check log.

    Not a table of its own: a view (migration 0011) over the audit log's `licence.check`
    entries of e-licences, so each check writes one row that serves both the holder's log
    and the audit log. Read-only: checks are recorded with core.audit.audit.
    """

    elicence = ForeignKeyField(ELicence, backref="checks")
    at = DateTimeField()
    via = CharField(max_length=10)  # qr | typed | json | share
    checker_kind = CharField(max_length=12)  # anonymous | inspector | staff | firm
    checker = ForeignKeyField(User, null=True)
    checker_label = CharField(max_length=100, default="")
    verdict = CharField(max_length=20)
    client_addr = CharField(max_length=64, default="")
    # A check relayed by another city's deployment: that city, and the office code of its
    # inspector ('' for a check made here by a phone or a firm). The holder's log names them.
    checker_city = CharField(max_length=50, default="")
    checker_office = CharField(max_length=20, default="")

    class Meta:
        table_name = "licence_check"


def new_share_code() -> str:
    """A share code for firms: 8 characters of Crockford base32, shown as XXXX-XXXX."""
    return new_typing_key()


class ShareCode(BaseModel):
    """A code the holder gives a firm (car rental, insurer, transport) to see the licence."""

    elicence = ForeignKeyField(ELicence, backref="share_codes", on_delete="CASCADE")
    code = CharField(max_length=8, unique=True, default=new_share_code)
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    show_points = BooleanField(default=False)
    note = CharField(max_length=60, default="")  # the holder's own label, e.g. the firm's name
    cancelled_at = DateTimeField(null=True)

    @property
    def display(self) -> str:
        """The code as pages and messages write it: two groups of four (1KDE-5V55)."""
        return f"{self.code[:4]}-{self.code[4:]}"

    def is_live(self, now: dt.datetime | None = None) -> bool:
        """Not cancelled and not past its end."""
        now = now or utcnow()
        return self.cancelled_at is None and self.expires_at > now


# A citizen's request to correct the name on their account (a typo made at registration),
# decided by a licence clerk who compares it with the licence record and the ID card.
CORRECTION_PENDING = "pending"
CORRECTION_APPROVED = "approved"
CORRECTION_REFUSED = "refused"
CORRECTION_STATUSES = (CORRECTION_PENDING, CORRECTION_APPROVED, CORRECTION_REFUSED)


class NameCorrection(BaseModel):
    """A request to correct the account's real name (姓名更正申请), and the clerk's answer."""

    user = ForeignKeyField(User, backref="name_corrections", on_delete="CASCADE")
    old_name = CharField(max_length=50)
    new_name = CharField(max_length=50)
    note = CharField(max_length=200, default="")
    status = CharField(max_length=10, default=CORRECTION_PENDING, index=True)
    requested_at = DateTimeField(default=utcnow)
    decided_by = ForeignKeyField(User, null=True, backref="+", on_delete="RESTRICT")
    decided_at = DateTimeField(null=True)
    answer = CharField(max_length=200, default="")
