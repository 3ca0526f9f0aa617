"""Registration, login, staff two-factor login, throttling and the account page."""

import re
import time
from urllib.parse import urlencode

import pyotp
import pytest

from core.session_auth import PENDING_KEY
from models import AuditEvent, Notice, OutboxMessage, Throttle, User, utcnow
from rules import totp

from .factories import Factory
from .helpers import field_error, page, register

GOOD = {
    "real_name": "孙志强",
    "resident_id": "11010519491231002X",
    "mobile": "13812345678",
    "password": "Lantern-Harbour-42",
    "confirm": "Lantern-Harbour-42",
}


def test_register_creates_citizen_and_logs_in(client, conn):
    response = register(client, {**GOOD, "resident_id": "11010519491231002x"})
    assert response.status_code == 303
    with conn():
        user = User.get(User.mobile == "13812345678")
        assert user.resident_id == "11010519491231002X"  # normalised upper-case X
        assert not user.is_staff and user.password_hash.startswith("scrypt:")
        assert AuditEvent.get(AuditEvent.action == "account.register").object_id == str(user.id)
    soup = page(client.get("/account"))
    assert "110105********002X" in soup.get_text()
    # Registering logged the person in: the recent logins say so, not "none yet".
    assert "暂无" not in soup.select("table")[-1].get_text()


def test_register_rejects_wrong_check_digit_next_to_the_field(client, conn):
    response = client.post("/register", data={**GOOD, "resident_id": "110105194912310021"})
    soup = page(response, 422)
    assert "校验码" in field_error(soup, "resident_id")
    with conn():
        assert User.select().count() == 0


def test_register_rejects_impossible_birth_date_in_english(client):
    client.post("/lang", data={"lang": "en"})
    rid = "11010519490230" + "002"  # 30 February
    from rules.validators import resident_id_check_char

    response = client.post(
        "/register", data={**GOOD, "resident_id": rid + resident_id_check_char(rid)}
    )
    soup = page(response, 422)
    assert (
        field_error(soup, "resident_id") == "The birth date in this ID number is not a real date."
    )


def test_register_rejects_common_password_and_duplicates(client, make):
    # The form shows back what the person typed, their own ID number included.
    own = (GOOD["resident_id"],)
    response = client.post(
        "/register", data={**GOOD, "password": "password1", "confirm": "password1"}
    )
    soup = page(response, 422, allow_ids=own)
    assert "常见" in field_error(soup, "password")
    existing = make.citizen()
    response = client.post("/register", data={**GOOD, "resident_id": existing.resident_id})
    soup = page(response, 422, allow_ids=(existing.resident_id,))
    said = field_error(soup, "resident_id")
    assert "已注册" in said and "办事窗口" in said  # and what to do if it is not theirs


def test_htmx_register_returns_the_form_fragment(client):
    response = client.post(
        "/register", data={**GOOD, "mobile": "123"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and "<html" not in html
    assert "HX-Request" in response.headers["Vary"]


def test_citizen_logs_in_with_mobile_or_id(client, make):
    user = make.citizen()
    m = user.mobile
    # The number as registration takes it: with the country code, grouped with hyphens.
    written = (m, user.resident_id, f"+86 {m[:3]}-{m[3:7]}-{m[7:]}", f"0086{m}")
    for account in written:
        response = client.post("/login", data={"account": account, "password": Factory.PASSWORD})
        assert response.status_code == 303, response.get_data(as_text=True)
        r = client.post("/logout", data={})
        assert r.status_code == 303, r.get_data(as_text=True)[-900:]


def test_wrong_password_is_refused_and_audited(client, make, conn):
    user = make.citizen()
    soup = page(client.post("/login", data={"account": user.mobile, "password": "nope-nope"}), 422)
    assert "不正确" in soup.select_one(".form-error").get_text()
    with conn():
        assert AuditEvent.get(AuditEvent.action == "login.failed").actor_id == user.id


def test_staff_login_needs_a_valid_totp_code(client, make):
    staff = make.staff("admin")
    response = client.post("/login", data={"account": staff.username, "password": Factory.PASSWORD})
    assert response.status_code == 303 and "/login/code" in response.location
    # Password alone does not log in: staff pages still send to the login page.
    assert client.get("/staff/").status_code == 302
    page(client.post("/login/code", data={"code": "000000"}), 422)
    assert client.get("/staff/").status_code == 302
    response = client.post("/login/code", data={"code": make.fresh_code(staff)})
    assert response.status_code == 303
    page(client.get("/staff/"))


def test_staff_log_in_with_what_an_authenticator_app_shows(client, make):
    """A plain pyotp.TOTP (30 s, 6 digits, SHA-1: what every authenticator app computes) is the
    staff second factor, whatever the licence code's step is."""
    staff = make.staff("admin")
    client.post("/login", data={"account": staff.username, "password": Factory.PASSWORD})
    response = client.post("/login/code", data={"code": pyotp.TOTP(staff.totp_secret).now()})
    assert response.status_code == 303
    page(client.get("/staff/"))


def test_the_same_code_twice_fails_the_second_time(app, make):
    staff = make.staff("admin")
    code = make.fresh_code(staff)
    first, second = app.test_client(), app.test_client()
    for c in (first, second):
        c.post("/login", data={"account": staff.username, "password": Factory.PASSWORD})
    assert first.post("/login/code", data={"code": code}).status_code == 303
    response = second.post("/login/code", data={"code": code})
    assert response.status_code == 422
    assert "已使用" in response.get_data(as_text=True)


def test_eleventh_wrong_attempt_is_refused_even_from_a_fresh_session(app, make, conn):
    user = make.citizen()
    for _ in range(10):
        c = app.test_client()  # a new session every time
        c.post("/login", data={"account": user.mobile, "password": "wrong-password"})
    fresh = app.test_client()
    response = fresh.post("/login", data={"account": user.mobile, "password": Factory.PASSWORD})
    soup = page(response, 422)
    message = soup.select_one(".form-error").get_text()
    assert "锁定至" in message and re.search(r"\d\d:\d\d:\d\d", message)
    with conn():
        assert Throttle.locked_until_for(f"login:{user.id}@127.0.0.1") > utcnow()
        assert AuditEvent.select().where(AuditEvent.action == "login.refused_locked").count() == 1


def test_wrong_codes_count_towards_the_same_lock(app, make, conn):
    staff = make.staff("admin")
    c = app.test_client()
    c.post("/login", data={"account": staff.username, "password": Factory.PASSWORD})
    for _ in range(10):
        c.post("/login/code", data={"code": "123456"})
    response = c.post("/login/code", data={"code": make.fresh_code(staff)})
    assert response.status_code == 422 and "锁定" in response.get_data(as_text=True)


def test_login_starts_a_new_session(client, make):
    """Session fixation: the cookie from before login does not carry the logged-in session."""
    user = make.citizen()
    client.get("/login")
    with client.session_transaction() as s:
        s["planted"] = "by-attacker"
    client.post("/login", data={"account": user.mobile, "password": Factory.PASSWORD})
    with client.session_transaction() as s:
        assert "planted" not in s and "_user_id" in s


def test_unenrolled_staff_must_enrol_with_a_qr(app, client, make, conn):
    staff = make.staff("licence_clerk", enrolled=False)
    response = client.post("/login", data={"account": staff.username, "password": Factory.PASSWORD})
    assert "/login/enrol" in response.location
    soup = page(client.get("/login/enrol"))
    assert soup.select_one(".qr svg") is not None
    secret = soup.select_one("code.secret").get_text()
    with conn():
        assert User.get_by_id(staff.id).totp_secret == secret
    code = totp.totp(secret, step=totp.AUTHENTICATOR_STEP_SECONDS).now()
    # The password the administrator gave is not kept: the holder sets one only they know.
    given = {"code": code, "password": Factory.PASSWORD, "confirm": Factory.PASSWORD}
    assert "您自己的" in field_error(page(client.post("/login/enrol", data=given), 422), "password")
    own = {"code": code, "password": "Quiet-Harbour-64", "confirm": "Quiet-Harbour-64"}
    response = client.post("/login/enrol", data=own)
    assert response.status_code == 303
    with conn():
        assert User.get_by_id(staff.id).totp_enrolled_at is not None
        assert AuditEvent.get(AuditEvent.action == "account.totp_enrolled")
    again = app.test_client().post(
        "/login", data={"account": staff.username, "password": Factory.PASSWORD}
    )
    assert again.status_code == 422  # the given password works no more


def test_pending_second_step_expires(client, make):
    staff = make.staff("admin")
    client.post("/login", data={"account": staff.username, "password": Factory.PASSWORD})
    with client.session_transaction() as s:
        s[PENDING_KEY] = {**s[PENDING_KEY], "t": 0}
    response = client.post("/login/code", data={"code": make.fresh_code(staff)})
    assert response.status_code == 302 and "/login" in response.location


def test_password_change_ends_other_sessions(app, make, conn):
    user = make.citizen()
    a, b = app.test_client(), app.test_client()
    for c in (a, b):
        make.login(c, user)
    same = {"current": Factory.PASSWORD, "password": Factory.PASSWORD, "confirm": Factory.PASSWORD}
    assert "您现在的密码" in field_error(page(a.post("/account", data=same), 422), "password")
    assert b.get("/account").status_code == 200  # nothing changed, nobody logged out
    response = a.post(
        "/account",
        data={
            "current": Factory.PASSWORD,
            "password": "New-Lantern-88",
            "confirm": "New-Lantern-88",
        },
    )
    assert response.status_code == 303
    assert a.get("/account").status_code == 200
    # A form sent from the other session: nothing saved, said so, and back to its page after.
    sent = b.post(
        "/account/mobile",
        data={"mobile": "13700000000", "password": "x"},
        headers={"Referer": "http://localhost/account/mobile", "Accept-Language": "en"},
    )
    assert sent.status_code == 303 and sent.location.endswith("/login?next=/account/mobile")
    shown = page(b.get(sent.location, headers={"Accept-Language": "en"}))
    assert "what you sent was not saved" in shown.get_text()
    # Sent with htmx (a form's usual way): the same words, on the page the tab is taken to.
    htmx = {"HX-Request": "true", "HX-Current-URL": "http://localhost/account/mobile"}
    sent = b.post("/account/mobile", data={}, headers={**htmx, "Accept-Language": "en"})
    assert sent.headers["HX-Redirect"].endswith("/login?next=/account/mobile")
    shown = page(b.get(sent.headers["HX-Redirect"], headers={"Accept-Language": "en"}))
    assert "what you sent was not saved" in shown.get_text()
    assert b.get("/account").status_code == 302  # the other session was logged out
    with conn():
        assert AuditEvent.get(AuditEvent.action == "account.password_changed")
        # The person is told (someone who took the account over would not tell them): by text
        # to the account's mobile too, though this account never asked for notices by SMS.
        assert not User.get_by_id(user.id).notice_sms
        assert Notice.get((Notice.user == user.id) & (Notice.kind == "account.password_changed"))
        texted = OutboxMessage.select().where(
            (OutboxMessage.recipient == user.mobile) & (OutboxMessage.channel == "sms")
        )
        assert texted.count() == 1


def test_a_mobile_typed_full_width_logs_in(client, make):
    """A mobile or ID number as a Chinese input method types it is the same account."""
    user = make.citizen()
    wide = user.mobile.translate({c: c + 0xFEE0 for c in range(0x30, 0x3A)})
    response = client.post("/login", data={"account": wide, "password": Factory.PASSWORD})
    assert response.status_code in (302, 303)


def test_guessing_the_current_password_in_an_open_session_is_stopped(app, make, conn):
    """A session left open on a shared computer: the current password asked before a change
    is counted and audited, with the number change's, and locks after a few wrong ones."""
    from core.identity import WRONG_PER_ACCOUNT

    user = make.citizen()
    client = app.test_client()
    make.login(client, user)
    new = {"password": "New-Lantern-88", "confirm": "New-Lantern-88"}
    for n in range(WRONG_PER_ACCOUNT):
        wrong = page(client.post("/account", data={**new, "current": f"Guess-{n}-abc"}), 422)
        assert field_error(wrong, "current")
    right = page(client.post("/account", data={**new, "current": Factory.PASSWORD}), 422)
    assert "次数过多" in field_error(right, "current")
    with conn():
        rows = AuditEvent.select().where(AuditEvent.action == "account.password_wrong")
        assert rows.count() == WRONG_PER_ACCOUNT
        assert not AuditEvent.select().where(AuditEvent.action == "account.password_changed")


def test_logout_needs_post_with_csrf(client, make):
    make.login(client, make.citizen())
    # A GET asks to confirm; it never logs out.
    assert client.get("/logout").status_code == 200
    assert client.get("/account").status_code == 200
    assert client.post("/logout", data={}, csrf=False).status_code == 400
    assert client.post("/logout", data={}).status_code == 303
    assert "已退出登录" in page(client.get("/")).select_one(".flash").get_text()
    assert client.get("/account").status_code == 302


def test_asking_which_id_numbers_are_registered_is_limited(client, make):
    taken = [make.citizen() for _ in range(10)]
    for user in taken:
        response = client.post("/register", data={**GOOD, "resident_id": user.resident_id})
        assert response.status_code == 422
    response = client.post("/register", data=GOOD)
    page(response, 429)
    assert "尝试次数过多" in response.get_data(as_text=True)


def test_sessions_expire_when_idle(app, client, make):
    make.login(client, make.citizen())
    cookie = client.get_cookie("jg_session")
    assert cookie.expires is not None  # a permanent cookie with an end
    remaining = cookie.expires.timestamp() - time.time()
    assert 119 * 60 < remaining <= 120 * 60 + 5


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "https://evil.example/",
        "javascript:alert(1)",
    ],
)
def test_next_never_leaves_the_site(client, make, target):
    user = make.citizen()
    response = client.post(
        "/login?" + urlencode({"next": target}),
        data={"account": user.mobile, "password": Factory.PASSWORD},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"


def test_logout_makes_a_copied_cookie_useless(app, make):
    user = make.citizen()
    a = app.test_client()
    make.login(a, user)
    stolen = a.get_cookie("jg_session").value
    b = app.test_client()
    b.set_cookie("jg_session", stolen)
    assert b.get("/account").status_code == 200  # the copy works while the session lives
    a.post("/logout", data={})
    c = app.test_client()
    c.set_cookie("jg_session", stolen)
    assert c.get("/account").status_code == 302


def test_knowing_the_password_does_not_reset_code_guesses(app, make):
    staff = make.staff("admin")
    c = app.test_client()
    for _ in range(3):
        c.post("/login", data={"account": staff.username, "password": Factory.PASSWORD})
        for _ in range(3):
            c.post("/login/code", data={"code": "123456"})
    c.post("/login", data={"account": staff.username, "password": Factory.PASSWORD})
    response = c.post("/login/code", data={"code": make.fresh_code(staff)})
    assert response.status_code == 422 and "锁定" in response.get_data(as_text=True)


def test_a_burst_of_parallel_guesses_stays_under_the_limit(live_app, base_url):
    from concurrent.futures import ThreadPoolExecutor

    from models import AuditEvent, db
    from tests.nodes import Browser

    with live_app.app_context():
        user = Factory().citizen()

    def guess(i):
        form = {"account": user.mobile, "password": f"wrong-{i}-guess"}
        return Browser().post(f"{base_url}/login", form)[0]

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(guess, range(40)))
    with db.connection_context():
        checked = AuditEvent.select().where(AuditEvent.action == "login.failed").count()
    assert checked == 10  # the passwords actually tried; the rest were refused as locked


def test_get_logout_asks_and_only_post_logs_out(client, make, login):
    """A typed /logout shows the button (no 405); the GET itself never ends the session."""
    citizen = make.citizen()
    login(citizen)
    soup = page(client.get("/logout"))
    form = soup.select_one("main form#logout-form")
    assert form["method"] == "post" and form["action"] == "/logout"
    assert client.get("/account").status_code == 200  # still logged in
    assert client.post("/logout", data={}).status_code == 303
    assert "已退出登录" in page(client.get("/")).select_one(".flash").get_text()
    assert client.get("/account").status_code == 302
    assert not page(client.get("/logout")).select("main form#logout-form")


def test_recent_logins_on_the_account_page_are_in_words(client, make, login):
    login(make.citizen())
    text = page(client.get("/account")).get_text()
    assert "login.ok" not in text and "登录成功" in text
