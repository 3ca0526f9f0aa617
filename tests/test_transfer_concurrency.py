"""Transfer measure under concurrency, through a real threaded server on a real SQLite file:
two clerks registering the same case at the same moment make exactly one registration and
give out one plate; two buyers opening a case for the same vehicle at once make one case."""

import datetime as dt
import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from werkzeug.serving import make_server

from app import create_app
from core.db import upgrade
from models import AuditEvent, PlateNumber, TransferCase, TransferEvent, Vehicle, db
from models.transfer import ARCHIVE_RECEIVED, REGISTERED

from .factories import Factory

TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def live(tmp_path):
    """The app served by a threaded WSGI server; yields its base URL."""
    app = create_app(
        {
            "SECRET_KEY": "race-test",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'race.db'}",
            "UPLOAD_FOLDER": str(tmp_path / "uploads"),
            "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
        }
    )
    upgrade()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


class Session:
    """One person's browser: cookies kept, CSRF token taken from the last page."""

    def __init__(self, base: str):
        self.base = base
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        self.token = ""

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrf_token": self.token}).encode()
        try:
            with self.opener.open(self.base + path, body, timeout=30) as response:
                status, html = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, html = exc.code, exc.read().decode()
        if match := TOKEN_RE.search(html):
            self.token = match.group(1)
        return status, html

    def login(self, user) -> None:
        self.request("/login")
        account = user.username if user.is_staff else user.mobile
        status, html = self.request("/login", {"account": account, "password": Factory.PASSWORD})
        if user.is_staff:
            status, html = self.request("/login/code", {"code": Factory.fresh_code(user)})
        assert status == 200 and "logout" in html, html[:300]


def at_once(*calls):
    """Run the calls in threads released together; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        barrier.wait()
        results[i] = call()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_two_clerks_register_the_same_case_at_once(live):
    make = Factory()
    w = make.transfer_world(plates=6)
    second_clerk = make.staff("vehicle_clerk", office=w.dest)
    cases = [make.transfer_case(w, until=ARCHIVE_RECEIVED)]
    for _ in range(2):
        vehicle = make.vehicle(w.origin, make.citizen())
        cases.append(make.transfer_case(w, vehicle=vehicle, until=ARCHIVE_RECEIVED))
    clerks = [Session(live), Session(live)]
    clerks[0].login(w.clerk)
    clerks[1].login(second_clerk)
    for case in cases:  # three rounds, each a fresh race
        for clerk in clerks:
            clerk.request(f"/transfer/cases/{case.id}")
        url = f"/transfer/cases/{case.id}/register"
        results = at_once(*(lambda c=c, u=url: c.request(u, {"confirmed": "yes"}) for c in clerks))
        assert [status for status, _html in results] == [200, 200]
        outcomes = sorted("flash-ok" in html for _status, html in results)
        assert outcomes == [False, True], "exactly one clerk is told it is registered"
    with db.connection_context():
        for case in cases:
            case = TransferCase.get_by_id(case.id)
            assert case.state == REGISTERED
            assert Vehicle.get_by_id(case.vehicle_id).plate == case.new_plate
            registered = AuditEvent.select().where(
                (AuditEvent.action == "transfer.registered")
                & (AuditEvent.object_id == str(case.id))
            )
            assert registered.count() == 1
            events = TransferEvent.select().where(
                (TransferEvent.case == case) & (TransferEvent.kind == "registered")
            )
            assert events.count() == 1
        assigned = PlateNumber.select().where(PlateNumber.status == "assigned")
        assert assigned.count() == len(cases)
        assert len({p.vehicle_id for p in assigned}) == len(cases)


def test_two_buyers_open_a_case_for_the_same_vehicle_at_once(live):
    make = Factory()
    w = make.transfer_world()
    buyers = [Session(live), Session(live)]
    buyers[0].login(w.buyer)
    buyers[1].login(make.citizen())
    for buyer in buyers:
        buyer.request("/transfer/new")

    def form(invoice_no):
        return {
            "vin": w.vehicle.vin,
            "plate": w.vehicle.plate,
            "seller_resident_id": w.seller.resident_id,
            "invoice_no": invoice_no,
            "invoice_date": dt.date.today().isoformat(),
            "price": "50000",
            "destination": str(w.dest.id),
        }

    results = at_once(
        lambda: buyers[0].request("/transfer/new", form("11110001")),
        lambda: buyers[1].request("/transfer/new", form("11110002")),
    )
    assert sorted(status for status, _html in results) == [200, 422]
    with db.connection_context():
        assert TransferCase.select().where(TransferCase.vehicle == w.vehicle.id).count() == 1
