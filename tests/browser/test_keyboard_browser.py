"""Keyboard only (Tab, Enter, Space, typing): registration and the truck-pass wizard complete,
with focus where it should be after each step and each error.

With JavaScript on, htmx swaps each step and static/js/focus.js moves focus to the new step's
heading or to the first field in error; the error summary (role="alert") links to the fields
and the title says "错误：". With JavaScript off, Enter in a field still goes forward.
"""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from core.sms import DevGateway
from rules.clock import beijing_today
from tests.browser.test_truckpass_browser import log_in, setup
from tests.factories import Factory
from tests.helpers import newest_code

pytestmark = pytest.mark.browser
TABS = 40  # more than any page has before the field wanted


def focused(page, selector: str) -> bool:
    return page.evaluate("s => document.activeElement.matches(s)", selector)


def tab_to(page, selector: str) -> None:
    """Press Tab until the element is focused (the way a keyboard user gets there)."""
    for _ in range(TABS):
        if focused(page, selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


def type_date(page, selector: str, day: dt.date) -> None:
    """Type a date into the focused date field, segment by segment as a keyboard user would.

    Chromium lays the field out in its own locale (month/day/year here, whatever the page's
    language); a different layout fails here, by name, rather than further on.
    """
    page.keyboard.type(day.strftime("%m%d%Y"))
    assert page.locator(selector).input_value() == day.isoformat(), "date field layout"


def expect_error_at(page, field_id: str) -> None:
    """The field in error has focus, the summary announces it and links to it, the title says so.

    The summary is awaited first: the field may have had focus before the answer came (Enter
    pressed in it), so its focus alone does not say that the new step is in place.
    """
    summary = page.locator(".error-summary[role=alert]")
    expect(summary.locator(f"a[href='#{field_id}']")).to_have_count(1)
    expect(page.locator(f"#{field_id}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{field_id}")).to_be_focused()
    expect(page).to_have_title(re.compile(r"^错误："))


def expect_heading(page, text: str) -> None:
    """The new step's heading has focus."""
    heading = page.locator("#apply-form > h2")
    expect(heading).to_have_text(text)
    expect(heading).to_be_focused()


def test_registration_by_keyboard(phone, live_app, base_url):
    make = Factory(live_app)
    resident_id, mobile = make.resident_id(), "139" + str(make.rng.randrange(10**7, 10**8))
    page = phone
    page.goto(f"{base_url}/register")
    expect(page.locator("#real_name")).to_be_focused()  # autofocus
    page.keyboard.type("王小明")
    page.keyboard.press("Tab")
    page.keyboard.type("12345")  # too short
    tab_to(page, "#mobile")
    page.keyboard.type(mobile)
    tab_to(page, "#password")
    page.keyboard.type("a long enough passphrase")
    tab_to(page, "#confirm")
    page.keyboard.type("a long enough passphrase")
    page.keyboard.press("Enter")
    expect_error_at(page, "resident_id")
    page.keyboard.press("Control+A")
    page.keyboard.type(resident_id)
    page.keyboard.press("Enter")  # the passwords are not sent back: now they are missing
    expect_error_at(page, "password")
    page.keyboard.type("a long enough passphrase")
    page.keyboard.press("Tab")
    expect(page.locator("#confirm")).to_be_focused()
    page.keyboard.type("a long enough passphrase")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/register/confirm")
    expect(page.locator("#code")).to_be_focused()  # the code's field, ready for typing
    page.keyboard.type(newest_code(DevGateway(live_app.config["SMS_DEV_FILE"]), mobile))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/account/identity")
    assert not page.title().startswith("错误")


def test_truck_pass_wizard_by_keyboard(phone, live_app, base_url):
    owner, truck, zone = setup(live_app)
    page = phone
    log_in(page, base_url, owner)
    start = beijing_today() + dt.timedelta(days=1)
    page.goto(f"{base_url}/trucks/apply")
    tab_to(page, "#plate")
    page.keyboard.press("Enter")  # no plate
    expect_error_at(page, "plate")
    page.keyboard.type(truck.plate)
    page.keyboard.press("Enter")
    expect_heading(page, "车型和排放标准")
    expect(page).not_to_have_title(re.compile(r"^错误"))
    tab_to(page, "#apply-form button.primary")
    page.keyboard.press("Enter")
    expect_heading(page, "区域")
    tab_to(page, f"input[name=zones][value='{zone.id}']")
    page.keyboard.press("Space")
    tab_to(page, "#apply-form button.primary")
    page.keyboard.press("Enter")
    expect_heading(page, "日期和每日时段")
    tab_to(page, "#start_date")
    type_date(page, "#start_date", start)
    tab_to(page, "#windows")
    page.keyboard.type("07:00-09:00")  # within the hours the zone restricts, filled in first
    page.keyboard.press("Enter")  # forward, not back: the last day is missing
    expect_error_at(page, "end_date")
    type_date(page, "#end_date", start + dt.timedelta(days=2))
    tab_to(page, "#windows")
    page.keyboard.press("Enter")
    expect_heading(page, "用途和证明材料")
    tab_to(page, "#purpose")
    page.keyboard.type("钢材运输至港区")
    tab_to(page, "#apply-form button.primary")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/trucks/passes/*")
    assert "已批准" in page.locator("#pass-panel").inner_text()


def test_enter_goes_forward_with_javascript_off(browser, live_app, base_url):
    owner, truck, _zone = setup(live_app)
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="zh-CN", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, base_url, owner)
    page.goto(f"{base_url}/trucks/apply")
    tab_to(page, "#plate")
    page.keyboard.press("Enter")
    expect(page.locator(".error-summary[role=alert] a[href='#plate']")).to_have_count(1)
    expect(page).to_have_title(re.compile(r"^错误："))
    tab_to(page, "#plate")
    page.keyboard.type(truck.plate)
    page.keyboard.press("Enter")
    expect(page.locator(".wizard-step")).to_have_text("第 2 步，共 5 步")
    # Step 2 has a Back button; the first button in the source, pressed by Enter, is Next.
    assert page.locator("#apply-form .actions button").first.get_attribute("name") is None
    tab_to(page, "#apply-form button.primary")
    page.keyboard.press("Enter")
    expect(page.locator(".wizard-step")).to_have_text("第 3 步，共 5 步")
    context.close()
