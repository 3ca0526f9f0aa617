"""The origin's pages of a transfer opened in another city's deployment: the seller confirms
here, the vehicle office's clerk sends the archive (signed by this deployment) or refuses it;
each step writes its message to the outbox with the change; outsiders see nothing."""

import datetime as dt
import json

import pytest

from core.network import keys
from core.network.envelope import verify
from models import VEHICLE_CLERK, OutboxMessage, OutgoingEvent, OutgoingTransfer, Peer, Vehicle
from rules.validators import mask_id

from .helpers import page

OTHER = "https://jg.jinan.example"


@pytest.fixture
def outgoing(make, conn):
    """A Qingdao car sold to a Jinan buyer whose case (id 7 there) reached us."""
    office = make.office(code="370200", city="青岛", plate_prefix="鲁B")
    seller = make.citizen()
    car = make.vehicle(office, seller)
    clerk = make.staff(VEHICLE_CLERK, office=office)
    with conn():
        Peer.create(base_url=OTHER, city="济南", fingerprint="x", document=json.dumps({"keys": []}))
        out = OutgoingTransfer.create(
            peer_url=OTHER,
            remote_case_id=7,
            case_number="ZY000007",
            vehicle=car,
            open_vehicle=car,
            seller=seller,
            buyer_name="买方",
            destination=json.dumps({"code": "370100", "name": "济南市车管所", "city": "济南"}),
            invoice_no="INV-7",
            invoice_date="2026-11-30",
            price="65000.00",
        )
    return out, seller, clerk


def as_user(app, make, user):
    client = app.test_client()
    make.login(client, user)
    return client


def sent(type_):
    return OutboxMessage.select().where(OutboxMessage.type == type_)


def test_the_seller_finds_the_sale_among_their_transfers_and_on_the_vehicle(app, make, outgoing):
    """The case lives in the buyer's city; the seller's own list and the vehicle's page lead
    to its record here (the list had said "no transfers yet")."""
    out, seller, _ = outgoing
    client = as_user(app, make, seller)
    rows = page(client.get("/transfer/")).select("tr.sale-elsewhere")
    assert len(rows) == 1 and "ZY000007" in rows[0].get_text()
    assert rows[0].a["href"] == f"/transfer/outgoing/{out.id}"
    note = page(client.get(f"/transfer/vehicles/{out.vehicle_id}")).find(id="sale-under-way")
    assert note.a["href"] == f"/transfer/outgoing/{out.id}" and "ZY000007" in note.get_text()
    other = as_user(app, make, make.citizen())
    assert not page(other.get("/transfer/")).select("tr.sale-elsewhere")


def test_the_seller_confirms_at_the_origin(app, make, conn, outgoing):
    out, seller, _ = outgoing
    client = as_user(app, make, seller)
    listed = page(client.get("/transfer/outgoing"))
    assert "ZY000007" in listed.get_text()
    # On a phone each sale is a card of labelled facts (every cell names its column).
    assert "cards" in listed.find("table")["class"]
    assert all(td.get("data-label") for td in listed.select("tbody td"))
    text = page(client.get(f"/transfer/outgoing/{out.id}")).get_text()
    assert "INV-7" in text and "¥65,000.00" in text  # as the buyer's city writes the price
    response = client.post(f"/transfer/outgoing/{out.id}/confirm", data={"confirmed": "yes"})
    assert response.status_code == 303
    with conn():
        assert OutgoingTransfer.get_by_id(out.id).seller_confirmed_at is not None
        [message] = sent("transfer.seller_confirmed")
        assert (message.recipient, json.loads(message.body)) == (
            OTHER,
            {"case_id": 7, "reasons": []},
        )
    client.post(
        f"/transfer/outgoing/{out.id}/confirm", data={"confirmed": "yes"}
    )  # twice: no second message
    with conn():
        assert sent("transfer.seller_confirmed").count() == 1


def test_the_seller_is_asked_before_confirming_at_the_origin(app, make, conn, outgoing):
    """Confirming commits the seller: the first post asks, naming the plate, the price and
    the buyer, and writes nothing (nor sends anything to the buyer's city)."""
    out, seller, _ = outgoing
    client = as_user(app, make, seller)
    url = f"/transfer/outgoing/{out.id}/confirm"
    asked = page(client.post(url, data={}, headers={"Accept-Language": "en"}))
    text = asked.find(id="confirm-box").get_text(" ", strip=True)
    with conn():
        plate = Vehicle.get_by_id(out.vehicle_id).plate
    assert f"{plate[:2]}·{plate[2:]}" in text and "¥65,000.00" in text and "买方" in text
    assert "ZY000007" in text
    with conn():
        assert OutgoingTransfer.get_by_id(out.id).seller_confirmed_at is None
        assert sent("transfer.seller_confirmed").count() == 0
    assert client.post(url, data={"confirmed": "yes"}).status_code == 303
    with conn():
        assert OutgoingTransfer.get_by_id(out.id).seller_confirmed_at is not None


def test_the_record_follows_the_case_in_the_buyers_city(app, make, conn, outgoing):
    out, seller, clerk = outgoing
    seller_client, clerk_client = as_user(app, make, seller), as_user(app, make, clerk)
    english = {"Accept-Language": "en"}

    def shown() -> tuple[str, str]:
        """The state on the record's page, and in the seller's list."""
        soup = page(seller_client.get(f"/transfer/outgoing/{out.id}", headers=english))
        return (
            soup.find(id="outgoing-state").get_text(strip=True),
            page(seller_client.get("/transfer/outgoing", headers=english)).find("tbody").text,
        )

    def relayed(kind, **detail):
        with conn():
            OutgoingEvent.create(outgoing=out.id, kind=kind, city="济南", detail=json.dumps(detail))

    assert shown()[0] == "Awaiting confirmation"
    relayed("confirmed", party="buyer")
    assert shown()[0] == "Awaiting the seller's confirmation"
    seller_client.post(f"/transfer/outgoing/{out.id}/confirm", data={"confirmed": "yes"})
    # Confirmed by both only once Jinan took the seller's confirmation (the buyer may have
    # withdrawn meanwhile).
    assert shown()[0] == "Your confirmation is on its way to the buyer's city"
    relayed("to_inspection")
    state, mine = shown()
    assert state.startswith("Confirmed by both") and state in mine
    # The sale is the seller's and the buyer's until the archive is asked for: the origin's
    # clerks neither list it nor open it yet.
    assert "ZY000007" not in clerk_client.get("/transfer/outgoing").get_data(as_text=True)
    assert clerk_client.get(f"/transfer/outgoing/{out.id}").status_code == 404
    panel = page(seller_client.get(f"/transfer/outgoing/{out.id}", headers=english))
    assert "you need do nothing now" in panel.find(id="confirm-action").get_text()
    relayed("inspected", passed=False)
    assert shown()[0].startswith("Failed inspection")
    relayed("reinspection")
    assert shown()[0].startswith("Confirmed by both")
    relayed("inspected", passed=True, photos=0)
    assert shown()[0].startswith("Inspected")
    timeline = page(seller_client.get(f"/transfer/outgoing/{out.id}", headers=english))
    assert "inspected and passed." in timeline.get_text()  # no "(0 photos)"


def test_the_records_progress_follows_the_times_of_the_steps_not_their_arrival(conn, outgoing):
    out, _, _ = outgoing
    second = dt.datetime(2026, 12, 1, 2, 0, 0)
    with conn():
        # Within one second the vehicle failed and was put up for inspection again; the outbox
        # delivered the second step first.
        for kind, detail, at in (
            ("confirmed", {"party": "buyer"}, second),
            ("confirmed", {"party": "seller"}, second),
            ("to_inspection", {}, second),
            ("reinspection", {}, second.replace(microsecond=700_000)),
            ("inspected", {"passed": False}, second.replace(microsecond=300_000)),
        ):
            OutgoingEvent.create(
                outgoing=out.id, kind=kind, city="济南", at=at, detail=json.dumps(detail)
            )
        record = OutgoingTransfer.get_by_id(out.id)
        assert record.progress(list(record.events())) == "awaiting_inspection"
        assert OutgoingTransfer.progress_of([record]) == {record.id: "awaiting_inspection"}


def test_the_clerks_archive_queue_says_what_waits_from_other_cities(app, make, conn, outgoing):
    out, _, clerk = outgoing
    client = as_user(app, make, clerk)
    assert page(client.get("/transfer/archives")).find(id="archives-elsewhere") is None
    with conn():
        OutgoingTransfer.update(
            state="archive_requested", seller_confirmed_at=dt.datetime(2026, 12, 1)
        ).where(OutgoingTransfer.id == out.id).execute()
    waiting = page(client.get("/transfer/archives")).find(id="archives-elsewhere")
    assert "其他城市系统有 1 项档案调取申请等待您处理" in waiting.get_text()
    # The link leads to those requests only, not to every sale of every state.
    link = waiting.find("a")["href"]
    assert link == "/transfer/outgoing?state=archive_requested"
    listed = page(client.get(link))
    assert listed.find(id="outgoing-filter") and len(listed.select("tbody tr")) == 1
    with conn():
        OutgoingTransfer.update(state="archive_sent").where(OutgoingTransfer.id == out.id).execute()
    assert not page(client.get(link)).select("tbody tr")
    assert len(page(client.get("/transfer/outgoing")).select("tbody tr")) == 1


def test_the_clerk_sends_the_archive_signed(app, make, conn, outgoing):
    out, _, clerk = outgoing
    with conn():
        OutgoingTransfer.update(
            state="archive_requested", seller_confirmed_at=dt.datetime(2026, 12, 1)
        ).execute()
    client = as_user(app, make, clerk)
    action = page(client.get(f"/transfer/outgoing/{out.id}")).find(id="archive-action")
    assert action.find(id="send-form")
    # What the clerk decides on: the owner on record (masked) and what sending does.
    with conn():
        vehicle = Vehicle.get_by_id(out.vehicle_id)
    said = action.get_text()
    assert vehicle.owner_name in said and mask_id(vehicle.owner_resident_id) in said
    assert vehicle.owner_resident_id not in said and "登记通知" in said
    url = f"/transfer/outgoing/{out.id}/archive/send"
    asked = page(client.post(url, data={}))  # it cannot be undone: asked first
    assert asked.find(id="confirm-box") and "ZY000007" in asked.get_text()
    with conn():
        assert sent("transfer.archive").count() == 0
    assert client.post(url, data={"confirmed": "yes"}).status_code == 303
    with conn(), app.app_context():
        [message] = sent("transfer.archive")
        body = json.loads(message.body)
        public = [k.public_jwk() for k in keys.all_keys()]
        document = verify(body["archive"], public)
        assert document["vehicle"]["vin"] == out.vehicle.vin
        assert document["transfer"]["case"] == "ZY000007"
        after = OutgoingTransfer.get_by_id(out.id)
        assert (after.state, after.archive_sha256) == ("archive_sent", body["sha256"])
        # Transferred out only on the registration notice.
        assert Vehicle.get_by_id(out.vehicle_id).status == "normal"


def test_the_clerk_refuses_with_a_reason(app, make, conn, outgoing):
    out, _, clerk = outgoing
    with conn():
        OutgoingTransfer.update(
            state="archive_requested", seller_confirmed_at=dt.datetime(2026, 12, 1)
        ).execute()
    client = as_user(app, make, clerk)
    url = f"/transfer/outgoing/{out.id}/archive/refuse"
    asked = page(client.post(url, data={"reason": "抵押未解除"}))
    assert asked.find(id="confirm-box") and "抵押未解除" in asked.get_text()
    with conn():
        assert sent("transfer.archive_refused").count() == 0
    client.post(url, data={"reason": "抵押未解除", "confirmed": "yes"})
    with conn():
        [message] = sent("transfer.archive_refused")
        assert json.loads(message.body) == {"case_id": 7, "reason": "抵押未解除"}
        assert OutgoingTransfer.get_by_id(out.id).open_vehicle_id is None


def test_the_seller_declines_once_they_confirm_it(app, make, conn, outgoing):
    out, seller, _ = outgoing
    client = as_user(app, make, seller)
    url = f"/transfer/outgoing/{out.id}/decline"
    asked = page(client.post(url, data={}))
    assert asked.find(id="confirm-box") and "ZY000007" in asked.get_text()
    with conn():
        assert OutgoingTransfer.get_by_id(out.id).is_open
    assert client.post(url, data={"confirmed": "yes"}).status_code == 303
    with conn():
        assert not OutgoingTransfer.get_by_id(out.id).is_open
        [message] = sent("transfer.seller_declined")
        assert json.loads(message.body) == {"case_id": 7, "reasons": []}


def test_outsiders_see_nothing(app, make, conn, outgoing):
    out, _, _ = outgoing
    stranger = as_user(app, make, make.citizen())
    assert stranger.get(f"/transfer/outgoing/{out.id}").status_code == 404
    assert (
        stranger.post(f"/transfer/outgoing/{out.id}/confirm", data={"confirmed": "yes"}).status_code
        == 404
    )
    assert "ZY000007" not in page(stranger.get("/transfer/outgoing")).get_text()
    with conn():
        assert OutboxMessage.select().count() == 0


def test_the_buyers_page_of_a_case_opened_over_the_network(app, make, conn):
    """At the destination the seller is a user of the origin: named from the case's link; the
    buyer's confirmation is relayed to the origin with the step."""
    from blueprints.transfer import service

    w = make.transfer_world()
    with conn():
        Peer.create(base_url=OTHER, city="济南", fingerprint="x", document=json.dumps({"keys": []}))
        answer = {
            "peer_url": OTHER,
            "seller_resident_id": w.seller.resident_id,
            "seller": {"name": "卖方甲", "registered": True},
            "reasons": [],
        }
        case = service.open_case(
            vehicle=w.vehicle,
            buyer=w.buyer,
            opened_by=w.market_clerk,
            market=w.market,
            destination=w.dest,
            invoice_no="INV-LINK",
            invoice_date=w.vehicle.first_registered_on,
            price=86000,
            origin_answer=answer,
        )
        assert case.seller_id is None
        assert [m.type for m in OutboxMessage.select()] == ["transfer.opened"]
    client = as_user(app, make, w.buyer)
    soup = page(client.get(f"/transfer/cases/{case.id}"))
    text = soup.get_text()
    assert "卖方甲" in text and w.seller.resident_id not in text
    # Nobody confirms for the seller "on this page": they do it where the car is registered.
    next_step = soup.find(id="next-step").get_text()
    assert "卖方在车辆登记地" in next_step and "分别在本页确认" not in next_step
    client.post(f"/transfer/cases/{case.id}/confirm", data={"confirmed": "yes"})
    with conn():
        relayed = OutboxMessage.select().where(OutboxMessage.type == "transfer.event")
        assert [json.loads(m.body)["event"]["kind"] for m in relayed] == ["confirmed"]
    # The seller of the origin's deployment is no one here: their own account sees nothing.
    seller = as_user(app, make, w.seller)
    assert seller.get(f"/transfer/cases/{case.id}").status_code == 404


def test_the_origins_timeline_links_its_own_steps_to_receipts(app, make, conn, outgoing, tmp_path):
    """The seller's confirmation here and the archive request relayed from the destination
    are in this city's log: the origin's timeline links each to a receipt that
    docs/verify_receipt.py verifies; the seller's opens no account, the clerk's tells the role;
    other people get 404."""
    from blueprints.transfer import network_origin
    from models import AuditEvent, OutgoingEvent, utcnow

    from .test_audit import integrate_now
    from .test_auditlog_receipt import run_script

    out, seller, clerk = outgoing
    client = as_user(app, make, seller)
    client.post(f"/transfer/outgoing/{out.id}/confirm", data={"confirmed": "yes"})
    with conn():
        peer = Peer.get(Peer.base_url == OTHER)
        at = utcnow().isoformat()  # after the confirmation: the timeline's second step
        event = {"kind": "archive_requested", "at": at, "city": "济南"}
        network_origin._relayed({"case_id": 7, "event": event}, peer, "archive_requested")
        steps = {e.kind: e for e in OutgoingTransfer.get_by_id(out.id).events()}
        assert AuditEvent.get_by_id(steps["confirmed"].audit_event_id).action == "transfer.confirm"
        requested = AuditEvent.get_by_id(steps["archive_requested"].audit_event_id)
        assert requested.action == "transfer.outgoing_archive_requested"
        assert OutgoingEvent.select().where(OutgoingEvent.audit_event.is_null()).count() == 0
    integrate_now(app)

    links = [
        a["href"]
        for a in page(client.get(f"/transfer/outgoing/{out.id}")).select(".timeline a.receipt")
    ]
    assert len(links) == 2
    soup = page(client.get(links[0]))
    # The record is named by the case number the seller knows, not by the record's id.
    about = soup.find(id="receipt-entry").get_text(" ", strip=True)
    assert "ZY000007" in about
    download = client.get(soup.find(id="receipt-download")["href"])
    assert download.status_code == 200
    receipt = json.loads(download.data)
    assert json.loads(receipt["leaf"])["action"] == "transfer.confirm"
    assert "actor" not in receipt["disclosed"] and "client_addr" not in receipt["disclosed"]
    path = tmp_path / "seller.json"
    path.write_bytes(download.data)
    assert run_script(path).returncode == 0

    staff = as_user(app, make, clerk)
    response = staff.get(links[1] + ".json")
    assert response.status_code == 200 and "role" in json.loads(response.data)["disclosed"]

    stranger = as_user(app, make, make.citizen())
    assert stranger.get(links[0]).status_code == 404
    # An entry of this city's log that no step of the record names: 404, even to its seller.
    with conn():
        foreign = AuditEvent.select().where(AuditEvent.action == "transfer.case_view").first()
    assert client.get(f"/transfer/outgoing/{out.id}/receipt/{foreign.id}").status_code == 404
