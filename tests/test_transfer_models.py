"""Transfer measure: the vehicle model, the case's state machine, its steps done once only, and
the archive document."""

import datetime as dt
import json

import pytest
from peewee import IntegrityError

from blueprints.transfer import archive as archive_doc
from blueprints.transfer import office_service, service
from blueprints.transfer.service import CASE_MACHINE, StepError
from core.states import InvalidTransition
from models import (
    ArchiveTransfer,
    AuditEvent,
    PlateNumber,
    TransferCase,
    Vehicle,
    VehicleRecord,
    db,
)
from models.transfer import (
    ARCHIVE_RECEIVED,
    AWAITING_ARCHIVE,
    AWAITING_CONFIRMATION,
    AWAITING_INSPECTION,
    CANCELLED,
    CASE_STATES,
    CASE_TRANSITIONS,
    CLOSED_STATES,
    INSPECTION_FAILED,
    REGISTERED,
    STOPPED,
)
from models.vehicles import TRANSFERRED_OUT


def test_vehicle_helpers(app, make, conn):
    w = make.transfer_world()
    make.violation(w.vehicle)
    make.violation(w.vehicle, handled=True)
    with conn():
        v = Vehicle.get_by_id(w.vehicle.id)
        assert v.unhandled_violations().count() == 1
        today = dt.date.today()
        assert v.inspection_valid_on(today)
        assert not v.inspection_valid_on(v.inspection_valid_until + dt.timedelta(days=1))
        assert not v.is_truck and Vehicle(vehicle_type="heavy_truck").is_truck
        assert [r.kind for r in v.history()] == ["initial_registration"]


@pytest.mark.parametrize(
    ("typed", "case_id"),
    [
        ("ZY000007", 7),
        (" zy 7 ", 7),
        ("ZY" + "9" * 12, 10**12 - 1),
        ("ZY" + "9" * 13, None),  # more than an id has
        ("ZY²", None),  # str.isdigit() takes it, int() does not
        ("ZY٠٧", None),  # digits of another script
        ("ZY", None),
        ("7", None),
    ],
)
def test_a_case_number_as_typed_names_its_id(typed, case_id):
    assert TransferCase.id_numbered(typed) == case_id
    if case_id is not None and case_id < 10**6:
        assert TransferCase.id_numbered(TransferCase.number_of(case_id)) == case_id


def test_transition_table_has_no_shortcuts():
    assert set(CASE_TRANSITIONS) == set(CASE_STATES)
    for state in CLOSED_STATES:
        assert CASE_TRANSITIONS[state] == set()
    # Each open state has exactly one way forward; the others are stop/cancel.
    forward = {s: CASE_TRANSITIONS[s] - {STOPPED, CANCELLED} for s in CASE_TRANSITIONS}
    assert forward[AWAITING_CONFIRMATION] == {AWAITING_INSPECTION}
    # A failed inspection is a side branch whose only way forward is another inspection.
    assert forward[AWAITING_INSPECTION] == {AWAITING_ARCHIVE, INSPECTION_FAILED}
    assert forward[INSPECTION_FAILED] == {AWAITING_INSPECTION}
    assert forward[AWAITING_ARCHIVE] == {ARCHIVE_RECEIVED}
    assert forward[ARCHIVE_RECEIVED] == {REGISTERED}


def test_machine_refuses_skips_and_stale_copies(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    with app.test_request_context(), conn():
        first, second = TransferCase.get_by_id(case.id), TransferCase.get_by_id(case.id)
        with pytest.raises(InvalidTransition):
            CASE_MACHINE.apply(first, REGISTERED)
        assert CASE_MACHINE.apply(first, AWAITING_ARCHIVE) is True
        assert CASE_MACHINE.apply(second, AWAITING_ARCHIVE) is False
        assert (
            AuditEvent.select().where(AuditEvent.action == "transfer.awaiting_archive").count() == 1
        )


def test_steps_cannot_be_skipped_or_repeated(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w)
    with conn():
        with pytest.raises(StepError):  # skipping confirmation and inspection
            office_service.register(case.id, w.clerk)
        with pytest.raises(StepError):
            office_service.inspect(
                case.id, w.clerk, vin_read=w.vehicle.vin, plate_read=w.vehicle.plate, passed=True
            )
        service.confirm(case.id, "seller", w.seller)
        with pytest.raises(StepError):
            service.confirm(case.id, "seller", w.seller)
    case = make.transfer_case(make.transfer_world(), until=REGISTERED)
    with conn():
        with pytest.raises(StepError):
            office_service.register(case.id, w.clerk)
        with pytest.raises(StepError):
            office_service.send_archive(case.id, w.origin_clerk)
        assert (
            AuditEvent.select()
            .where(
                (AuditEvent.action == "transfer.registered")
                & (AuditEvent.object_id == str(case.id))
            )
            .count()
            == 1
        )


def test_stale_register_gives_one_registration_and_one_plate(app, make, conn):
    """Two clerks who both saw the case ready: the second finds it registered already."""
    w = make.transfer_world()
    case = make.transfer_case(w, until=ARCHIVE_RECEIVED)
    with conn():
        office_service.register(case.id, w.clerk)
        with pytest.raises(StepError):
            office_service.register(case.id, w.clerk)
        assert PlateNumber.select().where(PlateNumber.status == "assigned").count() == 1
        assert TransferCase.get_by_id(case.id).state == REGISTERED


@pytest.mark.parametrize("buyer_proven", [True, False])
def test_the_sellers_number_leaves_the_vehicle_with_the_seller(app, make, conn, buyer_proven):
    """Registered to the buyer, the vehicle no longer names the seller's mobile: kept, it would
    receive the codes that prove the buyer's ID number (the seller knows it from the invoice).
    It names the buyer's own number once that is proven, else none."""
    from models import IdentityProof, Vehicle
    from models.identity import recorded_mobiles

    w = make.transfer_world()
    with conn():
        Vehicle.update(owner_mobile=w.seller.mobile).where(Vehicle.id == w.vehicle.id).execute()
    case = make.transfer_case(w, until=ARCHIVE_RECEIVED)
    with conn():
        if not buyer_proven:
            IdentityProof.delete().where(IdentityProof.user == w.buyer.id).execute()
        office_service.register(case.id, w.clerk)
        expected = w.buyer.mobile if buyer_proven else None
        assert Vehicle.get_by_id(w.vehicle.id).owner_mobile == expected
        assert w.seller.mobile not in recorded_mobiles(w.buyer.resident_id)


def test_one_open_case_per_vehicle_is_a_database_rule(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w)
    with conn(), pytest.raises(IntegrityError), db.atomic():
        data = {k: v for k, v in TransferCase.get_by_id(case.id).__data__.items() if k != "id"}
        TransferCase.create(**data)


def test_a_vehicle_cannot_be_in_two_open_cases(app, make, conn):
    w = make.transfer_world()
    make.transfer_case(w)
    other_buyer = make.citizen()
    with pytest.raises(StepError, match="already in an open transfer case"):
        make.transfer_case(w, buyer=other_buyer)
    # Once the first case is closed, the vehicle may be sold again.
    with conn():
        first = TransferCase.get(TransferCase.vehicle == w.vehicle.id)
        service.decline(first.id, "buyer", w.buyer)
    assert make.transfer_case(w, buyer=other_buyer).state == AWAITING_CONFIRMATION


def test_whole_path_moves_owner_plate_and_office(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=REGISTERED)
    with conn():
        v = Vehicle.get_by_id(w.vehicle.id)
        assert v.owner_id == w.buyer.id and v.owner_resident_id == w.buyer.resident_id
        assert v.plate == case.new_plate and v.plate.startswith("鲁B")
        assert v.registration_office_id == w.dest.id and v.status == "normal"
        assert v.certificate_no == case.new_certificate_no != w.vehicle.certificate_no
        kinds = [(r.kind, r.office_id) for r in v.history()]
        assert kinds == [
            ("initial_registration", w.origin.id),
            ("transfer_out", w.origin.id),
            ("document", w.dest.id),
            ("document", w.dest.id),
            ("transfer_registration", w.dest.id),
        ]
        assert case.open_vehicle_id is None
        plate = PlateNumber.get(PlateNumber.plate == case.new_plate)
        assert plate.status == "assigned" and plate.vehicle_id == v.id
        events = [e.kind for e in case.events()]
        assert events == [
            "opened",
            "confirmed",
            "confirmed",
            "to_inspection",
            "inspected",
            "archive_requested",
            "archive_sent",
            "archive_received",
            "registered",
        ]


def test_buyer_choice_of_plate_is_used_and_released_on_stop(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_ARCHIVE)
    with conn():
        first, second = service.offered_plates(case)[:2]
        service.choose_plate(case.id, first.id, w.buyer)
        service.choose_plate(case.id, second.id, w.buyer)  # changing one's mind frees the first
        assert PlateNumber.get_by_id(first.id).status == "free"
        assert PlateNumber.get_by_id(second.id).status == "reserved"
        office_service.send_archive(case.id, w.origin_clerk)
        office_service.register(case.id, w.clerk)
        assert TransferCase.get_by_id(case.id).new_plate == second.plate
    other = make.transfer_world()
    stopped = make.transfer_case(other, until=AWAITING_ARCHIVE)
    with conn():
        plate = service.offered_plates(stopped)[0]
        service.choose_plate(stopped.id, plate.id, other.buyer)
        office_service.refuse_archive(stopped.id, other.origin_clerk, "档案有误")
        assert PlateNumber.get_by_id(plate.id).status == "free"
        assert TransferCase.get_by_id(stopped.id).chosen_plate_id is None


def test_plate_offers_are_free_plates_of_the_pool_and_wrap_round_it(app, make, conn):
    """The offer is the first free plates from a point fixed by the case id, wrapping round
    the pool: always min(5, free) plates, all free and of the destination's pool; cases are
    spread over the pool; taken plates give way to the next free ones."""
    from types import SimpleNamespace

    w = make.transfer_world(plates=12)
    make.transfer_world(plates=4)  # another office's plates in the same table, after these
    with conn():
        pool = {p.id for p in PlateNumber.select().where(PlateNumber.office == w.dest.id)}
        cases = [SimpleNamespace(id=n, destination_office_id=w.dest.id) for n in range(1, 41)]
        offers = [[p.id for p in service.offered_plates(case)] for case in cases]
        assert all(len(o) == 5 and len(set(o)) == 5 and set(o) <= pool for o in offers)
        assert len({o[0] for o in offers}) > 3  # not every case starts at the same plate
        taken = offers[0][:3]
        PlateNumber.update(status="assigned").where(PlateNumber.id.in_(taken)).execute()
        after = [p.id for p in service.offered_plates(cases[0])]
        assert after[:2] == offers[0][3:] and not set(after) & set(taken)
        PlateNumber.update(status="assigned").where(PlateNumber.id.in_(pool)).execute()
        assert service.offered_plates(cases[0]) == []


def test_no_plate_before_both_parties_confirmed(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w)
    with conn():
        plate = PlateNumber.get(PlateNumber.office == w.dest.id)
        with pytest.raises(StepError):
            service.choose_plate(case.id, plate.id, w.buyer)


def test_taken_plate_cannot_be_chosen(app, make, conn):
    w = make.transfer_world()
    a = make.transfer_case(w, until=AWAITING_INSPECTION)
    other = make.transfer_world()
    other_case = make.transfer_case(other, until=AWAITING_INSPECTION)
    with conn():
        plate = service.offered_plates(a)[0]
        service.choose_plate(a.id, plate.id, w.buyer)
        with pytest.raises(StepError):  # taken, and of another office's pool anyway
            service.choose_plate(other_case.id, plate.id, other.buyer)


def test_archive_document_is_versioned_self_contained_and_sealed(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=ARCHIVE_RECEIVED)
    with conn():
        archive = ArchiveTransfer.get(ArchiveTransfer.case == case.id)
        assert archive.status == "sent" and archive.format_version == 1 and archive.received_at
        doc = archive_doc.open_document(archive.document, archive.document_sha256)
        assert doc["format"] == "jiaoguan.vehicle-archive" and doc["version"] == 1
        assert doc["vehicle"]["vin"] == w.vehicle.vin
        assert doc["owner"] == {"name": w.seller.real_name, "resident_id": w.seller.resident_id}
        assert doc["from_office"]["code"] == w.origin.code
        assert doc["to_office"]["code"] == w.dest.code
        assert [h["kind"] for h in doc["history"]] == ["initial_registration"]
        # Altered, reformatted or of an unknown version: refused.
        with pytest.raises(archive_doc.ArchiveError):
            archive_doc.open_document(
                archive.document.replace("朗逸", "捷达"), archive.document_sha256
            )
        pretty = json.dumps(doc, indent=2)
        with pytest.raises(archive_doc.ArchiveError):
            archive_doc.open_document(pretty, archive_doc.digest(pretty))
        text, sha = archive_doc.seal({**doc, "version": 2})
        with pytest.raises(archive_doc.ArchiveError, match="version"):
            archive_doc.open_document(text, sha)


def test_sending_the_archive_transfers_the_vehicle_out(app, make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=ARCHIVE_RECEIVED)
    with conn():
        v = Vehicle.get_by_id(w.vehicle.id)
        assert v.status == TRANSFERRED_OUT and v.registration_office_id == w.origin.id
        [out] = VehicleRecord.select().where(VehicleRecord.kind == "transfer_out")
        # The archive names where it went by the office's name, not its code alone.
        assert out.note == f"{case.number} → {w.dest.name}（{w.dest.code}）"
        assert TransferCase.get_by_id(case.id).open_vehicle_id == v.id
    # Transferred out, it cannot be sold there again.
    with pytest.raises(StepError):
        make.transfer_case(w, buyer=make.citizen())
