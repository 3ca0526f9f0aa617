"""Statistics in a real headless Chromium: the dashboard's htmx filter at 360 px, and the public
report, neither scrolling sideways."""

import datetime as dt

import pytest

from models import StatCounter, db
from models.base import utcnow
from rules.stats import HEADLINES, beijing
from tests.browser.pages import no_horizontal_scroll
from tests.factories import Factory

pytestmark = pytest.mark.browser


def htmx_settled(page) -> None:
    page.wait_for_function(
        # A function, not an expression: an expression is eval'd, which the page's CSP refuses.
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, "
        "#stats-body.htmx-added')"
    )


def test_dashboard_filter_and_report_at_360px(phone, live_app, base_url):
    today = beijing(utcnow()).date()
    with live_app.app_context():
        admin = Factory().staff("admin")
        with db.connection_context():
            StatCounter.insert_many(
                [
                    {
                        "day": today - dt.timedelta(days=d),
                        "hour": h,
                        "office": "370200",
                        "measure": m,
                        "metric": "valid" if k == "*" else k,
                        "count": 1000 + d * h,
                    }
                    for d in range(30)
                    for h in range(8, 18)
                    for m, k in HEADLINES[:3]
                ]
            ).execute()
    phone.goto(f"{base_url}/login")
    phone.fill("#account", admin.username)
    phone.fill("#password", Factory.PASSWORD)
    phone.click("#login-form button[type=submit]")
    phone.wait_for_url(f"{base_url}/login/code")
    phone.fill("#code", Factory.fresh_code(admin))
    phone.click("#code-form button[type=submit]")
    phone.wait_for_url(f"{base_url}/staff/")
    phone.goto(f"{base_url}/stats/")
    assert phone.locator("svg#chart-days g.series").count() == len(HEADLINES)
    assert no_horizontal_scroll(phone)
    # The filter through htmx: the body is swapped in place and the URL follows.
    phone.evaluate("() => { window.stayedOnPage = true; }")
    phone.fill("#since", today.isoformat())
    phone.click("#stats-filters button[type=submit]")
    phone.wait_for_url(f"{base_url}/stats/?since={today.isoformat()}*")
    htmx_settled(phone)
    assert phone.evaluate("() => window.stayedOnPage === true")  # swapped, not reloaded
    assert phone.locator("table[data-table=elicence-day] tbody tr").count() == 1
    assert phone.locator("svg#chart-days g.series").first.locator("circle").count() == 1
    assert no_horizontal_scroll(phone)
    phone.goto(f"{base_url}/report")
    assert phone.locator("#when-to-apply .advice").is_visible()
    assert no_horizontal_scroll(phone)
