"""Fixtures for browser tests: a live server on a real SQLite file, and headless Chromium."""

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from core.db import upgrade

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


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless. In CI a missing browser fails the run instead of skipping."""
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}: CI must install it")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(tmp_path):
    """The application on a fresh database, served by a real WSGI server in a thread."""
    app = create_app(
        {
            "SECRET_KEY": "browser-test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
        }
    )
    upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def base_url(live_app):
    """Where the live server answers."""
    return live_app.config["PUBLIC_BASE_URL"]


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
