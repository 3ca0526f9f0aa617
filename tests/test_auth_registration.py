"""Registration in two steps: the account is made only when the code sent to the number comes
back (blueprints/auth/registration.py)."""

import datetime as dt

from models import AuditEvent, PendingRegistration, Throttle, User, db, utcnow

from .helpers import newest_code, page, register
from .test_auth import GOOD

EN = {"Accept-Language": "en"}


def start(client, details=GOOD):
    response = client.post("/register", data=details)
    assert response.status_code == 303, response.get_data(as_text=True)[:400]
    return response


def test_no_account_is_made_until_the_code_comes_back(client, conn, sms_box):
    start(client)
    with conn():
        assert User.select().count() == 0
        pending = PendingRegistration.get()
        # Kept as the account will be: the password hashed, the code only as an HMAC.
        assert pending.password_hash.startswith("scrypt:") and GOOD["password"] not in str(
            pending.__data__
        )
        sent = AuditEvent.get(AuditEvent.action == "account.register_code_sent")
        assert '"138****5678"' in sent.detail and GOOD["mobile"] not in sent.detail
    (message,) = sms_box.messages()
    assert message["mobile"] == GOOD["mobile"] and "注册" in message["text"]
    code = newest_code(sms_box, GOOD["mobile"])
    with conn():
        assert code not in PendingRegistration.get().code_hash
    soup = page(client.get("/register/confirm"))
    assert "138****5678" in soup.select_one("#code-sent").get_text()
    assert soup.select_one("#demo-sms") is None  # real messages: no page of them to point to
    # Full-width digits, as a Chinese input method types them, are the same code.
    wide = code.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    response = client.post("/register/confirm", data={"code": wide})
    assert response.status_code == 303 and response.location == "/"
    with conn():
        user = User.get(User.mobile == GOOD["mobile"])
        assert user.real_name == GOOD["real_name"] and user.password_hash.startswith("scrypt:")
        assert PendingRegistration.select().count() == 0  # the details are not kept twice
        made = AuditEvent.get(AuditEvent.action == "account.register", AuditEvent.result == "ok")
        assert made.object_id == str(user.id)
    assert client.get("/account").status_code == 200  # logged in
    # The password typed at the first step is the account's.
    client.post("/logout", data={})
    login = client.post("/login", data={"account": GOOD["mobile"], "password": GOOD["password"]})
    assert login.status_code == 303


def test_a_wrong_code_is_said_at_its_field_and_a_code_has_five_tries(client, conn, sms_box):
    start(client)
    code = newest_code(sms_box, GOOD["mobile"])
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    soup = page(client.post("/register/confirm", data={"code": wrong}, headers=EN), 422)
    assert "This code is wrong" in soup.select_one("#code-error").get_text()
    for _ in range(4):
        client.post("/register/confirm", data={"code": wrong})
    # The right code, after five wrong ones: dead. A new code works, the old one not.
    page(client.post("/register/confirm", data={"code": code}), 422)
    with conn():
        assert User.select().count() == 0
        refused = AuditEvent.select().where(
            (AuditEvent.action == "account.register") & (AuditEvent.result == "refused")
        )
        assert refused.count() == 6
    assert client.post("/register/confirm/again", data={}).status_code == 303
    fresh = newest_code(sms_box, GOOD["mobile"])
    if fresh != code:
        page(client.post("/register/confirm", data={"code": code}), 422)
    assert client.post("/register/confirm", data={"code": fresh}).status_code == 303
    with conn():
        assert User.select().count() == 1


def test_a_registration_gets_three_codes(client, sms_box):
    start(client)
    for _ in range(2):
        assert client.post("/register/confirm/again", data={}).status_code == 303
    soup = page(client.get("/register/confirm", headers=EN))
    assert soup.select_one("#register-again-form") is None  # no button that cannot work
    client.post("/register/confirm/again", data={}, headers=EN)  # as a page left open would
    soup = page(client.get("/register/confirm", headers=EN))
    # Refused, whichever limit says it first (three a registration, three a number an hour).
    assert "codes" in soup.select_one(".flash-bad").get_text()
    assert len(sms_box.messages()) == 3


def test_another_browser_cannot_finish_the_registration(app, client, sms_box):
    start(client)
    code = newest_code(sms_box, GOOD["mobile"])
    other = app.test_client()
    response = other.post("/register/confirm", data={"code": code})
    assert response.status_code == 303 and response.location == "/register"
    assert client.post("/register/confirm", data={"code": code}).status_code == 303


def test_a_half_done_registration_blocks_nobody(app, client, conn, sms_box):
    """A stranger who typed someone's ID number and number holds neither: the one with the
    phone registers; the stranger's registration then says what was taken."""
    stranger = app.test_client()
    start(stranger)
    assert register(client, GOOD).status_code == 303
    response = stranger.post("/register/confirm", data={"code": "000000"})
    page(response, 422)  # the stranger has no code from the phone
    with conn():
        # Had they one (their own number, say), the account made meanwhile is what they are
        # told, and nothing is half made.
        pending = PendingRegistration.get()
        PendingRegistration.update(code_hash=_code_hash(app, pending, "123456")).execute()
    response = stranger.post("/register/confirm", data={"code": "123456"}, headers=EN)
    assert response.status_code == 303 and response.location == "/register"
    soup = page(stranger.get("/register", headers=EN))
    assert "was made meanwhile" in soup.select_one(".flash").get_text()
    with conn():
        assert User.select().count() == 1 and PendingRegistration.select().count() == 0


def _code_hash(app, pending, code):
    from blueprints.auth.registration import PURPOSE
    from core.identity import hash_code

    with app.app_context():
        return hash_code(pending.token_hash, code, PURPOSE)


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


def test_codes_to_one_number_are_counted_over_every_registration(app, sms_box):
    from blueprints.auth.mobile import SENDS_PER_NUMBER

    for _ in range(SENDS_PER_NUMBER):
        start(app.test_client())
    browser = app.test_client()
    response = browser.post("/register", data=GOOD, headers=EN)
    soup = page(response, 422, allow_ids=(GOOD["resident_id"],))
    assert "Too many codes" in soup.get_text()
    assert len(sms_box.messages()) == SENDS_PER_NUMBER
    with db.connection_context():
        assert Throttle.get(Throttle.key == f"mobile-send:to:{GOOD['mobile']}").failures >= 3


def test_a_gateway_that_fails_leaves_nothing(app, client, conn):
    app.config.update(
        SMS_GATEWAY="http", SMS_GATEWAY_URL="http://127.0.0.1:9/", SMS_GATEWAY_TOKEN="t"
    )
    response = client.post("/register", data=GOOD, headers=EN)
    soup = page(response, 422, allow_ids=(GOOD["resident_id"],))
    assert "could not be sent" in soup.get_text()
    with conn():
        assert PendingRegistration.select().count() == 0 and User.select().count() == 0
