"""Simultaneous checks of one code against a real threaded server give exactly one "valid"."""

import re
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from rules import licencecode, totp
from rules.licencecode import CODE_STEP_SECONDS
from tests.factories import Factory

VERDICT = re.compile(r'<meta name="verification-result" content="([a-z-]+)">')


def fetch_verdict(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (loopback only)
        return VERDICT.search(response.read().decode()).group(1)


def test_one_code_checked_at_once_by_many_gives_one_valid(live_app, base_url):
    with live_app.app_context():
        el = Factory().elicence()
    # Leave room in the current step so all requests see the same one.
    if time.time() % CODE_STEP_SECONDS > CODE_STEP_SECONDS - 5:
        time.sleep(6)
    step = totp.step_at(time.time(), step=CODE_STEP_SECONDS)
    url = f"{base_url}/v/{el.handle}/{licencecode.qr_code(el.secret, step)}"
    with ThreadPoolExecutor(max_workers=16) as pool:
        verdicts = list(pool.map(fetch_verdict, [url] * 16))
    assert verdicts.count("valid") == 1, verdicts
    assert set(verdicts) == {"valid", "used-code"}
