"""Notices (core.notices): written with the change that causes them, shown in the inbox in the
reader's language, delivered by SMS (dev gateway) and by e-mail through a real SMTP server."""

import datetime as dt

import pytest

from blueprints.evidence import service as evidence
from blueprints.evidence.service import CaseAccess
from core.network.outbox import deliver_due
from core.notices import notify, render
from core.sms import DevGateway
from models import (
    ACCIDENT_OFFICER,
    OUTBOX_DELIVERED,
    OUTBOX_PENDING,
    OUTBOX_REFUSED,
    Notice,
    Office,
    OutboxMessage,
    User,
    db,
    write_tx,
)
from models.transfer import REGISTERED
from rules.validators import display_plate

from .helpers import field_error, page
from .smtp import SmtpServer
from .test_truckpass import (
    clock,  # noqa: F401  (the truck tests' clock fixture)
    created_pass,
    steps,
)


@pytest.fixture
def smtp(app):
    """A real SMTP server the app sends to."""
    server = SmtpServer()
    app.config.update(server.settings())
    yield server
    server.stop()


def deliver(app) -> int:
    """Run the worker's rounds until nothing is due (as `flask network worker` would)."""
    total = 0
    with app.app_context(), db.connection_context():
        while n := deliver_due():
            total += n
    return total


def kinds(user) -> list[str]:
    """The kinds of a user's notices, oldest first."""
    with db.connection_context():
        return [n.kind for n in Notice.of(user.id)][::-1]


def sms_to(app, mobile) -> list[dict]:
    """The dev gateway's messages to one number, oldest first."""
    messages = DevGateway(app.config["SMS_DEV_FILE"]).messages(keep=None)
    return [m for m in messages if m["mobile"] == mobile][::-1]


def choose(user, sms=False, email=None, locale=None):
    """Set a person's notice preferences directly."""
    with db.connection_context():
        User.update(notice_sms=sms, notice_email=bool(email), email=email, locale=locale).where(
            User.id == user.id
        ).execute()


def add_driver(access, citizen):
    """The citizen added by the access's officer as a driver in its case."""
    evidence.add_party(
        access,
        name=citizen.real_name,
        resident_id=citizen.resident_id,
        mobile=citizen.mobile,
        role="driver",
    )


def test_a_whole_transfer_tells_seller_and_buyer_each_step(app, make, smtp):
    w = make.transfer_world()
    choose(w.seller, sms=True)
    choose(w.buyer, email="buyer@example.test")
    case = make.transfer_case(w, until=REGISTERED)
    assert kinds(w.seller) == [
        "transfer.confirm_sale",
        "transfer.sale_confirmed",
        "transfer.archive_sent",
        "transfer.sold",
    ]
    assert kinds(w.buyer) == [
        "transfer.confirm_purchase",
        "transfer.bring_for_inspection",
        "transfer.archive_arrived",
        "transfer.registered",
    ]
    assert deliver(app) == 8
    with app.app_context(), db.connection_context():
        assert {m.status for m in OutboxMessage.select()} == {OUTBOX_DELIVERED}
        emails = OutboxMessage.select().where(OutboxMessage.channel == "email")
        outbox_ids = {m.message_id for m in emails}
    mails = smtp.mailbox.to("buyer@example.test")
    assert len(mails) == 4 and len(smtp.mailbox.raw) == 4
    # Each e-mail carries its outbox message id as Message-ID (the same on every attempt).
    assert {m["Message-ID"].strip("<>").split("@")[0] for m in mails} == outbox_ids
    # In Chinese (the buyer chose no language): where to bring the car, and the new plate.
    inspection = mails[1].get_content()
    assert "查验" in mails[1]["Subject"] and "青岛车管所" in inspection
    with app.app_context(), db.connection_context():
        street = Office.get_by_id(w.dest.id).address
    assert street and street in inspection  # the office's street address, not just its city
    assert f"/transfer/cases/{case.id}" in inspection and "https://jg.example.test" in inspection
    assert display_plate(case.new_plate) in mails[3]["Subject"]  # 鲁B·12345, as pages write it
    assert case.new_certificate_no in mails[3].get_content()
    texts = [m["text"] for m in sms_to(app, w.seller.mobile)]
    assert len(texts) == 4 and "确认" in texts[0] and case.number in texts[0]


def test_a_stopped_case_says_why_to_both_parties(app, make):
    w = make.transfer_world()
    with db.connection_context():
        vehicle = w.vehicle
    make.violation(vehicle)
    make.transfer_case(w)
    for user in (w.seller, w.buyer):
        assert kinds(user) == ["transfer.stopped"]
        with app.test_request_context(), db.connection_context():
            text = render(Notice.of(user.id).get())
        assert "违法" in text.what and text.url.endswith("/transfer/cases/1")


def test_an_unproven_seller_is_not_told(app, make):
    w = make.transfer_world()
    with db.connection_context():
        seller = make.citizen(proven=False)
        vehicle = make.vehicle(w.origin, seller)
    make.transfer_case(w, vehicle=vehicle)
    assert kinds(seller) == []
    assert kinds(w.buyer) == ["transfer.confirm_purchase"]


@pytest.mark.usefixtures("clock")
def test_a_truck_pass_with_review_tells_the_applicant_each_decision(app, client, make, login, smtp):
    owner, other = make.citizen(), make.citizen()
    choose(owner, email="driver@example.test", locale="en")
    truck, zone = make.truck(other), make.zone()
    login(owner)
    assert steps(client, truck.plate, zone).status_code == 303
    truck_pass = created_pass()
    client.post("/logout", data={})
    login(make.staff("truckpass_clerk"))
    url = f"/trucks/review/{truck_pass.id}"
    approve = {"action": "approve", "reason": "已核实租赁合同"}
    assert client.post(url, data=approve).status_code == 303
    revoke = {"action": "revoke", "reason": "违规通行", "confirmed": "yes"}
    assert client.post(url, data=revoke).status_code == 303
    assert kinds(owner) == ["truckpass.queued", "truckpass.approved", "truckpass.revoked"]
    assert deliver(app) == 3
    # In the applicant's language (English), with the reason the clerk gave.
    subjects = [m["Subject"] for m in smtp.mailbox.to("driver@example.test")]
    assert subjects == [
        f"Truck pass for {display_plate(truck.plate)}: a clerk reviews it",
        f"Truck pass for {display_plate(truck.plate)} issued",
        f"Truck pass for {display_plate(truck.plate)} revoked",
    ]
    bodies = [m.get_content() for m in smtp.mailbox.to("driver@example.test")]
    assert "the applicant is not the registered owner" in bodies[0]
    assert "November 30, 2026" in bodies[1] and "违规通行" in bodies[2]


def test_an_evidence_case_tells_its_proven_parties(app, make, smtp):
    officer = make.staff(ACCIDENT_OFFICER, office=make.office(kind="police_brigade"))
    case = make.accident_case(
        officer,
        status="determination_delivered",
        determination_delivered_on=dt.date(2026, 11, 30),
    )
    proven, unproven = make.citizen(), make.citizen(proven=False)
    choose(proven, sms=True, email="party@example.test")
    make.evidence(case, title="现场图")
    make.evidence(case, title="证人证言", released=False, withhold_reason="witness")
    with app.test_request_context(), db.connection_context():
        access = CaseAccess(case, None, officer)
        for citizen in (proven, unproven):
            add_driver(access, citizen)
        evidence.move_case(access, "open_for_review")
        late = make.evidence(case, title="鉴定意见")
        evidence.set_release(late, False, "privacy", "", officer)
    assert kinds(unproven) == []
    # Added once the determination was delivered (on a fixed day: whether the review period
    # still runs depends on today), told so.
    added, *rest = kinds(proven)
    assert added.startswith("evidence.party_added_delivered")
    assert rest == ["evidence.open_for_review", "evidence.withheld"]
    assert deliver(app) == 6
    mails = smtp.mailbox.to("party@example.test")
    opened = mails[1].get_content()
    # What they can see, and by when a review (复核) of the determination may be asked for.
    assert "1" in opened and "2026年12月3日" in opened and "复核" in opened
    assert "鉴定意见" in mails[2].get_content() and "他人隐私" in mails[2].get_content()
    assert len(sms_to(app, proven.mobile)) == 3


def test_a_notice_rolls_back_with_its_cause(app, make):
    user = make.citizen()
    choose(user, sms=True)
    with app.app_context(), db.connection_context():
        with pytest.raises(RuntimeError, match="write transaction"):
            notify(user, "identity.proven", method="sms", resident_id="x")
        with pytest.raises(ZeroDivisionError), write_tx():
            notify(user, "identity.proven", method="sms", resident_id="x")
            1 / 0  # noqa: B018
        assert Notice.select().count() == 0 and OutboxMessage.select().count() == 0


def test_a_number_is_sent_a_few_notices_an_hour_the_inbox_keeps_them_all(app, make, monkeypatch):
    """Anyone can register with someone else's number and make notices happen: past a few an
    hour (and a day) a number gets no more, and the account's inbox still holds every one."""
    from core import notices

    monkeypatch.setattr(notices, "DELIVERIES_PER_HOUR", 2)
    user = make.citizen()
    choose(user, sms=True)
    with app.app_context(), db.connection_context():
        for _ in range(4):
            with write_tx():
                notify(user, "identity.proven", method="sms", resident_id="x")
        sms = OutboxMessage.select().where(OutboxMessage.recipient == user.mobile)
        assert sms.count() == 2 and Notice.select().count() == 4
        earlier = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=2)
        OutboxMessage.update(created_at=earlier).execute()
        with write_tx():
            notify(user, "identity.proven", method="sms", resident_id="x")
        assert sms.count() == 3
        # A security notice is texted whatever the number's budget: one who took the account
        # over could otherwise spend the budget first (only the holder can cause one).
        for _ in range(3):
            with write_tx():
                notify(user, "account.password_changed")
        assert sms.count() == 6


def test_inbox_counts_unread_marks_read_and_hides_others(app, client, make, login):
    user, other = make.citizen(), make.citizen()
    with app.app_context(), db.connection_context(), write_tx():
        for _ in range(2):
            notify(user, "identity.proven", method="counter", resident_id="3702**********1234")
        foreign = notify(other, "identity.proven", method="sms", resident_id="x")
    login(user)
    soup = page(client.get("/notices/"))
    assert soup.select_one("#nav-notices .badge").get_text() == "2"
    items = soup.select("li.notice.unread")
    assert len(items) == 2 and "身份已核验" in items[0].get_text()
    assert "营业厅" in items[0].get_text()  # the method, in the reader's words
    first = items[0]["id"].removeprefix("notice-")
    assert client.post(f"/notices/{first}/read", data={}).status_code == 303
    soup = page(client.get("/notices/"))
    assert soup.select_one("#nav-notices .badge").get_text() == "1"
    assert client.post(f"/notices/{foreign.id}/read", data={}).status_code == 404
    client.post("/notices/read-all", data={})
    soup = page(client.get("/notices/"))
    assert soup.select_one("#nav-notices .badge") is None and not soup.select("li.notice.unread")
    # The page's language is the reader's: the same notices in English.
    client.post("/lang", data={"lang": "en"})
    assert "Your identity is proven" in client.get("/notices/").get_data(as_text=True)


def test_preferences_on_the_account_page(app, client, make, login, smtp):
    user = make.citizen()
    login(user)
    soup = page(client.get("/account"))
    assert soup.select_one("#notice-preferences-form")
    response = client.post("/notices/preferences", data={"email": "nope", "notice_email": "y"})
    assert response.status_code == 303
    assert "例如" in page(client.get("/account")).get_text()
    client.post(
        "/notices/preferences",
        data={"email": "me@example.test", "notice_email": "y", "notice_sms": "y"},
    )
    with db.connection_context():
        saved = User.get_by_id(user.id)
    assert (saved.email, saved.notice_email, saved.notice_sms) == ("me@example.test", True, True)
    assert field_error(page(client.get("/account")), "email") == ""


def test_email_is_not_offered_without_an_smtp_server(app, client, make, login, conn):
    """Neither the choice nor the address is asked for (an address kept from before stays);
    the SMS tick box comes before its label."""
    user = make.citizen()
    choose(user, email="kept@example.test")
    login(user)
    soup = page(client.get("/account"))
    assert soup.select_one("#notice_email") is None and soup.select_one("#email") is None
    tick = soup.select_one("#notice_sms")
    assert tick.find_next_sibling("label")["for"] == "notice_sms"
    assert client.post("/notices/preferences", data={"notice_sms": "y"}).status_code == 303
    with conn():
        saved = User.get_by_id(user.id)
    assert saved.notice_sms and saved.email == "kept@example.test"


def test_a_refused_address_is_final_and_a_server_down_is_retried(app, make, smtp):
    refused, later = make.citizen(), make.citizen()
    choose(refused, email="gone@example.test")
    choose(later, email="later@example.test")
    smtp.mailbox.refuse.add("gone@example.test")
    with app.app_context(), db.connection_context(), write_tx():
        notify(refused, "identity.proven", method="sms", resident_id="x")
    deliver(app)
    with db.connection_context():
        assert OutboxMessage.get().status == OUTBOX_REFUSED
    smtp.stop()
    with app.app_context(), db.connection_context(), write_tx():
        notify(later, "identity.proven", method="sms", resident_id="x")
    deliver(app)
    with db.connection_context():
        waiting = OutboxMessage.get(OutboxMessage.recipient == "later@example.test")
    assert waiting.status == OUTBOX_PENDING and waiting.attempts == 1
    assert "Connection" in waiting.last_error or "Errno" in waiting.last_error


def test_a_licence_issued_suspended_and_restored_tells_its_proven_holder(app, make, smtp):
    from blueprints.licence.service import apply_for_elicence, set_record_status

    holder, stranger = make.citizen(), make.citizen(proven=False)
    choose(holder, email="holder@example.test")
    record = make.licence_record(holder)
    unproven_record = make.licence_record(stranger)
    clerk = make.staff("licence_clerk")
    with app.test_request_context(), db.connection_context():
        apply_for_elicence(User.get_by_id(holder.id))
        set_record_status(record, "suspended", "酒后驾驶，暂扣六个月", clerk)
        set_record_status(record, "valid", "暂扣期满", clerk)
        set_record_status(unproven_record, "suspended", "酒后驾驶", clerk)
    assert kinds(holder) == ["licence.issued", "licence.restricted", "licence.restored"]
    assert kinds(stranger) == []
    deliver(app)
    suspended = smtp.mailbox.to("holder@example.test")[1]
    assert "暂扣" in suspended["Subject"] and "酒后驾驶，暂扣六个月" in suspended.get_content()
    assert "不能用于驾驶" in suspended.get_content()


def test_proving_identity_at_the_counter_is_told(app, make):
    from core.identity import activate_at_counter

    citizen, clerk = make.citizen(proven=False), make.staff("licence_clerk")
    witness = make.staff("vehicle_clerk")
    with app.test_request_context(), db.connection_context():
        second = User.get_by_id(witness.id)
        activate_at_counter(User.get_by_id(clerk.id), User.get_by_id(citizen.id), lambda: second)
        text = render(Notice.of(citizen.id).get())
    assert text.title == "身份已核验" and "营业厅" in text.what
    assert citizen.resident_id not in text.what and citizen.resident_id[-4:] in text.what


def test_a_notice_is_read_once_its_person_opens_its_page(app, make, login, client):
    w = make.transfer_world()
    case = make.transfer_case(w, until=REGISTERED)
    with db.connection_context():
        # A notice of the same kind about another case stays unread.
        params = Notice.get(Notice.user == w.buyer.id, Notice.kind == "transfer.registered")
        with write_tx():
            elsewhere = notify(
                w.buyer, "transfer.registered", **{**params.params_dict, "case_id": case.id + 1}
            )
        # Four: the one asking to confirm was settled when the buyer confirmed.
        assert Notice.unread_count(w.buyer.id) == 4
    login(w.buyer)
    # A panel refreshing itself (htmx) is not the person looking: nothing is marked.
    client.get(f"/transfer/cases/{case.id}", headers={"HX-Request": "true"})
    with db.connection_context():
        assert Notice.unread_count(w.buyer.id) == 4
    page(client.get(f"/transfer/cases/{case.id}"))
    with db.connection_context():
        assert Notice.unread_count(w.buyer.id) == 1
        assert Notice.get_by_id(elsewhere.id).read_at is None
        assert Notice.unread_count(w.seller.id) == 3  # the seller has not looked
    # The inbox and other pages mark nothing read.
    page(client.get("/notices/"))
    page(client.get("/transfer/"))
    with db.connection_context():
        assert Notice.unread_count(w.buyer.id) == 1


def delivered_with_a_party(app, make, procedure: str, delivered: dt.date):
    """A case of `procedure` with one proven party, its determination recorded as delivered
    on `delivered` by its officer; (case, party)."""
    officer = make.staff(ACCIDENT_OFFICER, office=make.office(kind="police_brigade"))
    case = make.accident_case(officer, status="evidence_gathered", procedure=procedure)
    party = make.citizen()
    with app.test_request_context(), db.connection_context():
        access = CaseAccess(case, None, officer)
        add_driver(access, party)
        evidence.move_case(access, "determination_delivered", delivered_on=delivered)
    return case, party


def test_the_parties_are_told_when_the_determination_is_delivered(app, make):
    app.config["EVIDENCE_REVIEW_DAYS"] = 5  # the deployment's own period, not the usual 3
    delivered = dt.date.today() - dt.timedelta(days=1)
    case, party = delivered_with_a_party(app, make, "general", delivered)
    with app.test_request_context(), db.connection_context():
        told = Notice.get(
            Notice.user == party.id, Notice.kind == "evidence.determination_delivered"
        )
        words = render(told)
    review_by = delivered + dt.timedelta(days=5)
    assert "复核" in words.next_step and case.case_no in words.title
    assert f"{review_by.year}年{review_by.month}月{review_by.day}日" in words.next_step


def test_a_simple_procedure_delivery_invites_no_review(app, make):
    _case, party = delivered_with_a_party(app, make, "simple", dt.date.today())
    assert kinds(party) == ["evidence.party_added_simple"]


def test_a_passed_inspection_after_a_failed_one_is_told_to_the_buyer(app, make):
    """After "failed, bring it back", the buyer hears that the vehicle passed (a first
    inspection that passes needs no word: the buyer is at the counter)."""
    from blueprints.transfer import office_service
    from models.transfer import AWAITING_INSPECTION

    w = make.transfer_world()
    case = make.transfer_case(w, until=AWAITING_INSPECTION)
    read = {"vin_read": w.vehicle.vin, "plate_read": w.vehicle.plate}
    with app.test_request_context(), db.connection_context():
        office_service.inspect(case.id, w.clerk, passed=False, remarks="尾灯不亮", **read)
        office_service.reinspect(case.id, w.clerk)
        office_service.inspect(case.id, w.clerk, passed=True, **read)
    assert kinds(w.buyer)[-2:] == ["transfer.inspection_failed", "transfer.inspection_passed"]
    with app.test_request_context(), db.connection_context():
        passed = Notice.get(Notice.user == w.buyer.id, Notice.kind == "transfer.inspection_passed")
        assert "已通过" in render(passed).title
