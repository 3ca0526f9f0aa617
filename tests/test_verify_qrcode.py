"""The QR's long code at the verifier: decoded with a real decoder it is 20 characters and works
once; random guesses never lock the licence; old 6-digit QR URLs get their own verdict."""

import io
import secrets
import time

import zxingcpp
from PIL import Image

from blueprints.licence import checks, service
from blueprints.licence.views import qr_symbol
from models import LicenceCheck, db
from rules import licencecode, totp
from rules.licencecode import CODE_STEP_SECONDS

from .test_verify import code_at, one_step_codes, qr_code_at, qr_url, verdict


def code_page_qr_text(client, login, elicence) -> str:
    """The holder's code page as an inspector's phone sees it: its QR, decoded by zxing-cpp."""
    login(elicence.holder)
    before = time.time()
    body = client.get("/licence/code").get_data(as_text=True)
    after = time.time()
    client.post("/logout", data={})
    base = client.application.config["PUBLIC_BASE_URL"]
    # The code of the step the page was drawn in: on a loaded machine the request may have
    # crossed a step boundary, so the page shows the code of the step at its start or at its end.
    shown = [
        url
        for url in {
            service.verify_url(base, elicence, service.current_qr_code(elicence, t))
            for t in (before, after)
        }
        if qr_symbol(url).svg_inline(omitsize=True, border=2, dark="#000", light="#fff") in body
    ]
    assert len(shown) == 1  # the page shows exactly this symbol
    url = shown[0]
    png = io.BytesIO()
    qr_symbol(url).save(png, kind="png", scale=6, border=4)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.getvalue())))
    assert len(found) == 1
    return found[0].text


def test_decoded_qr_carries_a_long_code_that_works_once(client, make, login):
    el = make.elicence()
    text = code_page_qr_text(client, login, el)
    base = client.application.config["PUBLIC_BASE_URL"]
    assert text.startswith(f"{base}/v/{el.handle}/")
    code = text.rsplit("/", 1)[1]
    assert len(code) >= 20 and set(code) <= set(licencecode.CROCKFORD)
    assert code != code_at(el) and code_at(el) not in code
    path = text.removeprefix(base)
    assert verdict(client.get(path)) == "valid"
    assert verdict(client.get(path)) == "used-code"


def test_ten_thousand_random_qr_codes_never_lock_the_licence(app, make):
    """Through the service function (the verifier's own check), so the loop stays quick."""
    el = make.elicence()
    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.66"}):
        db.connect(reuse_if_open=True)
        verdicts = set()
        # A commit every 25 checks: the same rows, written far faster than one commit each.
        # Not one transaction for the lot: on PostgreSQL each check then took longer than the
        # one before (its savepoints, and one counter row updated over and over in it), and the
        # test took 69 s instead of 19.
        for _ in range(10_000 // 25):
            with db.atomic():
                for _ in range(25):
                    guess = "".join(secrets.choice(licencecode.CROCKFORD) for _ in range(20))
                    check = checks.check_code(handle=el.handle, code=guess, via="qr")
                    verdicts.add(check.verdict)
        assert verdicts == {"invalid"}
        assert LicenceCheck.select().where(LicenceCheck.elicence == el.id).count() == 10_000
        db.close()
    inspector = app.test_client()
    inspector.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert verdict(inspector.get(qr_url(el, qr_code_at(el)))) == "valid"


def test_the_stranger_address_itself_is_not_locked_out_of_qr_checks(client, make):
    """Wrong QR codes count nowhere: even the guesser's own next real check is answered."""
    el = make.elicence()
    for _ in range(40):
        guess = "".join(secrets.choice(licencecode.CROCKFORD) for _ in range(20))
        assert verdict(client.get(qr_url(el, guess))) == "invalid"
    assert verdict(client.get(qr_url(el, qr_code_at(el)))) == "valid"


def test_a_qr_code_and_the_typed_code_share_one_step(client, make):
    el = make.elicence()
    qr_code, typed = one_step_codes(el)
    assert verdict(client.get(qr_url(el, qr_code))) == "valid"
    assert verdict(client.get(f"/verify/check?key={el.typing_key}&code={typed}")) == "used-code"


def test_an_old_six_digit_qr_url_gets_the_old_code_format_verdict(client, make):
    el = make.elicence()
    response = client.get(qr_url(el, code_at(el)))
    assert verdict(response) == "old-code-format"
    assert "刷新亮码页面" in response.get_data(as_text=True)
    english = client.get(qr_url(el, code_at(el)) + "?hl=en").get_data(as_text=True)
    assert "Old code format" in english and "refresh the code page" in english
    # It uses nothing up: the current QR code still works.
    assert verdict(client.get(qr_url(el, qr_code_at(el)))) == "valid"


def test_an_expired_qr_code_is_reported_as_expired(client, make):
    el = make.elicence()
    step = totp.step_at(time.time(), step=CODE_STEP_SECONDS) - 5
    assert verdict(client.get(qr_url(el, licencecode.qr_code(el.secret, step)))) == "expired-code"
