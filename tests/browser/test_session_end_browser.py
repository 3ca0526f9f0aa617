"""When the login ends while a page is open (logged out in another tab, or idle too long): a
form sent with htmx shows why it was refused, and the holder's refreshing code panel takes the
tab to the login page, which comes back to the code after logging in. Before, the refusal was
dropped (a button that did nothing) and the login form was drawn inside the panel."""

import pytest
from playwright.sync_api import expect

from tests.factories import Factory

from .test_licence_browser import holder_with_photo, log_in

pytestmark = pytest.mark.browser


def test_a_form_sent_after_the_login_ended_says_why_it_was_refused(phone, live_app, base_url):
    el = holder_with_photo(live_app)
    log_in(phone, base_url, el.holder)
    phone.goto(f"{base_url}/licence/share")
    phone.fill("#days", "3")
    phone.fill("#note", "某保险公司")
    # Logged out in another tab of the same browser: the session cookie is gone.
    other = phone.context.new_page()
    other.goto(f"{base_url}/")
    other.locator("header.site button.link").click()
    other.wait_for_url(f"{base_url}/")
    other.close()
    phone.click("#share-form button[type=submit]")
    # The refusal takes the page's place, whole (its heading, the site's header), and says why.
    expect(phone.locator("main .error-page")).to_contain_text("表单已过期，请刷新页面后重新提交。")
    assert phone.locator("main .error-code").inner_text() == "400"
    assert phone.locator("header.site").count() == 1 and phone.locator("main").count() == 1
    assert phone.locator("#share-form").count() == 0
    assert phone.title().startswith(phone.locator("main h1").inner_text())


def test_the_code_panel_goes_to_the_login_page_and_back_when_the_login_ended(
    phone, live_app, base_url
):
    el = holder_with_photo(live_app)
    log_in(phone, base_url, el.holder)
    phone.goto(f"{base_url}/licence/code")
    phone.context.clear_cookies()
    # The panel's own refresh (its trigger waits out the code's step; asked at once here).
    phone.evaluate("htmx.ajax('GET', '/licence/code', {target: '#code-panel', swap: 'outerHTML'})")
    phone.wait_for_url(f"{base_url}/login?next=/licence/code")
    expect(phone.locator(".flash-warn")).to_have_text("登录已结束，请重新登录后继续。")
    assert phone.locator("#code-panel").count() == 0
    phone.fill("#account", el.holder.mobile)
    phone.fill("#password", Factory.PASSWORD)
    phone.click("#login-form button[type=submit]")
    phone.wait_for_url(f"{base_url}/licence/code")
    assert phone.locator("#code-panel .code-otp").is_visible()


def test_a_code_that_ran_out_with_no_new_one_is_greyed_and_said(phone, live_app, base_url):
    """The server in trouble answers the panel's refresh with nothing (core/errors.py): once
    the code has run out, the panel greys it out and says so, rather than show it as good."""
    el = holder_with_photo(live_app)
    log_in(phone, base_url, el.holder)
    phone.clock.install()
    phone.goto(f"{base_url}/licence/code")
    assert phone.locator("#code-panel .code-stale").is_hidden()
    phone.route("**/licence/code", lambda route: route.fulfill(status=204))
    phone.clock.fast_forward("00:45")
    expect(phone.locator("#code-panel.is-stale")).to_have_count(1)
    expect(phone.locator("#code-panel .code-stale")).to_be_visible()
