"""A receipt in a real Chromium on a phone: the holder opens it from their check log at
360x640, reads it without scrolling sideways, downloads the JSON, and the standalone script
verifies the download."""

import json
import time

import pytest

from core.auditlog.log import integrate
from models import db
from rules import licencecode, totp
from tests.factories import Factory
from tests.test_auditlog_receipt import run_script

from .test_licence_browser import log_in

pytestmark = pytest.mark.browser


def test_the_holder_opens_and_downloads_a_receipt_on_a_phone(
    phone, browser, live_app, base_url, tmp_path
):
    el = Factory().elicence()
    code = licencecode.qr_code(
        el.secret, totp.step_at(time.time(), step=licencecode.CODE_STEP_SECONDS)
    )
    inspector = browser.new_context(java_script_enabled=False).new_page()
    inspector.goto(f"{base_url}/v/{el.handle}/{code}")
    inspector.context.close()
    with live_app.app_context(), db.connection_context():
        while integrate() is not None:
            pass

    log_in(phone, base_url, el.holder)
    phone.goto(f"{base_url}/licence/checks")
    phone.get_by_role("link", name="回执").first.click()
    phone.wait_for_url("**/receipt")
    assert phone.locator("h1").inner_text() == "审计日志回执"
    assert phone.evaluate("document.documentElement.scrollWidth <= 360")
    assert phone.locator("#receipt-entry dd").first.is_visible()
    with phone.expect_download() as info:
        phone.locator("#receipt-download").click()
    path = tmp_path / "receipt.json"
    info.value.save_as(path)
    assert json.loads(path.read_text())["leaf_index"] >= 0
    done = run_script(path)
    assert done.returncode == 0, done.stdout + done.stderr
