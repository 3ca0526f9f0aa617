"""The holder's side of the e-licence: applying, the card, the code page, the check log, shares."""

import datetime as dt
import re
import time

import pyotp
import pytest

from blueprints.licence import checks as licence_checks
from models import AuditEvent, ELicence, LicenceCheck, LicenceRecord, Notice, ShareCode, utcnow
from rules import licencecode, totp

from .factories import Factory
from .helpers import page


def test_apply_issues_at_once_when_in_good_standing(client, make, login, conn):
    citizen = make.citizen()
    make.licence_record(citizen)
    login(citizen)
    page(client.get("/licence/"))
    response = client.post("/licence/apply", data={})
    assert response.status_code == 303 and response.location.endswith("/licence/card")
    with conn():
        el = ELicence.get(ELicence.holder == citizen.id)
        assert AuditEvent.get(AuditEvent.action == "licence.issue").object_id == str(el.id)
    again = client.post("/licence/apply", data={})
    assert again.status_code == 303
    with conn():
        assert ELicence.select().count() == 1


def test_applying_again_gives_the_same_elicence_and_tells_nobody_twice(client, make, login, conn):
    citizen = make.citizen()
    make.licence_record(citizen)
    login(citizen)
    page(client.get("/licence/"))
    assert client.post("/licence/apply", data={}).status_code == 303
    assert client.post("/licence/apply", data={}).status_code == 303
    with conn():
        el = ELicence.get(ELicence.holder == citizen.id)
        issued = AuditEvent.select().where(AuditEvent.action == "licence.issue")
        assert [e.object_id for e in issued] == [str(el.id)]
        notices = Notice.select().where(Notice.user == citizen.id)
        assert [n.kind for n in notices] == ["licence.issued"]
    assert "/licence/card" in client.get("/licence/").get_data(as_text=True)


def test_a_typing_key_that_clashes_with_another_licence_is_drawn_again(
    client, make, login, conn, monkeypatch
):
    """Typing keys are random: one that another licence already has (one in many thousands)
    makes the insert fail on the key, not on the record. The application draws new keys and
    is issued, instead of failing with an error page."""
    from blueprints.licence import service

    taken = make.elicence().typing_key
    draws = iter([taken])
    real = service.new_typing_key
    monkeypatch.setattr(service, "new_typing_key", lambda prefix: next(draws, None) or real(prefix))
    citizen = make.citizen()
    make.licence_record(citizen)
    login(citizen)
    page(client.get("/licence/"))
    assert client.post("/licence/apply", data={}).status_code == 303
    with conn():
        el = ELicence.get(ELicence.holder == citizen.id)
        assert el.typing_key != taken
        issued = AuditEvent.select().where(
            (AuditEvent.action == "licence.issue") & (AuditEvent.object_id == str(el.id))
        )
        assert issued.count() == 1  # the clashing attempt's row rolled back with it


def test_an_account_proven_after_its_login_may_apply_on_its_next_request(client, make, login, conn):
    """The proof is read with the account on each request (core.identity.logged_in_user),
    never kept from an earlier one."""
    citizen = make.citizen(proven=False)
    make.licence_record(citizen)
    login(citizen)
    page(client.get("/licence/"))
    page(client.post("/licence/apply", data={}), 422)
    make.proof(citizen)
    assert client.post("/licence/apply", data={}).status_code == 303
    with conn():
        assert ELicence.get(ELicence.holder == citizen.id).record.licence_no == (
            citizen.resident_id
        )


@pytest.mark.parametrize(
    ("record_kw", "message"),
    [
        (None, "没有以您身份证号码登记"),
        ({"name": "别人"}, "姓名与驾驶证档案不一致"),
        ({"status": "suspended"}, "暂扣"),
        ({"valid_until": dt.date(2020, 1, 1)}, "已过期"),
        ({"points": 12}, "记满"),
    ],
)
def test_apply_refused_with_the_reason(client, make, login, conn, record_kw, message):
    citizen = make.citizen()
    if record_kw is not None:
        make.licence_record(citizen, **record_kw)
    login(citizen)
    soup = page(client.post("/licence/apply", data={}), 422)
    assert message in soup.select_one(".form-error").get_text()
    with conn():
        assert ELicence.select().count() == 0


def test_licence_pages_need_an_elicence_and_a_citizen(client, make, login):
    """Without an e-licence (a bookmarked code page, say) the pages lead to the e-licence home,
    which says so and how to apply."""
    login(make.citizen())
    for url in ("/licence/card", "/licence/code", "/licence/checks", "/licence/share"):
        response = client.get(url)
        assert (response.status_code, response.location) == (303, "/licence/")
        told = page(client.get("/licence/")).select_one(".flash").get_text()
        assert "您还没有电子驾驶证" in told
    refresh = client.get("/licence/code", headers={"HX-Request": "true"})
    assert refresh.headers["HX-Redirect"] == "/licence/"
    client.post("/logout", data={})
    login(make.staff("licence_clerk"))
    assert client.get("/licence/card").status_code == 403


def test_card_masks_the_number_until_an_audited_reveal(client, make, login, conn):
    el = make.elicence()
    login(el.holder)
    soup = page(client.get("/licence/card"))
    number = soup.find(id="licence-no").get_text()
    assert number == el.record.licence_no[:6] + "********" + el.record.licence_no[-4:]
    assert "C1" in soup.get_text() and el.record.name in soup.get_text()
    soup = page(client.post("/licence/card/reveal", data={}), allow_ids=(el.record.licence_no,))
    assert soup.find(id="licence-no").get_text() == el.record.licence_no
    with conn():
        assert AuditEvent.get(AuditEvent.action == "licence.reveal").actor_id == el.holder.id


def test_card_names_the_nationality_in_the_readers_language(client, make, login):
    el = make.elicence()
    login(el.holder)
    card = page(client.get("/licence/card", headers={"Accept-Language": "en"}))
    facts = {
        term.get_text(strip=True): term.find_next_sibling("dd").get_text(strip=True)
        for term in card.select("dt")
    }
    assert facts["Nationality"] == "China"
    assert "国籍中国" in page(client.get("/licence/card")).get_text("", strip=True)


def test_code_page_shows_qr_code_and_refreshes(client, make, login, app):
    el = make.elicence()
    login(el.holder)
    soup = page(client.get("/licence/code"))
    panel = soup.find(id="code-panel")
    assert "is-valid" in panel["class"]
    assert panel.select_one(".code-qr svg path.qrline")["stroke"] == "#000"
    digits = panel.select_one(".code-otp").get_text().replace(" ", "")
    assert (
        totp.matching_step(el.secret, digits, time.time(), step=licencecode.CODE_STEP_SECONDS)
        is not None
    )
    assert panel.select_one(".code-key").get_text().replace(" ", "") == el.typing_key
    assert panel.select_one(".code-qr svg") is not None
    # The holder reads out two parts: the page says which is which, as the key is drawn.
    assert len(el.typing_key) == 8 and "识别码（前 8 位，灰色）" in soup.get_text()
    assert re.fullmatch(r"load delay:\d+s, every 30s", panel["data-hx-trigger"])
    refresh = soup.find("noscript").find("meta")
    assert refresh["http-equiv"] == "refresh" and 1 <= int(refresh["content"]) <= 30
    fragment = client.get("/licence/code", headers={"HX-Request": "true"})
    html = fragment.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="code-panel"') and "<html" not in html
    assert el.record.licence_no not in html and el.record.licence_no not in str(soup)


def check_at(app, conn, elicence, code, now) -> str:
    """The verdict on a typed check of `code` at the moment `now` (seconds since the epoch)."""
    with app.test_request_context(), conn():
        return licence_checks.check_code(
            code=code, via="typed", typing_key=elicence.typing_key, now=now
        ).verdict


def test_the_licence_step_is_the_measures_own_clock(app, client, make, login, conn, monkeypatch):
    """Setting the licence code's step to 60 s makes codes live twice as long and the code page
    count down from 60, while staff still log in with their authenticator's 30 s codes."""
    monkeypatch.setattr(licencecode, "CODE_STEP_SECONDS", 60)
    staff = make.staff("admin")
    staff_client = app.test_client()
    staff_client.post("/login", data={"account": staff.username, "password": Factory.PASSWORD})
    code = pyotp.TOTP(staff.totp_secret).now()
    assert staff_client.post("/login/code", data={"code": code}).status_code == 303

    # A code shown 5 s into a minute is still good 105 s later (the next 60 s step)...
    minute = 60 * int(time.time() // 60)
    shown, checked = minute - 55, minute + 50
    el = make.elicence()
    assert check_at(app, conn, el, pyotp.TOTP(el.secret, interval=60).at(shown), checked) == "valid"
    # ...where under 30 s steps a code as old has expired.
    monkeypatch.setattr(licencecode, "CODE_STEP_SECONDS", 30)
    other = make.elicence()
    old = pyotp.TOTP(other.secret).at(shown)
    assert check_at(app, conn, other, old, checked) == "expired-code"

    monkeypatch.setattr(licencecode, "CODE_STEP_SECONDS", 60)
    login(el.holder)
    soup = page(client.get("/licence/code"))
    # The countdown runs for 60 s, started as far into the step as the code is.
    remaining = int(soup.find("noscript").find("meta")["content"])
    assert 1 <= remaining <= 60
    assert soup.select_one(".countdown-bar")["class"] == ["countdown-bar", f"cd-{60 - remaining}"]
    css = client.get(soup.find("link", href=re.compile(r"countdown\.css"))["href"])
    assert css.status_code == 200 and css.mimetype == "text/css"
    text = css.get_data(as_text=True)
    assert ".countdown-bar { animation-duration: 60s; }" in text
    assert ".cd-59 { animation-delay: -59s; }" in text and ".cd-60 " not in text
    assert "每 60 秒更新" in soup.get_text()
    digits = soup.select_one(".code-otp").get_text().replace(" ", "")
    assert totp.matching_step(el.secret, digits, time.time(), step=60) is not None


def test_code_is_red_when_the_licence_is_not_valid(client, make, login, conn):
    el = make.elicence()
    with conn():
        LicenceRecord.update(status="suspended").where(LicenceRecord.id == el.record_id).execute()
    login(el.holder)
    soup = page(client.get("/licence/code"))
    panel = soup.find(id="code-panel")
    assert "is-invalid" in panel["class"]
    assert panel.select_one(".code-qr svg path.qrline")["stroke"] == "#c62828"


def test_check_log_lists_every_check(client, make, login):
    el = make.elicence()
    code = licencecode.qr_code(
        el.secret, totp.step_at(time.time(), step=licencecode.CODE_STEP_SECONDS)
    )
    client.get(f"/v/{el.handle}/{code}")
    client.get(f"/v/{el.handle}/{code}")
    login(el.holder)
    soup = page(client.get("/licence/checks"))
    rows = [r.get_text(" ", strip=True) for r in soup.select("tbody tr")]
    assert len(rows) == 2
    assert "电子码已使用" in rows[0] and "驾驶证有效" in rows[1]
    assert all("未登录的核验方" in r and "扫码" in r for r in rows)


def test_reset_asks_first_and_replaces_the_secret(client, make, login, conn):
    el = make.elicence()
    login(el.holder)
    soup = page(client.get("/licence/reset-codes"))
    assert soup.find(id="reset-form")
    with conn():
        assert ELicence.get_by_id(el.id).secret == el.secret  # nothing happens on GET
    assert client.post("/licence/reset-codes", data={}).status_code == 303
    with conn():
        fresh = ELicence.get_by_id(el.id)
        assert fresh.secret != el.secret and fresh.typing_key != el.typing_key
        assert AuditEvent.get(AuditEvent.action == "licence.codes_reset")


def test_share_code_for_a_firm(client, make, login, conn):
    el = make.elicence(points=4)
    login(el.holder)
    response = client.post("/licence/share", data={"days": "7", "note": "某租车公司"})
    soup = page(response)
    code = soup.select_one(".share-code").get_text().replace("-", "")
    with conn():
        share = ShareCode.get(ShareCode.code == code)
        assert 6.9 < (share.expires_at - utcnow()).total_seconds() / 86400 <= 7
    last6 = el.record.licence_no[-6:]
    result = page(client.get(f"/verify/share?code={code[:4]}-{code[4:]}&last6={last6}&firm=租车"))
    text = result.get_text()
    # Typed with a Chinese input method: full-width letters, digits and dash, read as meant.
    full = {c: chr(ord(c) + 0xFEE0) for c in "0123456789ABCDEFGHJKMNPQRSTVWXYZX-"}
    typed = "".join(full[c] for c in f"{code[:4]}-{code[4:]}")
    again = page(client.get(f"/verify/share?code={typed}&last6={''.join(full[c] for c in last6)}"))
    assert "驾驶证有效" in again.get_text()
    assert "驾驶证有效" in text and el.record.name in text and "C1" in text
    assert "4 / 12" not in text  # points not chosen
    wrong = page(client.get(f"/verify/share?code={code}&last6=000000"))
    # The share code's own words, not the roadside code's 电子码无效.
    assert "分享码或驾驶证号码后 6 位不正确" in wrong.get_text()
    with conn():
        checks = list(
            LicenceCheck.select().where(LicenceCheck.via == "share").order_by(LicenceCheck.id)
        )
        assert [(c.verdict, c.checker_kind, c.checker_label) for c in checks] == [
            ("valid", "firm", "租车"),
            ("valid", "firm", ""),
            ("invalid", "firm", ""),
        ]
    asked = page(client.post(f"/licence/share/{share.id}/cancel", data={}))
    assert f"{code[:4]}-{code[4:]}" in asked.get_text()  # asked first: still good
    assert "驾驶证有效" in page(client.get(f"/verify/share?code={code}&last6={last6}")).get_text()
    client.post(f"/licence/share/{share.id}/cancel", data={"confirmed": "yes"})
    after = page(client.get(f"/verify/share?code={code}&last6={last6}"))
    assert "分享码已过期或已被持证人取消" in after.get_text()  # was 电子码已过期
    # The holder's log says the same of that check, in the share code's words.
    log = page(client.get("/licence/checks")).select("tbody tr")
    assert "分享码已过期或已被持证人取消" in log[0].get_text()
    assert "分享码或驾驶证号码后 6 位不正确" in page(client.get("/licence/checks")).get_text()


def test_share_code_with_points_and_limits(client, make, login):
    el = make.elicence(points=4)
    login(el.holder)
    soup = page(client.post("/licence/share", data={"days": "21", "show_points": "y"}))
    code = soup.select_one(".share-code").get_text()
    result = client.get(f"/verify/share?code={code}&last6={el.record.licence_no[-6:]}")
    assert "4 / 12" in result.get_data(as_text=True)
    for days in ("0", "22", "x"):
        assert client.post("/licence/share", data={"days": days}).status_code == 422


def test_a_licence_has_at_most_ten_share_codes_in_use_at_once(client, make, login, conn):
    """The eleventh live share code is refused with what to do; an expired or a cancelled one
    does not count."""
    el = make.elicence()
    with conn():
        ShareCode.create(elicence=el.id, expires_at=utcnow() - dt.timedelta(days=1))
    login(el.holder)
    for _ in range(10):
        assert client.post("/licence/share", data={"days": "3"}).status_code == 200
    soup = page(client.post("/licence/share", data={"days": "3"}), 422)
    assert "最多只能同时有 10 个" in soup.select_one(".form-error").get_text()
    with conn():
        share = ShareCode.select().where(ShareCode.elicence == el.id).order_by(ShareCode.id.desc())
        last = share.first()
    client.post(f"/licence/share/{last.id}/cancel", data={"confirmed": "yes"})
    assert client.post("/licence/share", data={"days": "3"}).status_code == 200


def test_cannot_cancel_someone_elses_share_code(client, make, login, conn):
    other = make.elicence()
    with conn():
        share = ShareCode.create(elicence=other.id, expires_at=utcnow() + dt.timedelta(days=1))
    login(make.elicence().holder)
    assert client.post(f"/licence/share/{share.id}/cancel", data={}).status_code == 404


@pytest.mark.parametrize(("days", "message"), [("0", "请选择 1 至 21 天。"), ("", "此项必填。")])
def test_share_days_zero_gets_the_range_message(client, make, login, days, message):
    """0 is typed, so it is out of range, not missing, not 此项必填."""
    login(make.elicence().holder)
    soup = page(client.post("/licence/share", data={"days": days}), 422)
    assert soup.find(id="days-error").get_text(strip=True) == message
