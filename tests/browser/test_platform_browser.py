"""The platform in a real headless Chromium: register, staff 2FA login, language, phone layout."""

import io

import pyotp
import pytest
import zxingcpp
from PIL import Image

from models import User, db
from tests.browser.pages import confirm_registration, htmx_settled, no_horizontal_scroll
from tests.factories import Factory

pytestmark = pytest.mark.browser


def test_register_with_htmx_and_field_errors(phone, live_app, base_url):
    phone.goto(f"{base_url}/register")
    phone.fill("#real_name", "孙志强")
    phone.fill("#resident_id", "110105194912310021")  # wrong check digit
    phone.fill("#mobile", "13812345678")
    phone.fill("#password", "Lantern-Harbour-42")
    phone.fill("#confirm", "Lantern-Harbour-42")
    phone.click("#register-form button[type=submit]")
    error = phone.locator("#resident_id-error")
    error.wait_for()
    htmx_settled(phone)
    assert "校验码" in error.inner_text()
    assert no_horizontal_scroll(phone)
    phone.fill("#resident_id", "11010519491231002X")
    phone.fill("#password", "Lantern-Harbour-42")
    phone.fill("#confirm", "Lantern-Harbour-42")
    phone.click("#register-form button[type=submit]")
    confirm_registration(phone, live_app, base_url, "13812345678")
    phone.wait_for_url(f"{base_url}/account/identity")
    assert "欢迎" in phone.locator(".flash").inner_text()


def test_register_works_with_javascript_off(browser, live_app, base_url):
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 360, "height": 640}, locale="zh-CN"
    )
    page = context.new_page()
    page.goto(f"{base_url}/register")
    page.fill("#real_name", "周丽华")
    page.fill("#resident_id", "11010519491231002X")
    page.fill("#mobile", "13912345678")
    page.fill("#password", "Lantern-Harbour-42")
    page.fill("#confirm", "Lantern-Harbour-42")
    page.click("#register-form button[type=submit]")
    confirm_registration(page, live_app, base_url, "13912345678")
    page.wait_for_url(f"{base_url}/account/identity")
    assert "欢迎" in page.content()
    context.close()


def _staff(live_app, enrolled=True):
    with live_app.app_context():
        return Factory().staff("admin", enrolled=enrolled)


def test_staff_login_with_totp(desktop, live_app, base_url):
    staff = _staff(live_app)
    desktop.goto(f"{base_url}/login")
    desktop.fill("#account", staff.username)
    desktop.fill("#password", Factory.PASSWORD)
    desktop.click("#login-form button[type=submit]")
    desktop.wait_for_url(f"{base_url}/login/code")
    desktop.fill("#code", "000000")
    desktop.click("#code-form button[type=submit]")
    desktop.locator(".form-error").wait_for()
    htmx_settled(desktop)
    desktop.fill("#code", Factory.fresh_code(staff))
    desktop.click("#code-form button[type=submit]")
    desktop.wait_for_url(f"{base_url}/staff/")
    assert desktop.locator("h1").inner_text() == "工作台"


def test_enrolment_qr_decodes_to_a_standard_otpauth_uri(desktop, live_app, base_url):
    staff = _staff(live_app, enrolled=False)
    desktop.goto(f"{base_url}/login")
    desktop.fill("#account", staff.username)
    desktop.fill("#password", Factory.PASSWORD)
    desktop.click("#login-form button[type=submit]")
    desktop.wait_for_url(f"{base_url}/login/enrol")
    png = desktop.locator(".qr").screenshot()
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert len(results) == 1
    uri = results[0].text
    with db.connection_context():
        secret = User.get_by_id(staff.id).totp_secret
    assert uri == f"otpauth://totp/jiaoguan:{staff.username}?secret={secret}&issuer=jiaoguan"
    desktop.fill("#password", "Quiet-Harbour-64")  # their own, not the one they were given
    desktop.fill("#confirm", "Quiet-Harbour-64")
    desktop.fill("#code", pyotp.parse_uri(uri).now())
    desktop.click("#code-form button[type=submit]")
    desktop.wait_for_url(f"{base_url}/staff/")


def test_language_switch(phone, base_url):
    phone.goto(f"{base_url}/login")
    assert phone.locator("h1").inner_text() == "登录"
    phone.click("button[value=en]")
    phone.wait_for_load_state()
    assert phone.locator("h1").inner_text() == "Log in"
    assert phone.locator("html").get_attribute("lang") == "en"
    phone.click("button[value=zh]")
    phone.wait_for_load_state()
    assert phone.locator("h1").inner_text() == "登录"


@pytest.mark.parametrize("path", ["/", "/login", "/register", "/no-such-page"])
def test_no_horizontal_scroll_at_360(phone, base_url, path):
    phone.goto(f"{base_url}{path}")
    assert no_horizontal_scroll(phone)


def test_admin_pages_fit_a_phone(phone, live_app, base_url):
    with live_app.app_context():  # an administrator who is a clerk too: many links
        staff = Factory().staff("admin", "vehicle_clerk", "truckpass_clerk")
    phone.goto(f"{base_url}/login")
    phone.fill("#account", staff.username)
    phone.fill("#password", Factory.PASSWORD)
    phone.click("#login-form button[type=submit]")
    phone.wait_for_url(f"{base_url}/login/code")
    phone.fill("#code", Factory.fresh_code(staff))
    phone.click("#code-form button[type=submit]")
    phone.wait_for_url(f"{base_url}/staff/")
    for path in ("/staff/accounts", "/staff/audit", "/staff/offices", "/account"):
        phone.goto(f"{base_url}{path}")
        assert no_horizontal_scroll(phone), path
        # Every link of the navigation, Log out the last, is in view without scrolling it
        # sideways (staff have many links, and field phones are shared).
        for link in phone.locator("nav.nav a, nav.nav button").all():
            box = link.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 360, (path, link.inner_text())
