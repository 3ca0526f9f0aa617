"""Transfer slips that can be undone: a decline is final only after confirmation,
a differing reading asks "are you sure?", a failed inspection is inspected again, a missing
residence permit is asked for; and the next step each state names."""

import pytest

from blueprints.transfer import office_service, service
from blueprints.transfer.labels import NEXT_STEPS, next_step
from models import AuditEvent, Inspection, Notice, TransferCase, TransferEvent
from models.transfer import (
    AWAITING_ARCHIVE,
    AWAITING_CONFIRMATION,
    AWAITING_INSPECTION,
    CANCELLED,
    CASE_STATES,
    INSPECTION_FAILED,
    STOPPED,
)

from .helpers import field_error, page


@pytest.fixture
def as_user(app, make):
    """A fresh logged-in test client for a user."""

    def _as(user):
        client = app.test_client()
        make.login(client, user)
        return client

    return _as


def test_a_decline_asks_first_and_is_final_only_when_confirmed(make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w)
    seller = as_user(w.seller)
    url = f"/transfer/cases/{case.id}/decline"
    asked = page(seller.post(url, data={}))
    assert asked.find(id="confirm-form")["action"] == url
    assert asked.find("input", attrs={"name": "confirmed", "value": "yes"})
    assert asked.find(id="confirm-back")["href"] == f"/transfer/cases/{case.id}"
    with conn():
        assert TransferCase.get_by_id(case.id).state == AWAITING_CONFIRMATION
        assert not AuditEvent.select().where(AuditEvent.action == "transfer.declined").exists()
    assert seller.post(url, data={"confirmed": "yes"}).status_code == 303
    with conn():
        assert TransferCase.get_by_id(case.id).state == CANCELLED


def test_a_party_who_confirmed_may_withdraw_until_the_other_confirms(make, as_user, conn):
    """The confirmation says the sale is final once both have confirmed: until then, the party
    who confirmed first is offered the way out, and takes it."""
    w = make.transfer_world()
    case = make.transfer_case(w)
    buyer = as_user(w.buyer)
    url = f"/transfer/cases/{case.id}"
    # The first to confirm may still withdraw: the question does not say it cannot be undone.
    asked = page(buyer.post(f"{url}/confirm", data={}))
    assert asked.find(id="confirm-form") and "不可撤回" not in asked.get_text()
    assert buyer.post(f"{url}/confirm", data={"confirmed": "yes"}).status_code == 303
    soup = page(buyer.get(url))
    assert soup.find(id="decline-form")["action"] == f"{url}/decline"
    assert "仍可退出" in soup.find(id="confirm-action").get_text()
    # Asked as what it is: a withdrawal of one's own confirmation, not a "decline".
    asked = page(buyer.post(f"{url}/decline", data={}))
    assert "退出" in asked.find("h1").get_text() and "拒绝" not in asked.find("h1").get_text()
    assert buyer.post(f"{url}/decline", data={"confirmed": "yes"}).status_code == 303
    with conn():
        assert TransferCase.get_by_id(case.id).state == CANCELLED
        # The seller is told of a withdrawal, and the timeline says so too.
        told = Notice.select().where(Notice.user == w.seller.id).order_by(Notice.id.desc())
        assert told.first().kind == "transfer.withdrew"
        # What asked the seller to confirm no longer stands new beside it.
        asked = told.where(Notice.kind == "transfer.confirm_sale").get()
        assert asked.read_at is not None
        declined = TransferCase.get_by_id(case.id).events().where(TransferEvent.kind == "declined")
        assert declined.get().detail_dict == {"party": "buyer", "withdrawn": True}


@pytest.mark.parametrize(
    ("path", "role"),
    [("archive/send", "origin_clerk"), ("register", "clerk")],
)
def test_offices_irreversible_steps_ask_first(make, as_user, conn, path, role):
    until = AWAITING_ARCHIVE if path == "archive/send" else "archive_received"
    w = make.transfer_world()
    case = make.transfer_case(w, until=until)
    clerk = as_user(getattr(w, role))
    soup = page(clerk.post(f"/transfer/cases/{case.id}/{path}", data={}))
    assert soup.find(id="confirm-box")
    with conn():
        assert TransferCase.get_by_id(case.id).state == until


def test_refusing_the_archive_carries_the_reason_to_the_confirmation(make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_ARCHIVE)
    origin = as_user(w.origin_clerk)
    url = f"/transfer/cases/{case.id}/archive/refuse"
    soup = page(origin.post(url, data={"reason": "档案资料不全"}))
    assert soup.find("input", attrs={"name": "reason", "value": "档案资料不全"})
    assert "档案资料不全" in soup.find(id="confirm-box").get_text()
    with conn():
        assert TransferCase.get_by_id(case.id).state == AWAITING_ARCHIVE


def inspection_form(vehicle, **over):
    return {
        "vin_read": vehicle.vin,
        "plate_read": vehicle.plate,
        "result": "passed",
        "remarks": "",
        **over,
    }


def test_a_mistyped_vin_is_asked_about_and_records_nothing(make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    clerk = as_user(w.clerk)
    url = f"/transfer/cases/{case.id}/inspect"
    # A field left empty is only an error: nothing differs yet, so nothing to confirm.
    empty = page(clerk.post(url, data=inspection_form(w.vehicle, vin_read="")), 422)
    assert field_error(empty, "vin_read") and not empty.find(id="confirm_mismatch")
    typo = make.vin()  # well-formed (its check digit is right), but not this vehicle's
    soup = page(clerk.post(url, data=inspection_form(w.vehicle, vin_read=typo)), 422)
    assert "车辆识别代号与档案不符" in field_error(soup, "vin_read")
    assert soup.find(id="confirm_mismatch")  # the "are you sure?" appears only now
    with conn():
        assert TransferCase.get_by_id(case.id).state == AWAITING_INSPECTION
        assert not Inspection.select().where(Inspection.case == case.id).exists()
    # Typed again correctly: the inspection passes.
    assert clerk.post(url, data=inspection_form(w.vehicle)).status_code == 303
    with conn():
        assert TransferCase.get_by_id(case.id).state == AWAITING_ARCHIVE


def test_a_failed_inspection_is_inspected_again_and_audited(make, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    with conn():
        office_service.inspect(
            case.id,
            w.clerk,
            vin_read=w.vehicle.vin,
            plate_read=w.vehicle.plate,
            passed=False,
            remarks="左前大灯不亮",
        )
        assert TransferCase.get_by_id(case.id).state == INSPECTION_FAILED
        with pytest.raises(service.StepError):  # no inspection while it waits for a new one
            office_service.inspect(
                case.id, w.clerk, vin_read=w.vehicle.vin, plate_read=w.vehicle.plate, passed=True
            )
        office_service.reinspect(case.id, w.clerk)
        assert TransferCase.get_by_id(case.id).state == AWAITING_INSPECTION
        office_service.inspect(
            case.id, w.clerk, vin_read=w.vehicle.vin, plate_read=w.vehicle.plate, passed=True
        )
        assert TransferCase.get_by_id(case.id).state == AWAITING_ARCHIVE
        assert Inspection.select().where(Inspection.case == case.id).count() == 2
        again = AuditEvent.get(AuditEvent.action == "transfer.reinspect")
        assert again.actor_id == w.clerk.id and again.object_id == str(case.id)


def test_stopping_after_a_failed_inspection_asks_first(make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    with conn():
        office_service.inspect(
            case.id, w.clerk, vin_read=w.vehicle.vin, plate_read=w.vehicle.plate, passed=False
        )
    clerk = as_user(w.clerk)
    soup = page(clerk.get(f"/transfer/cases/{case.id}"))
    assert soup.find(id="reinspect-form") and soup.find(id="stop-form")
    page(clerk.post(f"/transfer/cases/{case.id}/stop", data={}))
    with conn():
        assert TransferCase.get_by_id(case.id).state == INSPECTION_FAILED
    clerk.post(f"/transfer/cases/{case.id}/stop", data={"confirmed": "yes"})
    with conn():
        assert TransferCase.get_by_id(case.id).state == STOPPED


def test_a_missing_residence_permit_is_asked_for(make, as_user, conn):
    w = make.transfer_world()
    outsider = make.citizen(resident_id=make.resident_id(area="110105"))
    case = make.transfer_case(w, buyer=outsider, until="awaiting_inspection")
    # Both confirmed, but the case waits for the number instead of stopping.
    assert case.state == AWAITING_CONFIRMATION and case.open_vehicle_id is not None
    buyer = as_user(outsider)
    soup = page(buyer.get(f"/transfer/cases/{case.id}"))
    assert soup.find(id="permit-form")
    assert "居住证" in soup.find(id="next-step").get_text()
    bad = buyer.post(f"/transfer/cases/{case.id}/permit", data={"residence_permit_no": "x"})
    assert field_error(page(bad, 422), "residence_permit_no")
    done = buyer.post(
        f"/transfer/cases/{case.id}/permit", data={"residence_permit_no": "q370200123456"}
    )
    assert done.status_code == 303
    with conn():
        case = TransferCase.get_by_id(case.id)
        assert case.state == AWAITING_INSPECTION and case.residence_permit_no == "Q370200123456"
        assert AuditEvent.get(AuditEvent.action == "transfer.permit_given").actor_id == outsider.id
    # Only the buyer gives it.
    seller = as_user(w.seller)
    assert seller.post(f"/transfer/cases/{case.id}/permit", data={}).status_code == 403


def test_every_state_has_a_next_step_naming_the_office_and_address(app, make, conn):
    assert set(CASE_STATES) <= set(NEXT_STEPS)
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}), conn():
        text = next_step(TransferCase.get_by_id(case.id), "zh")
    assert w.dest.name in text and w.dest.address in text
    with app.test_request_context(headers={"Accept-Language": "en"}), conn():
        text = next_step(TransferCase.get_by_id(case.id), "en")
    assert w.dest.name_en in text and w.dest.address_en in text


def test_vehicle_page_shows_inspection_and_violations(make, as_user, conn):
    import datetime as dt

    from models import Vehicle

    owner = make.citizen()
    office = make.office()
    vehicle = make.vehicle(office, owner)
    client = as_user(owner)
    soup = page(client.get(f"/transfer/vehicles/{vehicle.id}"))
    assert not soup.find(id="vehicle-next-steps")
    with conn():
        Vehicle.update(inspection_valid_until=dt.date(2020, 1, 1)).where(
            Vehicle.id == vehicle.id
        ).execute()
    make.violation(vehicle)
    soup = page(client.get(f"/transfer/vehicles/{vehicle.id}"))
    assert "2020-01-01" in soup.find(id="inspection-date").get_text()
    assert soup.find(id="violation-count").get_text(strip=True) == "1"
    assert "需处理" in soup.find(id="vehicle-status").get_text()
    assert len(soup.select("#violations tbody tr")) == 1
    assert len(soup.select("#vehicle-next-steps p")) == 2


def test_the_next_step_says_whose_confirmation_is_awaited(app, make, as_user, conn):
    """Once one party confirmed, the page no longer asks it to: it names the other's step."""
    w = make.transfer_world()
    case = make.transfer_case(w)
    buyer = as_user(w.buyer)
    url = f"/transfer/cases/{case.id}"
    assert "卖方和买方分别在本页确认" in page(buyer.get(url)).find(id="next-step").get_text()
    buyer.post(f"/transfer/cases/{case.id}/confirm", data={"confirmed": "yes"})
    said = page(buyer.get(url)).find(id="next-step").get_text()
    assert "买方已确认" in said and "卖方在本页确认" in said
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}), conn():
        fresh = TransferCase.get_by_id(case.id)
        assert fresh.buyer_confirmed_at is not None and fresh.seller_confirmed_at is None
        # The seller in another city's deployment: their confirmation is awaited there.
        remote = next_step(fresh, "zh", remote_seller=True)
        assert "买方已确认" in remote and w.origin.name in remote
        # The offices' own words do not change with it.
        assert next_step(fresh, "zh", staff=True) == next_step(case, "zh", staff=True)
