"""The benchmark's city: a database of realistic size, built once with bulk inserts.

The schema comes from the real migrations (core.db.upgrade) and the rows go in through the real
models (insert_many), so the benchmark runs against what a deployment would have after a month:
licence records with e-licences, citizens still to apply, vehicles, a plate pool, transfer
cases, accident cases with parties and evidence, and a month of events (licence checks,
evidence looks, transfer steps) each with its hash-chained audit row.

The result is cached under bench/out/ with a description (dataset.json) that the runner reads;
it is rebuilt when DATASET_VERSION changes or on --rebuild.
"""

import datetime as dt
import json
import os
import random
import secrets
import time

import pyotp
from peewee import chunked
from werkzeug.security import generate_password_hash

from core.demo import OFFICES, fictional_resident_id
from models import (
    ACCIDENT_OFFICER,
    CITIZEN,
    AccidentCase,
    AuditEvent,
    CaseParty,
    ELicence,
    EvidenceAccess,
    EvidenceItem,
    IdentityProof,
    LicenceRecord,
    Office,
    PlateNumber,
    RestrictedZone,
    TrafficViolation,
    TransferCase,
    TransferEvent,
    User,
    UserRole,
    Vehicle,
    ZoneRule,
    db,
)
from models.identity import SMS as SMS_PROOF
from models.licence import TYPING_ALPHABET
from rules.validators import resident_id_check_char, vin_check_digit

DATASET_VERSION = 2
# The login password of every bench account. Its hash uses a cheap scrypt cost: logins are
# set-up here, not a measured scenario, and thousands of them happen before each run.
PASSWORD = "Bench-pass-2021"
PASSWORD_HASH_METHOD = "scrypt:4096:8:1"

SIZES = {
    "holders": 100_000,  # licence records with an e-licence, and their holders' accounts
    "applicants": 30_000,  # licence records in good standing whose holder has not applied yet
    "vehicles": 50_000,
    "free_plates": 20_000,
    "transfers_registered": 3_000,  # a month of completed transfers
    "transfers_open": 3_000,  # cases waiting for inspection (the buyer follows them)
    "accident_cases": 2_000,
    "checks": 300_000,  # a month of licence checks
    "evidence_looks": 20_000,
    "violations": 200_000,  # traffic violations on record, a fifth of them not yet handled
    "trucks": 3_000,  # heavy trucks of logged-in holders (the truck-pass scenario applies)
}
# A smaller city (--scale) keeps at least these many: the verifier and the application use each
# e-licence's code and each applicant once, and a list that runs out before the scenario's end
# measures wrk's ending instead of the application: once a wrk thread has stopped, the
# server sees only a trickle of requests a few seconds apart, each counted with seconds of
# latency. A tenth of a city (3,000 applicants, served in 3.5 s) reported 380 applications a
# second with a p99 of 3.9 s; the same server answers 950 a second, p99 73 ms, while the list
# lasts. 20,000 last a 10-second run at 2,000 a second (docs/PERFORMANCE.md).
MINIMUM_SIZES = {"holders": 20_000, "applicants": 20_000}
OFFICERS = 4  # accident officers of the brigade
CLERKS_PER_OFFICE = 2
MONTH = dt.timedelta(days=30)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉梅海燕晓东俊"
STREETS = ["香港中路", "延安三路", "山东路", "辽阳西路", "南京路", "长江中路", "黄河路", "崂山路"]
BRANDS = [
    ("大众", "朗逸"),
    ("丰田", "卡罗拉"),
    ("本田", "思域"),
    ("比亚迪", "秦"),
    ("吉利", "帝豪"),
]
COLOURS = ["白", "黑", "银", "红", "蓝", "灰"]
EVIDENCE = [
    ("scene_diagram", "现场图"),
    ("survey_record", "现场勘查笔录"),
    ("photo", "现场照片 1"),
    ("photo", "现场照片 2"),
    ("appraisal", "鉴定意见书"),
    ("other", "证人证言"),
]
VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
PLATE_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O


def batch_insert(model, rows: list[dict], progress=None) -> None:
    """insert_many in chunks that stay under SQLite's limit on bound variables."""
    if not rows:
        return
    per_chunk = max(1, 30000 // len(rows[0]))
    for chunk in chunked(rows, per_chunk):
        model.insert_many(chunk).execute()
    if progress:
        progress(f"  {model._meta.table_name}: {len(rows):,} rows")


class CityBuilder:
    """Makes the rows of the bench city, deterministically from a seed."""

    def __init__(self, seed: int = 20210901, now: dt.datetime | None = None):
        """A builder; `now` is the end of the simulated month (UTC)."""
        self.rng = random.Random(seed)
        self.now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        self.used_ids: set[str] = set()
        self.used_mobiles: set[str] = set()
        self.audit: list[dict] = []  # audit rows, chained at the end in time order

    # --- identities ---------------------------------------------------------------------

    def resident_id(self, area_prefix: str | None = None) -> tuple[str, bool]:
        """A fresh, well-formed resident ID number and whether its holder is female."""
        while True:
            female = self.rng.random() < 0.45
            rid = fictional_resident_id(self.rng, self.rng.randint(1955, 2002), female)
            if area_prefix:  # another city's household: swap the area code, fix the check char
                rid = area_prefix + rid[6:17]
                rid += resident_id_check_char(rid)
            if rid not in self.used_ids:
                self.used_ids.add(rid)
                return rid, female

    def mobile(self) -> str:
        """A fresh mobile number."""
        while True:
            m = f"1{self.rng.choice('3578')}{self.rng.randint(0, 999_999_999):09d}"
            if m not in self.used_mobiles:
                self.used_mobiles.add(m)
                return m

    def name(self) -> str:
        """A plausible Chinese name."""
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.randint(1, 2)))
        return self.rng.choice(SURNAMES) + given

    def vin(self, n: int) -> str:
        """A VIN with a correct check digit (position 9), unique through its serial part."""
        wmi_vds = "LSV" + "".join(self.rng.choice(VIN_CHARS) for _ in range(5))
        year_plant = self.rng.choice("ABCDEFGHJKLMN") + self.rng.choice("ABCDEFGH")
        body = wmi_vds + "0" + year_plant + f"{n:06d}"
        return body[:8] + vin_check_digit(body) + body[9:]

    def at_in_month(self) -> dt.datetime:
        """A moment in the simulated month."""
        return self.now - dt.timedelta(seconds=self.rng.randint(60, int(MONTH.total_seconds())))

    def audit_row(self, at, action, *, actor=None, obj_type="", obj_id="", result="ok", **detail):
        """Remember an audit row (actor is a (id, label, role, office) tuple)."""
        actor_id, label, role, office = actor or (None, "", "anonymous", "")
        self.audit.append(
            {
                "at": at,
                "actor_id": actor_id,
                "actor": label,
                "role": role,
                "office": office,
                "action": action,
                "object_type": obj_type,
                "object_id": str(obj_id),
                "result": result,
                "client_addr": "10.0.{}.{}".format(*(self.rng.randint(1, 254) for _ in range(2))),
                "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True),
            }
        )

    # --- the city -----------------------------------------------------------------------

    def licence_record(self, rid: str, female: bool, name: str, office_id: int) -> dict:
        """A licence record in good standing for this ID number."""
        birth = dt.date(int(rid[6:10]), int(rid[10:12]), int(rid[12:14]))
        first = birth.replace(year=birth.year + self.rng.randint(19, 30))
        first = min(first, self.now.date() - dt.timedelta(days=400))
        valid_from = max(first, self.now.date() - dt.timedelta(days=self.rng.randint(100, 2000)))
        return {
            "licence_no": rid,
            "file_no": f"3702{self.rng.randint(0, 99_999_999):08d}",
            "name": name,
            "sex": "F" if female else "M",
            "birth_date": birth,
            "address": f"山东省青岛市{self.rng.choice(STREETS)}{self.rng.randint(1, 300)}号",
            "classes": self.rng.choice(["C1", "C1", "C1", "C2", "A2 D", "B2", "C1 E"]),
            "first_issue_date": first,
            "valid_from": valid_from,
            "valid_until": valid_from + dt.timedelta(days=self.rng.choice([6, 10]) * 365),
            "points": self.rng.choice([0, 0, 0, 2, 3, 6]),
            "status": "valid",
            "issuing_office": office_id,
            "updated_at": self.now - MONTH,
        }


def build(url: str, sizes: dict | None = None, progress=print, work_dir: str = "") -> dict:
    """Build the bench database at `url` (replacing it: a SQLite file, or every table of a
    PostgreSQL database); returns its description. Uploads go under `work_dir` (by default
    the SQLite file's folder)."""
    from app import create_app
    from core.db import upgrade

    sizes = {**SIZES, **(sizes or {})}
    sqlite = url.startswith("sqlite:")
    out_dir = work_dir or os.path.dirname(url.split("sqlite:///", 1)[1])
    if sqlite:
        path = url.split("sqlite:///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    else:
        empty_postgres(url)
    started = time.time()
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-build",
            "UPLOAD_FOLDER": os.path.join(out_dir, "uploads"),
        }
    )
    with app.app_context():
        upgrade()
        with db.connection_context():
            if sqlite:
                db.execute_sql("PRAGMA synchronous=OFF")
            with db.atomic():
                meta = _fill(CityBuilder(), sizes, progress)
            add_violations(meta, sizes["violations"], progress)
            add_trucks(meta, sizes["trucks"], progress)
        with db.connection_context():
            if sqlite:
                db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            else:
                # PostgreSQL's autovacuum analyses new tables by itself soon after a bulk
                # load, as it would in a deployment; done here so the first run's plans
                # do not depend on when it got round to it.
                db.execute_sql("ANALYZE")
    meta["version"] = DATASET_VERSION
    meta["build_id"] = secrets.token_hex(8)
    meta["built_at"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    meta["build_seconds"] = round(time.time() - started, 1)
    meta["sizes"] = sizes
    meta["password"] = PASSWORD
    meta["identity_proofs"] = True
    progress(f"built {url.rsplit('@', 1)[-1]} in {meta['build_seconds']} s")
    return meta


def empty_postgres(url: str) -> None:
    """Drop every table of the bench's PostgreSQL database (its schema made anew): the city
    is built from the migrations up, as on SQLite from a new file."""
    import psycopg2

    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public")
    conn.close()


def _fill(b: CityBuilder, sizes: dict, progress) -> dict:
    """All the rows, table by table, in one transaction."""
    rng, now = b.rng, b.now
    password_hash = generate_password_hash(PASSWORD, method=PASSWORD_HASH_METHOD)

    # Offices, as the demo city has them.
    for code, name, name_en, kind, city, city_en, prefix, local in OFFICES:
        Office.create(
            code=code,
            name=name,
            name_en=name_en,
            kind=kind,
            city=city,
            city_en=city_en,
            plate_prefix=prefix,
            is_local=local,
        )
    offices = {o.code: o for o in Office.select()}
    qd_office, brigade, jinan = offices["370200"], offices["370202"], offices["370100"]

    # Staff: accident officers (the evidence scenario logs in as them) and vehicle clerks.
    staff = []
    for i in range(OFFICERS):
        staff.append((f"officer{i + 1}", brigade, ACCIDENT_OFFICER))
    for office in (qd_office, jinan):
        for i in range(CLERKS_PER_OFFICE):
            staff.append((f"vclerk{office.code}-{i + 1}", office, "vehicle_clerk"))
    staff_meta = []
    for username, office, role in staff:
        secret = pyotp.random_base32()
        user = User.create(
            is_staff=True,
            username=username,
            real_name=b.name(),
            office=office,
            password_hash=password_hash,
            totp_secret=secret,
            totp_enrolled_at=now - MONTH,
        )
        UserRole.create(user=user, role=role)
        staff_meta.append({"id": user.id, "username": username, "role": role, "totp": secret})
    officer_ids = [s["id"] for s in staff_meta if s["role"] == ACCIDENT_OFFICER]

    # Citizens with a licence record: holders (e-licence issued this month) and applicants.
    n_holders, n_applicants = sizes["holders"], sizes["applicants"]
    people = []  # (resident_id, female, name, mobile)
    for _ in range(n_holders + n_applicants):
        rid, female = b.resident_id()
        people.append((rid, female, b.name(), b.mobile()))
    first_user_id = User.select(User.id).order_by(User.id.desc()).scalar() + 1
    batch_insert(
        User,
        [
            {
                "real_name": name,
                "resident_id": rid,
                "mobile": mobile,
                "password_hash": password_hash,
                "created_at": now - MONTH - dt.timedelta(days=30),
                "session_token": secrets.token_hex(16),
            }
            for rid, _female, name, mobile in people
        ],
        progress,
    )
    user_ids = list(range(first_user_id, first_user_id + len(people)))
    assert User.select().where(User.id == user_ids[-1]).exists()
    add_identity_proofs(user_ids, people, progress)
    used_file_nos: set[str] = set()
    records = []
    for rid, female, name, _mobile in people:
        rec = b.licence_record(rid, female, name, qd_office.id)
        while rec["file_no"] in used_file_nos:
            rec["file_no"] = f"3702{rng.randint(0, 99_999_999):08d}"
        used_file_nos.add(rec["file_no"])
        records.append(rec)
    first_record_id = 1
    batch_insert(LicenceRecord, records, progress)

    # E-licences of the holders, issued over the month, each with its audit row.
    keys, handles = set(), set()
    elicences = []
    for i in range(n_holders):
        key = "".join(rng.choice(TYPING_ALPHABET) for _ in range(8))
        while key in keys:
            key = "".join(rng.choice(TYPING_ALPHABET) for _ in range(8))
        keys.add(key)
        handle = secrets.token_urlsafe(12)
        while handle in handles:
            handle = secrets.token_urlsafe(12)
        handles.add(handle)
        issued = b.at_in_month()
        elicences.append(
            {
                "holder": user_ids[i],
                "record": first_record_id + i,
                "handle": handle,
                "typing_key": key,
                "secret": pyotp.random_base32(),
                "issued_at": issued,
            }
        )
        b.audit_row(
            issued,
            "licence.issue",
            actor=(user_ids[i], people[i][3], CITIZEN, ""),
            obj_type="ELicence",
            obj_id=i + 1,
            record=first_record_id + i,
        )
    batch_insert(ELicence, elicences, progress)

    # A month of licence checks: anonymous phones mostly, some inspectors; one audit entry
    # each, which the holder's check log reads.
    for _ in range(sizes["checks"]):
        e = rng.randint(1, n_holders)
        at = b.at_in_month()
        verdict = rng.choices(["valid", "used-code", "expired-code", "invalid"], [90, 4, 4, 2])[0]
        via = rng.choices(["qr", "typed", "json"], [80, 15, 5])[0]
        b.audit_row(
            at,
            "licence.check",
            obj_type="ELicence",
            obj_id=e,
            result=verdict,
            via=via,
            checker="anonymous",
        )

    # Vehicles: most registered in Qingdao to holders; some in Jinan (sold to Qingdao buyers).
    n_vehicles = sizes["vehicles"]
    n_transfers = sizes["transfers_registered"] + sizes["transfers_open"]
    vehicles, plates = [], set()

    def plate(prefix):
        while True:
            p = prefix + "".join(rng.choice(PLATE_CHARS) for _ in range(5))
            if p not in plates:
                plates.add(p)
                return p

    jinan_owners = []
    for n in range(n_vehicles):
        brand, model_name = rng.choice(BRANDS)
        in_jinan = n < n_transfers
        if in_jinan:  # owner from Jinan, no account here
            rid, female = b.resident_id("370102")
            owner, owner_name = None, b.name()
            jinan_owners.append(rid)
        else:
            i = rng.randrange(n_holders)
            rid, owner, owner_name = people[i][0], user_ids[i], people[i][2]
        vehicles.append(
            {
                "vin": b.vin(n),
                "plate": plate("鲁A" if in_jinan else "鲁B"),
                "brand": brand,
                "model_name": model_name,
                "colour": rng.choice(COLOURS),
                "engine_no": f"E{n:09d}",
                "first_registered_on": now.date() - dt.timedelta(days=rng.randint(200, 4000)),
                "owner": owner,
                "owner_name": owner_name,
                "owner_resident_id": rid,
                "registration_office": jinan.id if in_jinan else qd_office.id,
                "certificate_no": f"{370100 if in_jinan else 370200}{n:010d}",
                "inspection_valid_until": now.date() + dt.timedelta(days=rng.randint(30, 700)),
                "status": "normal",
                "created_at": now - MONTH * 3,
                "updated_at": now - MONTH,
            }
        )
    batch_insert(Vehicle, vehicles, progress)
    batch_insert(
        PlateNumber,
        [
            {"plate": plate("鲁B"), "office": qd_office.id, "status": "free"}
            for _ in range(sizes["free_plates"])
        ],
        progress,
    )

    # Transfer cases: Jinan vehicles bought by Qingdao holders. The first are registered (the
    # month's history), the rest wait for inspection: their buyers follow them online.
    cases, events = [], []
    open_cases = []
    for n in range(n_transfers):
        vehicle_id = n + 1
        buyer = rng.randrange(n_holders)
        opened = b.at_in_month()
        registered = n < sizes["transfers_registered"]
        cases.append(
            {
                "state": "registered" if registered else "awaiting_inspection",
                "vehicle": vehicle_id,
                "open_vehicle": None if registered else vehicle_id,
                "seller": user_ids[(buyer + 1) % n_holders],
                "buyer": user_ids[buyer],
                "opened_by": user_ids[buyer],
                "opened_at": opened,
                "origin_office": jinan.id,
                "destination_office": qd_office.id,
                "invoice_no": f"FP{n:010d}",
                "invoice_date": opened.date(),
                "price": rng.randint(20, 300) * 1000,
                "seller_confirmed_at": opened,
                "buyer_confirmed_at": opened,
                "new_plate": plate("鲁B") if registered else None,
                "registered_at": opened + dt.timedelta(days=2) if registered else None,
                "updated_at": opened,
            }
        )
        for kind in ("opened", "confirmed") + (("registered",) if registered else ()):
            events.append(
                {"case": n + 1, "at": opened, "kind": kind, "office": qd_office.id, "detail": "{}"}
            )
            action = {"opened": "transfer.open"}.get(kind, f"transfer.{kind}")
            b.audit_row(opened, action, obj_type="TransferCase", obj_id=n + 1)
        if not registered:
            open_cases.append({"case": n + 1, "buyer": user_ids[buyer]})
    # The seller of a case is another holder (a Qingdao account): for the bench only the buyer
    # matters. Sellers of registered cases are recorded as the Jinan owner on the vehicle.
    batch_insert(TransferCase, cases, progress)
    batch_insert(TransferEvent, events, progress)

    # Accident cases of the brigade, open for review, with two parties (holders) and evidence.
    acc_cases, parties, items, looks = [], [], [], []
    case_parties = []
    for n in range(sizes["accident_cases"]):
        occurred = b.at_in_month() - MONTH
        officer = rng.choice(officer_ids)
        acc_cases.append(
            {
                "case_no": f"370202{now.year}{n:06d}",
                "office": brigade.id,
                "officer": officer,
                "occurred_at": occurred,
                "place": f"{rng.choice(STREETS)}与{rng.choice(STREETS)}交叉口",
                "description": "两车在路口发生碰撞。",
                "procedure": "general",
                "determination_delivered_on": (occurred + dt.timedelta(days=10)).date(),
                "status": "open_for_review",
                "created_by": officer,
                "created_at": occurred,
            }
        )
        who = rng.sample(range(n_holders), 2)
        for role, i in zip(("driver", "driver"), who, strict=True):
            rid, _female, name, mobile = people[i]
            parties.append(
                {
                    "case": n + 1,
                    "name": name,
                    "resident_id": rid,
                    "mobile": mobile,
                    "role": role,
                    "added_at": occurred,
                }
            )
        case_parties.append(
            {"case": n + 1, "officer": officer, "parties": [user_ids[i] for i in who]}
        )
        for k, (category, title) in enumerate(EVIDENCE):
            items.append(
                {
                    "case": n + 1,
                    "category": category,
                    "title": title,
                    "file_path": "evidence/bench-placeholder.png",
                    "sha256": "0" * 64,
                    "size": 1024,
                    "mime": "image/png",
                    "released": k < 5,
                    "withhold_reason": None if k < 5 else "witness",
                    "uploaded_by": officer,
                    "uploaded_at": occurred,
                }
            )
    batch_insert(AccidentCase, acc_cases, progress)
    batch_insert(CaseParty, parties, progress)
    batch_insert(EvidenceItem, items, progress)
    for _ in range(sizes["evidence_looks"]):
        c = rng.choice(case_parties)
        at = b.at_in_month()
        user = rng.choice(c["parties"])
        looks.append(
            {
                "case": c["case"],
                "user": user,
                "kind": "case",
                "as_party": True,
                "at": at,
                "client_addr": "10.0.0.2",
            }
        )
        b.audit_row(
            at,
            "evidence.case_view",
            actor=(user, "", CITIZEN, ""),
            obj_type="AccidentCase",
            obj_id=c["case"],
            as_party=True,
        )
    batch_insert(EvidenceAccess, looks, progress)

    _chain_audit(b.audit, progress)
    return {
        "staff": staff_meta,
        "holders": {"first_user_id": user_ids[0], "count": n_holders},
        "applicants": {"first_user_id": user_ids[n_holders], "count": n_applicants},
        "open_transfers": open_cases,
        "accident_cases": case_parties,
    }


def bring_up_to_date(url: str, meta: dict, progress=print, work_dir: str = "") -> bool:
    """Apply pending migrations to a cached bench city (as a deployment does before it
    starts) and add what later versions of this module build; True when `meta` changed."""
    from app import create_app
    from core.db import upgrade

    out_dir = work_dir or os.path.dirname(url.split("sqlite:///", 1)[1])
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-build",
            "UPLOAD_FOLDER": os.path.join(out_dir, "uploads"),
        }
    )
    changed = False
    with app.app_context():
        applied = upgrade()
        if applied:
            progress(f"  migrations applied to the bench city: {', '.join(applied)}")
        if "violations" not in meta:
            with db.connection_context():
                add_violations(meta, int(SIZES["violations"] * meta.get("scale", 1.0)), progress)
                # A deployment never runs ANALYZE: plans come from SQLite's own guesses.
                db.execute_sql("DROP TABLE IF EXISTS sqlite_stat1")
                db.execute_sql("DROP TABLE IF EXISTS sqlite_stat4")
            changed = True
        if "identity_proofs" not in meta:
            with db.connection_context(), db.atomic():
                citizens = (
                    User.select(User.id, User.resident_id, User.mobile)
                    .where((User.is_staff == False) & User.resident_id.is_null(False))  # noqa: E712
                    .where(~User.id.in_(IdentityProof.select(IdentityProof.user)))
                    .tuples()
                )
                rows = list(citizens)
                add_identity_proofs(
                    [r[0] for r in rows], [(r[1], False, "", r[2]) for r in rows], progress
                )
            meta["identity_proofs"] = True
            changed = True
        if "trucks" not in meta:
            with db.connection_context():
                add_trucks(meta, int(SIZES["trucks"] * meta.get("scale", 1.0)), progress)
            changed = True
    return changed


def add_identity_proofs(user_ids: list[int], people: list[tuple], progress=print) -> None:
    """Every citizen proved their ID number by a code sent to the mobile number on record
    (core/identity.py): applying, a party's case and a buyer's transfer need it."""
    batch_insert(
        IdentityProof,
        [
            {
                "user": uid,
                "resident_id": rid,
                "method": SMS_PROOF,
                "mobile": mobile,
                "proven_at": b_now() - MONTH * 2,
            }
            for uid, (rid, _female, _name, mobile) in zip(user_ids, people, strict=True)
        ],
        progress,
    )


def add_violations(meta: dict, count: int, progress=print) -> None:
    """Traffic violations of the city's vehicles, a fifth not yet handled; the vehicles of
    open transfer cases have handled ones only (so their checks pass). Runs inside an open
    connection; records the count in `meta` (older cached cities get them added this way)."""
    rng = random.Random(7)
    n_vehicles = Vehicle.select().count()
    in_transfer = {t["case"] for t in meta["open_transfers"]}  # case n is vehicle n
    today = dt.date.today()
    rows = []
    for _ in range(count):
        vehicle = rng.randint(1, n_vehicles)
        handled = vehicle in in_transfer or rng.random() < 0.8
        rows.append(
            {
                "vehicle": vehicle,
                "place": rng.choice(STREETS),
                "occurred_on": today - dt.timedelta(days=rng.randint(1, 700)),
                "description": "违反禁止标线指示",
                "handled": handled,
                "handled_at": b_now() if handled else None,
            }
        )
    with db.atomic():
        batch_insert(TrafficViolation, rows, progress)
    meta["violations"] = count


# The bench's restricted zone: trucks of the city's kind get a pass at once (no review).
TRUCK_ZONE = (
    "前湾港物流区",
    "Qianwan port logistics area",
    "medium heavy",
    "1234567",
    "07:00-09:00, 17:00-19:00",
    "china5 china6 nev",
    30,
)


def add_trucks(meta: dict, count: int, progress=print) -> None:
    """A restricted zone whose rules approve at once, and heavy China VI trucks owned by the
    first holders (who have sessions), inspection valid: each application of the truck-pass
    scenario is approved automatically. Runs inside an open connection; records the trucks
    (id, plate, owner) and the zone in `meta`."""
    name, name_en, classes, days, windows, emissions, max_days = TRUCK_ZONE
    b = CityBuilder(seed=11)
    rng, today = b.rng, dt.date.today()
    first = meta["holders"]["first_user_id"]
    owners = User.select().where((User.id >= first) & (User.id < first + count)).order_by(User.id)
    office = Office.get(Office.code == "370200").id
    taken = {p for (p,) in Vehicle.select(Vehicle.plate).tuples() if p}
    taken |= {p for (p,) in PlateNumber.select(PlateNumber.plate).tuples()}
    first_vin = Vehicle.select().count() + 1
    rows = []
    for n, owner in enumerate(owners):
        plate = "鲁B" + "".join(rng.choice(PLATE_CHARS) for _ in range(5))
        while plate in taken:
            plate = "鲁B" + "".join(rng.choice(PLATE_CHARS) for _ in range(5))
        taken.add(plate)
        rows.append(
            {
                "vin": b.vin(first_vin + n),
                "plate": plate,
                "brand": "解放",
                "model_name": "J6P",
                "vehicle_type": "heavy_truck",
                "colour": "白",
                "engine_no": f"CA6DM{n:07d}",
                "gross_mass_kg": 25000,
                "emission_standard": "china6",
                "first_registered_on": today - dt.timedelta(days=rng.randint(200, 2000)),
                "owner": owner.id,
                "owner_name": owner.real_name,
                "owner_resident_id": owner.resident_id,
                "registration_office": office,
                "certificate_no": f"3702T{n:010d}",
                "inspection_valid_until": today + dt.timedelta(days=rng.randint(60, 700)),
                "status": "normal",
            }
        )
    with db.atomic():
        zone = RestrictedZone.create(name=name, name_en=name_en, description="港区集疏运道路。")
        ZoneRule.create(
            zone=zone,
            classes=classes,
            days=days,
            windows=windows,
            emissions=emissions,
            max_days=max_days,
            needs_review=False,
        )
        batch_insert(Vehicle, rows, progress)
    ids = dict(
        Vehicle.select(Vehicle.plate, Vehicle.id)
        .where(Vehicle.plate.in_([r["plate"] for r in rows]))
        .tuples()
    )
    meta["trucks"] = [
        {"id": ids[r["plate"]], "plate": r["plate"], "owner": r["owner"]} for r in rows
    ]
    meta["truck_zone"] = zone.id


def b_now() -> dt.datetime:
    """Now, UTC, naive (as the models store times)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _chain_audit(rows: list[dict], progress) -> None:
    """Insert the month's audit rows in time order, unnumbered: the integrator numbers them
    and builds their Merkle tree (`flask audit integrate --once`) as it would have live."""
    rows.sort(key=lambda r: r["at"])
    batch_insert(AuditEvent, rows, progress)
