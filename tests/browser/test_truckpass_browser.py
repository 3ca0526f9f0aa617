"""A truck pass applied for through its steps in a real Chromium, with JavaScript on and off."""

import datetime as dt

import pytest

from core.notices import notify
from models import TruckPass, db, write_tx
from rules.clock import beijing_today
from tests.browser.pages import htmx_settled, no_horizontal_scroll
from tests.browser.test_licence_browser import in_view
from tests.factories import Factory

pytestmark = pytest.mark.browser


def setup(live_app):
    with live_app.app_context():
        make = Factory(live_app)
        owner = make.citizen()
        return owner, make.truck(owner), make.zone()


def log_in(page, base_url, user):
    page.goto(f"{base_url}/login")
    page.fill("#account", user.mobile)
    page.fill("#password", Factory.PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def walk_the_steps(page, base_url, truck, zone, htmx: bool, double_tap: bool = False):
    """Fill each step and go on; with htmx only the form is swapped, so the URL stays. With
    `double_tap`, the last button is tapped twice in quick succession."""
    start = beijing_today() + dt.timedelta(days=1)
    page.goto(f"{base_url}/trucks/apply")
    page.fill("#plate", truck.plate)
    for step, fill in (
        (2, lambda: page.locator("#apply-form", has_text="国六").wait_for()),  # as registered
        (3, lambda: page.check(f"input[name=zones][value='{zone.id}']")),
        (
            4,
            lambda: (
                page.fill("#start_date", start.isoformat()),
                page.fill("#end_date", (start + dt.timedelta(days=2)).isoformat()),
                page.fill("#windows", "07:00-09:00"),
            ),
        ),
        (5, lambda: page.fill("#purpose", "钢材运输至港区")),
    ):
        page.click("#apply-form button[type=submit]:not([name=back])")
        page.locator(".wizard-step", has_text=f"第 {step} 步").wait_for()
        if htmx:
            htmx_settled(page)
        assert no_horizontal_scroll(page)
        fill()
    last = "#apply-form button[type=submit]:not([name=back])"
    page.dblclick(last) if double_tap else page.click(last)
    page.wait_for_url(f"{base_url}/trucks/passes/*")
    assert "已批准" in page.locator("#pass-panel").inner_text()
    assert page.locator("#pass-panel .code-qr svg").count() == 1


def test_apply_with_javascript_on(phone, live_app, base_url):
    owner, truck, zone = setup(live_app)
    log_in(phone, base_url, owner)
    walk_the_steps(phone, base_url, truck, zone, htmx=True)


def test_a_double_tap_on_the_last_step_sends_one_application(phone, live_app, base_url):
    owner, truck, zone = setup(live_app)
    log_in(phone, base_url, owner)
    walk_the_steps(phone, base_url, truck, zone, htmx=True, double_tap=True)
    htmx_settled(phone)
    with live_app.app_context(), db.connection_context():
        assert TruckPass.select().where(TruckPass.vehicle == truck.id).count() == 1


def test_leaving_a_part_filled_application_asks_first(phone, live_app, base_url):
    """The steps are not pages of the history: Back, a link or closing the tab would lose what
    they gathered, so the browser asks first; sending the last step does not ask."""
    owner, truck, zone = setup(live_app)
    log_in(phone, base_url, owner)
    phone.goto(f"{base_url}/trucks/apply")
    phone.fill("#plate", truck.plate)
    phone.click("#apply-form button[type=submit]:not([name=back])")
    phone.locator(".wizard-step", has_text="第 2 步").wait_for()
    htmx_settled(phone)
    with phone.expect_event("dialog") as shown:
        phone.close(run_before_unload=True)
    assert shown.value.type == "beforeunload"
    shown.value.dismiss()  # stay: the application is still there
    assert phone.locator(".wizard-step", has_text="第 2 步").is_visible()


def test_apply_with_javascript_off(browser, live_app, base_url):
    owner, truck, zone = setup(live_app)
    context = browser.new_context(
        viewport={"width": 360, "height": 640}, locale="zh-CN", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    log_in(page, base_url, owner)
    walk_the_steps(page, base_url, truck, zone, htmx=False)
    context.close()


def log_in_clerk(page, base_url, clerk):
    """A clerk logs in with password and authenticator code."""
    page.goto(f"{base_url}/login")
    page.fill("#account", clerk.username)
    page.fill("#password", Factory.PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/login/code")
    page.fill("#code", Factory.fresh_code(clerk))
    page.click("#code-form button[type=submit]")
    page.wait_for_url(f"{base_url}/staff/")


def test_a_rule_is_previewed_with_its_warning_then_confirmed(desktop, live_app, base_url):
    """The clerk sees the 6-hour warning before the rule is live; publishing without the tick
    is refused, with the tick it goes live and shows on the public page."""
    from models import ZoneRule, db

    def rules_of_zone() -> int:
        with live_app.app_context(), db.connection_context():
            return ZoneRule.select().where(ZoneRule.zone == zone.id).count()

    with live_app.app_context():
        make = Factory(live_app)
        clerk, zone = make.staff("truckpass_clerk"), make.zone()
    page = desktop
    log_in_clerk(page, base_url, clerk)
    page.goto(f"{base_url}/trucks/zones/{zone.id}")
    page.check("#rule-form input[name=classes][value=heavy]")
    for day in range(1, 8):
        page.check(f"#rule-form input[name=days][value='{day}']")
    page.fill("#rule-form #windows", "05:00-23:30")
    page.press("#rule-form #windows", "Enter")  # Enter previews: never publishes
    page.locator("#rule-preview").wait_for()
    assert "少于 6 小时" in page.locator("#rule-warning").inner_text()
    assert rules_of_zone() == 1
    page.click("#rule-form button[value=publish]")
    page.locator("#confirm-error").wait_for()
    assert rules_of_zone() == 1
    page.check("#confirm")
    page.click("#rule-form button[value=publish]")
    page.wait_for_url(f"{base_url}/trucks/zones/{zone.id}")
    assert "已发布" in page.locator(".flash").inner_text()
    assert rules_of_zone() == 2
    page.goto(f"{base_url}/trucks/rules")
    assert "05:00-23:30" in page.locator("main").inner_text()


def test_the_list_of_passes_is_one_card_a_pass_on_a_phone(phone, live_app, base_url):
    """On a phone each pass is a card of labelled facts, nothing cut off at the right (the
    status column had been); an issued pass says what it is now, not "approved"; the unread
    notices stay in view beside the brand, not at the end of the sideways-scrolling links."""
    make = Factory(live_app)
    applicant = make.citizen()
    ago = dt.date.today() - dt.timedelta(days=10)
    make.truck_pass(applicant, start_date=ago, end_date=ago + dt.timedelta(days=2))
    make.truck_pass(applicant, windows="00:00-24:00")
    with live_app.app_context(), db.connection_context(), write_tx():
        notify(applicant, "identity.proven", method="sms", resident_id=applicant.resident_id)
    log_in(phone, base_url, applicant)
    phone.goto(f"{base_url}/trucks/")
    assert no_horizontal_scroll(phone)
    rows = phone.locator("table.cards tbody tr")
    assert rows.count() == 2
    for i in range(2):
        box = rows.nth(i).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    statuses = phone.locator("table.cards tbody td[data-label='状态']").all_inner_texts()
    assert sorted(statuses) == ["通行码已过期", "通行码当前有效"]
    assert in_view(phone, "#nav-notices .badge")


def test_switching_language_mid_application_keeps_the_step_and_what_was_typed(
    phone, live_app, base_url
):
    """At step 4 with the dates typed, English: the page comes back in English at step 4,
    the dates still there (it had gone back to step 1 with everything gone)."""
    owner, truck, zone = setup(live_app)
    log_in(phone, base_url, owner)
    start = beijing_today() + dt.timedelta(days=1)
    phone.goto(f"{base_url}/trucks/apply")
    phone.fill("#plate", truck.plate)
    for step, fill in (
        (2, lambda: None),
        (3, lambda: phone.check(f"input[name=zones][value='{zone.id}']")),
        (4, lambda: None),
    ):
        phone.click("#apply-form button[type=submit]:not([name=back])")
        phone.locator(".wizard-step", has_text=f"第 {step} 步").wait_for()
        htmx_settled(phone)
        fill()
    phone.fill("#start_date", start.isoformat())
    phone.fill("#windows", "17:30-19:00")
    with phone.expect_navigation():
        phone.click("form.lang button[value=en]")
    phone.locator(".wizard-step", has_text="Step 4 of 5").wait_for()
    assert phone.input_value("#start_date") == start.isoformat()
    assert phone.input_value("#windows") == "17:30-19:00"
    assert phone.locator("html[lang=en]").count() == 1
    # Going on works as before: the earlier steps' answers rode along.
    phone.fill("#end_date", (start + dt.timedelta(days=2)).isoformat())
    phone.click("#apply-form button[type=submit]:not([name=back])")
    phone.locator(".wizard-step", has_text="Step 5 of 5").wait_for()


def test_back_after_returning_a_pass_shows_the_pass_page(phone, live_app, base_url):
    """The question takes the page's place (htmx, no history entry): Back after the act is the
    pass's page, not a posted page the browser cannot show again."""
    make = Factory(live_app)
    applicant = make.citizen()
    truck_pass = make.truck_pass(applicant)
    log_in(phone, base_url, applicant)
    url = f"{base_url}/trucks/passes/{truck_pass.id}"
    phone.goto(url)
    phone.click(f"form[action='/trucks/passes/{truck_pass.id}/withdraw'] button")
    phone.locator("#confirm-box").wait_for()
    assert phone.url == url
    with phone.expect_navigation():
        phone.click("#confirm-box ~ .actions #confirm-form button")
    phone.go_back()
    phone.wait_for_load_state()
    assert phone.url == url  # the pass's page as it was, not the posted /withdraw
    with db.connection_context():
        assert TruckPass.get_by_id(truck_pass.id).status == "returned"
