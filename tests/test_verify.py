"""The verifier: verdicts, once-only codes, throttling, headers, and what each checker sees."""

import re
import time

import pytest
from bs4 import BeautifulSoup

from models import AuditEvent, ELicence, LicenceCheck, LicenceRecord
from rules import licencecode, totp
from rules.licencecode import CODE_STEP_SECONDS

from .helpers import page, unmasked_ids


def code_at(elicence, steps_back=0):
    """The code of the current step, or of an earlier one."""
    return totp.totp(elicence.secret, step=CODE_STEP_SECONDS).generate_otp(
        totp.step_at(time.time(), step=CODE_STEP_SECONDS) - steps_back
    )


def qr_code_at(elicence, steps_back=0):
    """The QR's code of the current step, or of an earlier one."""
    return licencecode.qr_code(
        elicence.secret, totp.step_at(time.time(), step=CODE_STEP_SECONDS) - steps_back
    )


def one_step_codes(elicence) -> tuple[str, str]:
    """The QR code and the typed code of one step (the current one), reckoned at one moment."""
    step = totp.step_at(time.time(), step=CODE_STEP_SECONDS)
    typed = totp.totp(elicence.secret, step=CODE_STEP_SECONDS).generate_otp(step)
    return licencecode.qr_code(elicence.secret, step), typed


@pytest.fixture
def steady_step():
    """Starts the test at least 5 s before a step boundary: a test that checks the previous
    step's code would otherwise see it expire if a boundary passed between reckoning and check."""
    left = CODE_STEP_SECONDS - time.time() % CODE_STEP_SECONDS
    if left < 5:
        time.sleep(left + 0.05)


def verdict(response) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return soup.find("meta", attrs={"name": "verification-result"})["content"]


def qr_url(elicence, code):
    return f"/v/{elicence.handle}/{code}"


def test_valid_then_used_then_expired_then_invalid(client, make):
    el = make.elicence()
    code = qr_code_at(el)
    first = client.get(qr_url(el, code))
    assert verdict(first) == "valid"
    soup = page(first)
    text = soup.get_text()
    assert el.record.name in text and "驾驶证有效" in text
    assert soup.find("img", src=re.compile(r"^/v/photo/")) is None  # no photo on this record
    # A phone with nobody logged in (an inspector of another city whose camera opened the QR
    # here) is told where the full number and the points are: in its own city's verifier.
    assert "外地民警" in soup.select_one("#zh .police-elsewhere").get_text()
    assert verdict(client.get(qr_url(el, code))) == "used-code"
    assert verdict(client.get(qr_url(el, qr_code_at(el, 2)))) == "expired-code"
    altered = code[:-1] + ("0" if code[-1] != "0" else "1")
    assert verdict(client.get(qr_url(el, altered))) == "invalid"


def test_an_inspectors_reload_shows_the_licence_again_as_it_stands_now(
    app, client, make, login, conn
):
    """A logged-in inspector reloads the result, or goes Back to it: the licence is shown
    again, said to be shown again, not a red "already used"; revoked meanwhile, it says so.
    Another inspector, or a phone with nobody logged in (an address and a browser are shared
    by many), with the same code reads "already used".
    The holder's log keeps every check, and says which were the same inspector's reloads."""
    el = make.elicence()
    url = qr_url(el, qr_code_at(el))
    inspector = make.staff("police_inspector")
    login(inspector)
    assert verdict(client.get(url)) == "valid"
    again = page(client.get(url), allow_ids=(el.record.licence_no,))  # in full: an inspector
    assert again.find("meta", attrs={"name": "verification-result"})["content"] == "valid"
    assert again.find(class_="shown-again") and el.record.name in again.get_text()
    with conn():
        LicenceRecord.update(status="revoked").where(LicenceRecord.id == el.record.id).execute()
    revoked = page(client.get(url), allow_ids=(el.record.licence_no,))
    assert revoked.find("meta", attrs={"name": "verification-result"})["content"] == "revoked"
    assert revoked.find(class_="shown-again")
    assert verdict(app.test_client().get(url)) == "used-code"  # a phone, nobody logged in
    client.post("/logout", data={})
    login(make.staff("police_inspector"))  # another inspector, on this phone
    assert verdict(client.get(url)) == "used-code"
    with conn():
        logged = LicenceCheck.select().where(LicenceCheck.elicence == el.id)
        assert [c.verdict for c in logged.order_by(LicenceCheck.id)] == [
            "valid",
            "shown-again",
            "shown-again",
            "used-code",
            "used-code",
        ]
    holder = app.test_client()
    make.login(holder, el.holder)
    owner_log = page(holder.get("/licence/checks")).get_text()
    assert owner_log.count("电子码已使用") == 2 and owner_log.count("同一检查人员再次查看") == 2


def test_an_inspectors_reload_minutes_later_is_shown_again_not_expired(app, make, conn):
    """A tab restored or a phone woken minutes later reloads the result: the inspector who
    checked the code sees the licence again (logged as shown again), not a red "expired";
    anyone else then reads "expired"."""
    from blueprints.licence import checks

    el = make.elicence()
    inspector = make.staff("police_inspector")
    now = time.time()
    step = totp.step_at(now, step=CODE_STEP_SECONDS)
    code = totp.totp(el.secret, step=CODE_STEP_SECONDS).generate_otp(step)
    later = now + 5 * CODE_STEP_SECONDS

    def check(at, checker):
        with app.test_request_context(), conn():
            return checks.check_code(
                code=code, via="typed", typing_key=el.typing_key, checker=checker, now=at
            )

    assert check(now, inspector).verdict == "valid"
    again = check(later, inspector)
    assert again.verdict == "valid" and again.shown_again_at is not None
    assert check(later, None).verdict == "expired-code"
    with conn():
        logged = LicenceCheck.select().where(LicenceCheck.elicence == el.id)
        verdicts = [c.verdict for c in logged.order_by(LicenceCheck.id)]
        assert verdicts == ["valid", "shown-again", "expired-code"]


def test_previous_step_is_accepted_once(client, make, steady_step):
    el = make.elicence()
    # The same code twice: computed anew, it is another code once a step boundary passes in
    # between (a loaded machine), and that one was never used.
    code = qr_code_at(el, 1)
    assert verdict(client.get(qr_url(el, code))) == "valid"
    assert verdict(client.get(qr_url(el, code))) in ("used-code", "expired-code")


def test_typed_key_and_code(client, make):
    el = make.elicence()
    key = el.typing_key.lower()
    response = client.get(f"/verify/check?key={key[:4]}+{key[4:]}&code={code_at(el)}")
    assert verdict(response) == "valid"
    assert verdict(client.get(f"/verify/check?key=ZZZZZZZZ&code={code_at(el)}")) == "invalid"
    assert client.get("/verify/check?key=&code=").status_code == 400


def test_a_typed_key_in_full_width_characters_is_read_as_meant(client, make):
    """A Chinese input method types ＱＤ７Ｋ－…: the key is the same key."""
    el = make.elicence()
    key = "".join(chr(ord(c) + 0xFEE0) for c in f"{el.typing_key[:4]}-{el.typing_key[4:]}")
    assert verdict(client.get(f"/verify/check?key={key}&code={code_at(el)}")) == "valid"


def test_unknown_handle_is_invalid(client):
    assert verdict(client.get("/v/no-such-handle/123456")) == "invalid"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("suspended", "suspended"),
        ("revoked", "revoked"),
        ("cancelled", "cancelled"),
        ("overdue_review", "overdue-review"),
        ("points_full", "points-full"),
    ],
)
def test_the_licence_state_shows_on_the_next_check(
    client, make, conn, status, expected, steady_step
):
    el = make.elicence()
    assert verdict(client.get(qr_url(el, qr_code_at(el, 1)))) == "valid"
    with conn():
        LicenceRecord.update(status=status).where(LicenceRecord.id == el.record_id).execute()
    assert verdict(client.get(qr_url(el, qr_code_at(el)))) == expected


def test_expired_licence_and_points(client, make, conn):
    import datetime as dt

    el = make.elicence(valid_until=dt.date.today() - dt.timedelta(days=1))
    assert verdict(client.get(qr_url(el, qr_code_at(el)))) == "expired-licence"
    el2 = make.elicence(points=12)
    assert verdict(client.get(qr_url(el2, qr_code_at(el2)))) == "points-full"


def test_verifier_sends_no_script_and_strict_headers(client, make):
    el = make.elicence()
    for url in ("/verify", qr_url(el, qr_code_at(el)), "/verify/share", "/v/x/1"):
        response = client.get(url)
        body = response.get_data(as_text=True)
        assert "<script" not in body.lower()
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'none'" in csp and "default-src 'none'" in csp
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "noindex" in response.headers["X-Robots-Tag"]
        assert "Set-Cookie" not in response.headers  # no session writes
        assert len(body.encode()) < 4096, len(body.encode())
        assert BeautifulSoup(body, "html.parser").find(
            "meta", attrs={"name": "verification-result"}
        )


def test_verifier_css_is_small(client):
    response = client.get("/static/css/verify.css")
    assert len(response.get_data()) < 2048


def test_anonymous_checker_never_sees_the_id_number(client, make):
    el = make.elicence()
    body = client.get(qr_url(el, qr_code_at(el))).get_data(as_text=True)
    assert el.record.licence_no not in body and not unmasked_ids(body)
    assert el.record.licence_no[:6] + "********" + el.record.licence_no[-4:] in body


def test_inspector_sees_full_number_and_points(client, make, login):
    el = make.elicence(points=3)
    login(make.staff("police_inspector"))
    response = client.get(qr_url(el, qr_code_at(el)))
    soup = page(response, allow_ids=(el.record.licence_no,))
    assert el.record.licence_no in soup.get_text() and "3 / 12" in soup.get_text()
    assert not soup.select(".police-elsewhere")


def test_every_check_is_logged_for_the_holder_and_audited(client, make, conn):
    el = make.elicence()
    code = qr_code_at(el)
    for _ in range(2):
        client.get(qr_url(el, code))
    with conn():
        checks = list(
            LicenceCheck.select().where(LicenceCheck.elicence == el.id).order_by(LicenceCheck.id)
        )
        assert [c.verdict for c in checks] == ["valid", "used-code"]
        assert all(c.checker_kind == "anonymous" and c.via == "qr" for c in checks)
        audited = AuditEvent.select().where(
            (AuditEvent.action == "licence.check") & (AuditEvent.object_id == str(el.id))
        )
        assert [a.result for a in audited.order_by(AuditEvent.id)] == ["valid", "used-code"]


def typed_url(elicence, code):
    return f"/verify/check?key={elicence.typing_key}&code={code}"


def wrong_typed(elicence, i):
    """A wrong 6-digit code, different for each i and never a recent genuine one."""
    recent = {code_at(elicence, back) for back in range(25)}
    return next(c for n in range(i, i + 100) if (c := f"{(n * 7919) % 1000000:06d}") not in recent)


def test_wrong_typed_codes_slow_their_sender_and_the_holder_is_told(
    client, make, login, conn, steady_step
):
    el = make.elicence()
    for i in range(3):  # people mistype: the first few cost nothing
        response = client.get(typed_url(el, wrong_typed(el, i)))
        assert verdict(response) == "invalid" and "秒后再试" not in response.get_data(as_text=True)
    response = client.get(typed_url(el, wrong_typed(el, 3)))
    # 5 s from the fourth failure: a page drawn more than a second later says 4.
    assert verdict(response) == "invalid" and re.search(
        "[45] 秒后再试", response.get_data(as_text=True)
    )
    # This sender now waits (even with the right code); the QR check goes on.
    assert verdict(client.get(typed_url(el, code_at(el)))) == "throttled"
    assert verdict(client.get(qr_url(el, qr_code_at(el)))) == "valid"
    # The holder sees that typed codes are being guessed, and revokes all codes.
    login(el.holder)
    assert "4 次输入错误的电子码" in client.get("/licence/code").get_data(as_text=True)
    client.post("/licence/reset-codes", data={})
    with conn():
        fresh = ELicence.get_by_id(el.id)
    assert fresh.handle != el.handle and fresh.typing_key != el.typing_key
    assert "输入错误的电子码" not in client.get("/licence/code").get_data(as_text=True)
    assert verdict(client.get(typed_url(fresh, code_at(fresh, 1)))) == "valid"
    assert verdict(client.get(qr_url(el, qr_code_at(fresh)))) == "invalid"  # the old QR is dead


def test_a_stranger_with_the_key_cannot_fail_the_holders_typed_check(app, make):
    """Two client addresses: the stranger guesses as fast as the delays allow, for longer than
    the ceiling's share of one address; the inspector at the roadside still gets "valid"."""
    el = make.elicence()
    stranger = app.test_client()
    stranger.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    inspector = app.test_client()
    inspector.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    verdicts = [verdict(stranger.get(typed_url(el, wrong_typed(el, i)))) for i in range(30)]
    # Three free tries, a fourth that starts the wait; the rest wait (however slow this runs,
    # the doubling waits leave only a few more through).
    assert verdicts[:4] == ["invalid"] * 4 and verdicts.count("invalid") < 8
    assert "throttled" in verdicts
    assert verdict(inspector.get(typed_url(el, code_at(el)))) == "valid"


def test_a_stranger_hopping_inside_one_ipv6_network_is_one_sender(app, make):
    el = make.elicence()
    hopper = app.test_client()
    for i in range(4):
        hopper.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{i + 1:x}"
        assert verdict(hopper.get(typed_url(el, wrong_typed(el, i)))) == "invalid"
    hopper.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::99"
    assert verdict(hopper.get(typed_url(el, code_at(el)))) == "throttled"
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"
    assert verdict(elsewhere.get(typed_url(el, code_at(el)))) == "valid"


def test_the_per_key_ceiling_pauses_typed_checks_only(app, make, monkeypatch):
    """Many networks together reach the ceiling: typed checks of that key pause, QR goes on."""
    from blueprints.licence import checks

    monkeypatch.setattr(checks, "TYPED_KEY_CEILING", 6)
    el = make.elicence()
    for i in range(6):
        botnet = app.test_client()
        botnet.environ_base["REMOTE_ADDR"] = f"192.0.2.{i + 1}"
        botnet.get(typed_url(el, wrong_typed(el, i)))
    inspector = app.test_client()
    inspector.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert verdict(inspector.get(typed_url(el, code_at(el)))) == "throttled"
    assert verdict(inspector.get(qr_url(el, qr_code_at(el)))) == "valid"


def test_failed_lookups_throttle_the_client(client):
    for i in range(30):
        client.get(f"/verify/check?key=AAAA{i:04d}&code=123456")
    assert verdict(client.get("/verify/check?key=AAAA0000&code=123456")) == "throttled"


def test_a_locked_client_is_refused_even_a_genuine_code(client, make):
    el = make.elicence()
    for i in range(30):
        client.get(f"/verify/check?key=AAAA{i:04d}&code=123456")
    assert verdict(client.get(qr_url(el, qr_code_at(el)))) == "throttled"


def test_one_licence_paused_leaves_another_alone(client, make):
    paused, other = make.elicence(), make.elicence()
    for i in range(4):
        client.get(typed_url(paused, wrong_typed(paused, i)))
    assert verdict(client.get(typed_url(paused, code_at(paused)))) == "throttled"
    assert verdict(client.get(typed_url(other, code_at(other)))) == "valid"


def test_photo_link_is_signed_and_short_lived(client, make, app, conn):
    el = make.elicence(photo="photos/x.png")
    import os

    os.makedirs(os.path.join(app.config["UPLOAD_FOLDER"], "photos"), exist_ok=True)
    with open(os.path.join(app.config["UPLOAD_FOLDER"], "photos", "x.png"), "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    soup = page(client.get(qr_url(el, qr_code_at(el))))
    src = soup.find("img")["src"]
    assert client.get(src).status_code == 200
    assert client.get(src[:-2] + "xx").status_code == 404


def test_json_endpoint_gives_the_same_verdict(client, make):
    el = make.elicence()
    qr_code, typed = one_step_codes(el)
    body = client.get(f"/api/v1/licence-check?handle={el.handle}&code={qr_code}").get_json()
    assert body["verdict"] == "valid" and body["licence"]["name"] == el.record.name
    assert "*" in body["licence"]["licence_no_masked"]
    # The typed code of the same step is used up with it: one step, one check.
    again = client.get(f"/api/v1/licence-check?key={el.typing_key}&code={typed}").get_json()
    assert again == {"verdict": "used-code", "checked_at": again["checked_at"]}
    assert client.get("/api/v1/licence-check").status_code == 400


def test_english_verifier(client, make):
    el = make.elicence()
    response = client.get(qr_url(el, qr_code_at(el)) + "?hl=en")
    assert "Valid licence" in response.get_data(as_text=True)


def test_a_prefetch_or_head_does_not_use_up_the_code(client, make, conn):
    """Neither the QR's address nor a typed check nor a truck's plate is checked by a HEAD
    request or a link preview: the code stays unused and no log gains a row."""
    el, other = make.elicence(), make.elicence()
    truck = "/verify/truck?plate=鲁B1"
    urls = (qr_url(el, qr_code_at(el)), typed_url(other, code_at(other)), truck)
    with conn():
        before = AuditEvent.select().count()
    for url in urls:
        assert client.head(url).status_code == 204
        assert client.get(url, headers={"Sec-Purpose": "prefetch;prerender"}).status_code == 204
    with conn():
        assert AuditEvent.select().count() == before and not LicenceCheck.select().count()
    assert verdict(client.get(urls[0])) == "valid"
    assert verdict(client.get(urls[1])) == "valid"


def test_the_verifier_never_sets_a_cookie_even_for_a_logged_in_inspector(client, make, login):
    login(make.staff("police_inspector"))
    el = make.elicence()
    for url in ("/verify", qr_url(el, qr_code_at(el))):
        assert "Set-Cookie" not in client.get(url).headers
    assert "Set-Cookie" in client.get("/account").headers  # elsewhere the session slides on


def test_personal_files_are_not_cached(client, make, login, app):
    import os

    el = make.elicence(photo="photos/p.png")
    os.makedirs(os.path.join(app.config["UPLOAD_FOLDER"], "photos"), exist_ok=True)
    with open(os.path.join(app.config["UPLOAD_FOLDER"], "photos", "p.png"), "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    login(el.holder)
    assert client.get("/licence/photo").headers["Cache-Control"] == "private, no-store"


@pytest.mark.parametrize("path", ["/v/photo/not-a-token", "/v/x/123456/extra", "/verify/nope"])
def test_the_verifiers_error_pages_send_no_script(client, path):
    response = client.get(path)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<script" not in html and 'name="verification-result"' in html
