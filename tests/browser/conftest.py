"""Browser-test fixtures: headless Chromium and its pages (the live server is in ../conftest)."""

import os
import shutil

import pytest

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items):
    """SKIP_BROWSER=1 is the one way to leave the browser tests out (they are never skipped
    because Chromium happens to be missing: `make test` installs it)."""
    if os.environ.get("SKIP_BROWSER") != "1":
        return
    skip = pytest.mark.skip(reason="SKIP_BROWSER=1")
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless. A missing browser fails the tests with the command to run."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: run `sudo apt-get install chromium` (or `make "
            "test`, which installs it as root), or set SKIP_BROWSER=1 to leave these tests out"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    """A 360x640 phone page, Chinese, JavaScript on."""
    context = browser.new_context(viewport={"width": 360, "height": 640}, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser):
    """A 1280x800 desktop page, Chinese, JavaScript on."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()
