"""The verifier: verdicts, once-only codes, throttling, headers, and what each checker sees."""

import re
import time

import pytest
from bs4 import BeautifulSoup

from models import AuditEvent, ELicence, LicenceCheck, LicenceRecord
from rules import totp

from .helpers import page, unmasked_ids


def code_at(elicence, steps_back=0):
    """The code of the current step, or of an earlier one."""
    return totp.totp(elicence.secret).generate_otp(totp.step_at(time.time()) - steps_back)


def verdict(response) -> str:
    soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
    return soup.find("meta", attrs={"name": "verification-result"})["content"]


def qr_url(elicence, code):
    return f"/v/{elicence.handle}/{code}"


def test_valid_then_used_then_expired_then_invalid(client, make):
    el = make.elicence()
    code = code_at(el)
    first = client.get(qr_url(el, code))
    assert verdict(first) == "valid"
    soup = page(first)
    text = soup.get_text()
    assert el.record.name in text and "驾驶证有效" in text
    assert soup.find("img", src=re.compile(r"^/v/photo/")) is None  # no photo on this record
    assert verdict(client.get(qr_url(el, code))) == "used-code"
    assert verdict(client.get(qr_url(el, code_at(el, 2)))) == "expired-code"
    altered = code[:-1] + str((int(code[-1]) + 1) % 10)
    assert verdict(client.get(qr_url(el, altered))) == "invalid"


def test_previous_step_is_accepted_once(client, make):
    el = make.elicence()
    assert verdict(client.get(qr_url(el, code_at(el, 1)))) == "valid"
    assert verdict(client.get(qr_url(el, code_at(el, 1)))) in ("used-code", "expired-code")


def test_typed_key_and_code(client, make):
    el = make.elicence()
    key = el.typing_key.lower()
    response = client.get(f"/verify/check?key={key[:4]}+{key[4:]}&code={code_at(el)}")
    assert verdict(response) == "valid"
    assert verdict(client.get(f"/verify/check?key=ZZZZZZZZ&code={code_at(el)}")) == "invalid"
    assert client.get("/verify/check?key=&code=").status_code == 400


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
def test_the_licence_state_shows_on_the_next_check(client, make, conn, status, expected):
    el = make.elicence()
    assert verdict(client.get(qr_url(el, code_at(el, 1)))) == "valid"
    with conn():
        LicenceRecord.update(status=status).where(LicenceRecord.id == el.record_id).execute()
    assert verdict(client.get(qr_url(el, code_at(el)))) == expected


def test_expired_licence_and_points(client, make, conn):
    import datetime as dt

    el = make.elicence(valid_until=dt.date.today() - dt.timedelta(days=1))
    assert verdict(client.get(qr_url(el, code_at(el)))) == "expired-licence"
    el2 = make.elicence(points=12)
    assert verdict(client.get(qr_url(el2, code_at(el2)))) == "points-full"


def test_verifier_sends_no_script_and_strict_headers(client, make):
    el = make.elicence()
    for url in ("/verify", qr_url(el, code_at(el)), "/verify/share", "/v/x/1"):
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
    body = client.get(qr_url(el, code_at(el))).get_data(as_text=True)
    assert el.record.licence_no not in body and not unmasked_ids(body)
    assert el.record.licence_no[:6] + "********" + el.record.licence_no[-4:] in body


def test_inspector_sees_full_number_and_points(client, make, login):
    el = make.elicence(points=3)
    login(make.staff("police_inspector"))
    response = client.get(qr_url(el, code_at(el)))
    soup = page(response, allow_ids=(el.record.licence_no,))
    assert el.record.licence_no in soup.get_text() and "3 / 12" in soup.get_text()


def test_every_check_is_logged_for_the_holder_and_audited(client, make, conn):
    el = make.elicence()
    code = code_at(el)
    for _ in range(2):
        client.get(qr_url(el, code))
    with conn():
        checks = list(LicenceCheck.select().where(LicenceCheck.elicence == el.id))
        assert [c.verdict for c in checks] == ["valid", "used-code"]
        assert all(c.checker_kind == "anonymous" and c.via == "qr" for c in checks)
        audited = AuditEvent.select().where(
            (AuditEvent.action == "licence.check") & (AuditEvent.object_id == str(el.id))
        )
        assert [a.result for a in audited.order_by(AuditEvent.seq)] == ["valid", "used-code"]


def test_ten_failures_lock_the_licence_and_reset_escapes(client, make, login, conn):
    el = make.elicence()
    for i in range(10):
        wrong = f"{(int(code_at(el)) + 1 + i) % 1000000:06d}"
        client.get(qr_url(el, wrong))
    assert verdict(client.get(qr_url(el, code_at(el)))) == "throttled"
    # The holder sees the lock on the code page and revokes all codes.
    login(el.holder)
    assert "暂停" in client.get("/licence/code").get_data(as_text=True)
    client.post("/licence/reset-codes", data={})
    with conn():
        fresh = ELicence.get_by_id(el.id)
    assert fresh.handle != el.handle
    assert verdict(client.get(qr_url(fresh, code_at(fresh)))) == "valid"
    assert verdict(client.get(qr_url(el, code_at(fresh)))) == "invalid"  # the old QR is dead


def test_failed_lookups_throttle_the_client(client):
    for i in range(30):
        client.get(f"/verify/check?key=AAAA{i:04d}&code=123456")
    assert verdict(client.get("/verify/check?key=AAAA0000&code=123456")) == "throttled"


def test_a_locked_client_is_refused_even_a_genuine_code(client, make):
    el = make.elicence()
    for i in range(30):
        client.get(f"/verify/check?key=AAAA{i:04d}&code=123456")
    assert verdict(client.get(qr_url(el, code_at(el)))) == "throttled"


def test_one_licence_locked_leaves_another_alone(client, make):
    locked, other = make.elicence(), make.elicence()
    for i in range(10):
        client.get(qr_url(locked, f"{(int(code_at(locked)) + 1 + i) % 1000000:06d}"))
    assert verdict(client.get(qr_url(locked, code_at(locked)))) == "throttled"
    assert verdict(client.get(qr_url(other, code_at(other)))) == "valid"


def test_photo_link_is_signed_and_short_lived(client, make, app, conn):
    el = make.elicence(photo="photos/x.png")
    import os

    os.makedirs(os.path.join(app.config["UPLOAD_FOLDER"], "photos"), exist_ok=True)
    with open(os.path.join(app.config["UPLOAD_FOLDER"], "photos", "x.png"), "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + b"0" * 20)
    soup = page(client.get(qr_url(el, code_at(el))))
    src = soup.find("img")["src"]
    assert client.get(src).status_code == 200
    assert client.get(src[:-2] + "xx").status_code == 404


def test_json_endpoint_gives_the_same_verdict(client, make):
    el = make.elicence()
    code = code_at(el)
    body = client.get(f"/api/v1/licence-check?handle={el.handle}&code={code}").get_json()
    assert body["verdict"] == "valid" and body["licence"]["name"] == el.record.name
    assert "*" in body["licence"]["licence_no_masked"]
    again = client.get(f"/api/v1/licence-check?key={el.typing_key}&code={code}").get_json()
    assert again == {"verdict": "used-code", "checked_at": again["checked_at"]}
    assert client.get("/api/v1/licence-check").status_code == 400


def test_english_verifier(client, make):
    el = make.elicence()
    response = client.get(qr_url(el, code_at(el)) + "?hl=en")
    assert "Valid licence" in response.get_data(as_text=True)


def test_a_prefetch_or_head_does_not_use_up_the_code(client, make):
    el = make.elicence()
    url = qr_url(el, code_at(el))
    assert client.head(url).status_code == 204
    assert client.get(url, headers={"Sec-Purpose": "prefetch;prerender"}).status_code == 204
    assert verdict(client.get(url)) == "valid"


def test_the_verifier_never_sets_a_cookie_even_for_a_logged_in_inspector(client, make, login):
    login(make.staff("police_inspector"))
    el = make.elicence()
    for url in ("/verify", qr_url(el, code_at(el))):
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
