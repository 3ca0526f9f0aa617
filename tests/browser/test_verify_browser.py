"""The verifier in a real Chromium: its language link keeps a result (and runs no second
check), and its verdicts fit their box at any zoom, in dark mode and in forced colours."""

import pytest

from models import LicenceCheck, db
from tests.factories import Factory
from tests.test_verify import qr_code_at, qr_url

pytestmark = pytest.mark.browser


def verdict(page) -> str:
    return page.locator('meta[name="verification-result"]').get_attribute("content")


def checks_of(elicence) -> int:
    """How many checks the holder's log shows."""
    with db.connection_context():
        return LicenceCheck.select().where(LicenceCheck.elicence == elicence.id).count()


def test_the_language_link_keeps_a_valid_result_and_checks_once(phone, live_app, base_url):
    el = Factory(live_app).elicence()
    phone.goto(base_url + qr_url(el, qr_code_at(el)))
    assert verdict(phone) == "valid"
    assert phone.locator("h1:visible").inner_text() == "✓ 驾驶证有效"
    phone.get_by_role("link", name="English").click()
    phone.wait_for_url("**#en")
    assert phone.locator("h1:visible").inner_text() == "✓ Valid licence"
    assert phone.locator("#zh").is_hidden()
    assert el.record.name in phone.locator("#en").inner_text()
    assert phone.locator("header:visible strong").inner_text() == "Licence check"
    assert verdict(phone) == "valid"
    assert checks_of(el) == 1
    phone.go_back()  # back to the Chinese copy: a move inside the page, no request
    assert phone.locator("h1:visible").inner_text() == "✓ 驾驶证有效"
    assert phone.locator("header:visible strong").inner_text() == "驾驶证核验"
    phone.get_by_role("link", name="English").click()
    phone.get_by_role("link", name="中文").click()  # and by the English copy's own link
    phone.wait_for_url("**#zh")
    assert phone.locator("h1:visible").inner_text() == "✓ 驾驶证有效"
    assert checks_of(el) == 1


def fits(page) -> bool:
    """Neither the page nor any verdict box is wider than its room."""
    return page.evaluate(
        """() => document.documentElement.scrollWidth <= document.documentElement.clientWidth
        && [...document.querySelectorAll('.verdict')].every(v => v.scrollWidth <= v.clientWidth)"""
    )


def english_verdict_pages(live_app, base_url) -> list[str]:
    """Result pages with English verdicts, long ones among them."""
    el = Factory(live_app).elicence()
    code = qr_code_at(el)
    valid = f"{base_url}{qr_url(el, code)}?hl=en"
    return [
        valid,
        valid,  # the second time: "Code already used"
        f"{base_url}/v/unknownhandle/123456?hl=en",
        f"{base_url}/verify/share?code=NOPE1234&last6=123456&hl=en",
        f"{base_url}/verify/truck?plate=%E9%B2%81B12345&hl=en",
    ]


@pytest.mark.parametrize(
    "viewport, root_font",
    [({"width": 180, "height": 320}, None), ({"width": 360, "height": 640}, "32px")],
    ids=["zoom-200", "font-32px"],
)
def test_verdicts_wrap_at_any_zoom(browser, live_app, base_url, viewport, root_font):
    # 200 % zoom on a 360 px phone leaves 180 CSS pixels; a 32 px browser font doubles the rems.
    context = browser.new_context(viewport=viewport, locale="en", bypass_csp=True)
    page = context.new_page()
    for url in english_verdict_pages(live_app, base_url):
        page.goto(url)
        if root_font:
            page.add_style_tag(content=f":root{{font-size:{root_font}}}")
        assert page.locator(".verdict:visible").count() == 1
        assert fits(page), url
    context.close()


def test_dark_mode_and_forced_colours(browser, live_app, base_url):
    context = browser.new_context(viewport={"width": 360, "height": 640}, color_scheme="dark")
    page = context.new_page()
    page.goto(f"{base_url}/verify")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(21, 24, 28)"
    pages = english_verdict_pages(live_app, base_url)
    page.emulate_media(forced_colors="active")
    styles = []
    for url in pages[:2]:  # valid, then used
        page.goto(url)
        box = page.locator(".verdict:visible")
        styles.append(box.evaluate("v => getComputedStyle(v).borderStyle"))
    assert styles[0] != styles[1]
    context.close()
