"""A citizen's new mobile number: the current password, a code sent to the new number, the
old number told; wrong passwords and codes refused at their fields and throttled, a number
another account uses refused, and nothing changed until the code comes back."""

import re
from urllib.parse import parse_qs, urlsplit

from core import notices
from models import AuditEvent, Notice, User

from .factories import Factory
from .helpers import field_error, page

NEW_MOBILE = "13955550123"
PASSWORD = Factory.PASSWORD
NEW_PASSWORD = "Harbour-Lantern-77"


def texts_to(sms_box, mobile: str) -> list[str]:
    return [m["text"] for m in sms_box.messages(keep=None) if m["mobile"] == mobile]


def find_at_counter(client, resident_id: str) -> str:
    """The counter's first step: the ID card's number finds the account; its ticket."""
    found = client.post("/staff/identity/mobile", data={"resident_id": resident_id})
    assert found.status_code == 303, found.get_data(as_text=True)[:300]
    return parse_qs(urlsplit(found.location).query)["found"][0]


def send_at_counter(client, found: str, **fields):
    """The counter's second step: the card seen, the new number, what `fields` add."""
    data = {"found": found, "mobile": NEW_MOBILE, "seen_card": "y", **fields}
    return client.post("/staff/identity/mobile/send", data=data)


def ask(client, mobile=NEW_MOBILE, password=PASSWORD):
    data = {"mobile": mobile, "password": password}
    return client.post("/account/mobile", data=data)


def test_a_citizen_moves_the_account_to_a_new_number_and_the_old_one_is_told(
    app, client, make, login, conn, sms_box
):
    citizen = make.citizen()
    old = citizen.mobile
    login(citizen)
    assert page(client.get("/account")).find(id="change-mobile")["href"] == "/account/mobile"
    asked = ask(client)
    assert asked.status_code == 303 and asked.location.endswith("/account/mobile/confirm")
    code = re.search(r"\d{6}", texts_to(sms_box, NEW_MOBILE)[0]).group(0)
    waiting = page(client.get("/account/mobile/confirm"))
    assert "139****0123" in waiting.find(id="code-sent").get_text()
    with conn():
        assert User.get_by_id(citizen.id).mobile == old  # nothing changed before the code
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    assert field_error(
        page(client.post("/account/mobile/confirm", data={"code": wrong}), 422), "code"
    )
    done = client.post("/account/mobile/confirm", data={"code": code})
    assert done.status_code == 303 and done.location.endswith("/account")
    with conn():
        assert User.get_by_id(citizen.id).mobile == NEW_MOBILE
        # A proven account moved to the number: it is tied to the person.
        assert User.get_by_id(citizen.id).mobile_tied_at is not None
        notice = Notice.get(Notice.user == citizen.id, Notice.kind == "account.mobile_changed")
        assert "139****0123" in notice.params
        changed = AuditEvent.get(
            (AuditEvent.action == "account.mobile_changed") & (AuditEvent.result == "ok")
        )
        assert changed.actor_id == citizen.id and NEW_MOBILE not in changed.detail
    assert "139****0123" in texts_to(sms_box, old)[0]  # the old number is told
    # The code was good once; the new number logs in, the old one no longer does.
    again = client.post("/account/mobile/confirm", data={"code": code})
    assert again.location.endswith("/account/mobile")
    client.post("/logout", data={})
    assert client.post("/login", data={"account": old, "password": PASSWORD}).status_code == 422
    assert (
        client.post("/login", data={"account": NEW_MOBILE, "password": PASSWORD}).status_code == 303
    )


def test_the_wrong_password_or_a_taken_number_is_refused_at_its_field(
    client, make, login, conn, sms_box
):
    citizen, other = make.citizen(), make.citizen()
    login(citizen)
    assert field_error(page(ask(client, password="not-my-password"), 422), "password")
    assert field_error(page(ask(client, mobile=other.mobile), 422), "mobile")
    assert field_error(page(ask(client, mobile=citizen.mobile), 422), "mobile")
    assert field_error(page(ask(client, mobile="12345"), 422), "mobile")
    assert sms_box.messages(keep=None) == []
    # Without a code waiting, the confirmation page sends back to the first step.
    assert client.get("/account/mobile/confirm").location.endswith("/account/mobile")


def test_wrong_passwords_and_wrong_codes_lock_their_step(client, make, login, conn, sms_box):
    citizen = make.citizen()
    login(citizen)
    for _ in range(5):
        ask(client, password="not-my-password")
    locked = page(ask(client), 422)  # the right password, but locked now
    words = field_error(locked, "password")
    assert "密码错误次数过多" in words and "请在北京时间" in words
    assert sms_box.messages(keep=None) == []


def test_a_number_gets_a_few_codes_an_hour_whoever_asks(app, make, sms_box):
    """Anyone may register accounts and ask each to move to someone else's number: the codes
    sent to one new number are counted over every account (and every address of an IPv6 /64
    counts as one), so its owner is not flooded."""
    from blueprints.auth.mobile import SENDS_PER_NUMBER

    for n in range(SENDS_PER_NUMBER + 2):
        client = app.test_client()
        make.login(client, make.citizen())
        address = {"REMOTE_ADDR": f"2001:db8:1:2::{n + 1}"}
        data = {"mobile": NEW_MOBILE, "password": PASSWORD}
        client.post("/account/mobile", data=data, environ_base=address)
    assert len(texts_to(sms_box, NEW_MOBILE)) == SENDS_PER_NUMBER


def test_staff_and_strangers_do_not_reach_it(client, make, login):
    assert client.get("/account/mobile").status_code == 302  # to the login page
    login(make.staff("licence_clerk"))
    assert client.get("/account/mobile").status_code == 403


def test_a_clerk_sets_a_new_number_for_someone_who_lost_the_phone(
    app, client, make, login, conn, sms_box
):
    """At the counter: the ID card seen, a code to the new phone read out. Every session of the
    account ends when the code is sent (the lost phone was logged in, and cannot see or lock the
    counter's code), the password stops working and the e-mail address goes (a thief's or an
    impostor's), a reset code sent to the old number opens nothing, and the old number is told.
    The person sets a password with the new number, which the two clerks tied to them: the
    account keeps its identity proofs."""
    from models import IdentityProof

    citizen = make.citizen(email="thief@example.org")
    lost_phone = app.test_client()
    make.login(lost_phone, citizen)
    # Whoever has the lost phone asks for a reset code to it first.
    thief = app.test_client()
    thief.post("/password/forgot", data={"account": citizen.mobile})
    old_reset_code = re.search(r"\d{6}", texts_to(sms_box, citizen.mobile)[0]).group(0)
    clerk = make.staff("vehicle_clerk")
    login(clerk)
    form = page(client.get("/staff/identity/mobile")).find(id="counter-mobile-lookup-form")
    assert form is not None
    unknown = {"resident_id": "110101199003074477"}
    assert field_error(
        page(client.post("/staff/identity/mobile", data=unknown), 422), "resident_id"
    )
    # The account found is shown before anything changes: both clerks see whose it is.
    found = find_at_counter(client, citizen.resident_id)
    shown = page(client.get(f"/staff/identity/mobile?found={found}"))
    assert citizen.real_name in shown.find(id="counter-account").get_text()
    assert citizen.resident_id not in str(shown)  # masked
    assert lost_phone.get("/account").status_code == 200  # nothing has changed yet
    unseen = {"seen_card": "", **make.countersignature()}
    assert send_at_counter(client, found, **unseen).status_code == 422
    # Without a second clerk's confirmation nothing is sent (blueprints/identity/countersign).
    alone = page(send_at_counter(client, found, witness=clerk.username, witness_code="123456"), 422)
    assert "第二名窗口工作人员须为您以外的其他人" in field_error(alone, "witness")
    assert texts_to(sms_box, NEW_MOBILE) == []
    # A ticket of the first step is good for the second only, and for this clerk only.
    assert (
        client.post(
            "/staff/identity/mobile/confirm", data={"ticket": found, "code": "123456"}
        ).status_code
        == 404
    )
    sent = send_at_counter(client, found, **make.countersignature())
    assert sent.status_code == 303
    assert lost_phone.get("/account").status_code == 302  # its session ended at once
    step_two = page(client.get(sent.location))
    assert citizen.real_name in step_two.find(id="counter-account").get_text()
    ticket = step_two.find("input", attrs={"name": "ticket"})["value"]
    code = re.search(r"\d{6}", texts_to(sms_box, NEW_MOBILE)[0]).group(0)
    # Another clerk cannot use this clerk's ticket.
    other = app.test_client()
    make.login(other, make.staff("licence_clerk"))
    taken = other.post("/staff/identity/mobile/confirm", data={"ticket": ticket, "code": code})
    assert taken.status_code == 404
    done = client.post("/staff/identity/mobile/confirm", data={"ticket": ticket, "code": code})
    assert done.status_code == 303
    with conn():
        fresh = User.get_by_id(citizen.id)
        assert fresh.mobile == NEW_MOBILE and fresh.email is None
        # Two clerks saw the card of the person holding the phone: the number is theirs.
        assert fresh.mobile_tied_at is not None
        changed = AuditEvent.get(
            (AuditEvent.action == "account.mobile_changed") & (AuditEvent.result == "ok")
        )
        assert changed.actor_id == clerk.id
    assert texts_to(sms_box, citizen.mobile)  # the old number is told
    # The old password no longer works; the reset code sent to the old number opens nothing.
    assert (
        thief.post("/login", data={"account": NEW_MOBILE, "password": PASSWORD}).status_code == 422
    )
    assert reset_with(thief, old_reset_code).status_code == 422
    # The person sets a password with the new number, and keeps the account's proofs.
    person = app.test_client()
    person.post("/password/forgot", data={"account": NEW_MOBILE})
    new_code = re.search(r"\d{6}", texts_to(sms_box, NEW_MOBILE)[0]).group(0)
    assert reset_with(person, new_code).status_code == 303
    with conn():
        assert IdentityProof.proves(User.get_by_id(citizen.id))


def reset_with(client, code):
    data = {"code": code, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    return client.post("/password/reset", data=data)


def test_a_session_on_the_lost_phone_cannot_see_or_lock_the_counters_code(
    app, client, make, login, sms_box
):
    """The counter's code has its own purpose and counters: the account's own page shows no
    code waiting, and wrong codes typed there do not lock the clerk's step."""
    citizen = make.citizen()
    clerk = make.staff("vehicle_clerk")
    login(clerk)
    sent = send_at_counter(
        client, find_at_counter(client, citizen.resident_id), **make.countersignature()
    )
    ticket = page(client.get(sent.location)).find("input", attrs={"name": "ticket"})["value"]
    lost_phone = app.test_client()
    make.login(lost_phone, citizen)  # logged in again after the send (with the password)
    assert lost_phone.get("/account/mobile/confirm").location.endswith("/account/mobile")
    # Nor can it race the counter with a number of its own.
    raced = page(
        lost_phone.post("/account/mobile", data={"mobile": "13955550999", "password": PASSWORD}),
        422,
    )
    assert "窗口" in raced.find(class_="form-error").get_text()
    for n in range(6):
        lost_phone.post("/account/mobile/confirm", data={"code": f"{n:06d}"})
    code = re.search(r"\d{6}", texts_to(sms_box, NEW_MOBILE)[0]).group(0)
    done = client.post("/staff/identity/mobile/confirm", data={"ticket": ticket, "code": code})
    assert done.status_code == 303


def test_only_counter_clerks_set_numbers(client, make, login):
    login(make.staff("police_inspector"))
    assert client.get("/staff/identity/mobile").status_code == 403


def change_number(client, sms_box) -> None:
    """The logged-in citizen moves the account to NEW_MOBILE."""
    ask(client)
    code = re.search(r"\d{6}", texts_to(sms_box, NEW_MOBILE)[0]).group(0)
    assert client.post("/account/mobile/confirm", data={"code": code}).status_code == 303


def test_the_old_number_and_the_notice_say_whom_to_call(app, client, make, login, conn, sms_box):
    app.config["HELP_PHONE"] = "0532-8000 0000"
    citizen = make.citizen()  # writes in Chinese (the default)
    old = citizen.mobile
    login(citizen)
    change_number(client, sms_box)
    assert "请立即致电车管所（0532-8000 0000）。" in texts_to(sms_box, old)[0]
    with conn():
        notice = Notice.get(Notice.user == citizen.id, Notice.kind == "account.mobile_changed")
    with app.test_request_context("/"):
        english = notices.render(notice, "en").next_step
        # The number as it stands when the notice is read, not when it was written.
        app.config["HELP_PHONE"] = ""
        chinese = notices.render(notice, "zh").next_step
    assert english.endswith("call the vehicle office (0532-8000 0000) at once.")
    assert chinese.endswith("如非本人操作，请立即致电车管所。")


def test_without_a_number_the_sentence_reads_as_it_did(app, client, make, login, sms_box):
    assert app.config["HELP_PHONE"] == ""
    citizen = make.citizen()
    old = citizen.mobile
    login(citizen)
    change_number(client, sms_box)
    assert texts_to(sms_box, old)[0].endswith("如非本人操作，请立即致电车管所。")


def test_a_confirmation_is_spent_only_on_a_code_then_sent(client, make, login, conn, sms_box):
    """The sends' limits are checked before the second clerk is asked: a refused send spends no
    confirmation (the audit log says none was made, the colleague's code stays unused)."""
    from models import Throttle

    citizen, clerk = make.citizen(), make.staff("vehicle_clerk")
    witness = make.staff("licence_clerk")
    with conn():
        Throttle.register_failure(f"mobile-counter-send:user:{citizen.id}", limit=1, window=3600)
    login(clerk)
    confirmed = {"witness": witness.username, "witness_code": make.fresh_code(witness)}
    found = find_at_counter(client, citizen.resident_id)
    refused = page(send_at_counter(client, found, **confirmed), 422)
    assert "发送验证码次数过多" in refused.get_text()
    assert texts_to(sms_box, NEW_MOBILE) == []
    with conn():
        assert not AuditEvent.select().where(AuditEvent.action == "identity.countersigned").exists()
        assert User.get_by_id(witness.id).totp_last_step is None


def test_the_change_names_both_clerks(client, make, login, conn, sms_box):
    citizen, clerk = make.citizen(), make.staff("vehicle_clerk")
    witness = make.staff("licence_clerk")
    login(clerk)
    confirmed = {"witness": witness.username, "witness_code": make.fresh_code(witness)}
    sent = send_at_counter(client, find_at_counter(client, citizen.resident_id), **confirmed)
    ticket = parse_qs(urlsplit(sent.location).query)["ticket"][0]
    code = re.search(r"\d{6}", texts_to(sms_box, NEW_MOBILE)[0]).group(0)
    done = client.post("/staff/identity/mobile/confirm", data={"ticket": ticket, "code": code})
    assert done.status_code == 303
    with conn():
        signed = AuditEvent.get(AuditEvent.action == "identity.countersigned")
        assert witness.username in signed.detail and "139****0123" in signed.detail
        changed = AuditEvent.get(
            (AuditEvent.action == "account.mobile_changed") & (AuditEvent.result == "ok")
        )
        assert changed.actor_id == clerk.id and witness.username in changed.detail
