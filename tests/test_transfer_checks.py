"""Transfer measure: every blocking condition stops the case with its reason, when the case
opens and again at a later step; refusals before a case opens. A missing residence permit and
a failed inspection are not blocking: the case waits."""

import datetime as dt
import json

import pytest

from blueprints.transfer import office_service, service
from blueprints.transfer.checks import run_checks, waits_for_permit
from blueprints.transfer.labels import reason_text
from blueprints.transfer.service import StepError
from models import ArchiveTransfer, AuditEvent, Inspection, TransferCase, Vehicle
from models.transfer import (
    AWAITING_ARCHIVE,
    AWAITING_CONFIRMATION,
    AWAITING_INSPECTION,
    INSPECTION_FAILED,
    STOPPED,
)


def stopped_reasons(case) -> list[dict]:
    assert case.state == STOPPED
    return case.reasons


@pytest.mark.parametrize("status", ["mortgaged", "seized", "stolen", "scrapped", "transferred_out"])
def test_blocking_status_stops_the_case_at_opening(app, make, conn, status):
    w = make.transfer_world()
    with conn():
        Vehicle.update(status=status).where(Vehicle.id == w.vehicle.id).execute()
    case = make.transfer_case(w)
    assert stopped_reasons(case) == [{"code": "vehicle_status", "status": status}]
    assert case.open_vehicle_id is None
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert reason_text(case.reasons[0])  # a sentence, not a code
        assert reason_text(case.reasons[0]) != "vehicle_status"


def test_reasons_are_put_in_words_in_both_languages(app):
    reason = {"code": "vehicle_status", "status": "mortgaged"}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert "mortgaged" in reason_text(reason)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert "抵押" in reason_text(reason)


def test_unhandled_violations_stop_handled_ones_do_not(app, make, conn):
    w = make.transfer_world()
    make.violation(w.vehicle, handled=True)
    assert make.transfer_case(w).state == AWAITING_CONFIRMATION
    other = make.transfer_world()
    make.violation(other.vehicle)
    make.violation(other.vehicle)
    assert stopped_reasons(make.transfer_case(other)) == [{"code": "violations", "n": 2}]


def test_expired_or_missing_inspection_stops(app, make, conn):
    w = make.transfer_world()
    expired = dt.date.today() - dt.timedelta(days=3)
    with conn():
        Vehicle.update(inspection_valid_until=expired).where(Vehicle.id == w.vehicle.id).execute()
    reasons = stopped_reasons(make.transfer_case(w))
    assert reasons == [{"code": "inspection", "until": expired.isoformat()}]
    other = make.transfer_world()
    with conn():
        Vehicle.update(inspection_valid_until=None).where(Vehicle.id == other.vehicle.id).execute()
    assert stopped_reasons(make.transfer_case(other))[0]["code"] == "inspection"


def test_buyer_from_another_city_needs_a_residence_permit(app, make, conn):
    """Asked for, not a reason to stop: the case waits for the number."""
    w = make.transfer_world()
    outsider = make.citizen(resident_id=make.resident_id(area="110105"))
    waiting = make.transfer_case(w, buyer=outsider)
    assert waiting.state == AWAITING_CONFIRMATION and waiting.open_vehicle_id == w.vehicle.id
    with conn():
        assert waits_for_permit(waiting)
        assert [r.reason for r in run_checks(waiting) if not r.ok] == [
            {"code": "buyer_eligible", "city": "青岛"}
        ]
    other = make.transfer_world()
    outsider2 = make.citizen(resident_id=make.resident_id(area="110105"))
    case = make.transfer_case(other, buyer=outsider2, residence_permit_no="Q370200123456")
    assert case.state == AWAITING_CONFIRMATION


def test_several_failures_are_all_reported(app, make, conn):
    w = make.transfer_world()
    make.violation(w.vehicle)
    with conn():
        Vehicle.update(status="seized", inspection_valid_until=dt.date(2020, 1, 1)).where(
            Vehicle.id == w.vehicle.id
        ).execute()
    codes = [r["code"] for r in stopped_reasons(make.transfer_case(w))]
    assert codes == ["vehicle_status", "violations", "inspection"]


def test_checks_run_again_at_every_step(app, make, conn):
    """Seized at the origin after the inspection: sending the archive stops the case instead."""
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_ARCHIVE)
    with conn():
        Vehicle.update(status="seized").where(Vehicle.id == w.vehicle.id).execute()
        office_service.send_archive(case.id, w.origin_clerk)
        case = TransferCase.get_by_id(case.id)
        assert stopped_reasons(case) == [{"code": "vehicle_status", "status": "seized"}]
        assert ArchiveTransfer.get(ArchiveTransfer.case == case).status == "withdrawn"
        assert Vehicle.get_by_id(w.vehicle.id).status == "seized"  # not transferred out
    # A violation recorded while the case waits for its second confirmation.
    other = make.transfer_world()
    case = make.transfer_case(other)
    with conn():
        service.confirm(case.id, "seller", other.seller)
    make.violation(other.vehicle)
    with conn():
        service.confirm(case.id, "buyer", other.buyer)
        assert stopped_reasons(TransferCase.get_by_id(case.id))[0]["code"] == "violations"


def test_registration_rechecks_too(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until="archive_received")
    make.violation(w.vehicle)
    with conn():
        office_service.register(case.id, w.clerk)
        assert TransferCase.get_by_id(case.id).state == STOPPED


def test_failed_inspection_waits_for_another_with_its_reason(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    with conn():
        office_service.inspect(
            case.id,
            w.clerk,
            vin_read=w.vehicle.vin,
            plate_read=w.vehicle.plate,
            passed=False,
            remarks="发动机号被改动",
        )
        assert TransferCase.get_by_id(case.id).state == INSPECTION_FAILED
        failed = AuditEvent.get(AuditEvent.action == "transfer.inspection_failed")
    assert json.loads(failed.detail)["reasons"] == [
        {"code": "inspection_failed", "text": "发动机号被改动"}
    ]


def test_vin_read_off_the_vehicle_must_match(app, make, conn):
    """A differing VIN is asked about first; confirmed, the inspection fails with the reason."""
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    other_vin = make.vin()
    with conn():
        with pytest.raises(office_service.ReadingMismatch) as asked:
            office_service.inspect(
                case.id, w.clerk, vin_read=other_vin, plate_read=w.vehicle.plate, passed=True
            )
        assert asked.value.field == "vin_read"
        assert TransferCase.get_by_id(case.id).state == AWAITING_INSPECTION
        assert not Inspection.select().where(Inspection.case == case.id).exists()
        office_service.inspect(
            case.id,
            w.clerk,
            vin_read=other_vin,
            plate_read=w.vehicle.plate,
            passed=True,
            mismatch_confirmed=True,
        )
        assert TransferCase.get_by_id(case.id).state == INSPECTION_FAILED
        office_service.stop_after_failed_inspection(case.id, w.clerk)
        reasons = stopped_reasons(TransferCase.get_by_id(case.id))
    assert reasons == [{"code": "vin_mismatch", "read": other_vin}]


def test_refused_archive_stops_with_the_reason(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_ARCHIVE)
    with conn():
        office_service.refuse_archive(case.id, w.origin_clerk, "车辆正在办理抵押登记")
        case = TransferCase.get_by_id(case.id)
        archive = ArchiveTransfer.get(ArchiveTransfer.case == case)
        assert archive.status == "refused" and archive.refusal_reason == "车辆正在办理抵押登记"
        assert Vehicle.get_by_id(w.vehicle.id).status == "normal"
    assert stopped_reasons(case) == [{"code": "archive_refused", "text": "车辆正在办理抵押登记"}]


def test_refusals_before_a_case_opens(app, make, conn):
    w = make.transfer_world()
    # The buyer and seller are the same person.
    with pytest.raises(StepError, match="same person"):
        make.transfer_case(w, buyer=w.seller)
    # A vehicle of this city is not a cross-region transfer.
    local = make.vehicle(w.dest, w.seller)
    with pytest.raises(StepError, match="registered in this city"):
        make.transfer_case(w, vehicle=local)
    # The seller has no account here.
    orphan = make.vehicle(w.origin, None)
    with pytest.raises(StepError, match="no account"):
        make.transfer_case(w, vehicle=orphan)
    # An invoice number is used once.
    case = make.transfer_case(w)
    second = make.vehicle(w.origin, make.citizen())
    with pytest.raises(StepError, match="invoice"), conn():
        service.open_case(
            vehicle=second,
            buyer=w.buyer,
            opened_by=w.buyer,
            market=None,
            destination=w.dest,
            invoice_no=case.invoice_no,
            invoice_date=case.invoice_date,
            price=case.price,
        )


def test_find_vehicle_needs_vin_plate_and_owner_to_agree(app, make, conn):
    w = make.transfer_world()
    v = w.vehicle
    with conn():
        assert service.find_vehicle(v.vin, v.plate, w.seller.resident_id).id == v.id
        assert service.find_vehicle(v.vin, v.plate, w.buyer.resident_id) is None
        assert service.find_vehicle(v.vin, "鲁A99999", w.seller.resident_id) is None
