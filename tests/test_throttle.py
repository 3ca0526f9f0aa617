"""Login throttles (core.throttle): a stranger cannot lock the owner out; sprayers are stopped;
the Chinese common passwords are refused."""

import pytest

from blueprints.auth.service import check_password_step
from models import AuditEvent, Throttle, TransferCase, User, db

from .factories import Factory
from .helpers import field_error, page

OWNER_ADDR = "203.0.113.7"


def from_addr(app, addr: str):
    """A browser-like client whose requests come from `addr`."""
    c = app.test_client()
    c.environ_base["REMOTE_ADDR"] = addr
    return c


def stranger_addr(i: int) -> str:
    """A thousand different addresses, none of them the owner's."""
    return f"198.51.{100 + i // 250}.{i % 250 + 1}"


def test_a_thousand_wrong_passwords_from_elsewhere_do_not_stop_the_owner(app, make):
    user = make.citizen()
    owner = from_addr(app, OWNER_ADDR)
    assert make.login(owner, user).status_code in (302, 303)  # the owner's device, known
    owner.post("/logout", data={})
    # The attack goes through the login step itself (not HTTP: a thousand page loads with
    # their CSRF fetch would only slow the suite), each attempt from its own address.
    verdicts = []
    for i in range(1000):
        with app.test_request_context("/login", environ_base={"REMOTE_ADDR": stranger_addr(i)}):
            db.connect()
            try:
                verdicts.append(check_password_step(user.mobile, f"guess-{i}-wrong").error)
            finally:
                db.close()
    assert set(verdicts) == {"bad-credentials", "locked"}
    # The slow account-wide limit (NIST's 100) closed the account to new addresses...
    assert verdicts.count("bad-credentials") == 99 and verdicts[-1] == "locked"
    with db.connection_context():
        assert AuditEvent.select().where(AuditEvent.action == "login.failed").count() == 100
    # ...and told a newcomer which lock holds, in words of its own.
    newcomer = from_addr(app, "192.0.2.99")
    response = newcomer.post("/login", data={"account": user.mobile, "password": Factory.PASSWORD})
    message = page(response, 422).select_one(".form-error").get_text()
    assert "曾登录过此账号的设备" in message
    # The owner, from their own address, logs in with the right password at once (in another
    # browser too: the address is known, whatever the device cookie says).
    other_browser = from_addr(app, OWNER_ADDR)
    response = other_browser.post(
        "/login", data={"account": user.mobile, "password": Factory.PASSWORD}
    )
    assert response.status_code in (302, 303)
    assert other_browser.get("/account").status_code == 200


def fail_logins(app, account: str, addrs) -> None:
    """A wrong password for `account` from each of `addrs` (through the login step itself)."""
    for i, addr in enumerate(addrs):
        with app.test_request_context("/login", environ_base={"REMOTE_ADDR": addr}):
            db.connect()
            try:
                check_password_step(account, f"guess-{i}-wrong")
            finally:
                db.close()


def test_the_owners_browser_logs_in_whatever_locks_strangers_made(app, make):
    """A phone on a carrier's shared address, whose account strangers closed to new addresses
    and whose address a sprayer paused: its device cookie lets the owner in, nobody else."""
    user = make.citizen()
    phone = from_addr(app, OWNER_ADDR)
    make.login(phone, user)
    phone.post("/logout", data={})
    carrier = "100.64.0.1"  # the next cell's address, shared with thousands
    fail_logins(app, user.mobile, [stranger_addr(i) for i in range(100)])
    for i in range(50):  # a sprayer behind the same address, one account after another
        fail_logins(app, f"nobody-{i}", [carrier])
    newcomer = from_addr(app, carrier)
    response = newcomer.post("/login", data={"account": user.mobile, "password": Factory.PASSWORD})
    assert "网络地址" in page(response, 422).select_one(".form-error").get_text()
    phone.environ_base["REMOTE_ADDR"] = carrier
    response = phone.post("/login", data={"account": user.mobile, "password": Factory.PASSWORD})
    assert response.status_code in (302, 303)
    assert phone.get("/account").status_code == 200
    # The cookie is the account's: it opens no lock for another account.
    other = make.citizen()
    phone.post("/logout", data={})
    response = phone.post("/login", data={"account": other.mobile, "password": Factory.PASSWORD})
    assert "网络地址" in page(response, 422).select_one(".form-error").get_text()


def with_cookie(app, addr: str, value: str):
    """A browser at `addr` holding the device cookie `value`."""
    client = from_addr(app, addr)
    client.set_cookie("jg_device", value, path="/login")
    return client


def test_a_stolen_device_cookie_buys_no_more_guesses(app, make):
    """The cookie's own counter follows it from address to address, its guesses count against
    the account as a stranger's do, and once the account's cookies together reach its limit
    they are judged as any browser: the owner, from a known address, still logs in."""
    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 25
    user = make.citizen()
    cookies = []
    for _ in range(3):  # the owner's phone, laptop and office computer
        browser = from_addr(app, OWNER_ADDR)
        make.login(browser, user)
        cookies.append(browser.get_cookie("jg_device", path="/login"))
    cookie, others = cookies[0], [c.value for c in cookies[1:]]
    assert cookie is not None and cookie.http_only and cookie.path == "/login"
    assert user.mobile not in cookie.value and user.resident_id not in cookie.value
    right = {"account": user.mobile, "password": Factory.PASSWORD}
    for i in range(10):  # ten wrong passwords, each from an address of its own
        with_cookie(app, stranger_addr(i), cookie.value).post(
            "/login", data={**right, "password": f"wrong-{i}-pass"}
        )
    response = with_cookie(app, "192.0.2.77", cookie.value).post("/login", data=right)
    assert "锁定至" in page(response, 422).select_one(".form-error").get_text()
    with db.connection_context():
        assert Throttle.get(Throttle.key == f"login:{user.id}").failures == 10
    # Fifteen more guesses with the two other cookies (a thief of all three): the account's
    # limit is reached, for its cookies and for strangers alike.
    for i in range(15):
        with_cookie(app, stranger_addr(20 + i), others[i % 2]).post(
            "/login", data={**right, "password": f"more-{i}-wrong"}
        )
    for browser in (with_cookie(app, "192.0.2.78", others[0]), from_addr(app, "192.0.2.79")):
        assert browser.post("/login", data=right).status_code == 422
    # The owner, at an address of theirs, is not locked out by a thief's cookie.
    assert with_cookie(app, OWNER_ADDR, others[1]).post("/login", data=right).status_code == 303
    # A cookie changed by hand is no device cookie: that browser is a stranger like any other.
    forged = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")
    response = with_cookie(app, OWNER_ADDR, forged).post("/login", data=right)
    assert response.status_code == 303  # (the owner's address: known, whatever the cookie)


def test_a_new_password_makes_the_old_device_cookies_strangers(app, make):
    user = make.citizen()
    phone = from_addr(app, OWNER_ADDR)
    make.login(phone, user)
    old = phone.get_cookie("jg_device", path="/login").value
    new_password = "Harbour-Lantern-77"
    changed = phone.post(
        "/account",
        data={"current": Factory.PASSWORD, "password": new_password, "confirm": new_password},
    )
    assert changed.status_code == 303
    assert phone.get_cookie("jg_device", path="/login").value != old  # the phone's, renewed
    with app.test_request_context(
        "/login", environ_base={"REMOTE_ADDR": "192.0.2.80"}, headers={"Cookie": f"jg_device={old}"}
    ):
        db.connect()
        try:
            from core.devices import known_device

            fresh = User.get_by_id(user.id)
            assert known_device(fresh) is None
        finally:
            db.close()
    with app.test_request_context(
        "/login",
        headers={"Cookie": f"jg_device={phone.get_cookie('jg_device', path='/login').value}"},
    ):
        db.connect()
        try:
            from core.devices import known_device

            assert known_device(User.get_by_id(user.id)) is not None
        finally:
            db.close()


def test_ten_wrong_passwords_lock_only_that_address_out_of_that_account(app, make):
    user = make.citizen()
    make.login(from_addr(app, OWNER_ADDR), user)
    stranger = from_addr(app, "198.51.100.1")
    for i in range(10):
        stranger.post("/login", data={"account": user.mobile, "password": f"wrong-{i}-pass"})
    response = stranger.post("/login", data={"account": user.mobile, "password": Factory.PASSWORD})
    assert response.status_code == 422 and "锁定至" in response.get_data(as_text=True)
    owner = from_addr(app, OWNER_ADDR)
    response = owner.post("/login", data={"account": user.mobile, "password": Factory.PASSWORD})
    assert response.status_code in (302, 303)


def test_one_address_cannot_spray_a_password_over_many_accounts(app, make):
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 5
    users = [make.citizen() for _ in range(7)]
    sprayer = from_addr(app, "198.51.100.50")
    answers = [
        sprayer.post("/login", data={"account": u.mobile, "password": "Password-2024!"})
        for u in users
    ]
    assert [r.status_code for r in answers] == [422] * 7
    text = answers[-1].get_data(as_text=True)
    assert "网络地址" in text
    # Another address, the same accounts: not held by the sprayer's lock.
    response = from_addr(app, "192.0.2.1").post(
        "/login", data={"account": users[-1].mobile, "password": Factory.PASSWORD}
    )
    assert response.status_code in (302, 303)


def address_failures(addr: str) -> int:
    """The login failures counted against a client address."""
    with db.connection_context():
        row = Throttle.get_or_none(Throttle.key == f"login:addr:{addr}")
        return row.failures if row else 0


def test_logins_that_succeed_do_not_count_against_a_shared_address(app, make):
    """An office (or a carrier) puts many people behind one address: their logins are no
    failures, and the address still stops a sprayer."""
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 5
    office = "192.0.2.40"
    for user in [make.citizen() for _ in range(8)] + [make.staff("vehicle_clerk")]:
        client = from_addr(app, office)
        make.login(client, user)  # citizens by password; staff by password and code
        assert client.get("/account").status_code == 200
    assert address_failures(office) == 0
    victim = make.citizen()
    answers = [
        from_addr(app, office).post("/login", data={"account": victim.mobile, "password": "x1"})
        for _ in range(6)
    ]
    assert address_failures(office) == 5 and "网络地址" in answers[-1].get_data(as_text=True)


def test_a_sprayer_buys_no_guesses_by_logging_into_their_own_account(app, make):
    """A right login takes back its own count only: the sprayer's failures stay counted."""
    app.config["LOGIN_ADDRESS_MAX_FAILURES"] = 5
    sprayer_addr, own, victim = "198.51.100.77", make.citizen(), make.citizen()
    for i in range(4):
        from_addr(app, sprayer_addr).post(
            "/login", data={"account": victim.mobile, "password": f"guess-{i}"}
        )
    make.login(from_addr(app, sprayer_addr), own)
    assert address_failures(sprayer_addr) == 4
    last = from_addr(app, sprayer_addr).post(
        "/login", data={"account": victim.mobile, "password": "guess-5"}
    )
    assert address_failures(sprayer_addr) == 5 and "网络地址" in last.get_data(as_text=True)


@pytest.mark.parametrize("password", ["wang123456", "5201314520", "woainima", "WoAiNiMa"])
def test_chinese_common_passwords_are_refused_at_registration(client, password):
    from .test_auth import GOOD

    response = client.post("/register", data={**GOOD, "password": password, "confirm": password})
    soup = page(response, 422, allow_ids=(GOOD["resident_id"],))
    assert "常见" in field_error(soup, "password")


@pytest.mark.parametrize("password", ["wang123456", "5201314520", "woainima"])
def test_chinese_common_passwords_are_refused_at_password_change(client, make, password):
    make.login(client, make.citizen())
    response = client.post(
        "/account",
        data={"current": Factory.PASSWORD, "password": password, "confirm": password},
    )
    assert response.status_code == 422
    assert "常见" in field_error(page(response, 422), "password")


def test_guessing_a_sellers_id_number_is_paused_and_reveals_nothing(app, make, conn):
    from .test_transfer_pages import invoice_form

    w = make.transfer_world()
    buyer = from_addr(app, OWNER_ADDR)
    make.login(buyer, w.buyer)
    answers = []
    for _ in range(5):
        form = invoice_form(w, seller_resident_id=make.resident_id())
        answers.append(buyer.post("/transfer/new", data=form))
    assert [r.status_code for r in answers] == [422] * 5
    assert "对应不上" in answers[0].get_data(as_text=True)
    # The sixth try, with the right ID number, is refused like the others: no case opens.
    response = buyer.post("/transfer/new", data=invoice_form(w))
    text = page(response, 422).get_text()
    assert "不匹配的核对次数过多" in text
    with conn():
        assert TransferCase.select().count() == 0
    # A right answer within the limit takes back only its own count.
    other = make.transfer_world()
    second = from_addr(app, "192.0.2.40")
    make.login(second, other.buyer)
    second.post("/transfer/new", data=invoice_form(other, seller_resident_id=make.resident_id()))
    assert second.post("/transfer/new", data=invoice_form(other)).status_code == 303
    with conn():
        assert Throttle.get(Throttle.key == f"idcheck:{other.buyer.id}@192.0.2.40").failures == 1


def test_guessing_the_licence_number_behind_a_share_code_is_paused(app, make):
    el = make.elicence()
    holder = app.test_client()
    make.login(holder, el.holder)
    code = page(holder.post("/licence/share", data={"days": "7"})).select_one(".share-code")
    code = code.get_text().replace("-", "")
    last6 = el.record.licence_no[-6:]
    wrong = [f"{n:06d}" for n in range(11) if f"{n:06d}" != last6][:10]
    for i, guess in enumerate(wrong):  # each from its own address: the per-client limit is 30
        c = from_addr(app, stranger_addr(i))
        # The share code's own words, not the roadside code's 电子码无效.
        answer = c.get(f"/verify/share?code={code}&last6={guess}").get_data(True)
        assert "分享码或驾驶证号码后 6 位不正确" in answer
    right = from_addr(app, "192.0.2.77").get(f"/verify/share?code={code}&last6={last6}")
    assert 'content="throttled"' in right.get_data(as_text=True)


def test_prune_deletes_only_spent_counters(runner, conn):
    """A week-old window with no running lock goes; a recent window, a running lock, and the
    licences' refused windows (the holder's log shows them) stay; strangers' inbox counters
    go after 30 days."""
    import datetime as dt

    from models import RefusedCheck, Throttle, utcnow

    now = utcnow()
    old = now - dt.timedelta(days=8)
    with conn():
        Throttle.insert_many(
            [
                {"key": "spent", "failures": 3, "window_start": old},
                {"key": "spent-lock", "failures": 5, "window_start": old, "locked_until": old},
                {"key": "recent", "failures": 1, "window_start": now},
                {"key": "locked", "failures": 9, "window_start": old, "locked_until": None},
            ]
        ).execute()
        Throttle.update(locked_until=now + dt.timedelta(days=1)).where(
            Throttle.key == "locked"
        ).execute()
        month = now - dt.timedelta(days=31)
        for kind, at in (
            ("inbox", month),
            ("inbox_all", month),
            ("inbox", now),
            ("licence", month),
        ):
            RefusedCheck.create(kind=kind, object_id=1, window_start=at, first_at=at, last_at=at)
    result = runner.invoke(args=["db", "prune"])
    assert result.exit_code == 0, result.output
    assert "deleted 2 spent throttles, 2 strangers' counters, 0 received" in result.output
    with conn():
        assert sorted(t.key for t in Throttle.select()) == ["locked", "recent"]
        assert sorted((r.kind, r.last_at == now) for r in RefusedCheck.select()) == [
            ("inbox", True),
            ("licence", False),
        ]


def test_prune_forgets_relayed_checks_after_a_day(runner, conn):
    """A relayed licence check's or a vehicle enquiry's record (its answer holds what it
    returned) is deleted after a day; messages that may be sent again (the outbox's) stay, as
    their id is what keeps a second delivery from acting twice."""
    import datetime as dt

    from models import InboxMessage, utcnow

    now = utcnow()
    with conn():
        for n, (kind, at) in enumerate(
            (
                ("licence_check", now - dt.timedelta(days=2)),
                ("licence_check", now - dt.timedelta(hours=1)),
                ("transfer.opened", now - dt.timedelta(days=400)),
                ("transfer.enquiry", now - dt.timedelta(days=2)),
            )
        ):
            InboxMessage.create(
                sender="https://jg.example",
                message_id=f"m{n}",
                type=kind,
                digest="0" * 64,
                outcome="ack",
                answer="token",
                received_at=at,
            )
    result = runner.invoke(args=["db", "prune"])
    assert result.exit_code == 0, result.output
    assert ", 2 received messages and" in result.output
    with conn():
        assert sorted(m.message_id for m in InboxMessage.select()) == ["m1", "m2"]


def test_the_owner_is_told_once_when_wrong_passwords_close_the_account(app, make):
    """Not of one address's lock (a stranger with many addresses would flood the owner's
    notices, and the texts that matter would go unsent), once of the account-wide lock."""
    from models import Notice

    app.config["LOGIN_ACCOUNT_MAX_FAILURES"] = 15
    user = make.citizen()
    make.login(from_addr(app, OWNER_ADDR), user)  # the owner's address, known from now on
    stranger = from_addr(app, "198.51.100.21")
    for i in range(12):
        stranger.post("/login", data={"account": user.mobile, "password": f"wrong-{i}-pass"})
    with db.connection_context():
        assert not Notice.select().where(Notice.user == user.id).exists()
    fail_logins(app, user.mobile, [stranger_addr(i) for i in range(20)])
    with db.connection_context():
        (notice,) = Notice.select().where(Notice.user == user.id)
        assert notice.kind == "account.login_locked"
    owner = from_addr(app, OWNER_ADDR)
    make.login(owner, user)
    soup = page(owner.get("/notices/"))
    assert "均未登录成功" in soup.get_text()


def test_a_window_of_failures_begins_at_its_first_failure(conn):
    """A licence's counter row is made by every typed check, right ones too (ensure, so that
    it can be locked): the holder's warning "wrong codes since HH:MM" must date from the first
    wrong code, not from an inspector's right check minutes before."""
    import datetime as dt

    from models import utcnow

    with conn():
        Throttle.ensure("licence:x")
        earlier = utcnow() - dt.timedelta(minutes=2)
        Throttle.update(window_start=earlier).where(Throttle.key == "licence:x").execute()
        Throttle.register_failure("licence:x", limit=10, window=600)
        _, failures, since = Throttle.standing("licence:x", 600)
        assert failures == 1 and since > earlier + dt.timedelta(minutes=1)
        # The second failure counts in the same window.
        Throttle.register_failure("licence:x", limit=10, window=600)
        assert Throttle.standing("licence:x", 600)[1:] == (2, since)
