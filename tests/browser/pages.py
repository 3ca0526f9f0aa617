"""Helpers for browser tests (the page-level checks every browser test needs)."""

from playwright.sync_api import expect


def htmx_settled(page) -> None:
    """Wait until htmx has finished a request, its swap and its settling.

    A locator wait rather than wait_for_function: the pages' CSP forbids eval, which
    wait_for_function needs.
    """
    busy = page.locator(".htmx-request, .htmx-swapping, .htmx-settling, .htmx-added")
    expect(busy).to_have_count(0)


def no_horizontal_scroll(page) -> bool:
    """The page fits its viewport's width (nothing to scroll sideways)."""
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
