"""Demo licence records for the demo city: photos drawn on the spot (no real faces), one record
in every status, and e-licences already issued to two citizens."""

import datetime as dt
import io

import pyotp
from PIL import Image, ImageDraw

from core.audit import audit
from core.uploads import store_bytes
from models import ELicence, LicenceRecord, NameCorrection, User
from models.licence import new_typing_key
from rules.clock import beijing_today
from rules.validators import birth_date_from_resident_id, sex_from_resident_id

from .origin import key_prefix

# Per demo citizen (in core.demo.CITIZENS order): status, classes, and whether the e-licence
# is already issued. The last citizen has no licence at all.
PLAN = [
    ("valid", "C1", True),
    ("valid", "A2 D", True),
    ("valid", "C1", False),
    ("suspended", "C1", False),
    ("revoked", "B2", False),
    ("expired", "C1", False),
    ("points_full", "C2", False),
    ("overdue_review", "A1 A2", False),
    ("cancelled", "C1", False),
    ("valid", "C1 E", False),
    ("valid", "C2", False),
    (None, "", False),
]
# The demo citizen (index) whose account name was mistyped at registration, and the name typed:
# their licence record and ID card carry the right name, and their request to correct the
# account's name (姓名更正) waits for a licence clerk.
MISTYPED = (9, "罗静仪")
STREETS = ["香港中路", "延安三路", "山东路", "辽阳西路", "南京路", "长江中路", "黄河路", "崂山路"]
COLOURS = [(198, 219, 239), (222, 235, 247), (229, 245, 224), (254, 230, 206), (239, 237, 245)]


def avatar_png(rng, female: bool) -> bytes:
    """A drawn head-and-shoulders silhouette on a pale background: clearly not a real face."""
    img = Image.new("RGB", (240, 300), rng.choice(COLOURS))
    draw = ImageDraw.Draw(img)
    skin = rng.choice([(233, 196, 160), (222, 184, 145), (241, 208, 174)])
    clothes = rng.choice([(40, 70, 120), (70, 70, 70), (120, 40, 50), (30, 100, 80)])
    draw.ellipse((30, 200, 210, 360), fill=clothes)
    draw.ellipse((75, 60, 165, 170), fill=skin)
    hair = (40, 30, 25)
    if female:
        draw.pieslice((65, 45, 175, 160), 180, 360, fill=hair)
        draw.rectangle((65, 100, 80, 190), fill=hair)
        draw.rectangle((160, 100, 175, 190), fill=hair)
    else:
        draw.pieslice((72, 52, 168, 130), 180, 360, fill=hair)
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _dates(rng, birth: dt.date, status: str, today: dt.date):
    first = birth.replace(year=birth.year + rng.randint(19, 30))
    first = min(first, today - dt.timedelta(days=400))
    if status == "expired":
        valid_from = today - dt.timedelta(days=6 * 365 + rng.randint(10, 300))
        return first, valid_from, valid_from + dt.timedelta(days=6 * 365)
    valid_from = max(first, today - dt.timedelta(days=rng.randint(100, 2000)))
    years = 10 if valid_from.year - first.year >= 6 else 6
    return first, valid_from, valid_from.replace(year=valid_from.year + years)


def make_record(rng, office, *, rid, name, status, classes, seq, today, mobile=None):
    """One licence record with a generated photo (and the holder's recorded mobile, if any)."""
    birth, sex = birth_date_from_resident_id(rid), sex_from_resident_id(rid)
    first, valid_from, valid_until = _dates(rng, birth, status, today)
    photo = store_bytes(avatar_png(rng, sex == "F"), "photos", {"image/png"}, 1 << 20)
    return LicenceRecord.create(
        licence_no=rid,
        mobile=mobile,
        file_no=f"{office.code}{seq:06d}",
        name=name,
        sex=sex,
        birth_date=birth,
        address=f"山东省青岛市{rng.choice(STREETS)}{rng.randint(1, 200)}号",
        photo=photo.relpath,
        classes=classes,
        first_issue_date=first,
        valid_from=valid_from,
        valid_until=valid_until,
        points=12 if status == "points_full" else rng.choice([0, 0, 0, 2, 3, 6]),
        status="valid" if status in ("expired", "points_full") else status,
        status_reason="" if status in ("valid", "expired", "points_full") else "演示数据",
        issuing_office=office,
    )


def demo_elicence(holder, record) -> ELicence:
    """An e-licence issued to a demo holder, its key with the city's prefix as issued ones."""
    return ELicence.create(
        holder=holder,
        record=record,
        secret=pyotp.random_base32(),
        typing_key=new_typing_key(key_prefix()),
    )


def load_demo(context) -> None:
    """Licence records for the demo citizens (every status) and a few more without accounts."""
    from core.demo import fictional_resident_id

    rng, office, today = context.rng, context.offices["370200"], beijing_today()
    seq = 1
    for citizen, (status, classes, issued) in zip(context.citizens, PLAN, strict=True):
        if status is None:
            continue
        record = make_record(
            rng,
            office,
            rid=citizen.resident_id,
            name=citizen.real_name,
            status=status,
            classes=classes,
            seq=seq,
            today=today,
            mobile=citizen.mobile,
        )
        seq += 1
        if issued:
            demo_elicence(citizen, record)
        context.notes.append(
            f"{citizen.real_name}: licence {status}" + (", e-licence issued" if issued else "")
        )
    surnames, given = "王李张刘陈杨赵黄周吴", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
    for i in range(20):
        name = rng.choice(surnames) + "".join(rng.choice(given) for _ in range(rng.randint(1, 2)))
        rid = fictional_resident_id(rng, rng.randint(1955, 2003), female=i % 2 == 0)
        status = rng.choice(["valid"] * 6 + ["suspended", "expired", "points_full"])
        classes = rng.choice(["C1", "C1", "C2", "B2", "A2 D"])
        make_record(
            rng, office, rid=rid, name=name, status=status, classes=classes, seq=seq, today=today
        )
        seq += 1
    mistyped_name(context)


def mistyped_name(context) -> None:
    """The account of one demo citizen carries a mistyped name, and the request to correct it
    waits in the licence clerks' queue (inside the demo transaction)."""
    index, typed = MISTYPED
    citizen = context.citizens[index]
    User.update(real_name=typed).where(User.id == citizen.id).execute()
    request = NameCorrection.create(
        user=citizen.id,
        old_name=typed,
        new_name=citizen.real_name,
        note=f"身份证和驾驶证上是“{citizen.real_name}”，注册时误写为“{typed}”。",
    )
    audit("licence.name_correction_requested", request, actor=citizen)
    context.notes.append(
        f"{citizen.real_name}: account registered as {typed} by mistake; the request to correct "
        f"it waits for licence ({context.staff['licence'].real_name}) at /licence/corrections"
    )
