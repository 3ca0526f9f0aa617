"""Benchmark: the statistics dashboard and the public report over a million recorded events.

Builds a SQLite database (migrated like production) whose counters hold a million events spread
over 35 days, 3 offices and every measure, with a daytime peak, plus the registered transfer
cases the dashboard reads durations from. Each event is turned into counters by the same
rules.stats.counted() the audit writer uses, so the counters are what a million real events
would have left. Then it times, through the Flask test client, the dashboard for a 30-day range
(all offices and one office), one CSV file, and the public report.

usage: .venv/bin/python bench/stats_dashboard.py [--events 1000000] [--days 35] [--runs 15]
       [--keep DIR]   (keep the database there, e.g. to look at the pages with a server)
"""

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from decimal import Decimal

import pyotp
from werkzeug.security import generate_password_hash

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app import create_app  # noqa: E402
from core.db import upgrade  # noqa: E402
from models import (  # noqa: E402
    ADMIN,
    Office,
    StatCounter,
    TransferCase,
    User,
    Vehicle,
    db,
)
from rules.clock import BEIJING  # noqa: E402
from rules.stats import counted  # noqa: E402

OFFICES = [
    ("370200", "青岛市车辆管理所", "Qingdao Vehicle Office", "vehicle_office"),
    ("370202", "青岛市市南交警大队", "Shinan Traffic Police Brigade", "police_brigade"),
    ("370211", "青岛市黄岛车管分所", "Huangdao Vehicle Sub-office", "vehicle_office"),
]
OFFICE_WEIGHTS = (0.5, 0.2, 0.3)

# (action, result, detail, weight): the mix of a busy week of the four services.
EVENTS = [
    ("licence.issue", "ok", {}, 24.0),
    ("licence.apply_refused", "no-record", {}, 1.5),
    ("licence.check", "valid", {"via": "qr"}, 38.0),
    ("licence.check", "used-code", {"via": "qr"}, 3.0),
    ("licence.check", "expired-code", {"via": "qr"}, 4.0),
    ("licence.check", "invalid", {"via": "typed"}, 2.0),
    ("licence.check", "throttled", {"via": "typed"}, 0.2),
    ("licence.check", "suspended", {"via": "qr"}, 0.3),
    ("licence.check", "revoked", {"via": "qr"}, 0.1),
    ("licence.check", "points-full", {"via": "qr"}, 0.2),
    ("licence.check", "expired-licence", {"via": "qr"}, 0.2),
    ("licence.check", "valid", {"via": "share"}, 3.0),
    ("licence.check", "invalid", {"via": "share"}, 0.4),
    ("transfer.open", "ok", {}, 1.6),
    ("transfer.registered", "ok", {}, 1.2),
    ("transfer.stopped", "ok", {}, 0.2),
    ("transfer.declined", "ok", {}, 0.1),
    ("truck_pass.apply", "ok", {}, 3.0),
    ("truck_pass.approved", "ok", {}, 2.5),
    ("truck_pass.refused", "ok", {}, 0.4),
    ("truck_pass.revoked", "ok", {}, 0.05),
    ("evidence.item_view", "ok", {"as_party": True}, 2.0),
    ("evidence.item_download", "ok", {"as_party": True}, 1.0),
]
# Events per hour of day (Beijing): quiet nights, morning and afternoon peaks.
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 17, 14, 9, 11, 13, 12, 14, 12, 8, 6, 5, 4, 2, 1]


def make_app(folder: str):
    """The application on a new SQLite file in `folder`, migrated."""
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "DATABASE_URL": f"sqlite:///{folder}/bench.db",
            "UPLOAD_FOLDER": f"{folder}/uploads",
            "WTF_CSRF_ENABLED": False,
            "PASSWORD_HASH_METHOD": "scrypt:4096:8:1",
        }
    )
    upgrade()
    return app


def fill(events: int, days: int, seed: int = 7) -> dict:
    """Counters for `events` events over the `days` days up to today, and the transfer cases
    they registered. Returns what was made."""
    rng = random.Random(seed)
    today = dt.datetime.now(BEIJING).date()
    first = today - dt.timedelta(days=days - 1)
    offices = [
        Office.create(
            code=c, name=n, name_en=e, kind=k, city="青岛", city_en="Qingdao", plate_prefix="鲁B"
        )
        for c, n, e, k in OFFICES
    ]
    # Every event: a day, an hour, an office and a kind, drawn by the weights above.
    day_idx = rng.choices(range(days), k=events)
    hours = rng.choices(range(24), weights=HOUR_WEIGHTS, k=events)
    office_idx = rng.choices(range(3), weights=OFFICE_WEIGHTS, k=events)
    kinds = rng.choices(range(len(EVENTS)), weights=[e[3] for e in EVENTS], k=events)
    cells = Counter(zip(day_idx, hours, office_idx, kinds, strict=True))
    counters = Counter()
    registrations = []
    for (d, h, o, k), n in cells.items():
        action, result, detail, _ = EVENTS[k]
        for measure, metric in counted(action, result, detail):
            counters[(first + dt.timedelta(days=d), h, offices[o].code, measure, metric)] += n
        if action == "transfer.registered":
            registrations += [(d, h, o)] * n
    with db.atomic():
        rows = [
            {"day": day, "hour": h, "office": o, "measure": m, "metric": k, "count": n}
            for (day, h, o, m, k), n in counters.items()
        ]
        for start in range(0, len(rows), 2000):
            StatCounter.insert_many(rows[start : start + 2000]).execute()
    # The registered cases (one vehicle and two people stand in for all of them).
    person = User.create(real_name="测试", password_hash="x")
    vehicle = Vehicle.create(
        vin="LSVAB2BM0GN000001",
        plate="鲁B00001",
        brand="大众",
        model_name="朗逸",
        vehicle_type="small_car",
        colour="白",
        engine_no="E1",
        first_registered_on=dt.date(2016, 5, 1),
        owner=person,
        owner_name="测试",
        owner_resident_id="370202198501011234",
        registration_office=offices[0],
        certificate_no="370200000001",
        inspection_valid_until=today + dt.timedelta(days=200),
    )
    cases = []
    for n, (d, h, o) in enumerate(registrations):
        local = dt.datetime.combine(first + dt.timedelta(days=d), dt.time(h, rng.randrange(60)))
        registered = local.replace(tzinfo=BEIJING).astimezone(dt.UTC).replace(tzinfo=None)
        opened = registered - dt.timedelta(hours=rng.uniform(2, 24 * 12))
        cases.append(
            {
                "state": "registered",
                "vehicle": vehicle.id,
                "seller": person.id,
                "buyer": person.id,
                "opened_by": person.id,
                "opened_at": opened,
                "origin_office": offices[0].id,
                "destination_office": offices[o].id,
                "invoice_no": f"{n:08d}",
                "invoice_date": opened.date(),
                "price": Decimal("86000"),
                "new_plate": "鲁B00001",
                "registered_at": registered,
                "updated_at": registered,
            }
        )
    with db.atomic():
        for start in range(0, len(cases), 1000):
            TransferCase.insert_many(cases[start : start + 1000]).execute()
    return {
        "counter_rows": len(rows),
        "events": sum(cells.values()),
        "registered": len(cases),
        "first": first,
        "today": today,
        "offices": [o.code for o in offices],
    }


def admin_client(app):
    """A test client logged in as an administrator through the real two-step login."""
    secret = pyotp.random_base32()
    with db.connection_context():
        admin = User.create(
            is_staff=True,
            username="bench.admin",
            real_name="管理员",
            office=Office.get(Office.code == OFFICES[0][0]),
            password_hash=generate_password_hash("Bench-Pass-77", method="scrypt:4096:8:1"),
            totp_secret=secret,
            totp_enrolled_at=dt.datetime(2021, 9, 1),
        )
        admin.set_roles([ADMIN])
    client = app.test_client()
    client.post("/login", data={"account": "bench.admin", "password": "Bench-Pass-77"})
    response = client.post("/login/code", data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code in (302, 303), response.status_code
    return client


def timed(client, url: str, runs: int) -> tuple[float, float, int]:
    """Median and worst time in ms of `runs` GETs of `url` (after one warm-up), and the size."""
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return statistics.median(times), max(times), len(first.get_data())


def main() -> None:
    """Build the database, then time the pages."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", help="build the database in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="jg-stats-bench-")
    os.makedirs(folder, exist_ok=True)
    app = make_app(folder)
    start = time.perf_counter()
    with db.connection_context():
        made = fill(args.events, args.days)
    print(
        f"built in {time.perf_counter() - start:.1f} s: {made['events']:,} events -> "
        f"{made['counter_rows']:,} counter rows, {made['registered']:,} registered transfers, "
        f"{args.days} days, offices {', '.join(made['offices'])}"
    )
    client = admin_client(app)
    until = made["today"]
    since = until - dt.timedelta(days=29)
    span = f"since={since}&until={until}"
    pages = [
        ("dashboard, 30 days, all offices", f"/stats/?{span}"),
        ("dashboard, 30 days, one office", f"/stats/?{span}&office={made['offices'][0]}"),
        ("dashboard fragment (htmx), 30 days", f"/stats/?{span}"),
        ("CSV, licence checks by day", f"/stats/export/licence_check/day.csv?{span}"),
        ("public report", "/report"),
    ]
    print(f"{'page':40} {'median ms':>10} {'worst ms':>10} {'bytes':>9}")
    for label, url in pages:
        if "htmx" in label:
            client.environ_base["HTTP_HX_REQUEST"] = "true"
        median, worst, size = timed(client, url, args.runs)
        client.environ_base.pop("HTTP_HX_REQUEST", None)
        print(f"{label:40} {median:10.1f} {worst:10.1f} {size:9,}")
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
