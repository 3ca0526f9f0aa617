"""The origin's record of a sale to another city moves only in its turn, whatever a peer sends:
a peer that does not follow the protocol (or is not honest) can neither transfer our vehicle
out before we sent its archive, nor have the archive asked for before the seller confirmed,
nor name an office or a city it does not publish. Signed messages of a peer deployment, posted
to this deployment's inbox."""

import json
import time
import uuid

import pytest
from joserfc.jwk import OKPKey

from core.network.envelope import sign
from core.network.keys import SigningKey
from models import (
    VEHICLE_CLERK,
    AuditEvent,
    Notice,
    OutboxMessage,
    OutgoingEvent,
    OutgoingTransfer,
    Peer,
    Vehicle,
)
from models.transfer_network import OUT_ARCHIVE_REQUESTED, OUT_CLOSED, OUT_OPEN, OUT_TRANSFERRED
from models.vehicles import NORMAL, STOLEN, TRANSFERRED_OUT

PEER = "https://jg.jinan.example"
JINAN = {"code": "370100", "name": "济南市车管所", "city": "济南", "city_en": "Jinan"}


@pytest.fixture
def sale(app, make, conn):
    """A Qingdao car, its seller, a vehicle clerk here, and a peer (Jinan) whose key signs."""
    private = OKPKey.generate_key("Ed25519", private=True)
    now = int(time.time())
    key = SigningKey(private, private.thumbprint(), now - 10, now + 86400)
    office = make.office(code="370200", city="青岛", city_en="Qingdao", plate_prefix="鲁B")
    seller = make.citizen()
    car = make.vehicle(office, seller)
    clerk = make.staff(VEHICLE_CLERK, office=office)
    document = {
        "base_url": PEER,
        "city": "济南",
        "keys": [key.public_jwk()],
        "offices": [{**JINAN, "name_en": "Jinan Vehicle Office", "kind": "vehicle_office"}],
    }
    with conn():
        Peer.create(base_url=PEER, city="济南", fingerprint=key.kid, document=json.dumps(document))
    return key, car, seller, clerk


def deliver(app, client, key, type_, body) -> int:
    """The peer's signed message, delivered; the inbox's status."""
    payload = {
        "id": str(uuid.uuid4()),
        "type": type_,
        "from": PEER,
        "to": app.config["PUBLIC_BASE_URL"],
        "iat": int(time.time()),
        "body": body,
    }
    response = client.post(
        "/network/inbox", data=sign(payload, key), content_type="application/jose"
    )
    return response.status_code


def opened(car, seller, destination=JINAN) -> dict:
    return {
        "case_id": 7,
        "number": "ZY000007",
        "vin": car.vin,
        "plate": car.plate,
        "seller_resident_id": seller.resident_id,
        "destination": destination,
        "buyer_name": "买方",
        "invoice_no": "INV-7",
        "invoice_date": "2026-11-30",
        "price": "65000",
        "at": "2026-11-30T03:04:05",
    }


def event(kind, city="济南", **detail) -> dict:
    return {
        "case_id": 7,
        "event": {"kind": kind, "at": "2026-12-01T00:00:00", "city": city, "detail": detail},
    }


def as_user(app, make, user):
    client = app.test_client()
    make.login(client, user)
    return client


def record(conn) -> OutgoingTransfer:
    with conn():
        return OutgoingTransfer.get()


def vehicle_status(conn, car) -> str:
    with conn():
        return Vehicle.get_by_id(car.id).status


def test_registration_before_the_archive_was_sent_is_refused(app, make, conn, client, sale):
    """Straight after the opening, by either message type, and after the seller declined: the
    vehicle stays ours and the record as it was."""
    key, car, seller, _ = sale
    assert deliver(app, client, key, "transfer.opened", opened(car, seller)) == 200
    for type_ in ("transfer.registered", "transfer.event"):
        assert deliver(app, client, key, type_, event("registered", plate="鲁A99999")) == 409
    assert vehicle_status(conn, car) == NORMAL and record(conn).state == OUT_OPEN
    out = record(conn)
    declined = as_user(app, make, seller).post(
        f"/transfer/outgoing/{out.id}/decline", data={"confirmed": "yes"}
    )
    assert declined.status_code == 303
    assert (
        deliver(app, client, key, "transfer.registered", event("registered", plate="鲁A1")) == 409
    )
    # Nor is the archive asked for a sale the seller declined: the clerks never see it.
    asked = event("archive_requested")
    assert deliver(app, client, key, "transfer.archive_request", asked) == 409
    clerk_client = as_user(app, make, sale[3])
    assert "ZY000007" not in clerk_client.get("/transfer/outgoing").get_data(as_text=True)
    after = record(conn)
    assert (after.state, after.new_plate) == (OUT_CLOSED, None)
    assert vehicle_status(conn, car) == NORMAL
    with conn():
        assert not AuditEvent.select().where(AuditEvent.action == "transfer.transferred_out")
        refused = AuditEvent.select().where(AuditEvent.action == "network.refused")
        assert {e.result for e in refused} == {"not_allowed_now"}


def test_the_archive_is_asked_for_only_after_the_seller_confirmed(app, make, conn, client, sale):
    """Asked before: refused, and the clerk has nothing to send. Asked after: the clerk sends it,
    and the registration then transfers the vehicle out."""
    key, car, seller, clerk = sale
    assert deliver(app, client, key, "transfer.opened", opened(car, seller)) == 200
    asked = event("archive_requested")
    assert deliver(app, client, key, "transfer.archive_request", asked) == 409
    out = record(conn)
    assert out.state == OUT_OPEN
    # Until the archive is asked for, the sale is not the origin clerks' to see or act on.
    clerk_client = as_user(app, make, clerk)
    send = f"/transfer/outgoing/{out.id}/archive/send"
    assert clerk_client.get(f"/transfer/outgoing/{out.id}").status_code == 404
    assert "ZY000007" not in clerk_client.get("/transfer/outgoing").get_data(as_text=True)
    assert clerk_client.post(send, data={"confirmed": "yes"}).status_code == 404
    with conn():
        assert not OutboxMessage.select().where(OutboxMessage.type == "transfer.archive").exists()
    confirmed = as_user(app, make, seller).post(
        f"/transfer/outgoing/{out.id}/confirm", data={"confirmed": "yes"}
    )
    assert confirmed.status_code == 303
    assert deliver(app, client, key, "transfer.archive_request", asked) == 200
    assert record(conn).state == OUT_ARCHIVE_REQUESTED
    assert "ZY000007" in clerk_client.get("/transfer/outgoing").get_data(as_text=True)
    assert clerk_client.post(send, data={"confirmed": "yes"}).status_code == 303
    with conn():
        assert OutboxMessage.select().where(OutboxMessage.type == "transfer.archive").count() == 1
    assert (
        deliver(app, client, key, "transfer.registered", event("registered", plate="鲁A1")) == 200
    )
    assert record(conn).state == OUT_TRANSFERRED
    assert vehicle_status(conn, car) == TRANSFERRED_OUT


def test_a_vehicle_reported_stolen_after_its_archive_went_keeps_the_mark(
    app, make, conn, client, sale
):
    """The registration there is a fact the record takes; the theft report here stays on the
    vehicle, and the log says it was kept."""
    key, car, seller, clerk = sale
    assert deliver(app, client, key, "transfer.opened", opened(car, seller)) == 200
    out = record(conn)
    as_user(app, make, seller).post(
        f"/transfer/outgoing/{out.id}/confirm", data={"confirmed": "yes"}
    )
    assert deliver(app, client, key, "transfer.archive_request", event("archive_requested")) == 200
    sent = as_user(app, make, clerk).post(
        f"/transfer/outgoing/{out.id}/archive/send", data={"confirmed": "yes"}
    )
    assert sent.status_code == 303
    with conn():
        Vehicle.update(status=STOLEN).where(Vehicle.id == car.id).execute()
    assert (
        deliver(app, client, key, "transfer.registered", event("registered", plate="鲁A1")) == 200
    )
    assert record(conn).state == OUT_TRANSFERRED
    assert vehicle_status(conn, car) == STOLEN
    with conn():
        logged = AuditEvent.get(AuditEvent.action == "transfer.transferred_out")
        assert logged.detail_dict["kept_status"] == STOLEN


def test_a_peer_names_only_its_own_offices_and_its_own_city(
    app, make, conn, client, sale, monkeypatch
):
    """An office the peer does not publish is refused for now, and its document fetched again
    (an office opened since peering comes through then); the names shown are the published
    ones; a relayed step happened in the destination's city, whatever the message says, and
    its detail names no actor or receipt of ours."""
    from core.network import peers

    fetched = []
    monkeypatch.setattr(peers.http, "fetch_json", lambda url: fetched.append(url) or {})
    monkeypatch.setattr(peers, "_refreshed_at", {})
    key, car, seller, clerk = sale
    beijing = {"code": "110000", "name": "北京市车管所", "city": "北京", "city_en": "Beijing"}
    assert deliver(app, client, key, "transfer.opened", opened(car, seller, beijing)) == 425
    assert fetched == [f"{PEER}/.well-known/jiaoguan.json"]
    with conn():
        assert not OutgoingTransfer.select().exists()
    renamed = {**JINAN, "name": "北京市车管所", "city": "北京"}
    assert deliver(app, client, key, "transfer.opened", opened(car, seller, renamed)) == 200
    out = record(conn)
    assert out.destination_office["name"] == "济南市车管所"
    inspected = event("inspected", city="上海", passed=True, actor=clerk.id, entry=1, at="x")
    assert deliver(app, client, key, "transfer.event", inspected) == 200
    with conn():
        step = OutgoingEvent.get(OutgoingEvent.kind == "inspected")
        assert step.actor_id is None and step.audit_event_id is None and step.city == "济南"
    text = as_user(app, make, seller).get(f"/transfer/outgoing/{out.id}").get_data(as_text=True)
    assert "济南" in text and "上海" not in text and "北京" not in text


def test_a_seller_who_confirmed_may_withdraw_until_the_buyer_confirms(
    app, make, conn, client, sale
):
    """The withdrawal is asked of the buyer's city (the same message as a decline) and our
    record waits for its answer: the case's "declined" closes it, and the seller is told."""
    key, car, seller, _ = sale
    assert deliver(app, client, key, "transfer.opened", opened(car, seller)) == 200
    out = record(conn)
    seller_client = as_user(app, make, seller)
    page_url = f"/transfer/outgoing/{out.id}"
    withdraw = f"{page_url}/withdraw"
    with conn():
        asked = Notice.get(
            (Notice.user == seller.id) & (Notice.kind == "transfer.outgoing.confirm_sale")
        )
        assert asked.read_at is None
    seller_client.post(f"{page_url}/confirm", data={"confirmed": "yes"})
    with conn():  # done: no longer new
        assert Notice.get_by_id(asked.id).read_at is not None
    assert 'id="withdraw-form"' in seller_client.get(page_url).get_data(as_text=True)
    asked = seller_client.post(withdraw, data={})  # asked first, as every irreversible step
    assert asked.status_code == 200 and "退出这笔交易？" in asked.get_data(as_text=True)
    assert seller_client.post(withdraw, data={"confirmed": "yes"}).status_code == 303
    shown = seller_client.get(page_url).get_data(as_text=True)
    assert 'id="withdraw-sent"' in shown and 'id="withdraw-form"' not in shown
    with conn():
        sent = OutboxMessage.select().where(OutboxMessage.type == "transfer.seller_declined")
        assert [json.loads(m.body)["case_id"] for m in sent] == [7]
        assert AuditEvent.get(AuditEvent.action == "transfer.withdraw_asked").actor_id == seller.id
    assert record(conn).state == OUT_OPEN  # until the buyer's city answers
    seller_client.post(withdraw, data={"confirmed": "yes"})  # a second tap sends nothing more
    with conn():
        assert sent.count() == 1
    declined = event("declined", party="seller", withdrawn=True)  # as the buyer's city sends it
    assert deliver(app, client, key, "transfer.event", declined) == 200
    assert record(conn).state == OUT_CLOSED
    with conn():
        told = Notice.select().where(Notice.user == seller.id).order_by(Notice.id)
        assert [n.kind for n in told][-1] == "transfer.outgoing.withdrawn"


def test_a_withdrawal_the_buyer_confirmed_before_keeps_the_sale_going(
    app, make, conn, client, sale
):
    key, car, seller, _ = sale
    assert deliver(app, client, key, "transfer.opened", opened(car, seller)) == 200
    out = record(conn)
    seller_client = as_user(app, make, seller)
    page_url = f"/transfer/outgoing/{out.id}"
    seller_client.post(f"{page_url}/confirm", data={"confirmed": "yes"})
    seller_client.post(f"{page_url}/withdraw", data={"confirmed": "yes"})
    # The buyer confirmed in Jinan: the withdrawal may still get there first, so nothing is
    # said yet...
    assert deliver(app, client, key, "transfer.event", event("confirmed", party="buyer")) == 200
    assert 'id="withdraw-sent"' in seller_client.get(page_url).get_data(as_text=True)
    # ...until Jinan took both confirmations: the withdrawal came too late, the sale goes on.
    assert deliver(app, client, key, "transfer.event", event("to_inspection")) == 200
    assert record(conn).state == OUT_OPEN
    shown = seller_client.get(page_url).get_data(as_text=True)
    assert 'id="withdraw-late"' in shown and "济南市车管所" in shown
    with conn():
        kinds = [n.kind for n in Notice.select().where(Notice.user == seller.id)]
        assert "transfer.outgoing.withdraw_too_late" in kinds
        assert "transfer.outgoing.sale_confirmed" not in kinds


def test_no_withdrawal_once_the_buyer_confirmed(app, make, conn, client, sale):
    key, car, seller, _ = sale
    assert deliver(app, client, key, "transfer.opened", opened(car, seller)) == 200
    out = record(conn)
    seller_client = as_user(app, make, seller)
    page_url = f"/transfer/outgoing/{out.id}"
    assert deliver(app, client, key, "transfer.event", event("confirmed", party="buyer")) == 200
    seller_client.post(f"{page_url}/confirm", data={"confirmed": "yes"})
    assert 'id="withdraw-form"' not in seller_client.get(page_url).get_data(as_text=True)
    seller_client.post(f"{page_url}/withdraw", data={"confirmed": "yes"})
    with conn():
        assert (
            not OutboxMessage.select()
            .where(OutboxMessage.type == "transfer.seller_declined")
            .exists()
        )
    # Both confirmed as far as Qingdao knows, but the seller is not told to hand the car over
    # until Jinan took their confirmation (the buyer may have withdrawn meanwhile).
    assert "您的确认正在送往买方所在城市" in seller_client.get(page_url).get_data(as_text=True)

    def told(kind):
        with conn():
            return (
                Notice.select()
                .where((Notice.user == seller.id) & (Notice.kind == "transfer.outgoing." + kind))
                .exists()
            )

    assert not told("sale_confirmed")
    assert deliver(app, client, key, "transfer.event", event("to_inspection")) == 200
    assert told("sale_confirmed")


def test_to_inspection_is_taken_only_after_the_seller_confirmed_here(app, make, conn, client, sale):
    """Sent before the seller confirmed here, it is refused (it would tell the seller to hand
    the car over while still asking them to confirm); after, it ends the seller's way out."""
    key, car, seller, _ = sale
    assert deliver(app, client, key, "transfer.opened", opened(car, seller)) == 200
    assert deliver(app, client, key, "transfer.event", event("to_inspection")) == 409
    out = record(conn)
    seller_client = as_user(app, make, seller)
    page_url = f"/transfer/outgoing/{out.id}"
    seller_client.post(f"{page_url}/confirm", data={"confirmed": "yes"})
    assert deliver(app, client, key, "transfer.event", event("to_inspection")) == 200
    # Before the buyer's own "confirmed" has come: no withdrawal any more all the same.
    seller_client.post(f"{page_url}/withdraw", data={"confirmed": "yes"})
    with conn():
        assert not (
            OutboxMessage.select().where(OutboxMessage.type == "transfer.seller_declined").exists()
        )
        kinds = [n.kind for n in Notice.select().where(Notice.user == seller.id)]
    assert kinds.count("transfer.outgoing.sale_confirmed") == 1
