"""The e-licence's logic as plain functions: issuing it, its codes, and the licence clerks'
steps on a record. Checking a code is in checks.py, share codes in sharing.py.

Steps follow the service convention (core.steps): an explicit actor, one write transaction,
refusals as StepError.
"""

import itertools
import time

import pyotp
from flask_babel import lazy_gettext as _l
from peewee import IntegrityError

from core.audit import audit
from core.filelimits import PHOTO
from core.identity import identity_proven
from core.states import InvalidTransition, StateMachine
from core.steps import StepError
from core.uploads import remove_stored, store_upload
from models import (
    ELicence,
    LicenceRecord,
    User,
    utcnow,
    write_tx,
)
from models.licence import new_handle, new_secret, new_typing_key
from rules import licencecode, totp
from rules.clock import beijing_today
from rules.validators import ValidationError

from .labels import ISSUE_REASONS, NEXT_STEPS
from .notices import tell_issued, tell_status
from .origin import key_prefix

# The clerk's actions on a record's status (restore brings it back to good standing). A
# revoked licence (吊销) is not restored: its holder may apply for a new one once the ban the
# revocation carries is over; it is only cancelled (注销) in the end.
RECORD_STATUS = StateMachine(
    "licence_record",
    "status",
    {
        "valid": {"suspended", "revoked", "cancelled"},
        "suspended": {"valid", "revoked", "cancelled"},
        "revoked": {"cancelled"},
        "points_full": {"valid", "suspended", "revoked", "cancelled"},
        "overdue_review": {"valid", "suspended", "revoked", "cancelled"},
        "expired": {"valid", "cancelled"},
        "cancelled": set(),
    },
)
PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png"}


def issue_refusal(reason: str):
    """The words of a refused application, for its reason: what is wrong and what to do next
    (a record's standing has its own next step, labels.NEXT_STEPS)."""
    return (
        ISSUE_REASONS.get(reason)
        or NEXT_STEPS.get(reason)
        or _l("Your licence record is not in good standing, so no e-licence can be issued.")
    )


class IssueRefused(StepError):
    """The e-licence cannot be issued; `reason` is identity-unproven, no-record, name-mismatch
    or the standing."""

    def __init__(self, reason: str):
        """Keep the reason code (audited and counted) beside the words for the applicant."""
        super().__init__(issue_refusal(reason))
        self.reason = reason


# How many times an application draws new random keys after a clash with another licence's.
KEY_ATTEMPTS = 3


def refusal_reason(user: User, record: LicenceRecord | None) -> str | None:
    """Why `record` (the one kept under the user's ID number, or None) gets the user no
    e-licence: a key of ISSUE_REASONS when it is not theirs to have, else its standing when
    that is not good; None when it may be issued."""
    if not identity_proven(user):
        return "identity-unproven"
    if record is None:
        return "no-record"
    if record.name != user.real_name:
        return "name-mismatch"
    return None if record.in_good_standing() else record.standing()


def held_record(user: User) -> LicenceRecord | None:
    """The user's own licence record (proven, kept under their ID number, in their name), in
    good standing or not; None when they hold none."""
    record = LicenceRecord.by_licence_no_with_office(user.resident_id or "")
    return None if refusal_reason(user, record) in ISSUE_REASONS else record


def apply_for_elicence(user: User) -> ELicence:
    """Issue the e-licence at once when the user's name and ID number match a record in good
    standing; otherwise the refusal is audited and raised (IssueRefused, a StepError). Issuing
    twice returns the existing e-licence.

    Only an account that proved its ID number gets the licence kept under it (core.identity).
    """
    # The record and the code of its office (the counters' office) in one statement.
    record = LicenceRecord.by_licence_no_with_office(user.resident_id or "")
    office = record.office_code if record is not None else ""
    reason = refusal_reason(user, record)
    if reason is not None:
        with write_tx():
            audit("licence.apply_refused", user, actor=user, result=reason, count_office=office)
        raise IssueRefused(reason)
    # No lookup first: the record's e-licence is unique, so a second application (a double
    # tap, or one after the first was issued) fails this insert and gets the one issued, its
    # audit row and notice rolled back with it. A clash on a random key instead (another
    # licence's typing key: one in many thousands) is tried again with new keys.
    for attempt in itertools.count(1):
        try:
            return _issue(user, record, office)
        except IntegrityError:
            issued = ELicence.get_or_none(ELicence.record == record.id)
            if issued is not None:
                return issued
            if attempt == KEY_ATTEMPTS:
                raise


def _issue(user: User, record: LicenceRecord, office: str) -> ELicence:
    """Insert the e-licence with new random keys, its audit row and the holder's notice, in
    one transaction (IntegrityError when the record has one already, or a key clashed)."""
    with write_tx():
        elicence = ELicence(
            holder=user.id,
            record=record.id,
            secret=new_secret(),
            typing_key=new_typing_key(key_prefix()),
        )
        elicence.insert_new()
        audit(
            "licence.issue",
            elicence,
            actor=user,
            detail={"record": record.id},
            count_office=office,
        )
        tell_issued(user, record)
    return elicence


def reveal_number(elicence: ELicence, actor: User) -> LicenceRecord:
    """The holder asks to see their full licence number: shown once, and audited."""
    with write_tx():
        audit("licence.reveal", elicence.record, actor=actor, detail={"by": "holder"})
    return elicence.record


def reset_codes(elicence: ELicence, actor: User) -> ELicence:
    """Revoke every outstanding code: new secret, new handle, new typing key."""
    with write_tx():
        ELicence.update(
            secret=new_secret(),
            handle=new_handle(),
            typing_key=new_typing_key(key_prefix()),
            last_used_step=None,
            codes_reset_at=utcnow(),
        ).where(ELicence.id == elicence.id).execute()
        audit("licence.codes_reset", elicence, actor=actor)
    return ELicence.get_by_id(elicence.id)


def current_code(elicence: ELicence, now: float | None = None) -> tuple[str, int]:
    """The code to type now (6 digits), and the seconds it stays current."""
    now = time.time() if now is None else now
    step = totp.step_at(now, step=licencecode.CODE_STEP_SECONDS)
    remaining = totp.seconds_left(now, step=licencecode.CODE_STEP_SECONDS)
    return code_generator(elicence).generate_otp(step), remaining


def code_generator(elicence: ELicence) -> pyotp.TOTP:
    """The generator of this e-licence's codes, with the licence code's step."""
    return totp.totp(elicence.secret, step=licencecode.CODE_STEP_SECONDS)


def current_qr_code(elicence: ELicence, now: float | None = None) -> str:
    """The long code the QR carries now (same step as the typed code; never typed)."""
    now = time.time() if now is None else now
    return licencecode.qr_code(
        elicence.secret, totp.step_at(now, step=licencecode.CODE_STEP_SECONDS)
    )


def verify_url(base_url: str, elicence: ELicence, qr_code: str) -> str:
    """What the QR encodes: <PUBLIC_BASE_URL>/v/<handle>/<QR code>."""
    return f"{base_url}/v/{elicence.handle}/{qr_code}"


# --- Licence clerks' steps on a record ----------------------------------------------------


def set_record_status(record: LicenceRecord, to_state: str, reason: str, actor: User) -> None:
    """Suspend, revoke, cancel or restore a record, with the reason (the next check shows it);
    StepError when the move is not possible or someone else changed the record meanwhile."""
    try:
        with write_tx():
            moved = RECORD_STATUS.apply(
                record,
                to_state,
                actor=actor,
                detail={"reason": reason},
                status_reason=reason.strip(),
                status_changed_at=utcnow(),
                updated_at=utcnow(),
            )
            if moved:
                tell_status(record, beijing_today().isoformat())
    except InvalidTransition:
        moved = False
    if not moved:
        raise StepError(_l("Someone else changed this licence meanwhile; nothing was done."))


def set_record_photo(record: LicenceRecord, upload, actor: User) -> None:
    """Store the holder's photo (type by content, size capped, server-made name) and put it on
    the record, audited; the photo it replaces is removed. StepError on `photo` when refused."""
    try:
        stored = store_upload(upload, "photos", PHOTO_TYPES, PHOTO_MAX_BYTES, PHOTO)
    except ValidationError as exc:
        raise StepError(exc.message, "photo") from None
    try:
        with write_tx():
            LicenceRecord.update(photo=stored.relpath, updated_at=utcnow()).where(
                LicenceRecord.id == record.id
            ).execute()
            audit("licence.photo", record, actor=actor, detail={"sha256": stored.sha256})
    except Exception:
        remove_stored(stored.relpath)  # nothing half written: no file without its row
        raise
    remove_stored(record.photo)  # the photo it replaces
