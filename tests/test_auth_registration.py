"""Registration in two steps: the account is made only when the code sent to the number comes
back (blueprints/auth/registration.py)."""

import datetime as dt

from models import AuditEvent, PendingRegistration, User, utcnow

from .helpers import field_error, newest_code, page, register
from .test_auth import GOOD

EN = {"Accept-Language": "en"}
OTHER_ID = "110105194912310011"  # someone else's valid ID number


def start(client, details=GOOD, **headers):
    response = client.post("/register", data=details, headers=headers)
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return response


def from_addr(app, addr: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = addr
    return client


def actions(conn, action: str, result: str = "ok") -> int:
    with conn():
        query = AuditEvent.select().where(
            (AuditEvent.action == action) & (AuditEvent.result == result)
        )
        return query.count()


def test_no_account_is_made_until_the_code_comes_back(client, conn, sms_box):
    start(client)
    with conn():
        assert User.select().count() == 0
        pending = PendingRegistration.get()
        # Kept as the account will be: the password hashed, the code only as an HMAC.
        assert pending.password_hash.startswith("scrypt:")
        assert GOOD["password"] not in str(pending.__data__)
        sent = AuditEvent.get(AuditEvent.action == "account.register_code_sent")
        assert '"138****5678"' in sent.detail and GOOD["mobile"] not in sent.detail
    (message,) = sms_box.messages()
    assert message["mobile"] == GOOD["mobile"] and "注册" in message["text"]
    assert "切勿告诉他人" in message["text"]
    code = newest_code(sms_box, GOOD["mobile"])
    with conn():
        assert code not in PendingRegistration.get().code_hash
    soup = page(client.get("/register/confirm"))
    assert "138****5678" in soup.select_one("#code-sent").get_text()
    assert soup.select_one("#demo-sms") is None  # real messages: no page of them to point to
    # Full-width digits, as a Chinese input method types them, are the same code.
    wide = code.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    response = client.post("/register/confirm", data={"code": wide})
    assert response.status_code == 303 and response.location == "/account/identity"
    with conn():
        user = User.get(User.mobile == GOOD["mobile"])
        assert user.real_name == GOOD["real_name"] and user.password_hash.startswith("scrypt:")
        # Finished: the row says so and keeps none of the details.
        done = PendingRegistration.get()
        assert done.finished_at is not None
        assert (done.real_name, done.resident_id, done.mobile, done.password_hash) == ("",) * 4
        made = AuditEvent.get(AuditEvent.action == "account.register", AuditEvent.result == "ok")
        assert made.object_id == str(user.id)
    assert client.get("/account").status_code == 200  # logged in
    # The password typed at the first step is the account's.
    client.post("/logout", data={})
    login = client.post("/login", data={"account": GOOD["mobile"], "password": GOOD["password"]})
    assert login.status_code == 303


def test_a_second_tap_on_the_button_leaves_the_new_account_logged_in(
    app, client, make, conn, sms_box
):
    """The second request carries the cookie from before the first answer: its answer must
    not set the session, or the browser would be logged out of the account just made (this
    browser was someone's before: its session had been a logged-in one)."""
    make.login(client, make.citizen())
    client.post("/logout", data={})
    start(client)
    code = newest_code(sms_box, GOOD["mobile"])
    before = client.get_cookie("jg_session").value
    assert client.post("/register/confirm", data={"code": code}).status_code == 303
    after = client.get_cookie("jg_session").value
    client.set_cookie("jg_session", before)
    second = client.post("/register/confirm", data={"code": code})
    assert second.status_code == 303 and second.location == "/login?made=1"
    assert not any("jg_session" in c for c in second.headers.getlist("Set-Cookie"))
    client.set_cookie("jg_session", after)  # what the browser keeps: the first answer's
    assert client.get("/account").status_code == 200
    with conn():
        assert User.select().count() == 2
    # Had the first answer been lost, the login page says the account was made.
    lost = app.test_client()
    assert "已创建" in page(lost.get("/login?made=1")).select_one("#account-made").get_text()


def test_a_wrong_code_is_said_at_its_field_and_a_code_has_five_tries(client, conn, sms_box):
    start(client)
    code = newest_code(sms_box, GOOD["mobile"])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    soup = page(client.post("/register/confirm", data={"code": wrong}, headers=EN), 422)
    assert "This code is wrong" in field_error(soup, "code")
    for _ in range(4):
        client.post("/register/confirm", data={"code": wrong})
    # The right code, after five wrong ones: dead. A new code works, the old one not.
    page(client.post("/register/confirm", data={"code": code}), 422)
    with conn():
        assert User.select().count() == 0
    assert actions(conn, "account.register_code_wrong", "refused") == 6
    assert client.post("/register/confirm/again", data={}).status_code == 303
    fresh = newest_code(sms_box, GOOD["mobile"])
    if fresh != code:
        page(client.post("/register/confirm", data={"code": code}), 422)
    assert client.post("/register/confirm", data={"code": fresh}).status_code == 303
    with conn():
        assert User.select().count() == 1


def test_an_expired_code_is_refused_and_a_new_one_can_be_asked_for(client, conn, sms_box):
    start(client)
    code = newest_code(sms_box, GOOD["mobile"])
    with conn():
        PendingRegistration.update(code_expires_at=utcnow() - dt.timedelta(seconds=1)).execute()
    page(client.post("/register/confirm", data={"code": code}), 422)
    client.post("/register/confirm/again", data={})
    assert (
        client.post(
            "/register/confirm", data={"code": newest_code(sms_box, GOOD["mobile"])}
        ).status_code
        == 303
    )


def test_codes_to_a_number_are_limited_per_network_and_a_day(app, conn, sms_box):
    """Three an hour to one number from one network; a stranger's network does not stop the
    owner's; ten a day to one number over every network, whoever asks."""
    from blueprints.auth.mobile import SENDS_PER_NUMBER
    from blueprints.auth.registration import SENDS_PER_NUMBER_A_DAY
    from models import Throttle

    number = "13955550000"
    details = {**GOOD, "mobile": number}

    def texts() -> int:
        return sum(1 for m in sms_box.messages(keep=None) if m["mobile"] == number)

    stranger = from_addr(app, "198.51.100.7")
    start(stranger, details)
    for _ in range(SENDS_PER_NUMBER - 1):
        assert stranger.post("/register/confirm/again", data={}).status_code == 303
    stranger.post("/register/confirm/again", data={}, headers=EN)
    soup = page(stranger.get("/register/confirm", headers=EN))
    assert "Too many codes" in soup.select_one(".flash-bad").get_text()
    assert texts() == SENDS_PER_NUMBER
    start(from_addr(app, "203.0.113.5"), details)  # the owner, elsewhere, is not held
    for n in range(SENDS_PER_NUMBER_A_DAY - SENDS_PER_NUMBER - 1):
        start(from_addr(app, f"192.0.2.{n + 1}"), details)
    late = from_addr(app, "192.0.2.200").post("/register", data=details, headers=EN)
    assert "Too many codes" in page(late, 422, allow_ids=(GOOD["resident_id"],)).get_text()
    assert texts() == SENDS_PER_NUMBER_A_DAY
    with conn():
        # Numbers that may never become an account's are kept as digests only.
        assert not Throttle.select().where(Throttle.key.contains(number)).exists()


def test_codes_from_one_network_are_limited(app, sms_box):
    app.config["REGISTER_SENDS_PER_NETWORK"] = 2
    office = "192.0.2.9"
    for mobile in ("13955550001", "13955550002"):
        start(from_addr(app, office), {**GOOD, "mobile": mobile})
    late = from_addr(app, office).post(
        "/register", data={**GOOD, "mobile": "13955550003"}, headers=EN
    )
    assert "Too many codes" in page(late, 422, allow_ids=(GOOD["resident_id"],)).get_text()
    assert len(sms_box.messages(keep=None)) == 2
    start(from_addr(app, "192.0.2.10"), {**GOOD, "mobile": "13955550003"})  # another network


def test_a_gateway_that_fails_keeps_nothing_and_a_failed_new_code_keeps_the_old(
    app, client, conn, sms_box
):
    start(client)
    code = newest_code(sms_box, GOOD["mobile"])
    app.config.update(
        SMS_GATEWAY="http", SMS_GATEWAY_URL="http://127.0.0.1:9/", SMS_GATEWAY_TOKEN="t"
    )
    client.post("/register/confirm/again", data={}, headers=EN)
    soup = page(client.get("/register/confirm", headers=EN))
    assert "could not be sent" in soup.select_one(".flash-bad").get_text()
    assert actions(conn, "account.register_code_sent", "failed") == 1
    # The code the person has still works.
    assert client.post("/register/confirm", data={"code": code}).status_code == 303
    other = app.test_client()
    response = other.post(
        "/register", data={**GOOD, "resident_id": OTHER_ID, "mobile": "13912345678"}, headers=EN
    )
    soup = page(response, 422, allow_ids=(OTHER_ID,))
    assert "could not be sent" in soup.get_text()
    with conn():
        assert (
            PendingRegistration.select().where(PendingRegistration.finished_at.is_null()).count()
            == 0
        )
    assert actions(conn, "account.register_code_sent", "failed") == 2


def test_another_browser_cannot_finish_the_registration(app, client, sms_box):
    start(client)
    code = newest_code(sms_box, GOOD["mobile"])
    other = app.test_client()
    response = other.post("/register/confirm", data={"code": code}, headers=EN)
    assert response.status_code == 303 and response.location == "/register"
    said = page(other.get("/register", headers=EN)).select_one(".flash").get_text()
    assert "No registration is waiting" in said
    assert client.post("/register/confirm", data={"code": code}).status_code == 303


def test_a_half_done_registration_blocks_nobody(app, client, conn, sms_box):
    """Someone typed the owner's ID number with their own phone's number and has their code:
    the owner registers all the same, and the other's registration then says, at the field,
    that the ID number is taken, with the rest of what they typed."""
    impostor = app.test_client()
    start(impostor, {**GOOD, "mobile": "13912345678"})
    assert register(client, GOOD).status_code == 303
    code = newest_code(sms_box, "13912345678")
    response = impostor.post("/register/confirm", data={"code": code})
    soup = page(response, 422, allow_ids=(GOOD["resident_id"],))
    assert "已" in field_error(soup, "resident_id")
    assert soup.select_one("#mobile")["value"] == "13912345678"
    with conn():
        assert User.select().count() == 1
        assert (
            PendingRegistration.select().where(PendingRegistration.finished_at.is_null()).count()
            == 0
        )
    assert actions(conn, "account.register", "refused") == 1


def test_registrations_expire_and_are_pruned(client, runner, conn, sms_box):
    start(client)
    with conn():
        PendingRegistration.update(
            created_at=utcnow() - PendingRegistration.LIFETIME - dt.timedelta(minutes=1)
        ).execute()
    response = client.get("/register/confirm")
    assert response.status_code == 303 and response.location == "/register"
    result = runner.invoke(args=["db", "prune"])
    assert "1 unfinished registrations" in result.output
    with conn():
        assert PendingRegistration.select().count() == 0


def test_a_new_registration_replaces_this_browsers_earlier_one(client, conn, sms_box):
    start(client)
    start(client, {**GOOD, "mobile": "13912345678"})
    with conn():
        assert [p.mobile for p in PendingRegistration.select()] == ["13912345678"]


def test_the_form_keeps_nothing_of_a_registration_waiting_for_its_code(client, sms_box):
    """A browser may be shared: the first step's form, opened again, shows nothing the last
    person typed (the code's page masks the number too)."""
    start(client)
    soup = page(client.get("/register"))
    for field in ("real_name", "resident_id", "mobile"):
        assert not soup.select_one(f"#{field}").get("value")
    assert "138****5678" in page(client.get("/register/confirm")).get_text()


def test_two_copies_of_a_registration_make_one_account(app, client, conn, sms_box):
    """Two requests that read the registration before either finished it (two taps, two
    nodes): the second finds it finished and makes nothing."""
    from blueprints.auth import registration

    start(client)
    code = newest_code(sms_box, GOOD["mobile"])
    with app.test_request_context("/register/confirm"), conn():
        first, second = PendingRegistration.get(), PendingRegistration.get()
        registration.confirm(first, code)
        try:
            registration.confirm(second, code)
        except registration.Finished:
            pass
        else:
            raise AssertionError("a second account step went through")
        assert User.select().count() == 1


def test_a_code_replaced_after_it_was_read_no_longer_confirms(app, client, conn, sms_box):
    """A request that read the registration, then a new code sent by another: the old code,
    right when read, is refused; and of two new codes asked for at once, one is sent."""
    from blueprints.auth import registration

    start(client)
    code = newest_code(sms_box, GOOD["mobile"])
    with app.test_request_context("/register/confirm"), conn():
        read, other, third = (PendingRegistration.get() for _ in range(3))
        registration.send_again(other)
        try:
            registration.confirm(read, code)
        except registration.Finished:
            raise AssertionError("not finished") from None
        except registration.RegistrationRefused as exc:
            assert exc.field == "code"
        else:
            raise AssertionError("a replaced code confirmed the registration")
        try:
            registration.send_again(third)  # read before the other's new code
        except registration.RegistrationRefused as exc:
            assert str(exc.message) == str(registration.SENT_JUST_NOW)
        else:
            raise AssertionError("two new codes sent for one tap each")
    assert len(sms_box.messages(keep=None)) == 2
