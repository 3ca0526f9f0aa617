"""The origin tells its seller: on two real deployments (Qingdao the origin, Jinan the
destination), the seller registered at Qingdao finds in their inbox there, in their language,
each move of the case that lives at Jinan, linked to Qingdao's outgoing record."""

import datetime as dt
import json

from blueprints.transfer import network_origin, office_service, service
from core.network import outbox
from core.notices import render
from models import Notice, Office, OutboxMessage, OutgoingTransfer, User, Vehicle, utcnow
from models.vehicles import MORTGAGED
from rules.validators import display_plate

from .helpers import wait_for
from .transfer_network import (
    case_state,
    inspect,
    open_case,
    outgoing,
    register,
    seller_confirms,
    send_archive,
    user,
)

# The sales the module's tests make, on the two deployments of the `net` fixture (conftest).
SALES = 9


def seller_notices(qingdao, t) -> list[str]:
    """The kinds of the notices in the seller's inbox at Qingdao, oldest first."""
    with qingdao.act():
        rows = Notice.select().where(Notice.user == t.seller_id).order_by(Notice.id)
        return [n.kind for n in rows]


def has_notice(qingdao, t, kind: str):
    """A predicate: the seller at Qingdao has a notice of this kind."""
    return lambda: ("transfer.outgoing." + kind) in seller_notices(qingdao, t)


def opened(qingdao, jinan, t, invoice_no: str) -> None:
    """Jinan opens the case (the buyer confirms at once); Qingdao keeps its record."""
    open_case(jinan, t, invoice_no)
    t.out_id = wait_for(lambda: outgoing(qingdao, t), what="the opening at Qingdao").id


def timeline(qingdao, t) -> list[str]:
    """The kinds of the events on Qingdao's record of the case, oldest first."""
    with qingdao.act():
        return [e.kind for e in OutgoingTransfer.get_by_id(t.out_id).events()]


def to_the_archive_request(qingdao, jinan, t) -> None:
    """The seller confirms at Qingdao, Jinan inspects the car, Qingdao is asked for the archive
    (the sale is confirmed by both before the inspection, so the seller has been told)."""
    seller_confirms(qingdao, t)
    wait_for(lambda: case_state(jinan, t) == "awaiting_inspection", what="the confirmation")
    wait_for(has_notice(qingdao, t, "sale_confirmed"), what="both confirmed, at Qingdao")
    inspect(jinan, t)
    wait_for(lambda: outgoing(qingdao, t).state == "archive_requested", what="the request")


def test_the_seller_at_the_origin_is_told_each_step_in_their_language(net):
    qingdao, jinan, sales = net
    t = sales[0]
    with qingdao.act():
        User.update(locale="en").where(User.id == t.seller_id).execute()
    opened(qingdao, jinan, t, "INV-TELL-1")
    assert seller_notices(qingdao, t) == ["transfer.outgoing.confirm_sale"]
    with qingdao.act():
        notice = Notice.get(Notice.user == t.seller_id)
        words = render(notice)
        assert (
            words.title == f"Your sale of {display_plate(t.car.plate)} waits for your confirmation"
        )
        assert "registering it in Jinan" in words.what  # the destination's own English name
        assert words.url.endswith(f"/transfer/outgoing/{t.out_id}")
        assert "济南" in render(notice, locale="zh").what
    to_the_archive_request(qingdao, jinan, t)
    assert "transfer.outgoing.sale_confirmed" in seller_notices(qingdao, t)
    send_archive(qingdao, t)
    wait_for(lambda: case_state(jinan, t) == "archive_received", what="the archive")
    with jinan.act():  # the buyer at Jinan is told the archive is there, as in one city
        arrived = Notice.get(Notice.user == t.buyer_id, Notice.kind == "transfer.archive_arrived")
        assert "青岛" in render(arrived).what
    register(jinan, t)
    wait_for(lambda: outgoing(qingdao, t).state == "transferred_out", what="the notice")
    assert seller_notices(qingdao, t) == [
        "transfer.outgoing." + k for k in ("confirm_sale", "sale_confirmed", "archive_sent", "sold")
    ]
    with qingdao.act():
        sent, sold = Notice.select().where(Notice.user == t.seller_id).order_by(Notice.id)[2:]
        assert "stays registered to you here" in render(sent).what
        assert render(sold).what.startswith("The vehicle is registered to its buyer in Jinan")


def test_a_failed_inspection_and_its_stop_reach_the_seller(net):
    qingdao, jinan, sales = net
    t = sales[1]
    opened(qingdao, jinan, t, "INV-TELL-2")
    seller_confirms(qingdao, t)
    wait_for(lambda: case_state(jinan, t) == "awaiting_inspection", what="the confirmation")
    with jinan.act():
        office_service.inspect(
            t.case_id,
            user(t.j_clerk_id),
            vin_read=t.car.vin,
            plate_read=t.car.plate,
            passed=False,
            remarks="制动失灵",
        )
    wait_for(has_notice(qingdao, t, "inspection_failed_seller"), what="the failed inspection")
    with qingdao.act():
        failed = Notice.get(Notice.kind == "transfer.outgoing.inspection_failed_seller")
        words = render(failed)  # Chinese, the seller's default
        assert "制动失灵" in words.what and "济南市车管所" in words.what
    with jinan.act():
        office_service.stop_after_failed_inspection(t.case_id, user(t.j_clerk_id))
    wait_for(has_notice(qingdao, t, "stopped"), what="the stop")
    assert not outgoing(qingdao, t).is_open
    with qingdao.act():
        stopped = Notice.get(
            (Notice.user == t.seller_id) & (Notice.kind == "transfer.outgoing.stopped")
        )
        assert "制动失灵" in render(stopped).what


def test_the_buyer_declining_at_the_destination_reaches_the_seller(net):
    qingdao, jinan, sales = net
    t = sales[2]
    opened(qingdao, jinan, t, "INV-TELL-3")  # the buyer confirmed; the seller has not yet
    with jinan.act():
        service.decline(t.case_id, "buyer", user(t.buyer_id))
    # The buyer had confirmed: a withdrawal, not a refusal, in the seller's words too.
    wait_for(has_notice(qingdao, t, "withdrew"), what="the withdrawal")
    with qingdao.act():
        withdrew = Notice.get(
            (Notice.user == t.seller_id) & (Notice.kind == "transfer.outgoing.withdrew")
        )
        assert "买方在确认后退出" in render(withdrew).what
    assert seller_notices(qingdao, t)[0] == "transfer.outgoing.confirm_sale"


def test_a_seller_who_confirmed_withdraws_and_both_cities_close_the_case(net):
    """The seller confirms at Qingdao, then withdraws before the buyer confirms at Jinan: Jinan
    cancels the case and tells its buyer; its "declined" closes Qingdao's record, and the
    seller is told their withdrawal took effect."""
    qingdao, jinan, sales = net
    t = sales[6]
    open_case(jinan, t, "INV-TELL-7", buyer_confirms=False)
    t.out_id = wait_for(lambda: outgoing(qingdao, t), what="the opening at Qingdao").id
    seller_confirms(qingdao, t)
    wait_for(lambda: "confirmed" in jinan_events(jinan, t), what="the confirmation at Jinan")
    with qingdao.act():
        network_origin.seller_withdraw(t.out_id, user(t.seller_id))
    wait_for(lambda: case_state(jinan, t) == "cancelled", what="the withdrawal at Jinan")
    wait_for(lambda: not outgoing(qingdao, t).is_open, what="Jinan's answer at Qingdao")
    wait_for(has_notice(qingdao, t, "withdrawn"), what="the seller told")
    assert timeline(qingdao, t)[-2:] == ["withdraw_asked", "declined"]
    with jinan.act():
        told = Notice.select().where(Notice.user == t.buyer_id)
        assert "transfer.withdrew" in [n.kind for n in told]
    with qingdao.act():
        withdrawn = Notice.get(
            (Notice.user == t.seller_id) & (Notice.kind == "transfer.outgoing.withdrawn")
        )
        assert "济南" in render(withdrawn).what


def test_a_withdrawal_that_overtakes_the_confirmation_still_closes_both_sides(net):
    """The outbox keeps no order between a peer's messages: the seller's confirmation, held
    back by a failed attempt, reaches Jinan after the withdrawal. Jinan cancels the case all
    the same and sends the cancellation back (the withdrawal says it is one), so Qingdao's
    record closes; the late confirmation changes nothing."""
    from core.network.envelope import peek, sign

    from .deployments import post_envelope
    from .test_transfer_network import envelope

    qingdao, jinan, sales = net
    t = sales[7]
    open_case(jinan, t, "INV-TELL-8", buyer_confirms=False)
    t.out_id = wait_for(lambda: outgoing(qingdao, t), what="the opening at Qingdao").id

    def from_qingdao(type_, body) -> dict:
        payload = envelope(qingdao, jinan, type_, body)
        status, text = post_envelope(jinan, sign(payload, qingdao.keys()[-1]))
        assert status == 200
        return peek(text)[1]["body"]

    withdrawal = {"case_id": t.case_id, "reasons": [], "withdraw": True}
    assert from_qingdao("transfer.seller_declined", withdrawal) == {"accepted": True}
    assert case_state(jinan, t) == "cancelled"
    wait_for(lambda: not outgoing(qingdao, t).is_open, what="the cancellation sent back")
    wait_for(has_notice(qingdao, t, "withdrawn"), what="the seller told")
    late = from_qingdao("transfer.seller_confirmed", {"case_id": t.case_id, "reasons": []})
    assert late["accepted"] is False and case_state(jinan, t) == "cancelled"


def test_a_withdrawal_before_the_confirmation_it_takes_back_waits_for_it(net):
    """The buyer confirmed; the seller's withdrawal reaches Jinan before the confirmation it
    takes back: it is refused not_yet (delivered again later), so the confirmation is taken
    first and the buyer, who confirmed before, keeps the sale, as the seller was told."""
    from core.network.envelope import peek, sign

    from .deployments import post_envelope
    from .test_transfer_network import envelope

    qingdao, jinan, sales = net
    t = sales[8]
    opened(qingdao, jinan, t, "INV-TELL-9")  # the buyer confirmed at once

    def from_qingdao(type_, body) -> dict:
        payload = envelope(qingdao, jinan, type_, body)
        _, text = post_envelope(jinan, sign(payload, qingdao.keys()[-1]))
        return peek(text)[1]

    withdrawal = {"case_id": t.case_id, "reasons": [], "withdraw": True}
    early = from_qingdao("transfer.seller_declined", withdrawal)
    assert (early["type"], early["reason"]) == ("refusal", "not_yet")
    assert case_state(jinan, t) == "awaiting_confirmation"
    confirmed = from_qingdao("transfer.seller_confirmed", {"case_id": t.case_id, "reasons": []})
    assert confirmed["body"] == {"accepted": True}
    assert case_state(jinan, t) == "awaiting_inspection"
    late = from_qingdao("transfer.seller_declined", withdrawal)
    assert late["body"]["accepted"] is False and case_state(jinan, t) == "awaiting_inspection"


def jinan_events(jinan, t) -> list[str]:
    """The kinds of the events of the case at Jinan, oldest first."""
    from models import TransferCase

    with jinan.act():
        return [e.kind for e in TransferCase.get_by_id(t.case_id).events()]


def test_the_origin_refusing_the_archive_tells_its_seller(net):
    qingdao, jinan, sales = net
    t = sales[3]
    opened(qingdao, jinan, t, "INV-TELL-4")
    to_the_archive_request(qingdao, jinan, t)
    with qingdao.act():
        network_origin.refuse_archive(t.out_id, user(t.q_clerk_id), "抵押未解除")
        # Told in the refusal's own transaction, before any message leaves.
        stopped = Notice.get(
            (Notice.user == t.seller_id) & (Notice.kind == "transfer.outgoing.stopped")
        )
        assert "抵押未解除" in render(stopped).what
        # Questions go to the office that refused, here, not to the buyer's city's.
        here = Office.get(Office.code == "370200").name
        assert here in render(stopped).next_step
    wait_for(lambda: case_state(jinan, t) == "stopped", what="the refusal at Jinan")
    # The destination's stop was caused by the origin, so it is not relayed back: told once.
    assert seller_notices(qingdao, t).count("transfer.outgoing.stopped") == 1


def test_a_case_stopped_as_it_opens_does_not_ask_the_seller(net):
    """The checks fail in Jinan's opening step (the car is mortgaged at Qingdao, as Qingdao
    answered the enquiry): the seller is told that the case stopped and why, and is never
    asked to confirm a sale that cannot go on."""
    qingdao, jinan, sales = net
    t = sales[4]
    with qingdao.act():
        Vehicle.update(status=MORTGAGED).where(Vehicle.id == t.car.id).execute()
    assert open_case(jinan, t, "INV-TELL-5", buyer_confirms=False).state == "stopped"
    t.out_id = wait_for(lambda: outgoing(qingdao, t), what="the opening at Qingdao").id
    assert not outgoing(qingdao, t).is_open  # closed from the start: nothing to confirm
    wait_for(lambda: "stopped" in timeline(qingdao, t), what="the relayed stop at Qingdao")
    assert timeline(qingdao, t) == ["opened", "stopped"]
    assert seller_notices(qingdao, t) == ["transfer.outgoing.stopped"]  # told once
    with qingdao.act():
        stopped = Notice.get(Notice.user == t.seller_id)
        words = render(stopped)  # Chinese, the seller's default
        assert "该车已抵押" in words.what
        assert words.url.endswith(f"/transfer/outgoing/{t.out_id}")


def jinan_messages(jinan, t) -> dict[str, OutboxMessage]:
    """Jinan's outbox messages about the case, by type."""
    with jinan.act():
        return {
            m.type: m
            for m in OutboxMessage.select().order_by(OutboxMessage.id)
            if json.loads(m.body).get("case_id") == t.case_id
        }


def test_the_stop_arriving_before_the_opening_changes_nothing_for_the_seller(net):
    """Delivery is not ordered: the stop's relayed event reaches Qingdao first (refused
    not_yet), the opening after it; the seller is still told once, of the stop."""
    qingdao, jinan, sales = net
    t = sales[5]
    with qingdao.act():
        Vehicle.update(status=MORTGAGED).where(Vehicle.id == t.car.id).execute()
    jinan.stop_worker()
    try:
        open_case(jinan, t, "INV-TELL-6", buyer_confirms=False)
        opening = jinan_messages(jinan, t)["transfer.opened"]
        with jinan.act():  # the opening held back an hour, as if its first tries had failed
            OutboxMessage.update(next_attempt_at=utcnow() + dt.timedelta(hours=1)).where(
                OutboxMessage.id == opening.id
            ).execute()
    finally:
        jinan.start_worker()
    wait_for(
        lambda: jinan_messages(jinan, t)["transfer.event"].reason == "not_yet",
        what="the stop refused at Qingdao for now",
    )
    assert outgoing(qingdao, t) is None
    with jinan.act():
        outbox.retry_now(qingdao.url)  # both due now: the opening, and the stop again
    t.out_id = wait_for(lambda: outgoing(qingdao, t), what="the opening at Qingdao").id
    wait_for(lambda: "stopped" in timeline(qingdao, t), what="the relayed stop at Qingdao")
    assert timeline(qingdao, t) == ["opened", "stopped"]
    assert not outgoing(qingdao, t).is_open
    assert seller_notices(qingdao, t) == ["transfer.outgoing.stopped"]
