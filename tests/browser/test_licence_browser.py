"""The e-licence in a real Chromium: the QR decodes to the verify URL, the verifier without
JavaScript, the code page on a phone."""

import datetime as dt
import io
import random
import re
import time

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from blueprints.licence import checks
from blueprints.licence.demo import avatar_png
from core.demo import DEMO_KEY
from core.notices import notify
from core.uploads import store_bytes
from models import Setting, ShareCode, db, utcnow, write_tx
from rules import licencecode, totp
from rules.licencecode import CODE_STEP_SECONDS
from tests.browser.pages import no_horizontal_scroll
from tests.factories import Factory

pytestmark = pytest.mark.browser


def holder_with_photo(live_app):
    with live_app.test_request_context():
        photo = store_bytes(avatar_png(random.Random(1), False), "photos", {"image/png"}, 1 << 20)
        return Factory().elicence(photo=photo.relpath)


def log_in(page, base_url, user):
    page.goto(f"{base_url}/login")
    page.fill("#account", user.mobile)
    page.fill("#password", Factory.PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_qr_on_the_code_page_is_exactly_the_verify_url(phone, browser, live_app, base_url):
    el = holder_with_photo(live_app)
    log_in(phone, base_url, el.holder)
    phone.goto(f"{base_url}/licence/code")
    # The page renews its codes at each step: the typed code read before and after the
    # screenshot is the same when the screenshot falls inside one step (one renewal at most).
    for _ in range(2):
        typed = phone.locator(".code-otp").inner_text().replace(" ", "")
        png = phone.locator(".code-qr").screenshot()
        if phone.locator(".code-otp").inner_text().replace(" ", "") == typed:
            break
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    url = results[0].text
    # The QR carries the long code of the step whose typed code the page shows, not the typed one.
    step = totp.matching_step(el.secret, typed, time.time(), step=CODE_STEP_SECONDS, back=1)
    assert url == f"{base_url}/v/{el.handle}/{licencecode.qr_code(el.secret, step)}"
    assert len(url.rsplit("/", 1)[1]) == 20 and typed not in url
    assert el.record.licence_no not in url

    inspector = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="zh-CN", java_script_enabled=False
    ).new_page()
    inspector.goto(url)
    assert inspector.locator('meta[name="verification-result"]').get_attribute("content") == "valid"
    assert el.record.name in inspector.content()
    photo = inspector.locator("#zh img")  # the page also holds an English copy (#en)
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")
    inspector.goto(url)
    assert inspector.locator('meta[name="verification-result"]').get_attribute("content") == (
        "used-code"
    )
    inspector.context.close()


def test_typed_check_with_javascript_off_at_360(browser, live_app, base_url):
    el = holder_with_photo(live_app)
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{base_url}/verify")
    assert page.evaluate("document.documentElement.scrollWidth <= 360")
    page.fill("#key", f"{el.typing_key[:4]} {el.typing_key[4:]}")
    page.fill("#code", totp.totp(el.secret, step=CODE_STEP_SECONDS).now())
    page.click("form[action$='/verify/check'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/verify/check\?.*"))
    assert page.locator('meta[name="verification-result"]').get_attribute("content") == "valid"
    assert page.locator(".verdict:visible").inner_text() == "✓ 驾驶证有效"
    assert page.evaluate("document.documentElement.scrollWidth <= 360")
    context.close()


def test_code_page_refreshes_itself_with_htmx(phone, live_app, base_url):
    el = holder_with_photo(live_app)
    log_in(phone, base_url, el.holder)
    phone.goto(f"{base_url}/licence/code")
    assert phone.evaluate("document.documentElement.scrollWidth <= 360")
    trigger = phone.locator("#code-panel").get_attribute("data-hx-trigger")
    delay = int(re.search(r"delay:(\d+)s", trigger).group(1))
    # The first panel is marked, so that what follows reads the swapped-in one, never the one
    # being taken out of the page (whose computed style is empty once detached).
    phone.evaluate("document.getElementById('code-panel').dataset.first = 'yes'")
    with phone.expect_response(re.compile(r".*/licence/code$"), timeout=(delay + 5) * 1000) as r:
        pass
    assert r.value.request.headers.get("hx-request") == "true"
    # The panel's own refresh says so (static/js/refresh.js): a 5xx then keeps what it shows.
    assert r.value.request.headers.get("x-background-refresh") == "1"
    fresh = phone.locator("#code-panel:not([data-first])")
    fresh.wait_for()
    # The swapped-in countdown runs for one licence code step (its stylesheet is made from it).
    bar = fresh.locator(".countdown-bar")
    assert bar.evaluate("b => getComputedStyle(b).animationDuration") == f"{CODE_STEP_SECONDS}s"
    assert bar.evaluate("b => b.getAnimations()[0].playState") == "running"


def test_photo_check_with_javascript_off_at_360(browser, live_app, base_url, tmp_path):
    """The inspector's phone has no scanner app and no script: it photographs the driver's
    screen in the verifier page itself."""
    from tests.test_verify_photo import code_page_qr, jpeg, on_a_phone_screen

    el = holder_with_photo(live_app)
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(jpeg(on_a_phone_screen(code_page_qr(live_app, el))))
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="zh-CN", java_script_enabled=False
    )
    page = context.new_page()
    page.goto(f"{base_url}/verify")
    assert page.evaluate("document.documentElement.scrollWidth <= 360")
    assert page.locator("#photo").get_attribute("capture") == "environment"
    page.set_input_files("#photo", str(photo))
    page.click("form[action$='/verify/photo'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/verify/photo$"))
    assert page.locator('meta[name="verification-result"]').get_attribute("content") == "valid"
    assert el.record.name in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= 360")
    context.close()


def in_view(page, selector: str) -> bool:
    """The element is wholly inside the viewport as the page first shows (nothing scrolled)."""
    box = page.locator(selector).bounding_box()
    size = page.viewport_size
    return (
        page.evaluate("window.scrollY") == 0
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


def test_code_page_at_360x640_shows_qr_key_and_code_and_counts_down(phone, live_app, base_url):
    el = holder_with_photo(live_app)
    log_in(phone, base_url, el.holder)
    # A wrong typed code puts a warning on the panel; the code still shows first. The code is
    # one no step of the last minutes had (else it would be "expired", not a guess).
    wrong = next(
        code
        for code in ("000000", "000001", "000002")
        if totp.matching_step(
            el.secret,
            code,
            time.time() + CODE_STEP_SECONDS,
            step=CODE_STEP_SECONDS,
            back=checks.EXPIRED_LOOKBACK_STEPS + 2,
        )
        is None
    )
    answer = phone.request.get(f"{base_url}/verify/check?key={el.typing_key}&code={wrong}")
    assert answer.ok, answer.status
    with live_app.app_context(), db.connection_context():
        assert checks.typed_check_standing(el)[1] == 1
    phone.goto(f"{base_url}/licence/code")
    assert phone.url == f"{base_url}/licence/code"
    expect(phone.locator("#code-panel .form-error")).to_have_count(1)
    for part in (".code-qr svg", ".code-key", ".code-otp"):
        assert in_view(phone, part), part
    # With JavaScript on, the seconds left count down (countdown.js) between the panel's swaps.
    seconds = phone.locator(".countdown-seconds")
    first = int(seconds.inner_text())
    expect(seconds).not_to_have_text(str(first), timeout=5000)
    assert int(seconds.inner_text()) < first or first <= 2


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_with_the_demo_banner_the_whole_code_shows_at_360x640(browser, live_app, base_url, lang):
    el = holder_with_photo(live_app)
    with live_app.app_context(), db.connection_context(), write_tx():
        Setting.set_value(DEMO_KEY, "[]")  # the demo city's banner on every page
        # An unread notice: its count and the count's words for screen readers in the nav.
        notify(el.holder, "identity.proven", method="sms", resident_id=el.holder.resident_id)
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale=lang)
    phone = context.new_page()
    log_in(phone, base_url, el.holder)
    phone.goto(f"{base_url}/licence/code")
    assert phone.locator(".demo-banner").is_visible()
    assert phone.locator("#nav-notices .badge").inner_text() == "1"
    # The navigation is one row that scrolls sideways, and the page itself does not.
    assert phone.evaluate("document.documentElement.scrollWidth <= 360")
    for part in (".code-qr svg", ".code-key", ".code-otp", ".countdown"):
        assert in_view(phone, part), part
    # Log out, the row's last item, is out of sight at the row's end: it is at the foot of
    # the page too (a shared phone), in reach of a scroll down, never sideways.
    footer_logout = phone.locator("#footer-logout")
    footer_logout.scroll_into_view_if_needed()
    box = footer_logout.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360 and box["height"] >= 44
    footer_logout.click()
    phone.wait_for_url(f"{base_url}/")
    assert phone.locator("#footer-logout").count() == 0
    context.close()


def test_a_share_code_is_a_card_with_every_fact_and_its_button_in_view_at_360(
    browser, live_app, base_url
):
    """On a phone each share code is a card: every fact under its label and the cancel button
    in view (a sticky actions column had covered the points and status columns)."""
    el = holder_with_photo(live_app)
    with live_app.app_context(), db.connection_context(), write_tx():
        ShareCode.create(
            elicence=el.id, expires_at=utcnow() + dt.timedelta(days=3), note="某租车公司某某门店"
        )
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    phone = context.new_page()
    log_in(phone, base_url, el.holder)
    phone.goto(f"{base_url}/licence/share")
    assert phone.evaluate("document.documentElement.scrollWidth <= 360")
    for part in ("td[data-label='显示记分']", "td[data-label='状态']", "td.row-actions button"):
        box = phone.locator(part).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 360, part
    # The code is not broken across lines.
    lines = phone.locator("td.mono").first.evaluate(
        "e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return r.getClientRects().length; }"
    )
    assert lines == 1
    context.close()


def test_the_check_log_is_one_card_a_check_on_a_phone(phone, live_app, base_url):
    """At 360 px each check is a card of labelled facts: its receipt link is in view, not cut
    off past the right edge of a sideways-scrolling table."""
    make = Factory(live_app)
    el = make.elicence()
    with live_app.test_request_context(), db.connection_context(), write_tx():
        checks.log_check(el, "qr", "valid", None)
    log_in(phone, base_url, el.holder)
    phone.goto(f"{base_url}/licence/checks")
    assert no_horizontal_scroll(phone)
    receipt = phone.locator("table.cards tbody td[data-label='回执'] a")
    assert receipt.count() == 1
    box = receipt.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360
