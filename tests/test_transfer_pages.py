"""Transfer measure through its pages: the whole path as buyer, seller and both offices'
clerks; who may see what (404 for outsiders, masked ID numbers); forms, queues and htmx."""

import datetime as dt
import hashlib
import io
import json
import os
from types import SimpleNamespace

import pytest

from blueprints.transfer import clerk_views
from models import AuditEvent, PlateNumber, TransferCase, Vehicle, VehicleRecord
from models.transfer import (
    ARCHIVE_RECEIVED,
    AWAITING_ARCHIVE,
    AWAITING_INSPECTION,
    REGISTERED,
)
from rules.validators import mask_id, normalize_plate, normalize_vin

from .helpers import field_error, page, tiny_png

PNG = tiny_png()


@pytest.fixture
def as_user(app, make):
    """A fresh logged-in test client for a user (each user logs in once per test)."""

    def _as(user):
        client = app.test_client()
        make.login(client, user)
        return client

    return _as


def invoice_form(w, **over):
    data = {
        "vin": w.vehicle.vin.lower(),
        "plate": f" {w.vehicle.plate[:2]}·{w.vehicle.plate[2:].lower()} ",
        "seller_resident_id": w.seller.resident_id,
        "invoice_no": "12345678",
        "invoice_date": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "price": "86000.00",
        "destination": str(w.dest.id),
    }
    return {**data, **over}


def case_id_from(response) -> int:
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return int(response.location.rstrip("/").split("/")[-1])


def test_the_whole_path_through_the_pages(make, conn, as_user):
    w = make.transfer_world()
    buyer, seller = as_user(w.buyer), as_user(w.seller)
    page(buyer.get("/transfer/"))
    page(buyer.get("/transfer/new"))
    case_id = case_id_from(buyer.post("/transfer/new", data=invoice_form(w)))
    soup = page(buyer.get(f"/transfer/cases/{case_id}"))
    body = str(soup)
    assert mask_id(w.seller.resident_id) in body and w.seller.resident_id not in body
    assert soup.find(id="confirm-form")
    # Both parties confirm.
    assert (
        buyer.post(f"/transfer/cases/{case_id}/confirm", data={"confirmed": "yes"}).status_code
        == 303
    )
    seller_page = page(seller.get(f"/transfer/cases/{case_id}"))
    assert w.buyer.resident_id not in str(seller_page)
    assert (
        seller.post(f"/transfer/cases/{case_id}/confirm", data={"confirmed": "yes"}).status_code
        == 303
    )
    with conn():
        assert TransferCase.get_by_id(case_id).state == AWAITING_INSPECTION
    # The buyer is told to bring the vehicle; the seller, that the buyer brings it.
    told = {
        who: page(client.get(f"/transfer/cases/{case_id}")).find(id="next-step").get_text()
        for who, client in (("buyer", buyer), ("seller", seller))
    }
    assert told["buyer"].startswith("请将车辆") and "买方将车辆送到" in told["seller"]
    # This city's clerk inspects, with a photo.
    clerk = as_user(w.clerk)
    queue = page(clerk.get("/transfer/office"))
    assert queue.find("a", string=f"ZY{case_id:06d}")
    page(clerk.get(f"/transfer/cases/{case_id}"))
    response = clerk.post(
        f"/transfer/cases/{case_id}/inspect",
        data={
            "vin_read": w.vehicle.vin,
            "plate_read": w.vehicle.plate,
            "result": "passed",
            "remarks": "",
            "photos": (io.BytesIO(PNG), "front.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    with conn():
        assert TransferCase.get_by_id(case_id).state == AWAITING_ARCHIVE
    soup = page(buyer.get(f"/transfer/cases/{case_id}"))
    photo_url = soup.select_one(".photos img")["src"]
    photo = buyer.get(photo_url)
    assert photo.status_code == 200 and photo.mimetype == "image/png" and photo.data == PNG
    # The origin office sends the archive; its clerk reads who acts next, not the buyer's words.
    origin = as_user(w.origin_clerk)
    said = page(origin.get(f"/transfer/cases/{case_id}")).find(id="next-step").get_text()
    assert said.startswith("等待") and "往返" not in said
    queue = page(origin.get("/transfer/archives"))
    assert queue.find("a", string=f"ZY{case_id:06d}")
    assert page(origin.get(f"/transfer/cases/{case_id}")).find(id="send-archive-form")
    assert (
        origin.post(
            f"/transfer/cases/{case_id}/archive/send", data={"confirmed": "yes"}
        ).status_code
        == 303
    )
    with conn():
        assert TransferCase.get_by_id(case_id).state == ARCHIVE_RECEIVED
        assert Vehicle.get_by_id(w.vehicle.id).status == "transferred_out"
    document = origin.get(f"/transfer/cases/{case_id}/archive.json")
    assert document.status_code == 200 and document.mimetype == "application/json"
    checksum = document.headers["X-Archive-SHA256"]
    assert hashlib.sha256(document.data).hexdigest() == checksum
    # The clerks compare the checksum; the parties are not shown it.
    assert checksum in page(origin.get(f"/transfer/cases/{case_id}")).get_text()
    assert checksum not in page(buyer.get(f"/transfer/cases/{case_id}")).get_text()
    # The buyer chooses a plate among the few offered.
    soup = page(buyer.get(f"/transfer/cases/{case_id}"))
    choices = soup.select("#plate-form input[type=radio]")
    assert 1 <= len(choices) <= 5
    chosen = int(choices[-1]["value"])
    assert buyer.post(f"/transfer/cases/{case_id}/plate", data={"plate": chosen}).status_code == 303
    # Registration.
    assert page(clerk.get(f"/transfer/cases/{case_id}")).find(id="register-form")
    assert (
        clerk.post(f"/transfer/cases/{case_id}/register", data={"confirmed": "yes"}).status_code
        == 303
    )
    with conn():
        case = TransferCase.get_by_id(case_id)
        vehicle = Vehicle.get_by_id(w.vehicle.id)
        assert case.state == REGISTERED and case.new_plate == PlateNumber.get_by_id(chosen).plate
        assert vehicle.owner_id == w.buyer.id and vehicle.plate == case.new_plate
        assert vehicle.plate.startswith("鲁B") and vehicle.registration_office_id == w.dest.id
        assert (
            VehicleRecord.select()
            .where(
                (VehicleRecord.vehicle == vehicle)
                & (VehicleRecord.kind == "transfer_out")
                & (VehicleRecord.office == w.origin.id)
            )
            .exists()
        )
    # Each party has a confirmation; the seller's pages say they no longer own it.
    assert page(buyer.get(f"/transfer/cases/{case_id}")).find(id="buyer-confirmation")
    assert page(seller.get(f"/transfer/cases/{case_id}")).find(id="seller-confirmation")
    en = {"Accept-Language": "en"}
    seller_index = page(seller.get("/transfer/", headers=en)).get_text()
    assert (
        "You are no longer the owner." in seller_index
        and "No vehicle is registered" in seller_index
    )
    buyer_index = page(buyer.get("/transfer/", headers=en))
    assert case.new_plate[2:] in buyer_index.get_text()
    page(buyer.get(f"/transfer/vehicles/{vehicle.id}"))
    assert seller.get(f"/transfer/vehicles/{vehicle.id}").status_code == 404
    # The timeline shows every step with time and office.
    items = page(buyer.get(f"/transfer/cases/{case_id}")).select(".timeline > li")
    assert len(items) == 10 and all(li.find("time") and li.select_one(".where") for li in items)


def test_outsiders_get_404_everywhere(app, make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    urls = [
        f"/transfer/cases/{case.id}",
        f"/transfer/cases/{case.id}/archive.json",
        f"/transfer/cases/{case.id}/photos/1",
    ]
    posts = [f"/transfer/cases/{case.id}/confirm", f"/transfer/cases/{case.id}/plate"]
    anonymous = app.test_client()
    response = anonymous.get(urls[0])
    assert response.status_code == 302 and "/login" in response.location
    stranger = as_user(make.citizen())
    for url in urls:
        page(stranger.get(url), 404)
    for url in posts:
        assert stranger.post(url, data={"plate": 1}).status_code == 404
    page(stranger.get(f"/transfer/vehicles/{w.vehicle.id}"), 404)
    # The origin office does not see the case before its archive is asked for.
    origin = as_user(w.origin_clerk)
    page(origin.get(f"/transfer/cases/{case.id}"), 404)
    assert origin.post(f"/transfer/cases/{case.id}/archive/send", data={}).status_code == 404
    # A clerk of a third office, and another market's clerk.
    third = as_user(make.staff("vehicle_clerk"))
    page(third.get(f"/transfer/cases/{case.id}"), 404)
    assert third.post(f"/transfer/cases/{case.id}/register", data={}).status_code == 404
    other_market = make.office(code="M-other", kind="market")
    page(
        as_user(make.staff("market_clerk", office=other_market)).get(f"/transfer/cases/{case.id}"),
        404,
    )


def test_roles_see_the_case_but_may_only_do_their_own_steps(make, as_user):
    w = make.transfer_world()
    case = make.transfer_case(w)
    market = as_user(w.market_clerk)
    page(market.get(f"/transfer/cases/{case.id}"))
    assert (
        market.post(f"/transfer/cases/{case.id}/confirm", data={"confirmed": "yes"}).status_code
        == 403
    )
    clerk = as_user(w.clerk)
    assert (
        clerk.post(f"/transfer/cases/{case.id}/confirm", data={"confirmed": "yes"}).status_code
        == 403
    )
    buyer = as_user(w.buyer)
    assert buyer.post(f"/transfer/cases/{case.id}/register", data={}).status_code == 403
    page(buyer.get("/transfer/office"), 403)
    page(clerk.get("/transfer/"), 403)
    page(clerk.get("/transfer/market"), 403)


def test_a_step_out_of_order_is_refused_with_a_message(make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    buyer = as_user(w.buyer)
    response = buyer.post(
        f"/transfer/cases/{case.id}/confirm",
        data={},
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    assert "already been taken" in page(response).get_text()


def test_invalid_vin_and_plate_are_refused_next_to_the_fields(make, as_user, conn):
    w = make.transfer_world()
    buyer = as_user(w.buyer)
    bad_vin = w.vehicle.vin[:8] + ("0" if w.vehicle.vin[8] != "0" else "1") + w.vehicle.vin[9:]
    soup = page(
        buyer.post("/transfer/new", data=invoice_form(w, vin=bad_vin, plate="鲁I12345")), 422
    )
    assert field_error(soup, "vin") and field_error(soup, "plate")
    soup = page(buyer.post("/transfer/new", data=invoice_form(w, invoice_no="12", price="0")), 422)
    assert field_error(soup, "invoice_no") and field_error(soup, "price")
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    soup = page(buyer.post("/transfer/new", data=invoice_form(w, invoice_date=future)), 422)
    assert field_error(soup, "invoice_date")
    # Well-formed but not this vehicle's: one message that does not say which part is wrong.
    other = make.vehicle(w.origin, make.citizen())
    soup = page(buyer.post("/transfer/new", data=invoice_form(w, vin=other.vin)), 422)
    assert soup.select_one(".form-error")
    with conn():
        assert TransferCase.select().count() == 0


def test_an_invoice_used_already_names_the_case_to_whoever_may_open_it(make, as_user, conn):
    """A form sent twice: the buyer is told which of their cases has the invoice, at its
    field; an invoice in someone else's case is said to be used, without naming it."""
    w = make.transfer_world()
    buyer = as_user(w.buyer)
    case_id = case_id_from(buyer.post("/transfer/new", data=invoice_form(w)))
    with conn():
        number = TransferCase.get_by_id(case_id).number
    other = make.transfer_world()
    again = invoice_form(other, invoice_no="12345678")
    said = field_error(
        page(as_user(other.buyer).post("/transfer/new", data=again), 422), "invoice_no"
    )
    assert "其他业务" in said and number not in said
    # The same buyer, a second car of the seller's, the first invoice's number typed again.
    second = SimpleNamespace(**{**vars(w), "vehicle": make.vehicle(w.origin, w.seller)})
    said = field_error(
        page(buyer.post("/transfer/new", data=invoice_form(second)), 422), "invoice_no"
    )
    assert number in said
    # A market issuing an invoice for that buyer does not see the buyer's own case named.
    third = SimpleNamespace(**{**vars(w), "vehicle": make.vehicle(w.origin, w.seller)})
    by_market = invoice_form(
        third, buyer_name=w.buyer.real_name, buyer_resident_id=w.buyer.resident_id
    )
    market = as_user(w.market_clerk)
    said = field_error(page(market.post("/transfer/market/new", data=by_market), 422), "invoice_no")
    assert "其他业务" in said and number not in said


def test_an_impossible_invoice_date_is_said_in_the_first_round(make, as_user, conn):
    """A date in the future comes back with the other fields' faults, before the seller's ID
    number is checked against the vehicle (and cleared from the page): fixing the date is not a
    second round of retyping it."""
    w = make.transfer_world()
    buyer = as_user(w.buyer)
    future = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    soup = page(
        buyer.post("/transfer/new", data=invoice_form(w, invoice_date=future, invoice_no="12")),
        422,
    )
    assert "今天" in field_error(soup, "invoice_date")
    assert field_error(soup, "invoice_no")
    soup = page(buyer.post("/transfer/new", data=invoice_form(w, invoice_date="1999-12-31")), 422)
    assert "2000-01-01" in field_error(soup, "invoice_date")
    with conn():
        assert TransferCase.select().count() == 0


def test_a_car_of_a_suspended_peers_city_is_not_taken_for_our_copy(make, as_user, conn):
    """A car registered in a city whose exchange is suspended here: the buyer is told so, not
    that the seller has no account (our copy of the car, from an earlier sale, is not it)."""
    import json

    from models import PEER_SUSPENDED, Peer

    w = make.transfer_world()
    with conn():
        Peer.create(
            base_url="https://jg.jinan.example",
            city="济南",
            fingerprint="x",
            status=PEER_SUSPENDED,
            document=json.dumps(
                {"offices": [{"code": w.origin.code, "plate_prefix": w.origin.plate_prefix}]}
            ),
        )
    soup = page(as_user(w.buyer).post("/transfer/new", data=invoice_form(w)), 422)
    said = soup.select_one(".form-error").get_text()
    assert "济南" in said and "暂停" in said
    with conn():
        assert TransferCase.select().count() == 0


def test_market_issues_the_invoice_for_a_registered_buyer(make, as_user, conn):
    w = make.transfer_world()
    market = as_user(w.market_clerk)
    page(market.get("/transfer/market"))
    page(market.get("/transfer/market/new"))
    # An ID number without an account and a name that is not its holder's get one answer: the
    # market's clerk learns neither which ID numbers have accounts nor whose they are.
    data = invoice_form(w, buyer_name=w.buyer.real_name, buyer_resident_id=make.resident_id())
    unknown = page(market.post("/transfer/market/new", data=data), 422)
    data.update(buyer_resident_id=w.buyer.resident_id, buyer_name="别人")
    wrong_name = page(market.post("/transfer/market/new", data=data), 422)
    said = [soup.select_one(".form-error").get_text(strip=True) for soup in (unknown, wrong_name)]
    assert said[0] == said[1] and "身份证" in said[0]
    for soup in (unknown, wrong_name):
        assert not field_error(soup, "buyer_resident_id") and not field_error(soup, "buyer_name")
    data["buyer_name"] = w.buyer.real_name
    case_id = case_id_from(market.post("/transfer/market/new", data=data))
    with conn():
        case = TransferCase.get_by_id(case_id)
        assert case.market_id == w.market.id and case.buyer_id == w.buyer.id
        assert case.opened_by_id == w.market_clerk.id
    assert page(market.get("/transfer/market")).find("a", string=case.number)
    # Buyer and seller both see it and must confirm it.
    for party in (w.buyer, w.seller):
        assert page(as_user(party).get(f"/transfer/cases/{case_id}")).find(id="confirm-form")


def test_market_makes_no_unproven_account_the_buyer(make, as_user, conn):
    """Anyone may register with a name and an ID number that are not theirs: the market does not
    make such an account the buyer of a real sale (it would read the case, confirm or decline
    it, and own the car); the clerk is told how the buyer proves the number."""
    w = make.transfer_world()
    resident_id = make.resident_id()
    impostor = make.citizen(proven=False, real_name="王建国", resident_id=resident_id)
    market = as_user(w.market_clerk)
    data = invoice_form(w, buyer_name="王建国", buyer_resident_id=resident_id)
    said = page(market.post("/transfer/market/new", data=data, headers=EN), 422)
    assert "has not proved" in said.select_one(".form-error").get_text()
    with conn():
        assert TransferCase.select().count() == 0
    # Once the account proved the number (by SMS, or at a counter), the sale opens.
    make.proof(impostor)
    case_id = case_id_from(market.post("/transfer/market/new", data=data))
    with conn():
        assert TransferCase.get_by_id(case_id).buyer_id == impostor.id


def test_inspection_form_errors(make, as_user):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    clerk = as_user(w.clerk)
    url = f"/transfer/cases/{case.id}/inspect"
    base = {"vin_read": w.vehicle.vin, "plate_read": w.vehicle.plate}
    soup = page(clerk.post(url, data={**base, "result": "failed", "remarks": ""}), 422)
    assert field_error(soup, "remarks")
    soup = page(clerk.post(url, data={**base, "vin_read": "LSV123", "result": "passed"}), 422)
    assert field_error(soup, "vin_read")
    response = clerk.post(
        url,
        data={
            **base,
            "result": "passed",
            "remarks": "",
            "photos": (io.BytesIO(b"<html>"), "x.png"),
        },
        content_type="multipart/form-data",
    )
    assert field_error(page(response, 422), "photos")


def test_refusal_needs_a_reason_and_reaches_the_parties(make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_ARCHIVE)
    origin = as_user(w.origin_clerk)
    url = f"/transfer/cases/{case.id}/archive/refuse"
    assert field_error(page(origin.post(url, data={"reason": ""}), 422), "reason")
    assert origin.post(url, data={"reason": "档案资料不全", "confirmed": "yes"}).status_code == 303
    text = page(as_user(w.buyer).get(f"/transfer/cases/{case.id}")).get_text()
    assert "档案资料不全" in text


def test_htmx_gets_fragments_and_queues_refresh(make, as_user):
    w = make.transfer_world()
    case = make.transfer_case(w)
    buyer = as_user(w.buyer)
    hx = {"HX-Request": "true", "HX-Current-URL": f"http://x/transfer/cases/{case.id}"}
    fragment = buyer.get(f"/transfer/cases/{case.id}", headers=hx)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    done = buyer.post(f"/transfer/cases/{case.id}/confirm", data={"confirmed": "yes"}, headers=hx)
    assert done.status_code == 200 and done.headers["HX-Trigger"] == "transfer-case-changed"
    assert 'id="case-panel"' in done.get_data(as_text=True)
    market = as_user(w.market_clerk)
    rows = market.get("/transfer/market?state=all", headers={"HX-Request": "true"})
    body = rows.get_data(as_text=True)
    assert body.lstrip().startswith("{#") is False and 'id="queue-rows"' in body
    assert "<html" not in body and case.number in body


def test_queues_filter_search_and_page(make, as_user, monkeypatch):
    monkeypatch.setattr(clerk_views, "PAGE", 2)
    w = make.transfer_world()
    make.transfer_case(w, until=AWAITING_INSPECTION)
    vehicles = [make.vehicle(w.origin, make.citizen()) for _ in range(2)]
    cases = [
        make.transfer_case(w, vehicle=v, buyer=make.citizen(), until=AWAITING_INSPECTION)
        for v in vehicles
    ]
    clerk = as_user(w.clerk)
    first = page(clerk.get("/transfer/office"))
    assert len(first.select("#queue-rows tbody tr")) == 2
    older = first.select_one(".pager a")
    second = page(clerk.get(older["href"]))
    assert len(second.select("#queue-rows tbody tr")) == 1
    found = page(clerk.get(f"/transfer/office?state=all&q={vehicles[1].vin}"))
    assert [a.get_text() for a in found.select("#queue-rows tbody a")] == [cases[1].number]
    found = page(clerk.get("/transfer/office?state=registered"))
    assert found.select_one("#queue-rows tbody td[colspan]")


def test_reads_are_audited(make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w, until=ARCHIVE_RECEIVED)
    clerk = as_user(w.clerk)
    clerk.get(f"/transfer/cases/{case.id}")
    clerk.get(f"/transfer/cases/{case.id}/archive.json")
    clerk.get("/transfer/office")
    with conn():
        actions = {e.action for e in AuditEvent.select().where(AuditEvent.actor_id == w.clerk.id)}
    assert {"transfer.case_view", "transfer.archive_read", "transfer.queue_view"} <= actions


def test_demo_city_has_transfers_at_every_step(runner, conn, app):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    with conn():
        states = {c.state for c in TransferCase.select()}
        assert {
            "registered",
            "awaiting_archive",
            "awaiting_inspection",
            "awaiting_confirmation",
            "stopped",
        } <= states
        statuses = {v.status for v in Vehicle.select()}
        assert {"mortgaged", "seized", "stolen", "scrapped", "transferred_out"} <= statuses
        assert PlateNumber.select().where(PlateNumber.status == "free").count() >= 30
        for v in Vehicle.select():
            assert normalize_vin(v.vin) == v.vin and normalize_plate(v.plate) == v.plate
        for p in PlateNumber.select():
            assert normalize_plate(p.plate) == p.plate and p.plate.startswith("鲁B")
    assert "market" in runner.invoke(args=["demo", "logins"]).output


def test_case_page_for_each_role_in_english_and_chinese(make, as_user):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_ARCHIVE)
    for user in (w.buyer, w.seller, w.clerk, w.origin_clerk, w.market_clerk):
        client = as_user(user)
        for lang in ("zh-CN", "en"):
            page(client.get(f"/transfer/cases/{case.id}", headers={"Accept-Language": lang}))


def test_a_blocked_vehicle_opens_a_stopped_case_that_says_why(make, as_user, conn):
    w = make.transfer_world()
    with conn():
        Vehicle.update(status="stolen").where(Vehicle.id == w.vehicle.id).execute()
    buyer = as_user(w.buyer)
    case_id = case_id_from(buyer.post("/transfer/new", data=invoice_form(w)))
    soup = page(buyer.get(f"/transfer/cases/{case_id}", headers={"Accept-Language": "en"}))
    assert "The vehicle is reported stolen." in soup.select_one(".form-error").get_text()
    assert not soup.find(id="confirm-form")


def test_a_party_declines_and_the_vehicle_is_free_again(make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w)
    seller = as_user(w.seller)
    assert (
        seller.post(f"/transfer/cases/{case.id}/decline", data={"confirmed": "yes"}).status_code
        == 303
    )
    with conn():
        case = TransferCase.get_by_id(case.id)
        assert case.state == "cancelled" and case.open_vehicle_id is None
    assert make.transfer_case(w, buyer=make.citizen()).state == "awaiting_confirmation"


def test_photos_of_a_refused_inspection_are_not_kept(app, make, as_user):
    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_ARCHIVE)  # inspected already
    clerk = as_user(w.clerk)
    response = clerk.post(
        f"/transfer/cases/{case.id}/inspect",
        data={
            "vin_read": w.vehicle.vin,
            "plate_read": w.vehicle.plate,
            "result": "passed",
            "remarks": "",
            "photos": (io.BytesIO(PNG), "again.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    folder = os.path.join(app.config["UPLOAD_FOLDER"], "inspections")
    assert not os.path.isdir(folder) or os.listdir(folder) == []


def test_only_an_offered_plate_can_be_chosen_and_the_offer_is_stable(client, make, login, conn):
    from blueprints.transfer.service import offered_plates
    from models import PlateNumber, TransferCase

    w = make.transfer_world(plates=12)
    case = make.transfer_case(w, until="awaiting_inspection")
    with conn():
        fresh = TransferCase.get_by_id(case.id)
        offer = [p.id for p in offered_plates(fresh)]
        assert offer == [p.id for p in offered_plates(fresh)]  # the same on every load
        other = PlateNumber.select().where(PlateNumber.id.not_in(offer)).first()
    login(w.buyer)
    response = client.post(f"/transfer/cases/{case.id}/plate", data={"plate": str(other.id)})
    assert response.status_code in (303, 409, 422)
    with conn():
        assert TransferCase.get_by_id(case.id).chosen_plate_id is None
        assert PlateNumber.get_by_id(other.id).status == "free"
    client.post(f"/transfer/cases/{case.id}/plate", data={"plate": str(offer[0])})
    with conn():
        assert TransferCase.get_by_id(case.id).chosen_plate_id == offer[0]


@pytest.mark.parametrize(
    ("lang", "photos", "text"),
    [
        ("en", 1, "The vehicle was inspected and passed (1 photo)."),
        ("en", 3, "The vehicle was inspected and passed (3 photos)."),
        ("zh-CN", 1, "车辆查验合格（照片 1 张）。"),
    ],
)
def test_inspection_entry_counts_its_photos_in_words(app, lang, photos, text):
    from types import SimpleNamespace

    from blueprints.transfer.labels import event_text

    event = SimpleNamespace(kind="inspected", detail_dict={"passed": True, "photos": photos})
    with app.test_request_context(headers={"Accept-Language": lang}):
        assert event_text(event) == text


def test_my_vehicles_mark_an_inspection_that_ran_out(make, as_user):
    owner = make.citizen()
    office = make.office()
    lapsed = make.vehicle(office, owner, inspection_valid_until=dt.date.today() - dt.timedelta(1))
    valid = make.vehicle(office, owner, inspection_valid_until=dt.date.today() + dt.timedelta(9))
    soup = page(as_user(owner).get("/transfer/"))

    def row_of(vehicle) -> str:
        link = soup.find("a", href=f"/transfer/vehicles/{vehicle.id}")
        return link.find_parent("tr").get_text(" ", strip=True)

    assert "已过期" in row_of(lapsed) and "已过期" not in row_of(valid)


def test_a_vehicles_colour_reads_in_the_page_language(make, as_user):
    owner = make.citizen()
    car = make.vehicle(make.office(), owner)  # 白, as the certificate writes it
    client = as_user(owner)
    facts = page(client.get(f"/transfer/vehicles/{car.id}", headers={"Accept-Language": "en"}))
    assert "· white" in facts.get_text() and "白" not in facts.get_text()
    assert "· 白" in page(client.get(f"/transfer/vehicles/{car.id}")).get_text()


EN = {"Accept-Language": "en"}


def test_a_declined_case_is_called_off_not_deregistered(make, as_user, app):
    """The transfer's "cancelled" is a sale called off (取消: declined, or withdrawn after a
    confirmation), not the licence's "Cancelled" (注销, deregistered): the case's badge and the
    statistics have words of their own."""
    from flask_babel import force_locale

    from blueprints.licence.labels import STATUS_LABELS as LICENCE_STATUS
    from blueprints.stats.labels import METRIC_LABELS
    from blueprints.transfer.labels import STATE_LABELS

    w = make.transfer_world()
    case = make.transfer_case(w)
    seller = as_user(w.seller)
    assert (
        seller.post(f"/transfer/cases/{case.id}/decline", data={"confirmed": "yes"}).status_code
        == 303
    )
    soup = page(seller.get(f"/transfer/cases/{case.id}", headers=EN))
    assert soup.select_one(".case-title .state").get_text(strip=True) == "Called off"
    with app.test_request_context():
        for language in ("en", "zh"):
            with force_locale(language):
                licence = str(LICENCE_STATUS["cancelled"])
                assert str(STATE_LABELS["cancelled"]) != licence
                assert str(METRIC_LABELS[("transfer", "cancelled")]) != licence


def test_confirming_the_sale_asks_first_naming_plate_price_and_other_party(make, as_user, conn):
    w = make.transfer_world()
    case = make.transfer_case(w)
    url = f"/transfer/cases/{case.id}/confirm"
    seller, buyer = as_user(w.seller), as_user(w.buyer)
    # The case page's button posts (with htmx when there is script: the question then takes
    # the page's place without an entry in the history, so Back after it leads to the case).
    form = page(seller.get(f"/transfer/cases/{case.id}")).find(id="confirm-form")
    assert form["action"] == url == form.get("data-hx-post")
    plate = f"{w.vehicle.plate[:2]}·{w.vehicle.plate[2:]}"
    for client, other in ((seller, w.buyer.real_name), (buyer, w.seller.real_name)):
        # A plain post and an htmx one: both get the question, nothing is written.
        asked = page(client.post(url, data={}, headers=EN))
        text = asked.find(id="confirm-box").get_text(" ", strip=True)
        assert plate in text and "¥86,000.00" in text and other in text and case.number in text
        assert "can no longer be withdrawn online" in text
        assert asked.select_one("#confirm-form input[name=confirmed]")["value"] == "yes"
        hx = {**EN, "HX-Request": "true", "HX-Current-URL": f"http://x/transfer/cases/{case.id}"}
        asked = client.post(url, data={}, headers=hx)
        assert asked.status_code == 200 and asked.headers["HX-Retarget"] == "body"
        assert "HX-Trigger" not in asked.headers
        assert page(asked).find(id="confirm-box") and plate in asked.get_data(as_text=True)
        with conn():
            found = TransferCase.get_by_id(case.id)
            assert found.seller_confirmed_at is None and found.buyer_confirmed_at is None
    with conn():
        rows = AuditEvent.select().where(AuditEvent.action == "transfer.case_view")
        assert sum(json.loads(r.detail or "{}").get("asked") == "confirm" for r in rows) == 4
    # Confirmed from the question's page: done.
    assert seller.post(url, data={"confirmed": "yes"}).status_code == 303
    assert buyer.post(url, data={"confirmed": "yes"}).status_code == 303
    with conn():
        assert TransferCase.get_by_id(case.id).state == AWAITING_INSPECTION
    # Once confirmed there is nothing to ask: a second post is refused at once.
    again = page(seller.post(url, data={}, follow_redirects=True, headers=EN))
    assert not again.find(id="confirm-box") and "already been taken" in again.get_text()


def test_once_both_confirmed_the_parties_are_told_whom_to_contact(make, as_user):
    w = make.transfer_world()
    case = make.transfer_case(w)
    seller = as_user(w.seller)
    assert not page(seller.get(f"/transfer/cases/{case.id}", headers=EN)).find(id="no-withdrawal")
    for until in (AWAITING_INSPECTION, AWAITING_ARCHIVE):
        case = make.transfer_case(w, until=until, vehicle=make.vehicle(w.origin, w.seller))
        for party in (w.seller, w.buyer):
            soup = page(as_user(party).get(f"/transfer/cases/{case.id}", headers=EN))
            said = soup.find(id="no-withdrawal").get_text(" ", strip=True)
            assert "can no longer be withdrawn online" in said
            assert w.dest.display_name("en") in said
        # The clerks have no sale to withdraw from.
        clerk = page(as_user(w.clerk).get(f"/transfer/cases/{case.id}", headers=EN))
        assert not clerk.find(id="no-withdrawal")


def test_an_invoice_dated_before_the_first_registration_is_refused(make, as_user, conn):
    w = make.transfer_world()  # the vehicle was first registered on 2016-05-01
    buyer = as_user(w.buyer)
    soup = page(
        buyer.post("/transfer/new", data=invoice_form(w, invoice_date="2001-01-01"), headers=EN),
        422,
    )
    assert field_error(soup, "invoice_date") == (
        "The invoice date cannot be before the vehicle's first registration."
    )
    assert not soup.select_one(".form-error")  # at the field, not about the whole form
    day_before = invoice_form(w, invoice_date="2016-04-30")
    assert field_error(page(buyer.post("/transfer/new", data=day_before), 422), "invoice_date")
    with conn():
        assert TransferCase.select().count() == 0
    # The day of the first registration itself is possible.
    case_id_from(buyer.post("/transfer/new", data=invoice_form(w, invoice_date="2016-05-01")))


def test_the_service_refuses_impossible_invoice_dates_at_their_field(make, conn):
    from blueprints.transfer import service
    from core.steps import StepError

    w = make.transfer_world()
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    for day in (dt.date(2001, 1, 1), tomorrow):
        with conn(), pytest.raises(StepError) as refused:
            service.open_case(
                vehicle=Vehicle.get_by_id(w.vehicle.id),
                buyer=w.buyer,
                opened_by=w.market_clerk,
                market=w.market,
                destination=w.dest,
                invoice_no="55550001",
                invoice_date=day,
                price=86000,
            )
        assert refused.value.field == "invoice_date"


def test_a_cleared_id_number_says_why_it_is_empty(make, as_user):
    w = make.transfer_world()
    buyer = as_user(w.buyer)
    assert not page(buyer.get("/transfer/new", headers=EN)).find(id="seller_resident_id-note")
    soup = page(buyer.post("/transfer/new", data=invoice_form(w, invoice_no="12"), headers=EN), 422)
    note = soup.find(id="seller_resident_id-note")
    assert "not shown again" in note.get_text() and "type it again" in note.get_text()
    field = soup.find(id="seller_resident_id")
    assert field["value"] == "" and "seller_resident_id-note" in field["aria-describedby"]
    # Not typed in at all: nothing was cleared, the field's own error says what is missing.
    soup = page(buyer.post("/transfer/new", data=invoice_form(w, seller_resident_id="")), 422)
    assert field_error(soup, "seller_resident_id") and not soup.find(id="seller_resident_id-note")
    # The market's form clears the buyer's ID number too, and says so.
    market = as_user(w.market_clerk)
    data = invoice_form(w, buyer_name=w.buyer.real_name, buyer_resident_id=w.buyer.resident_id)
    soup = page(market.post("/transfer/market/new", data={**data, "price": "0"}), 422)
    assert soup.find(id="seller_resident_id-note") and soup.find(id="buyer_resident_id-note")


def test_the_invoice_number_and_price_are_read_as_typed_and_their_errors_say_the_range(
    make, as_user, conn
):
    """Full-width digits from a Chinese input method are the number meant; a price of 0 is a
    price too low, not a missing one; one too high is told the range."""
    w = make.transfer_world()
    buyer = as_user(w.buyer)
    for price, said in (("0", "from 1 to 99,999,999"), ("100000000", "from 1 to 99,999,999")):
        soup = page(buyer.post("/transfer/new", data=invoice_form(w, price=price), headers=EN), 422)
        assert said in field_error(soup, "price")
    with conn():
        assert TransferCase.select().count() == 0
    case_id = case_id_from(
        buyer.post("/transfer/new", data=invoice_form(w, invoice_no="１２３４５６７８"))
    )
    with conn():
        assert TransferCase.get_by_id(case_id).invoice_no == "12345678"


def test_the_office_stops_a_confirmed_case_at_the_parties_request(make, as_user, conn):
    """Once both confirmed, the parties cannot withdraw online and are told to ask the office:
    the office can then stop the case, with what they said, asked first; both are told."""
    from models import Notice

    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    buyer_page = page(as_user(w.buyer).get(f"/transfer/cases/{case.id}"))
    assert buyer_page.find(id="withdraw-form") is None  # the office's, not the parties'
    clerk = as_user(w.clerk)
    assert page(clerk.get(f"/transfer/cases/{case.id}")).find(id="withdraw-form")
    url = f"/transfer/cases/{case.id}/withdraw"
    assert field_error(page(clerk.post(url, data={"reason": ""}), 422), "reason")
    said = {"reason": "买卖双方协商一致，取消交易"}
    asked = page(clerk.post(url, data=said))
    assert "买卖双方协商一致，取消交易" in asked.get_text()
    # "No, change it" brings the reason back in its form, open.
    revised = page(clerk.post(url, data={**said, "confirmed": "no"}))
    assert revised.find(id="withdraw-action").has_attr("open")
    assert revised.find("textarea", id="reason").get_text().strip() == said["reason"]
    with conn():
        assert TransferCase.get_by_id(case.id).state == AWAITING_INSPECTION
    clerk.post(url, data={**said, "confirmed": "yes"})
    with conn():
        stopped = TransferCase.get_by_id(case.id)
        assert stopped.state == "stopped" and stopped.open_vehicle_id is None
        assert stopped.reasons == [{"code": "withdrawn", "text": "买卖双方协商一致，取消交易"}]
        told = {n.user_id for n in Notice.select().where(Notice.kind == "transfer.stopped")}
        assert {w.buyer.id, w.seller.id} <= told
    shown = page(as_user(w.seller).get(f"/transfer/cases/{case.id}")).get_text()
    assert "应买卖双方要求终止" in shown
    # The origin's clerk cannot stop it so.
    assert as_user(w.origin_clerk).post(url, data=said).status_code in (403, 404)


def test_once_the_archive_is_asked_for_the_office_stops_nothing_at_the_parties_request(
    make, as_user, conn
):
    """From the archive request on, the origin may be sending it (a sent archive moves the
    vehicle out there): the destination offers no such stop, and a post changes nothing."""
    from models.transfer import ARCHIVE_RECEIVED

    w = make.transfer_world()
    case = make.transfer_case(w, until=ARCHIVE_RECEIVED)
    clerk = as_user(w.clerk)
    assert page(clerk.get(f"/transfer/cases/{case.id}")).find(id="withdraw-form") is None
    said = {"reason": "买卖双方协商一致，取消交易", "confirmed": "yes"}
    clerk.post(f"/transfer/cases/{case.id}/withdraw", data=said)
    with conn():
        assert TransferCase.get_by_id(case.id).state == ARCHIVE_RECEIVED


def test_a_partys_step_is_placed_online_in_the_timeline(make, as_user, conn):
    """A party confirms or declines online, never at a counter: the seller's confirmation
    relayed from their city's deployment (whose office the event names) reads "online, in
    that city", the office's name is kept for the offices' own steps."""
    from models import TransferEvent

    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    with conn():
        TransferEvent.update(office=w.origin).where(
            (TransferEvent.case == case.id) & (TransferEvent.kind == "confirmed")
        ).execute()
    soup = page(as_user(w.buyer).get(f"/transfer/cases/{case.id}"))
    places = [li.select_one(".where").get_text(strip=True) for li in soup.select(".timeline li")]
    assert places.count("网上 · 济南") == 2 and not any("济南车管所" in p for p in places)


def test_a_step_of_a_case_whose_origin_is_paused_here_says_so(app, make, conn):
    """The origin's checks are stale and exchange with its city is paused here: the step is
    refused with the pause in words, not "try again in a few minutes", which would not help."""
    import datetime as dt
    import json

    from blueprints.transfer import links
    from core.steps import StepError
    from models import PEER_SUSPENDED, Peer, TransferLink, utcnow

    w = make.transfer_world()
    case = make.transfer_case(w, until="awaiting_inspection")
    with conn():
        Peer.create(
            base_url="https://jg.qingdao.example",
            city="青岛",
            fingerprint="x",
            status=PEER_SUSPENDED,
            document=json.dumps({"offices": []}),
        )
        TransferLink.create(
            case=case.id,
            peer_url="https://jg.qingdao.example",
            seller_name=w.seller.real_name,
            seller_resident_id=w.seller.resident_id,
            checked_at=utcnow() - dt.timedelta(days=1),
        )
    with app.test_request_context(), conn(), pytest.raises(StepError) as refused:
        links.fresh_checks(case.id)
    assert "暂停" in str(refused.value.message)


def test_a_received_archives_history_joins_our_copy_once(app, make, conn):
    """Across deployments the archive moves the car's history to the buyer's city: each entry
    is added to our copy, under its office when the sending peer publishes it (else the sending
    office, the code in the note: neither one of ours nor a third city's is written in by
    another city); an entry of a kind we
    do not keep or with no UTC time is left out, and nothing is added twice (an archive with an
    entry twice, or received again for a later sale)."""
    from blueprints.transfer.network import import_history
    from models import VehicleRecord

    ours = make.office(code="370100", city="济南", plate_prefix="鲁A")
    origin = make.office(code="370200", city="青岛", plate_prefix="鲁B", is_local=False)
    third = make.office(code="370600", city="烟台", plate_prefix="鲁F", is_local=False)
    # The sending peer publishes its office (a third city's office is another peer's).
    peer = SimpleNamespace(doc={"offices": [{"code": origin.code, "plate_prefix": "鲁B"}]})
    car = make.vehicle(origin, make.citizen())

    def entry(at, kind, office, owner, note=""):
        return {
            "at": at,
            "kind": kind,
            "office": office,
            "plate": "鲁B12345",
            "owner_name": owner,
            "owner_resident_id": "370202198001011234",
            "certificate_no": "370200000007",
            "note": note,
        }

    first = entry("2018-03-01T02:00:00Z", "initial_registration", "370200", "甲")
    document = {
        "history": [
            first,
            first,  # twice in one archive
            entry("2020-05-01T02:00:00Z", "transfer_registration", third.code, "乙", "ZY000001"),
            entry("2021-01-01T02:00:00Z", "transfer_registration", ours.code, "丙"),
            entry("2022-01-01T10:00:00+08:00", "document", "370200", "丁"),  # not UTC as written
            entry("2023-01-01T02:00:00Z", "ownership_erased", "370200", "戊"),  # not a kind of ours
        ]
    }
    with app.app_context(), conn():
        assert import_history(car, document, origin, peer) == 3
        assert import_history(car, document, origin, peer) == 0
        imported = VehicleRecord.owner_name.in_(["甲", "乙", "丙", "丁", "戊"])
        rows = list(
            VehicleRecord.select()
            .where((VehicleRecord.vehicle == car.id) & imported)
            .order_by(VehicleRecord.at)
        )
    assert [(r.owner_name, r.office_id, r.note) for r in rows] == [
        ("甲", origin.id, ""),
        ("乙", origin.id, "ZY000001（370600）"),
        ("丙", origin.id, "370100"),
    ]


def test_a_buyer_proves_the_id_number_before_registering_a_car_to_it(make, as_user, conn):
    """The car is registered to the ID number the buyer's account holds: an account that has
    not proved it (anyone may register with a name and number not theirs) is shown how to
    prove it, and its invoice opens nothing."""
    w = make.transfer_world()
    unproven = as_user(make.citizen(proven=False))
    shown = page(unproven.get("/transfer/new", headers=EN))
    assert shown.find(id="prove-identity") and not shown.find(id="case-form")
    assert "Prove your ID number first" in shown.get_text()  # said before anything is typed
    refused = page(unproven.post("/transfer/new", data=invoice_form(w), headers=EN), 422)
    assert "Prove your ID number first" in refused.get_text()
    with conn():
        assert TransferCase.select().count() == 0
