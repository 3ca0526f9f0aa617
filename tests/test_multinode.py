"""Two app nodes (two gunicorn servers) on one database: what must hold across nodes holds.

Runs on the suite's database: one SQLite file shared by both nodes, or PostgreSQL when
TEST_DATABASE_URL points at it (as in CI), which is the real several-node deployment.
"""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app
from core.db import upgrade
from models import AuditEvent, LicenceRecord, TruckPass, db
from rules import licencecode, totp
from rules.licencecode import CODE_STEP_SECONDS

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
    if time.time() % CODE_STEP_SECONDS > CODE_STEP_SECONDS - 4:
        time.sleep(5)


def test_a_code_used_on_a_is_refused_on_b(cluster):
    _, make, (a, b) = cluster
    el = make.elicence()
    fresh_step_margin()
    code = licencecode.qr_code(el.secret, totp.step_at(time.time(), step=CODE_STEP_SECONDS))
    phone = Browser()
    assert verdict(phone.get(f"{a.url}/v/{el.handle}/{code}")[2]) == "valid"
    assert verdict(phone.get(f"{b.url}/v/{el.handle}/{code}")[2]) == "used-code"


def test_failed_guesses_on_both_nodes_add_up(cluster):
    _, make, (a, b) = cluster
    el = make.elicence()
    phone = Browser()
    right = totp.totp(el.secret, step=CODE_STEP_SECONDS).now()
    wrong = [f"{(int(right) + 1 + i) % 1000000:06d}" for i in range(4)]
    for i, code in enumerate(wrong):
        node = a if i % 2 else b
        check = f"{node.url}/verify/check?key={el.typing_key}&code={code}"
        assert verdict(phone.get(check)[2]) == "invalid"
    # The fourth wrong typed code made this client wait, on every node.
    check = f"{a.url}/verify/check?key={el.typing_key}&code={right}"
    assert verdict(phone.get(check)[2]) == "throttled"


def test_failed_lookups_from_one_address_on_both_nodes_stop_at_the_limit(cluster):
    """40 look-ups of unknown keys at once from one address, half on each node: exactly
    CLIENT_FAILURES (30) are judged, the rest refused (the count is read locked in the
    transaction that adds to it, so no node slips one past the limit)."""
    _, _, (a, b) = cluster
    urls = [f"{(a, b)[i % 2].url}/verify/check?key=ZZZZ{i:04d}&code=123456" for i in range(40)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        verdicts = list(pool.map(lambda url: verdict(Browser().get(url)[2]), urls))
    assert verdicts.count("invalid") == 30 and verdicts.count("throttled") == 10


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


def staff_on_nodes(make, role, nodes):
    """One staff member of `role` logged in (password and code) on each node."""
    logged_in = []
    for node in nodes:
        clerk = make.staff(role)
        browser = Browser()
        browser.post(f"{node.url}/login", {"account": clerk.username, "password": Factory.PASSWORD})
        status, _, _ = browser.post(f"{node.url}/login/code", {"code": make.fresh_code(clerk)})
        assert status == 303
        logged_in.append((browser, node))
    return logged_in


def at_once(logged_in, path, forms):
    """Post one form per node at the same moment (each with its session's CSRF token, which
    every page carries: the home page's here, as `path` itself answers POST only)."""
    tokens = [TOKEN_RE.search(br.get(node.url + "/")[2]).group(1) for br, node in logged_in]

    def act(i):
        browser, node = logged_in[i]
        return browser.request(node.url + path, {**forms[i], "csrf_token": tokens[i]})

    with ThreadPoolExecutor(len(logged_in)) as pool:
        return list(pool.map(act, range(len(logged_in))))


def test_two_clerks_on_two_nodes_approve_one_application_once(cluster):
    _, make, (a, b) = cluster
    truck_pass = make.truck_pass(status="pending_review")
    clerks = staff_on_nodes(make, "truckpass_clerk", (a, b))
    forms = [
        {"action": "approve", "reason": "A"},
        {"action": "refuse", "reason": "B", "confirmed": "yes"},
    ]
    results = at_once(clerks, f"/trucks/review/{truck_pass.id}", forms)
    assert [status for status, _, _ in results] == [303, 303]
    with db.connection_context():
        decisions = AuditEvent.select().where(
            AuditEvent.action.in_(["truck_pass.approved", "truck_pass.refused"])
        )
        assert decisions.count() == 1
        assert TruckPass.get_by_id(truck_pass.id).status == decisions.get().action.split(".")[1]


def test_two_clerks_on_two_nodes_act_on_one_licence_record_once(cluster):
    _, make, (a, b) = cluster
    record = make.licence_record()
    clerks = staff_on_nodes(make, "licence_clerk", (a, b))
    forms = [{"action": "suspended", "reason": f"clerk {i}"} for i in range(2)]
    results = at_once(clerks, f"/licence/records/{record.id}/status", forms)
    with db.connection_context():
        done = AuditEvent.select().where(AuditEvent.action == "licence_record.suspended").count()
        fresh = LicenceRecord.get_by_id(record.id)
    assert done == 1 and fresh.status == "suspended"
    assert sorted(status for status, _, _ in results) in ([303, 303], [303, 422])
