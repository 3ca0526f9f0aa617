"""Helpers for browser tests (the page-level checks every browser test needs)."""

from playwright.sync_api import expect

from core.sms import DevGateway
from tests.helpers import newest_code


def htmx_settled(page) -> None:
    """Wait until htmx has finished a request, its swap and its settling.

    A locator wait rather than wait_for_function: the pages' CSP forbids eval, which
    wait_for_function needs.
    """
    busy = page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    expect(busy).to_have_count(0)


def no_horizontal_scroll(page) -> bool:
    """The page fits its viewport's width (nothing to scroll sideways).

    Measured once the page has loaded: right after a click the new page can still be arriving,
    and measured half-built it reads wider than the screen (a slow server, as under load,
    failed the evidence party's test now and then; a 0.5 s delay on each page made it fail
    every time).
    """
    page.wait_for_load_state("load")
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def confirm_registration(page, live_app, base_url: str, mobile: str) -> None:
    """The registration's second step: the code `mobile` received, typed and sent."""
    page.wait_for_url(f"{base_url}/register/confirm")
    page.fill("#code", newest_code(DevGateway(live_app.config["SMS_DEV_FILE"]), mobile))
    page.click("#register-code-form button[type=submit]")
