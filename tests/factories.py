"""Test data with sensible defaults and overrides: offices, citizens, staff, licences, vehicles,
plate pools, transfer cases at any step, accident cases and their evidence."""

import datetime as dt
import functools
import io
import itertools
import random
import time
from decimal import Decimal
from types import SimpleNamespace

import pyotp
from werkzeug.security import generate_password_hash

from core.demo import fictional_resident_id
from models import (
    ACCIDENT_OFFICER,
    MARKET_CLERK,
    STAFF_ROLES,
    VEHICLE_CLERK,
    AccidentCase,
    CaseParty,
    ELicence,
    EvidenceItem,
    IdentityProof,
    LicenceRecord,
    Office,
    PlateNumber,
    RestrictedZone,
    TrafficViolation,
    TransferCase,
    TruckPass,
    TruckPassZone,
    User,
    Vehicle,
    ZoneRule,
    db,
    utcnow,
)
from models.transfer import (
    ARCHIVE_RECEIVED,
    AWAITING_ARCHIVE,
    AWAITING_CONFIRMATION,
    AWAITING_INSPECTION,
    REGISTERED,
)
from rules import totp
from rules.validators import (
    birth_date_from_resident_id,
    resident_id_check_char,
    sex_from_resident_id,
    vin_check_digit,
)

# The order of a case's steps, for transfer_case(until=...).
CASE_PATH = [
    AWAITING_CONFIRMATION,
    AWAITING_INSPECTION,
    AWAITING_ARCHIVE,
    ARCHIVE_RECEIVED,
    REGISTERED,
]

_counter = itertools.count(1)
_HASHES = {}
# A previous step's authenticator code is given only while it stays accepted this long: time
# for the request that uses it to reach the check, however loaded the machine.
FRESH_MARGIN = 12


def password_hash(password: str) -> str:
    """A real scrypt hash, computed once per password for the whole run."""
    if password not in _HASHES:
        _HASHES[password] = generate_password_hash(password, method="scrypt:4096:8:1")
    return _HASHES[password]


def connected(method):
    """Run a factory method inside its own connection, closed again before any request."""

    @functools.wraps(method)
    def wrapped(*args, **kwargs):
        with db.connection_context():
            return method(*args, **kwargs)

    return wrapped


def sample_pdf(text: str = "Survey record", pages: int = 1) -> bytes:
    """A real, small PDF with a line of text on each page."""
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(595, 842))
    for n in range(pages):
        c.drawString(72, 700, f"{text} {n + 1}")
        c.showPage()
    c.save()
    return buf.getvalue()


def sample_image(fmt: str = "JPEG", size=(640, 480)) -> bytes:
    """A real picture: a grey field with a dark square in the middle."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (200, 205, 210))
    ImageDraw.Draw(img).rectangle(
        (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2), fill=(30, 30, 30)
    )
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


class Factory:
    """Makes rows; every keyword overrides a default."""

    PASSWORD = "Correct-Horse-7"

    def __init__(self, app=None):
        self.rng = random.Random(11643)
        self.app = app  # for the upload folder of evidence files
        self._staff_office = None

    def staff_office(self) -> Office:
        """The office staff work at unless a test names one: one office, as the colleagues of
        a counter (a second clerk confirms only a colleague of the same office)."""
        if self._staff_office is None:
            self._staff_office = self.office()
        return self._staff_office

    @connected
    def office(self, **kw) -> Office:
        n = next(_counter)
        defaults = {
            "code": f"3702{n:02d}",
            "name": f"测试车管所{n}",
            "name_en": f"Test office {n}",
            "kind": "vehicle_office",
            "city": "青岛",
            "city_en": "Qingdao",
            "plate_prefix": "鲁B",
            "address": f"测试路{n}号",
            "address_en": f"{n} Test Road",
        }
        return Office.create(**{**defaults, **kw})

    @connected
    def resident_id(self, birth_year: int = 1985, female: bool = False, area: str = "") -> str:
        """A fresh, valid, unused resident ID number (of Qingdao unless `area` is given)."""
        while True:
            rid = fictional_resident_id(self.rng, birth_year, female)
            if area:
                rid = area + rid[6:17]
                rid += resident_id_check_char(rid)
            if not User.select().where(User.resident_id == rid).exists():
                return rid

    @connected
    def citizen(self, password: str = PASSWORD, proven: bool = True, **kw) -> User:
        """A citizen account; proven (by SMS) unless `proven=False`, so that it sees the records
        kept under its ID number as most tests expect."""
        n = next(_counter)
        defaults = {
            "real_name": f"测试{n}",
            "resident_id": self.resident_id(),
            "mobile": f"139{n:08d}",
            "password_hash": password_hash(password),
        }
        user = User.create(**{**defaults, **kw})
        if proven:
            self.proof(user)
        return user

    @connected
    def proof(self, user: User, method: str = "sms", **kw) -> IdentityProof:
        """An identity proof of the account's current ID number."""
        defaults = {"user": user, "resident_id": user.resident_id, "method": method}
        if method == "sms":
            # As core.identity.confirm_code: a code to the account's own number ties it.
            defaults["mobile"] = user.mobile
            User.update(mobile_tied_at=utcnow()).where(User.id == user.id).execute()
        return IdentityProof.create(**{**defaults, **kw})

    @connected
    def staff(self, *roles: str, password: str = PASSWORD, enrolled: bool = True, **kw) -> User:
        roles = roles or (STAFF_ROLES[0],)
        n = next(_counter)
        defaults = {
            "is_staff": True,
            "username": f"staff{n}",
            "real_name": f"工作人员{n}",
            "office": kw.pop("office", None) or self.staff_office(),
            "password_hash": password_hash(password),
            "totp_secret": pyotp.random_base32() if enrolled else None,
            "totp_enrolled_at": utcnow() if enrolled else None,
        }
        user = User.create(**{**defaults, **kw})
        user.set_roles(roles)
        return user

    @staticmethod
    @connected
    def fresh_code(user: User) -> str:
        """A TOTP code of a step the user has not used yet (waits out a used step). The
        previous step's code is accepted too: it is given first while it stays accepted for
        FRESH_MARGIN seconds more, so that a second code of the same user seldom waits."""
        user = User.get_by_id(user.id)
        seconds = totp.AUTHENTICATOR_STEP_SECONDS
        last = -1 if user.totp_last_step is None else user.totp_last_step
        while True:
            now = time.time()
            current = totp.step_at(now, step=seconds)
            if current - 1 > last and totp.seconds_left(now, step=seconds) >= FRESH_MARGIN:
                return totp.totp(user.totp_secret, step=seconds).at((current - 1) * seconds)
            if current > last:
                return totp.totp(user.totp_secret, step=seconds).at(current * seconds)
            time.sleep(0.2)

    def countersignature(self, prefix: str = "") -> dict:
        """A second clerk's confirmation of a counter form (blueprints/identity/countersign.py):
        a new licence clerk each time, so that their code is one they have not used."""
        witness = self.staff("licence_clerk")
        return {
            f"{prefix}witness": witness.username,
            f"{prefix}witness_code": self.fresh_code(witness),
        }

    def login(self, client, user: User, password: str = PASSWORD):
        """Log in through the real forms; returns the last response."""
        account = user.username if user.is_staff else user.mobile
        response = client.post("/login", data={"account": account, "password": password})
        if user.is_staff and response.status_code == 303:
            response = client.post("/login/code", data={"code": self.fresh_code(user)})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return response

    @connected
    def licence_record(self, holder: User | None = None, **kw) -> LicenceRecord:
        """A licence record (of `holder` when given: same name and ID number)."""
        n = next(_counter)
        rid = kw.pop("licence_no", None) or (holder.resident_id if holder else self.resident_id())
        office = kw.pop("issuing_office", None) or Office.select().first() or self.office()
        today = dt.date.today()
        defaults = {
            "licence_no": rid,
            "mobile": holder.mobile if holder else None,
            "file_no": f"{370200000000 + n}",
            "name": holder.real_name if holder else f"驾驶人{n}",
            "sex": sex_from_resident_id(rid),
            "birth_date": birth_date_from_resident_id(rid),
            "address": "山东省青岛市香港中路1号",
            "classes": "C1",
            "first_issue_date": today - dt.timedelta(days=3000),
            "valid_from": today - dt.timedelta(days=300),
            "valid_until": today + dt.timedelta(days=3000),
            "issuing_office": office,
        }
        return LicenceRecord.create(**{**defaults, **kw})

    @connected
    def elicence(self, holder: User | None = None, **record_kw) -> ELicence:
        """A holder (a new citizen unless given) with an issued e-licence."""
        holder = holder or self.citizen()
        record = self.licence_record(holder, **record_kw)
        return ELicence.create(holder=holder, record=record, secret=pyotp.random_base32())

    @connected
    def accident_case(self, officer: User | None = None, **kw) -> AccidentCase:
        """A case under the general procedure, open for review since yesterday by default."""
        if officer is None:
            officer = self.staff(ACCIDENT_OFFICER, office=self.office(kind="police_brigade"))
        n = next(_counter)
        defaults = {
            "case_no": f"37020220219{n:05d}",
            "office": officer.office_id,
            "officer": officer,
            "occurred_at": utcnow() - dt.timedelta(days=20),
            "place": "香港中路与燕儿岛路交叉口",
            "description": "两车碰撞",
            "procedure": "general",
            "determination_delivered_on": dt.date.today() - dt.timedelta(days=1),
            "status": "open_for_review",
            "created_by": officer,
        }
        return AccidentCase.create(**{**defaults, **kw})

    @connected
    def party(self, case: AccidentCase, citizen: User | None = None, **kw) -> CaseParty:
        """A party to the case; by default a new citizen with an account."""
        citizen = citizen or self.citizen()
        defaults = {
            "case": case,
            "name": citizen.real_name,
            "resident_id": citizen.resident_id,
            "mobile": citizen.mobile,
            "role": "driver",
        }
        return CaseParty.create(**{**defaults, **kw})

    @connected
    def evidence(self, case: AccidentCase, data: bytes | None = None, **kw) -> EvidenceItem:
        """An evidence item with its file stored in the app's upload folder (a PDF by default)."""
        from core.uploads import store_bytes

        data = data if data is not None else sample_pdf()
        with self.app.app_context():
            stored = store_bytes(
                data, "evidence", {"application/pdf", "image/jpeg", "image/png"}, 10**8
            )
        defaults = {
            "case": case,
            "category": "survey_record",
            "title": "现场勘查笔录",
            "file_path": stored.relpath,
            "sha256": stored.sha256,
            "size": stored.size,
            "mime": stored.mime,
            "released": True,
            "uploaded_by": case.officer_id,
        }
        return EvidenceItem.create(**{**defaults, **kw})

    # --- Vehicles and transfers ------------------------------------------------------------

    def vin(self) -> str:
        """A fresh VIN with a correct check digit."""
        chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
        body = "LSV" + "".join(self.rng.choice(chars) for _ in range(13))
        vin = body[:8] + "0" + body[8:]
        return body[:8] + vin_check_digit(vin) + body[8:]

    def plate_number(self, prefix: str) -> str:
        """A fresh ordinary plate of the prefix, e.g. 鲁A + letter + 4 digits."""
        return f"{prefix}{self.rng.choice('ABCDEFGHJKLMN')}{next(_counter) % 10000:04d}"

    @connected
    def vehicle(self, office: Office, owner: User | None = None, **kw) -> Vehicle:
        """A vehicle registered at `office`, normal, inspected, owned by `owner`."""
        n = next(_counter)
        defaults = {
            "vin": self.vin(),
            "plate": self.plate_number(office.plate_prefix),
            "brand": "大众",
            "model_name": "朗逸",
            "vehicle_type": "small_car",
            "colour": "白",
            "engine_no": f"E{n:08d}",
            "first_registered_on": dt.date(2016, 5, 1),
            "owner": owner,
            "owner_name": owner.real_name if owner else "无账号车主",
            "owner_resident_id": owner.resident_id if owner else self.resident_id(area="370102"),
            "owner_mobile": owner.mobile if owner else None,
            "registration_office": office,
            "certificate_no": f"{office.code}{n:06d}",
            "inspection_valid_until": dt.date.today() + dt.timedelta(days=200),
        }
        vehicle = Vehicle.create(**{**defaults, **kw})
        vehicle.record("initial_registration", office, at=dt.datetime(2016, 5, 1, 2))
        return vehicle

    @connected
    def violation(self, vehicle: Vehicle, handled: bool = False) -> TrafficViolation:
        """A traffic violation of the vehicle."""
        return TrafficViolation.create(
            vehicle=vehicle, occurred_on=dt.date.today(), description="超速", handled=handled
        )

    @connected
    def plates(self, office: Office, n: int = 5) -> list[PlateNumber]:
        """n free plates in the office's pool."""
        return [
            PlateNumber.create(plate=self.plate_number(office.plate_prefix), office=office)
            for _ in range(n)
        ]

    def transfer_world(self, plates: int = 5) -> SimpleNamespace:
        """Qingdao (destination) and Jinan (origin) offices, a market, their clerks, a seller
        with a Jinan car, a buyer of Qingdao and a pool of free 鲁B plates."""
        dest = self.office(name="青岛车管所", city="青岛", city_en="Qingdao", plate_prefix="鲁B")
        n = next(_counter)
        origin = self.office(
            code=f"3701{n:02d}",
            name="济南车管所",
            city="济南",
            city_en="Jinan",
            plate_prefix="鲁A",
            is_local=False,
        )
        market = self.office(code=f"M{n}", name="二手车市场", kind="market", plate_prefix="鲁B")
        seller, buyer = self.citizen(), self.citizen()
        world = SimpleNamespace(
            dest=dest,
            origin=origin,
            market=market,
            clerk=self.staff(VEHICLE_CLERK, office=dest),
            origin_clerk=self.staff(VEHICLE_CLERK, office=origin),
            market_clerk=self.staff(MARKET_CLERK, office=market),
            seller=seller,
            buyer=buyer,
            vehicle=self.vehicle(origin, seller),
        )
        self.plates(dest, plates)
        return world

    @connected
    def transfer_case(
        self, w, until: str = AWAITING_CONFIRMATION, vehicle=None, buyer=None, **kw
    ) -> TransferCase:
        """A case for the world's vehicle, opened at its market and taken up to `until`."""
        from blueprints.transfer import office_service, service

        vehicle = Vehicle.get_by_id((vehicle or w.vehicle).id)
        buyer = buyer or w.buyer
        case = service.open_case(
            vehicle=vehicle,
            buyer=buyer,
            opened_by=w.market_clerk,
            market=w.market,
            destination=w.dest,
            invoice_no=f"{20210901 + next(_counter)}",
            invoice_date=dt.date.today() - dt.timedelta(days=1),
            price=Decimal("86000"),
            **kw,
        )
        steps = CASE_PATH.index(until)
        if steps >= 1:
            service.confirm(case.id, "seller", User.get_by_id(case.seller_id))
            service.confirm(case.id, "buyer", buyer)
        if steps >= 2:
            office_service.inspect(
                case.id, w.clerk, vin_read=vehicle.vin, plate_read=vehicle.plate, passed=True
            )
        if steps >= 3:
            office_service.send_archive(case.id, w.origin_clerk)
        if steps >= 4:
            office_service.register(case.id, w.clerk)
        return TransferCase.get_by_id(case.id)

    # --- Truck passes ---------------------------------------------------------------------

    @connected
    def zone(self, *rules, name: str = "老城区") -> RestrictedZone:
        """A zone with rules given as dicts of ZoneRule fields (sensible defaults)."""
        zone = RestrictedZone.create(name=name, name_en="Old town")
        for rule in rules or ({},):
            defaults = {
                "classes": "medium heavy",
                "days": "12345",
                "windows": "07:00-09:00, 17:00-19:00",
                "emissions": "china5 china6 nev",
                "max_days": 30,
                "needs_review": False,
            }
            ZoneRule.create(zone=zone, **{**defaults, **rule})
        return zone

    @connected
    def truck(self, owner: User | None = None, **kw) -> Vehicle:
        """A heavy China VI truck registered in Qingdao, inspection valid, owned by `owner`."""
        office = Office.get_or_none(Office.code == "370200") or self.office(code="370200")
        owner = owner or self.citizen()
        defaults = {
            "vehicle_type": "heavy_truck",
            "emission_standard": "china6",
            "gross_mass_kg": 25000,
            "inspection_valid_until": dt.date.today() + dt.timedelta(days=200),
        }
        return self.vehicle(office, owner, **{**defaults, **kw})

    @connected
    def truck_pass(self, applicant: User | None = None, **kw):
        """A truck pass for a new truck in a new zone (approved unless a status is given)."""
        applicant = applicant or self.citizen()
        truck, zone = self.truck(applicant), self.zone()
        today = dt.date.today()
        defaults = {
            "applicant": applicant,
            "vehicle": truck,
            "plate": truck.plate,
            "truck_class": "heavy",
            "emission": "china6",
            "start_date": today,
            "end_date": today + dt.timedelta(days=2),
            "windows": "07:00-09:00",
            "purpose": "钢材运输",
            "status": "approved",
        }
        truck_pass = TruckPass.create(**{**defaults, **kw})
        TruckPassZone.create(truck_pass=truck_pass, zone=zone)
        return truck_pass
