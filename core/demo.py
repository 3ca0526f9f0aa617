"""The demo city: a vehicle office, a police brigade and a used-car market of Qingdao, a vehicle
office of Jinan, one staff account of every role, and a dozen fictional citizens with
valid-looking data.

Passwords and authenticator secrets are random per load and kept (only for demo accounts) in a
setting, so that `flask demo logins` can print them and `flask demo code` can print a code.
"""

import json
import random
import secrets
from dataclasses import dataclass, field

import pyotp

from core import identity_demo, measures
from core.audit import audit
from core.passwords import hash_password
from models import (
    ACCIDENT_OFFICER,
    ADMIN,
    LICENCE_CLERK,
    MARKET_CLERK,
    POLICE_INSPECTOR,
    TRUCKPASS_CLERK,
    VEHICLE_CLERK,
    Office,
    Setting,
    User,
    utcnow,
    write_tx,
)
from rules.validators import resident_id_check_char

DEMO_KEY = "demo_logins"

OFFICES = [
    # code, name, English name, kind, city, city_en, plate prefix, local
    (
        "370200",
        "青岛市公安局交通警察支队车辆管理所",
        "Qingdao Vehicle Office",
        "vehicle_office",
        "青岛",
        "Qingdao",
        "鲁B",
        True,
    ),
    (
        "370202",
        "青岛市公安局交通警察支队市南大队",
        "Qingdao Shinan Traffic Police Brigade",
        "police_brigade",
        "青岛",
        "Qingdao",
        "鲁B",
        True,
    ),
    (
        "370100",
        "济南市公安局交通警察支队车辆管理所",
        "Jinan Vehicle Office",
        "vehicle_office",
        "济南",
        "Jinan",
        "鲁A",
        False,
    ),
    (
        "370200M1",
        "青岛市二手车交易市场",
        "Qingdao Used Car Market",
        "market",
        "青岛",
        "Qingdao",
        "鲁B",
        True,
    ),
]

STAFF = [
    # username, real name, office code, roles
    ("admin", "王建国", "370200", [ADMIN]),
    ("licence", "李秀英", "370200", [LICENCE_CLERK]),
    ("vehicle", "张伟", "370200", [VEHICLE_CLERK]),
    ("truckpass", "刘洋", "370200", [TRUCKPASS_CLERK]),
    ("accident", "陈静", "370202", [ACCIDENT_OFFICER]),
    ("inspector", "杨磊", "370202", [POLICE_INSPECTOR]),
    ("jinan.vehicle", "赵敏", "370100", [VEHICLE_CLERK]),
    ("market", "钱晓东", "370200M1", [MARKET_CLERK]),
]

CITIZENS = [
    "孙志强",
    "周丽华",
    "吴海涛",
    "郑晓燕",
    "冯建华",
    "何雪梅",
    "马俊杰",
    "高玉兰",
    "林宇航",
    "罗静怡",
    "谢国栋",
    "宋佳琪",
]

# County-level area codes of Qingdao (市南, 市北, 黄岛, 崂山, 李沧, 城阳).
AREAS = ["370202", "370203", "370211", "370212", "370213", "370214"]

# Where people bring a car or papers (fictional streets of the demo city), by office code.
OFFICE_ADDRESSES = {
    "370200": ("青岛市市北区辽阳西路 100 号", "100 Liaoyang West Road, Shibei, Qingdao"),
    "370202": ("青岛市市南区香港中路 20 号", "20 Hong Kong Middle Road, Shinan, Qingdao"),
}


def fictional_resident_id(rng: random.Random, birth_year: int, female: bool) -> str:
    """A well-formed ID number: real area code, real date, sequence, MOD 11-2 check char."""
    area = rng.choice(AREAS)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    seq = rng.randint(0, 99) * 10 + rng.choice([0, 2, 4, 6, 8] if female else [1, 3, 5, 7, 9])
    first17 = f"{area}{birth_year:04d}{month:02d}{day:02d}{seq:03d}"
    return first17 + resident_id_check_char(first17)


@dataclass
class DemoContext:
    """What the platform's demo data made, handed to each measure's demo loader."""

    rng: random.Random
    offices: dict  # code -> Office
    citizens: list  # User, in CITIZENS order
    staff: dict  # username -> User
    notes: list = field(default_factory=list)  # lines for `flask demo logins`


def load_demo_city(progress=print) -> dict:
    """Create the demo city in one transaction; returns the logins it made.

    Each measure of the running app then adds its own data (its declaration's `demo` loader).
    """
    rng = random.Random(20210901)  # the day the four measures started
    logins = {"staff": [], "citizens": []}
    citizens, staff_users = [], {}
    with write_tx():
        offices = {}
        for code, name, name_en, kind, city, city_en, prefix, local in OFFICES:
            offices[code] = Office.create(
                code=code,
                name=name,
                name_en=name_en,
                kind=kind,
                city=city,
                city_en=city_en,
                plate_prefix=prefix,
                is_local=local,
                address=OFFICE_ADDRESSES.get(code, ("", ""))[0],
                address_en=OFFICE_ADDRESSES.get(code, ("", ""))[1],
            )
        for username, real_name, office_code, roles in STAFF:
            password = "Demo-" + secrets.token_urlsafe(9)
            secret = pyotp.random_base32()
            user = User.create(
                is_staff=True,
                username=username,
                real_name=real_name,
                office=offices[office_code],
                password_hash=hash_password(password),
                totp_secret=secret,
                totp_enrolled_at=utcnow(),
            )
            user.set_roles(roles)
            staff_users[username] = user
            logins["staff"].append(
                {"username": username, "password": password, "totp": secret, "roles": roles}
            )
        citizen_password = "Demo-" + secrets.token_urlsafe(9)
        citizen_hash = hash_password(citizen_password)
        for i, name in enumerate(CITIZENS):
            rid = fictional_resident_id(rng, rng.randint(1960, 2002), female=i % 2 == 1)
            mobile = f"13{rng.randint(5, 9)}{rng.randint(0, 99999999):08d}"
            citizens.append(
                User.create(
                    real_name=name, resident_id=rid, mobile=mobile, password_hash=citizen_hash
                )
            )
            logins["citizens"].append({"name": name, "mobile": mobile, "resident_id": rid})
        logins["citizen_password"] = citizen_password
        context = DemoContext(rng=rng, offices=offices, citizens=citizens, staff=staff_users)
        for loader in measures.demo_loaders():
            loader(context)
        # Identity proofs last: they name the cases and records the measures made.
        identity_demo.load_demo(context)
        logins["notes"] = context.notes
        Setting.set_value(DEMO_KEY, json.dumps(logins, ensure_ascii=False))
        audit("demo.load", detail={"staff": len(STAFF), "citizens": len(CITIZENS)})
    progress(
        f"demo city loaded: {len(OFFICES)} offices, {len(STAFF)} staff, {len(CITIZENS)} citizens"
    )
    return logins


def demo_logins() -> dict | None:
    """The demo logins, or None when the demo city is not loaded."""
    raw = Setting.get_value(DEMO_KEY)
    return json.loads(raw) if raw else None


def logins_text() -> str:
    """The demo logins as text for the terminal."""
    logins = demo_logins()
    if not logins:
        return "no demo city loaded"
    lines = ["", "Demo logins (demo data: never use in production)", "", "Staff (password + code):"]
    for s in logins["staff"]:
        lines.append(
            f"  {s['username']:<14} {s['password']:<18} TOTP secret {s['totp']}  "
            f"({', '.join(s['roles'])})"
        )
    lines.append("  current code: .venv/bin/flask demo code USERNAME")
    lines.append(f"Citizens (mobile or ID number, password {logins['citizen_password']}):")
    for c in logins["citizens"]:
        lines.append(f"  {c['name']}  {c['mobile']}  {c['resident_id']}")
    if logins.get("notes"):
        lines.append("What the demo citizens have:")
        lines.extend(f"  {note}" for note in logins["notes"])
    lines.append("")
    return "\n".join(lines)


def current_code(username: str) -> str | None:
    """The current TOTP code of a demo staff account."""
    logins = demo_logins() or {"staff": []}
    if username not in {s["username"] for s in logins["staff"]}:
        return None
    user = User.get_or_none(User.username == username)
    if user is None or not user.totp_secret:
        return None
    return pyotp.TOTP(user.totp_secret).now()


def is_loaded() -> bool:
    """True while the demo city is in the database (the banner shows)."""
    return Setting.get_value(DEMO_KEY) is not None
