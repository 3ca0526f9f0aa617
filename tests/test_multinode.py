"""Two app nodes (two gunicorn servers) on one database: what must hold across nodes holds.

Runs on the suite's database: one SQLite file shared by both nodes, or PostgreSQL when
TEST_DATABASE_URL points at it (as in CI), which is the real several-node deployment.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app
from core.db import upgrade
from models import AuditEvent, LicenceRecord, db
from rules import totp

from .factories import Factory
from .helpers import fresh_database_url
from .nodes import TOKEN_RE, Browser, Node, verdict


@pytest.fixture
def cluster(tmp_path):
    """The database migrated, a factory on it, and two nodes A and B."""
    url = fresh_database_url(tmp_path)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "x", "UPLOAD_FOLDER": str(tmp_path)})
    upgrade()
    nodes = [Node(url, str(tmp_path)) for _ in range(2)]
    yield app, Factory(), nodes
    for node in nodes:
        node.stop()
    if not db.is_closed():
        db.close()


def fresh_step_margin():
    if time.time() % totp.STEP_SECONDS > totp.STEP_SECONDS - 4:
        time.sleep(5)


def test_a_code_used_on_a_is_refused_on_b(cluster):
    _, make, (a, b) = cluster
    el = make.elicence()
    fresh_step_margin()
    code = totp.totp(el.secret).now()
    phone = Browser()
    assert verdict(phone.get(f"{a.url}/v/{el.handle}/{code}")[2]) == "valid"
    assert verdict(phone.get(f"{b.url}/v/{el.handle}/{code}")[2]) == "used-code"


def test_failed_guesses_on_both_nodes_add_up(cluster):
    _, make, (a, b) = cluster
    el = make.elicence()
    phone = Browser()
    right = totp.totp(el.secret).now()
    wrong = [f"{(int(right) + 1 + i) % 1000000:06d}" for i in range(10)]
    for i, code in enumerate(wrong):
        node = a if i % 2 else b
        assert verdict(phone.get(f"{node.url}/v/{el.handle}/{code}")[2]) == "invalid"
    assert verdict(phone.get(f"{a.url}/v/{el.handle}/{right}")[2]) == "throttled"


def test_logged_in_on_a_is_logged_in_on_b(cluster):
    _, make, (a, b) = cluster
    citizen = make.citizen()
    browser = Browser()
    status, headers, _ = browser.post(
        f"{a.url}/login", {"account": citizen.mobile, "password": Factory.PASSWORD}
    )
    assert status == 303
    status, _, html = browser.get(f"{b.url}/account")
    assert status == 200 and citizen.real_name in html


def test_two_clerks_on_two_nodes_act_on_one_record_once(cluster):
    _, make, (a, b) = cluster
    record = make.licence_record()
    clerks = [make.staff("licence_clerk") for _ in range(2)]
    browsers = []
    for clerk, node in zip(clerks, (a, b), strict=True):
        browser = Browser()
        browser.post(f"{node.url}/login", {"account": clerk.username, "password": Factory.PASSWORD})
        status, _, _ = browser.post(
            f"{node.url}/login/code",
            {"code": make.fresh_code(clerk)},
            token_from=f"{node.url}/login/code",
        )
        assert status == 303
        browsers.append((browser, node))
    record_url = f"/licence/records/{record.id}"
    tokens = [TOKEN_RE.search(br.get(node.url + record_url)[2]).group(1) for br, node in browsers]

    def act(i):
        browser, node = browsers[i]
        form = {"action": "suspended", "reason": f"clerk {i}", "csrf_token": tokens[i]}
        return browser.request(node.url + record_url + "/status", form)[0]

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(act, [0, 1]))
    with db.connection_context():
        done = AuditEvent.select().where(AuditEvent.action == "licence_record.suspended").count()
        fresh = LicenceRecord.get_by_id(record.id)
    assert done == 1 and fresh.status == "suspended"
    assert sorted(statuses) in ([303, 303], [303, 422])
