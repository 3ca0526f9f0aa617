"""A transfer across two real deployments (Qingdao the origin, Jinan the destination), each
on its own database with its own server and worker: the whole case by signed messages, one
timeline on each side naming the city of each event, and the transfer's bad messages refused
with their reason codes, changing nothing."""

import time
import uuid

import pytest

from core.network.envelope import sign
from models import (
    ArchiveTransfer,
    AuditEvent,
    InboxMessage,
    OutgoingTransfer,
    TransferCase,
    Vehicle,
    VehicleRecord,
)

from .deployments import post_envelope
from .helpers import wait_for
from .transfer_network import (
    case_state,
    inspect,
    open_case,
    outgoing,
    pending_count,
    register,
    seller_confirms,
    send_archive,
)

# The sales the module's tests make, on the two deployments of the `net` fixture (conftest).
SALES = 3


def walk(qingdao, jinan, t, invoice_no):
    """One transfer from the invoice to the registration, each step on its own side."""
    open_case(jinan, t, invoice_no)
    t.out_id = wait_for(lambda: outgoing(qingdao, t), what="the opening at Qingdao").id
    seller_confirms(qingdao, t)
    wait_for(lambda: case_state(jinan, t) == "awaiting_inspection", what="the confirmation")
    inspect(jinan, t)
    wait_for(lambda: outgoing(qingdao, t).state == "archive_requested", what="the request")
    send_archive(qingdao, t)
    wait_for(lambda: case_state(jinan, t) == "archive_received", what="the archive")
    register(jinan, t)
    wait_for(lambda: outgoing(qingdao, t).state == "transferred_out", what="the notice")


def test_a_transfer_across_two_deployments(net):
    qingdao, jinan, sales = net
    t = sales[0]
    walk(qingdao, jinan, t, "INV-NET-1")
    with jinan.act():
        case = TransferCase.get_by_id(t.case_id)
        assert case.state == "registered" and case.new_plate.startswith("鲁A")
        assert case.seller_id is None  # the seller is a user of Qingdao's deployment
        archive = ArchiveTransfer.get(ArchiveTransfer.case == case)
        assert archive.status == "sent" and archive.received_at is not None
        car = Vehicle.get_by_id(case.vehicle_id)
        assert (car.plate, car.status, car.owner_id) == (case.new_plate, "normal", case.buyer_id)
        buyer_timeline = [(e.kind, e.office.city if e.office_id else None) for e in case.events()]
        # The archive brought the car's history from Qingdao: its first registration there
        # comes first, then what Jinan added.
        jinan_history = [(r.kind, r.office.city, r.at) for r in car.history()]
    with qingdao.act():
        # What the archive held: Qingdao's history before its transfer_out (written on Jinan's
        # registration notice, after the archive went).
        history = Vehicle.get_by_id(t.car.id).history()
        sent = [(r.kind, r.at.replace(microsecond=0)) for r in history if r.kind != "transfer_out"]
    assert [(k, at) for k, _, at in jinan_history][: len(sent)] == sent
    assert jinan_history[0][:2] == ("initial_registration", "青岛")
    assert [k for k, *_ in jinan_history][len(sent) :] == [
        "document",
        "document",
        "transfer_registration",
    ]
    with jinan.act():
        case = TransferCase.get_by_id(t.case_id)
    # The buyer's timeline names the city of each step, Qingdao's included.
    assert ("confirmed", "青岛") in buyer_timeline  # the seller, at Qingdao
    assert ("archive_sent", "青岛") in buyer_timeline
    assert ("inspected", "济南") in buyer_timeline and ("registered", "济南") in buyer_timeline
    with qingdao.act():
        out = OutgoingTransfer.get_by_id(t.out_id)
        seller_timeline = [(e.kind, e.city) for e in out.events()]
        car = Vehicle.get_by_id(t.car.id)
        assert car.status == "transferred_out"
        outs = VehicleRecord.select().where(
            (VehicleRecord.vehicle == car) & (VehicleRecord.kind == "transfer_out")
        )
        assert outs.count() == 1
        assert out.new_plate == case.new_plate
    # The seller's timeline at Qingdao has the whole case too.
    for step in [
        ("opened", "济南"),
        ("confirmed", "济南"),  # the buyer, at Jinan
        ("confirmed", "青岛"),  # the seller, here
        ("inspected", "济南"),
        ("archive_requested", "济南"),
        ("archive_sent", "青岛"),
        ("archive_received", "济南"),
        ("registered", "济南"),
    ]:
        assert step in seller_timeline, step
    assert seller_timeline.count(("confirmed", "青岛")) == 1  # not relayed back
    with qingdao.act():
        # What Jinan's messages changed here is logged as Jinan's doing, not an anonymous one.
        opened = AuditEvent.get(AuditEvent.action == "transfer.outgoing_opened")
        assert (opened.role, opened.actor) == ("peer", jinan.url)
    # Nothing left to deliver, and both audit logs verify.
    for side in (qingdao, jinan):
        # A message's effect shows on the other side before its sender hears the answer.
        wait_for(lambda side=side: pending_count(side) == 0, what="the outboxes to empty")
        assert side.flask("audit", "verify").returncode == 0


def test_the_origin_refusing_the_archive_stops_the_case(net):
    qingdao, jinan, sales = net
    t = sales[1]
    open_case(jinan, t, "INV-NET-2")
    t.out_id = wait_for(lambda: outgoing(qingdao, t)).id
    seller_confirms(qingdao, t)
    wait_for(lambda: case_state(jinan, t) == "awaiting_inspection")
    inspect(jinan, t)
    wait_for(lambda: outgoing(qingdao, t).state == "archive_requested")
    from blueprints.transfer import network_origin

    from .transfer_network import user

    with qingdao.act():
        network_origin.refuse_archive(t.out_id, user(t.q_clerk_id), "抵押未解除")
    wait_for(lambda: case_state(jinan, t) == "stopped", what="the refusal")
    with jinan.act():
        case = TransferCase.get_by_id(t.case_id)
        assert case.reasons == [{"code": "archive_refused", "text": "抵押未解除"}]
        assert case.open_vehicle_id is None
    with qingdao.act():
        assert Vehicle.get_by_id(t.car.id).status == "normal"  # still Qingdao's
        assert OutgoingTransfer.get_by_id(t.out_id).open_vehicle_id is None
    # Once the reason is gone, the sale can be made again: Jinan keeps a copy of the car from
    # the first case, and Qingdao is asked again (the copy's seller is a user there).
    from blueprints.transfer import service

    with jinan.act():
        vehicle, answer = service.vehicle_for_sale(t.car.vin, t.car.plate, t.seller_rid)
        assert vehicle is not None and not vehicle.registration_office.is_local
        assert answer is not None and answer["peer_url"] == qingdao.url
    open_case(jinan, t, "INV-NET-2B")
    wait_for(lambda: outgoing(qingdao, t) is not None, what="the second opening at Qingdao")


# --- Bad transfer messages ---------------------------------------------------------------


def envelope(sender, recipient, type_, body) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "type": type_,
        "from": sender.url,
        "to": recipient.url,
        "iat": int(time.time()),
        "body": body,
    }


def refused(sender, recipient, type_, body, reason, key=None):
    """Post a message signed by `sender` and assert its refusal changed nothing."""
    from core.network.envelope import peek

    with recipient.act():
        before = (
            ArchiveTransfer.select().where(ArchiveTransfer.status == "sent").count(),
            TransferCase.select().where(TransferCase.state == "registered").count(),
        )
    payload = envelope(sender, recipient, type_, body)
    status, text = post_envelope(recipient, sign(payload, key or sender.keys()[-1]))
    answer = peek(text)[1]
    assert (answer["type"], answer.get("reason")) == ("refusal", reason), (status, answer)
    with recipient.act():
        # The refused message is not stored (the inbox as a whole may grow meanwhile: the
        # workers deliver the other tests' messages).
        assert not InboxMessage.select().where(InboxMessage.message_id == payload["id"]).exists()
        after = (
            ArchiveTransfer.select().where(ArchiveTransfer.status == "sent").count(),
            TransferCase.select().where(TransferCase.state == "registered").count(),
        )
        # The message's own audit rows (not the newest row: the workers write too, and rows
        # get their numbers later, from the integrator).
        rows = AuditEvent.select().where(
            AuditEvent.object_type == "message", AuditEvent.object_id == payload["id"]
        )
        assert [(row.action, row.result) for row in rows] == [("network.refused", reason)]
    assert after == before


@pytest.fixture(scope="module")
def awaiting_archive(net):
    """A case at Jinan waiting for its archive (the origin's clerk has not sent it)."""
    qingdao, jinan, sales = net
    t = sales[2]
    open_case(jinan, t, "INV-NET-3")
    t.out_id = wait_for(lambda: outgoing(qingdao, t)).id
    seller_confirms(qingdao, t)
    wait_for(lambda: case_state(jinan, t) == "awaiting_inspection")
    inspect(jinan, t)
    wait_for(lambda: outgoing(qingdao, t).state == "archive_requested")
    return t


def signed_archive(qingdao, t, alter=None, key=None):
    """The archive Qingdao would send for the case, optionally altered after sealing."""
    from blueprints.transfer import archive as archive_doc
    from blueprints.transfer.network_origin import build_outgoing_archive
    from models import utcnow

    with qingdao.act():
        document = build_outgoing_archive(OutgoingTransfer.get_by_id(t.out_id), utcnow())
    _, sha = archive_doc.seal(document)
    if alter:
        alter(document)
    return sign(document, key or qingdao.keys()[-1]), sha


def test_a_tampered_archive_is_refused(net, awaiting_archive):
    qingdao, jinan, _ = net
    t = awaiting_archive

    def cleared(doc):
        doc["history"] = []  # someone rewrites the history after the checksum was taken

    token, sha = signed_archive(qingdao, t, alter=cleared)
    body = {"case_id": t.case_id, "archive": token, "sha256": sha, "reasons": []}
    refused(qingdao, jinan, "transfer.archive", body, "bad_archive")


def test_an_archive_signed_by_another_key_is_refused(net, awaiting_archive):
    from .test_network_inbox import new_key

    qingdao, jinan, _ = net
    token, sha = signed_archive(qingdao, awaiting_archive, key=new_key())
    body = {"case_id": awaiting_archive.case_id, "archive": token, "sha256": sha, "reasons": []}
    refused(qingdao, jinan, "transfer.archive", body, "bad_archive")


def test_an_archive_of_another_vehicle_is_refused(net, awaiting_archive):
    qingdao, jinan, _ = net

    def other_car(doc):
        doc["vehicle"]["vin"] = "LSVAB2BJ0GN000001"

    from blueprints.transfer import archive as archive_doc

    token, _ = signed_archive(qingdao, awaiting_archive, alter=other_car)
    from core.network.envelope import peek

    sha = archive_doc.seal(peek(token)[1])[1]  # checksum right, vehicle wrong
    body = {"case_id": awaiting_archive.case_id, "archive": token, "sha256": sha, "reasons": []}
    refused(qingdao, jinan, "transfer.archive", body, "bad_archive")


@pytest.mark.parametrize(
    "type_,body",
    [
        ("transfer.enquiry", {"vin": "not a vin", "plate": "鲁B12345", "seller_resident_id": "x"}),
        ("transfer.enquiry", {"vin": "LSVAB2BJ0GN000001", "plate": "鲁B1", "extra": 1}),
        ("transfer.opened", {"case_id": "seven"}),
        ("transfer.event", {"case_id": 1, "event": "registered"}),
        (
            "transfer.registered",
            {"case_id": 1, "event": {"kind": "stopped", "at": "x", "city": "济南"}},
        ),
    ],
)
def test_malformed_transfer_bodies_at_the_origin(net, type_, body):
    qingdao, jinan, _ = net
    refused(jinan, qingdao, type_, body, "malformed")


@pytest.mark.parametrize(
    "type_,body",
    [
        ("transfer.seller_confirmed", {"case_id": 99999, "reasons": []}),
        ("transfer.seller_confirmed", {"case_id": "3"}),
        ("transfer.archive", {"case_id": 1, "archive": 5, "sha256": None}),
        ("transfer.archive_refused", {"case_id": 1}),
        ("transfer.origin_stopped", {"case_id": 1, "reasons": "all of them"}),
        ("transfer.seller_declined", {"case_id": 1, "reasons": [], "withdraw": "yes"}),
    ],
)
def test_malformed_transfer_bodies_at_the_destination(net, awaiting_archive, type_, body):
    qingdao, jinan, _ = net
    if body.get("case_id") == 1 and type(body["case_id"]) is int:
        body = {**body, "case_id": awaiting_archive.case_id}
    refused(qingdao, jinan, type_, body, "malformed")


def test_an_event_before_its_case_is_asked_again_later(net):
    qingdao, jinan, _ = net
    event = {"kind": "inspected", "at": "2026-01-01T00:00:00", "city": "济南", "detail": {}}
    refused(jinan, qingdao, "transfer.event", {"case_id": 424242, "event": event}, "not_yet")


def test_the_archive_is_accepted_once(net, awaiting_archive):
    """Sent for real after the bad ones: accepted, and the same archive again is not."""
    qingdao, jinan, _ = net
    t = awaiting_archive
    send_archive(qingdao, t)
    wait_for(lambda: case_state(jinan, t) == "archive_received")
    token, sha = signed_archive(qingdao, t)
    payload = envelope(
        qingdao,
        jinan,
        "transfer.archive",
        {"case_id": t.case_id, "archive": token, "sha256": sha, "reasons": []},
    )
    status, text = post_envelope(jinan, sign(payload, qingdao.keys()[-1]))
    from core.network.envelope import peek

    answer = peek(text)[1]
    assert (status, answer["type"], answer["body"]["accepted"]) == (200, "ack", False)
    with jinan.act():
        archive = ArchiveTransfer.get(ArchiveTransfer.case == t.case_id)
        events = TransferCase.get_by_id(t.case_id).events()
        assert [e.kind for e in events].count("archive_received") == 1
        assert archive.status == "sent"
