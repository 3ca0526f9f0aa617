"""The vehicle offices' steps of a transfer case: inspection, the archive, registration.

Same rules as service.py: one write transaction per step, the case locked and re-read, the
checks run again, each move a conditional update with its audit row.
"""

import secrets

from flask_babel import lazy_gettext as _l

from core.audit import audit
from core.identity import identity_proven
from models import (
    ArchiveTransfer,
    Inspection,
    InspectionPhoto,
    PlateNumber,
    TransferCase,
    User,
    Vehicle,
    utcnow,
)
from models.transfer import (
    ARCHIVE_RECEIVED,
    ARCHIVE_REFUSED,
    ARCHIVE_REQUESTED,
    ARCHIVE_SENT,
    AWAITING_ARCHIVE,
    AWAITING_INSPECTION,
    INSPECTION_FAILED,
    REGISTERED,
)
from models.vehicles import NORMAL, PLATE_ASSIGNED, PLATE_FREE, PLATE_RESERVED, TRANSFERRED_OUT
from rules.clock import beijing_today
from rules.validators import display_plate

from . import archive as archive_doc
from . import links
from .notices import tell
from .service import (
    LostRace,
    StepError,
    event,
    locked_case,
    move,
    run_step,
    stop,
    stopped_by_checks,
)


class ReadingMismatch(StepError):
    """The VIN or plate typed at the inspection differs from the record: nothing is recorded
    until the clerk, having read it again, confirms it (a typo must not fail the inspection)."""


def mismatch_refusal(vin_ok: bool, plate_ok: bool) -> ReadingMismatch:
    """The "are you sure?" for a reading that differs from the record, on its field."""
    if not vin_ok:
        return ReadingMismatch(
            _l(
                "The VIN typed differs from the record. Read it off the vehicle again: if it "
                "really differs, tick the confirmation and record it (the inspection fails)."
            ),
            "vin_read",
        )
    return ReadingMismatch(
        _l(
            "The plate typed differs from the record. Read it off the vehicle again: if it "
            "really differs, tick the confirmation and record it (the inspection fails)."
        ),
        "plate_read",
    )


def inspect(
    case_id: int,
    actor,
    *,
    vin_read: str,
    plate_read: str,
    passed: bool,
    remarks: str = "",
    photos=(),
    mismatch_confirmed: bool = False,
) -> TransferCase:
    """Record the inspection (查验). A pass asks the origin office for the archive; a failure
    (or a confirmed VIN or plate that differs from the record) leaves the case at
    `inspection_failed`, from which the vehicle may be inspected again; buyer and seller are
    told why and what to do.

    A reading that differs from the record and is not confirmed records nothing: it raises
    ReadingMismatch on its field, so that a mistyped VIN is typed again rather than failed.
    """
    links.fresh_checks(case_id)

    def step():
        case = locked_case(case_id, AWAITING_INSPECTION)
        vehicle = Vehicle.get_by_id(case.vehicle_id)
        office = case.destination_office
        vin_ok, plate_ok = vin_read == vehicle.vin, plate_read == vehicle.plate
        if not (vin_ok and plate_ok) and not mismatch_confirmed:
            raise mismatch_refusal(vin_ok, plate_ok)
        ok = passed and vin_ok and plate_ok
        inspection = Inspection.create(
            case=case,
            inspector=actor,
            office=office,
            vin_read=vin_read,
            plate_read=plate_read,
            vin_matches=vin_ok,
            plate_matches=plate_ok,
            passed=ok,
            remarks=remarks,
        )
        for photo in photos:
            InspectionPhoto.create(
                inspection=inspection,
                relpath=photo.relpath,
                sha256=photo.sha256,
                size=photo.size,
                mime=photo.mime,
            )
        entry = audit(
            "transfer.inspect", case, actor=actor, detail={"passed": ok, "photos": len(photos)}
        )
        reasons = []
        if not vin_ok:
            reasons.append({"code": "vin_mismatch", "read": vin_read})
        if not plate_ok:
            reasons.append({"code": "plate_mismatch", "read": plate_read})
        if not passed:
            reasons.append({"code": "inspection_failed", "text": remarks})
        # A failure's reasons travel with the event, so the origin can tell a remote seller.
        failure = {"reasons": reasons} if reasons else {}
        event(
            case,
            "inspected",
            office=office,
            actor=actor,
            entry=entry,
            passed=ok,
            photos=len(photos),
            **failure,
        )
        if not ok:
            move(
                case,
                INSPECTION_FAILED,
                "transfer.inspection_failed",
                {"reasons": reasons},
                actor=actor,
            )
            failed = {"reasons": reasons, "inspected_on": beijing_today().isoformat()}
            tell(case, "transfer.inspection_failed", "buyer", **failed)
            tell(case, "transfer.inspection_failed_seller", "seller", **failed)
        elif not stopped_by_checks(case, actor=actor, office=office):
            asked = move(case, AWAITING_ARCHIVE, "transfer.inspected", actor=actor)
            ArchiveTransfer.create(
                case=case, from_office=case.origin_office_id, to_office=office, requested_by=actor
            )
            event(case, "archive_requested", office=office, actor=actor, entry=asked)
            # After a failed inspection the buyer's last word was "failed": passed, they are
            # told (at a first inspection they are at the counter and see it pass).
            failed_before = (
                Inspection.select()
                .where((Inspection.case == case) & (Inspection.passed == False))  # noqa: E712
                .exists()
            )
            if failed_before:
                today = beijing_today().isoformat()
                tell(case, "transfer.inspection_passed", "buyer", inspected_on=today)
        return case

    return run_step(step)


def reinspect(case_id: int, actor) -> TransferCase:
    """After a failed inspection the clerk opens a new one (the failed one stays on record)."""

    def step():
        case = locked_case(case_id, INSPECTION_FAILED)
        entry = move(case, AWAITING_INSPECTION, "transfer.reinspect", actor=actor)
        event(case, "reinspection", office=case.destination_office, actor=actor, entry=entry)
        return case

    return run_step(step)


def stop_after_failed_inspection(case_id: int, actor) -> TransferCase:
    """The clerk ends a case whose vehicle failed inspection (final: the case never reopens)."""

    def step():
        case = locked_case(case_id, INSPECTION_FAILED)
        last = (
            Inspection.select()
            .where(Inspection.case == case)
            .order_by(Inspection.id.desc())
            .first()
        )
        reasons = []
        if last is not None:
            if not last.vin_matches:
                reasons.append({"code": "vin_mismatch", "read": last.vin_read})
            if not last.plate_matches:
                reasons.append({"code": "plate_mismatch", "read": last.plate_read})
            if last.vin_matches and last.plate_matches:
                reasons.append({"code": "inspection_failed", "text": last.remarks})
        stop(case, reasons, actor=actor, office=case.destination_office)
        return case

    return run_step(step)


# A confirmed case the destination office may stop at the parties' request: once both have
# confirmed, nobody can withdraw online, and the office is who they ask. Only until the archive
# is asked for: from then on the origin may be sending it (and a sent archive has moved the
# vehicle out there), so the origin refuses the archive instead, with the parties' reason.
WITHDRAWABLE = (AWAITING_INSPECTION, INSPECTION_FAILED)


def withdraw_at_request(case_id: int, actor, reason: str) -> TransferCase:
    """The destination office stops a confirmed case because the parties asked, with what they
    said (final, as every stop): the parties and the origin office are told."""

    def step():
        case = locked_case(case_id, *WITHDRAWABLE)
        reasons = [{"code": "withdrawn", "text": reason}]
        stop(case, reasons, actor=actor, office=case.destination_office)
        return case

    return run_step(step)


def _requested_archive(case) -> ArchiveTransfer:
    """The case's archive request, still awaiting an answer (else the race was lost)."""
    archive = ArchiveTransfer.get_or_none(ArchiveTransfer.case == case)
    if archive is None or archive.status != ARCHIVE_REQUESTED:
        raise LostRace
    return archive


def build_archive(case, now=None) -> dict:
    """The archive document of the case's vehicle as it stands now."""
    vehicle = Vehicle.get_by_id(case.vehicle_id)
    return archive_doc.build(
        vehicle,
        list(vehicle.history()),
        list(vehicle.violations),
        case.origin_office,
        case.destination_office,
        case,
        now or utcnow(),
    )


def mark_archive_sent(case: TransferCase, archive, text: str, sha: str, actor, now) -> None:
    """The archive of a locked case is sent (by our origin office's clerk, or by another city's
    message, actor None): the document is kept, and our copy of the vehicle is transferred out
    (registration takes it from here). LostRace when another step got there first."""
    ArchiveTransfer.update(
        status=ARCHIVE_SENT,
        reviewed_by=actor,
        reviewed_at=now,
        document=text,
        document_sha256=sha,
        format_version=archive_doc.VERSION,
    ).where(
        (ArchiveTransfer.id == archive.id) & (ArchiveTransfer.status == ARCHIVE_REQUESTED)
    ).execute()
    out = (
        Vehicle.update(status=TRANSFERRED_OUT, updated_at=now)
        .where((Vehicle.id == case.vehicle_id) & (Vehicle.status == NORMAL))
        .execute()
    )
    if out != 1:
        raise LostRace


def send_archive(case_id: int, actor) -> TransferCase:
    """The origin office sends the archive: from now on the vehicle is transferred out there.

    The destination receives it in the same step (both offices are in this deployment), verifying
    the document's checksum, format and VIN exactly as a remote deployment would.
    """

    def step():
        case = locked_case(case_id, AWAITING_ARCHIVE)
        archive = _requested_archive(case)
        origin = case.origin_office
        if stopped_by_checks(case, actor=actor, office=origin):
            return case
        now = utcnow()
        text, sha = archive_doc.seal(build_archive(case, now))
        entry = move(
            case, ARCHIVE_RECEIVED, "transfer.archive_sent", detail={"sha256": sha}, actor=actor
        )
        mark_archive_sent(case, archive, text, sha, actor, now)
        vehicle = Vehicle.get_by_id(case.vehicle_id)
        note = archive_doc.transfer_out_note(case.number, case.destination_office)
        vehicle.record("transfer_out", origin, note=note)
        event(case, "archive_sent", office=origin, actor=actor, entry=entry, sha256=sha)
        receive_archive(case, text, sha)
        tell(case, "transfer.archive_sent", "seller")
        tell(case, "transfer.archive_arrived", "buyer")
        return case

    return run_step(step)


def receive_archive(case, text: str, sha256: str) -> dict:
    """The destination's side: verify the document and that it is this case's vehicle."""
    document = archive_doc.open_document(text, sha256)
    if document["vehicle"]["vin"] != Vehicle.get_by_id(case.vehicle_id).vin:
        raise archive_doc.ArchiveError("the archive is of another vehicle")
    ArchiveTransfer.update(received_at=utcnow()).where(ArchiveTransfer.case == case).execute()
    event(case, "archive_received", office=case.destination_office, sha256=sha256)
    return document


def refuse_archive(case_id: int, actor, reason: str) -> TransferCase:
    """The origin office refuses to send the archive, with a reason: the case stops."""

    def step():
        case = locked_case(case_id, AWAITING_ARCHIVE)
        archive = _requested_archive(case)
        ArchiveTransfer.update(
            status=ARCHIVE_REFUSED, reviewed_by=actor, reviewed_at=utcnow(), refusal_reason=reason
        ).where(ArchiveTransfer.id == archive.id).execute()
        event(case, "archive_refused", office=case.origin_office, actor=actor)
        stop(
            case,
            [{"code": "archive_refused", "text": reason}],
            actor=actor,
            office=case.origin_office,
        )
        return case

    return run_step(step)


def _take_plate(case, now) -> PlateNumber:
    """The buyer's reserved plate, else the first free one of the pool, marked assigned."""
    if case.chosen_plate_id:
        taken = (
            PlateNumber.update(status=PLATE_ASSIGNED, assigned_at=now)
            .where(
                (PlateNumber.id == case.chosen_plate_id) & (PlateNumber.status == PLATE_RESERVED)
            )
            .execute()
        )
        if taken == 1:
            return PlateNumber.get_by_id(case.chosen_plate_id)
    free = (
        PlateNumber.select()
        .where(
            (PlateNumber.office == case.destination_office_id) & (PlateNumber.status == PLATE_FREE)
        )
        .order_by(PlateNumber.plate)
        .limit(20)
    )
    for candidate in free:
        taken = (
            PlateNumber.update(status=PLATE_ASSIGNED, assigned_at=now)
            .where((PlateNumber.id == candidate.id) & (PlateNumber.status == PLATE_FREE))
            .execute()
        )
        if taken == 1:
            return candidate
    raise StepError(_l("There is no free plate left in this office's pool."))


def new_certificate_no(office) -> str:
    """A new registration certificate (登记证书) number: office code and six random digits."""
    while True:
        number = f"{office.code}{secrets.randbelow(10**6):06d}"
        if not Vehicle.select().where(Vehicle.certificate_no == number).exists():
            return number


def register(case_id: int, actor) -> TransferCase:
    """Register the vehicle to the buyer under a plate of this city and a new certificate (for
    a case opened over the network, the relayed `registered` event is the origin's notice)."""
    links.fresh_checks(case_id)

    def step():
        case = locked_case(case_id, ARCHIVE_RECEIVED)
        office = case.destination_office
        if stopped_by_checks(case, actor=actor, office=office):
            return case
        now = utcnow()
        plate = _take_plate(case, now)
        certificate = new_certificate_no(office)
        entry = move(
            case,
            REGISTERED,
            "transfer.registered",
            detail={"plate": plate.plate},
            actor=actor,
            open_vehicle=None,
            new_plate=plate.plate,
            new_certificate_no=certificate,
            registered_at=now,
            registered_by=actor,
        )
        tell(case, "transfer.sold", "seller")
        tell(
            case,
            "transfer.registered",
            "buyer",
            new_plate=display_plate(plate.plate),
            certificate_no=certificate,
        )
        buyer = User.get_by_id(case.buyer_id)
        moved = (
            Vehicle.update(
                owner=buyer,
                owner_name=buyer.real_name,
                owner_resident_id=buyer.resident_id,
                # The seller's number leaves with the seller: kept, it would have received the
                # codes that prove the buyer's ID number. The buyer's own, once proven to be.
                owner_mobile=buyer.mobile if identity_proven(buyer) else None,
                plate=plate.plate,
                registration_office=office,
                certificate_no=certificate,
                status=NORMAL,
                updated_at=now,
            )
            .where((Vehicle.id == case.vehicle_id) & (Vehicle.status == TRANSFERRED_OUT))
            .execute()
        )
        if moved != 1:
            raise LostRace
        PlateNumber.update(vehicle=case.vehicle_id).where(PlateNumber.id == plate.id).execute()
        vehicle = Vehicle.get_by_id(case.vehicle_id)
        # The sale's papers join the archive, which now belongs to this office.
        vehicle.record("document", office, note=f"二手车销售统一发票 {case.invoice_no}")
        vehicle.record("document", office, note=f"机动车查验记录 {case.number}")
        vehicle.record("transfer_registration", office, note=case.number)
        event(case, "registered", office=office, actor=actor, entry=entry, plate=plate.plate)
        return case

    return run_step(step)
