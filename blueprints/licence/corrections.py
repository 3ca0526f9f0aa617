"""Corrections: a licence clerk corrects a field of a
licence record with a reason, and a citizen asks for the name on their account to be corrected,
which a licence clerk approves or refuses (a small request queue).

Steps follow the service convention (core.steps): an explicit actor, one write transaction,
refusals as StepError; each change is a conditional UPDATE with its audit row, and the person
it concerns is told in the same transaction (blueprints.licence.notices).
"""

import datetime as dt

from flask_babel import lazy_gettext as _l

from core.audit import audit
from core.identity import identity_proven
from core.states import StateMachine
from core.steps import LostRace, StepError, run_step
from models import LicenceRecord, NameCorrection, User, utcnow
from models.licence import CORRECTION_APPROVED, CORRECTION_PENDING, CORRECTION_REFUSED
from rules.clock import beijing_today
from rules.validators import (
    ValidationError,
    birth_date_from_resident_id,
    normalize_person_name,
    sex_code,
    sex_from_resident_id,
)

from .notices import tell_corrected, tell_name_decision

# A request is decided once: approved or refused, never reopened (a new request may follow).
CORRECTION_MACHINE = StateMachine(
    "name_correction",
    "status",
    {
        CORRECTION_PENDING: {CORRECTION_APPROVED, CORRECTION_REFUSED},
        CORRECTION_APPROVED: set(),
        CORRECTION_REFUSED: set(),
    },
)
CORRECTABLE = ("name", "sex", "birth_date", "nationality", "address")


def _value(field: str, text: str):
    """The typed value of a record field from the clerk's text; StepError on `value`."""
    text = (text or "").strip()
    if field == "sex":
        if sex_code(text) is None:
            raise StepError(_l("Enter M or F."), "value")
        return sex_code(text)
    if field == "birth_date":
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise StepError(_l("Enter the date as YYYY-MM-DD."), "value") from None
    if field == "name":  # as ID cards print names, as the holder's own request is taken
        try:
            return normalize_person_name(text)
        except ValidationError as exc:
            raise StepError(exc.message, "value") from None
    limit = 200 if field == "address" else 50
    if not text or len(text) > limit:
        raise StepError(_l("Enter the corrected value."), "value")
    return text


def _agrees_with_id_number(record: LicenceRecord, field: str, new) -> None:
    """The date of birth and the sex are written in the licence number (the holder's ID number,
    GB 11643): a correction may only bring the record into line with it (a typo in the record),
    never contradict it. StepError on `value`, naming what the number says. (A licence number
    that is no resident ID number says nothing of either.)"""
    try:
        born, sex = (
            birth_date_from_resident_id(record.licence_no),
            sex_from_resident_id(record.licence_no),
        )
    except ValidationError:
        return
    if field == "birth_date" and new != born:
        raise StepError(
            _l(
                "The date of birth must match the ID number, which says %(date)s.",
                date=born.isoformat(),
            ),
            "value",
        )
    if field == "sex" and new != sex:
        raise StepError(_l("The sex must match the ID number."), "value")


def correct_record(record_id: int, actor, *, field: str, value: str, reason: str):
    """Correct one field of a licence record, with the reason (audited with the old and new
    value). StepError when the field cannot be corrected, the value is the same or someone
    else changed the field meanwhile."""
    if field not in CORRECTABLE:
        raise StepError(_l("This field cannot be corrected here."), "field")
    new = _value(field, value)
    if not (reason or "").strip():
        raise StepError(_l("Give the reason; the holder and the audit log will see it."), "reason")
    column = getattr(LicenceRecord, field)

    def step():
        record = LicenceRecord.get_or_none(LicenceRecord.id == record_id)
        if record is None:
            raise StepError(_l("No such licence record."))
        old = getattr(record, field)
        if old == new:
            raise StepError(_l("The record already says this."), "value")
        _agrees_with_id_number(record, field, new)
        changed = (
            LicenceRecord.update({column: new, LicenceRecord.updated_at: utcnow()})
            .where((LicenceRecord.id == record_id) & (column == old))
            .execute()
        )
        if changed != 1:
            raise LostRace
        audit(
            "licence.record_corrected",
            record,
            actor=actor,
            detail={"field": field, "old": str(old), "new": str(new), "reason": reason.strip()},
        )
        tell_corrected(record, field, reason.strip(), actor.office_id, beijing_today().isoformat())
        return LicenceRecord.get_by_id(record_id)

    return run_step(step, lost=_l("Someone else changed this licence meanwhile; nothing was done."))


def pending_request(user) -> NameCorrection | None:
    """The user's request still waiting for a clerk, if any."""
    return NameCorrection.get_or_none(
        (NameCorrection.user == user.id) & (NameCorrection.status == CORRECTION_PENDING)
    )


def request_name_correction(user, *, new_name: str, note: str = "") -> NameCorrection:
    """The citizen asks for the name on their account to be corrected (a typo at registration).

    Only an account whose ID number is proven may ask (the clerk then compares the new name
    with the licence record and the ID card); one request at a time.
    """
    new_name = (new_name or "").strip()
    if not identity_proven(user):
        raise StepError(
            _l("First prove that your ID number is yours; then you can ask for a correction.")
        )
    if new_name == user.real_name:
        raise StepError(_l("This is the name your account already has."), "new_name")

    def step():
        if pending_request(user) is not None:
            raise StepError(_l("You already have a request waiting for a clerk."))
        request = NameCorrection.create(
            user=user.id, old_name=user.real_name, new_name=new_name, note=(note or "").strip()
        )
        audit("licence.name_correction_requested", request, actor=user)
        return request

    return run_step(step)


REASON_NEEDED = _l("Say why the request is refused: the citizen reads your answer.")


def name_on_record(request: NameCorrection) -> str | None:
    """The name on the licence record of the request's account when the name asked for is
    not it (an approval is then asked first); None when they agree or there is no record."""
    record = LicenceRecord.by_licence_no(request.user.resident_id or "")
    return record.name if record is not None and record.name != request.new_name else None


def decide_name_correction(
    request_id: int, actor, *, approve: bool, answer: str = "", differing_confirmed: bool = False
):
    """A licence clerk approves (the account's name is changed) or refuses, with an answer the
    citizen reads (a refusal must give one); the decision is audited. Approving a name the
    licence record does not have needs `differing_confirmed` (the clerk was asked). StepError
    when already decided or the account's name changed since the request."""
    answer = (answer or "").strip()
    if not approve and not answer:
        raise StepError(REASON_NEEDED, "answer")

    def step():
        request = NameCorrection.get_or_none(NameCorrection.id == request_id)
        if request is None or request.status != CORRECTION_PENDING:
            raise StepError(_l("This request has already been decided."))
        if approve and not differing_confirmed and name_on_record(request) is not None:
            raise StepError(_l("The name asked for is not the one on the licence record."))
        to = CORRECTION_APPROVED if approve else CORRECTION_REFUSED
        moved = CORRECTION_MACHINE.apply(
            request,
            to,
            actor=actor,
            decided_by=actor.id,
            decided_at=utcnow(),
            answer=answer,
            detail={"reason": answer} if not approve else None,
        )
        if not moved:
            raise LostRace
        if approve:
            renamed = (
                User.update(real_name=request.new_name)
                .where((User.id == request.user_id) & (User.real_name == request.old_name))
                .execute()
            )
            if renamed != 1:
                raise LostRace
        tell_name_decision(request)
        return request

    return run_step(step, lost=_l("This request has already been decided."))


def correction_queue():
    """Requests waiting for a clerk, oldest first, with the account."""
    return (
        NameCorrection.select(NameCorrection, User)
        .join(User, on=(NameCorrection.user == User.id))
        .where(NameCorrection.status == CORRECTION_PENDING)
        .order_by(NameCorrection.requested_at, NameCorrection.id)
    )
