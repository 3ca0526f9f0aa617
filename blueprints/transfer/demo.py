"""The transfer measure's part of the demo city: vehicles registered in Qingdao and Jinan (some
in every blocking status), a plate pool for 鲁B, and cases at every step of the path."""

import datetime as dt
import random
from decimal import Decimal

from models import PlateNumber, TrafficViolation, TransferCase, User, Vehicle
from rules.clock import beijing_today
from rules.validators import resident_id_check_char, vin_check_digit

from . import office_service, service

VIN_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
JINAN_AREAS = ["370102", "370103", "370104", "370105", "370112"]

# brand, model, type, WMI, gross mass (kg, trucks only)
MODELS = [
    ("大众", "朗逸", "small_car", "LSV", None),
    ("丰田", "卡罗拉", "small_car", "LFM", None),
    ("本田", "思域", "small_car", "LHG", None),
    ("日产", "轩逸", "small_car", "LGB", None),
    ("比亚迪", "秦PLUS", "small_new_energy", "LGX", None),
    ("别克", "英朗", "small_car", "LSG", None),
    ("五菱", "宏光", "small_car", "LZW", None),
    ("福田", "奥铃", "light_truck", "LVB", 4495),
    ("解放", "J6P", "heavy_truck", "LFW", 25000),
    ("宇通", "ZK6122", "large_bus", "LZY", 18000),
]
COLOURS = ["白", "黑", "银", "灰", "蓝", "红"]
OTHER_OWNERS = ["韩立新", "曹文静", "邓志远", "许冬梅"]


def demo_vin(rng: random.Random, wmi: str, year: int) -> str:
    """A VIN with a real-looking WMI, the model year's code and a correct check digit."""
    year_code = "ABCDEFGHJKLMNPRSTVWXY123456789"[(year - 2010) % 30]
    body = wmi + "".join(rng.choice(VIN_LETTERS + "0123456789") for _ in range(5))
    rest = year_code + rng.choice(VIN_LETTERS) + f"{rng.randint(0, 999999):06d}"
    vin = body + "0" + rest
    return body + vin_check_digit(vin) + rest


def demo_plate(rng: random.Random, prefix: str, taken: set) -> str:
    """A free-looking ordinary plate of the prefix (鲁A12345-style), unique in `taken`."""
    while True:
        plate = prefix + rng.choice(PLATE_LETTERS) + f"{rng.randint(0, 9999):04d}"
        if plate not in taken and "I" not in plate and "O" not in plate:
            taken.add(plate)
            return plate


def jinan_resident_id(rng: random.Random) -> str:
    """A well-formed ID number of someone whose household is in Jinan."""
    first17 = (
        f"{rng.choice(JINAN_AREAS)}{rng.randint(1960, 1995)}{rng.randint(1, 12):02d}"
        f"{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    return first17 + resident_id_check_char(first17)


def load_demo(context) -> None:
    """Vehicles, violations, a plate pool and cases in progress (inside the demo transaction)."""
    rng = context.rng
    today = beijing_today()
    qingdao, jinan = context.offices["370200"], context.offices["370100"]
    market = context.offices["370200M1"]
    citizens = context.citizens
    taken = set()

    def vehicle(
        office, owner, n, status="normal", inspection_days=300, name=None, rid=None, gen=None
    ):
        gen = gen or rng
        brand, model, vtype, wmi, mass = MODELS[n % len(MODELS)]
        year = gen.randint(2012, 2020)
        v = Vehicle.create(
            vin=demo_vin(gen, wmi, year),
            plate=demo_plate(gen, office.plate_prefix, taken),
            brand=brand,
            model_name=model,
            vehicle_type=vtype,
            colour=gen.choice(COLOURS),
            engine_no=f"{gen.choice(VIN_LETTERS)}{gen.randint(10**7, 10**8 - 1)}",
            first_registered_on=dt.date(year, gen.randint(1, 12), gen.randint(1, 28)),
            gross_mass_kg=mass,
            owner=owner,
            owner_name=owner.real_name if owner else name,
            owner_resident_id=owner.resident_id if owner else rid,
            owner_mobile=owner.mobile if owner else None,
            registration_office=office,
            certificate_no=f"{office.code}{gen.randint(0, 999999):06d}",
            inspection_valid_until=today + dt.timedelta(days=inspection_days),
            status=status,
        )
        first = dt.datetime.combine(v.first_registered_on, dt.time(2, 0))
        v.record("initial_registration", office, at=first)
        if status == "mortgaged":
            v.record("mortgage", office, note="中国银行", at=first + dt.timedelta(days=30))
        return v

    def stranger(i):
        return OTHER_OWNERS[i % len(OTHER_OWNERS)], jinan_resident_id(rng)

    # Jinan vehicles owned by people who now use this deployment (the sellers of the demo).
    for_sale = [vehicle(jinan, citizens[i], i) for i in (1, 3, 5, 7, 9)]
    vehicle(jinan, citizens[9], 5, status="mortgaged")
    vehicle(jinan, citizens[11], 6, status="seized")
    vehicle(jinan, None, 0, "stolen", name=stranger(0)[0], rid=stranger(0)[1])
    vehicle(jinan, None, 2, "scrapped", name=stranger(1)[0], rid=stranger(1)[1])
    vehicle(jinan, None, 3, "transferred_out", name=stranger(2)[0], rid=stranger(2)[1])
    fined = vehicle(jinan, citizens[11], 1)
    for day, place, what in ((40, "经十路", "超速 20% 以上"), (12, "二环东路", "违反禁止标线")):
        TrafficViolation.create(
            vehicle=fined, occurred_on=today - dt.timedelta(days=day), place=place, description=what
        )
    vehicle(jinan, citizens[7], 4, inspection_days=-20)
    # Qingdao vehicles and trucks (also read by the truck-pass measure).
    for i, n in ((0, 7), (2, 8), (4, 9), (6, 0), (8, 1)):
        vehicle(qingdao, citizens[i], n)
    vehicle(qingdao, citizens[10], 7, inspection_days=-90)
    vehicle(qingdao, citizens[10], 3, status="mortgaged")
    vehicle(qingdao, None, 6, "seized", name=stranger(3)[0], rid=stranger(3)[1])

    taken |= set(Vehicle.select(Vehicle.plate).tuples().iterator()) - {None}
    for _ in range(40):
        PlateNumber.create(plate=demo_plate(rng, "鲁B", taken), office=qingdao)

    staff = context.staff
    clerk, origin_clerk = staff["vehicle"], staff["jinan.vehicle"]
    seller_of = {v.id: User.get_by_id(v.owner_id) for v in for_sale}

    def sale(v, buyer, by_market=True, days_ago=3, gen=None):
        gen = gen or rng
        return service.open_case(
            vehicle=v,
            buyer=buyer,
            opened_by=staff["market"] if by_market else buyer,
            market=market if by_market else None,
            destination=qingdao,
            invoice_no=f"{gen.randint(10**7, 10**8 - 1)}",
            invoice_date=today - dt.timedelta(days=days_ago),
            price=Decimal(gen.randrange(30000, 160000, 500)),
        )

    # Registered: the whole path done.
    done = sale(for_sale[4], citizens[6], days_ago=12)
    service.confirm(done.id, "seller", seller_of[for_sale[4].id])
    service.confirm(done.id, "buyer", citizens[6])
    office_service.inspect(
        done.id, clerk, vin_read=for_sale[4].vin, plate_read=for_sale[4].plate, passed=True
    )
    office_service.send_archive(done.id, origin_clerk)
    office_service.register(done.id, clerk)
    # Awaiting the archive from Jinan (work for jinan.vehicle), plate already chosen.
    waiting = sale(for_sale[0], citizens[0])
    service.confirm(waiting.id, "seller", seller_of[for_sale[0].id])
    service.confirm(waiting.id, "buyer", citizens[0])
    office_service.inspect(
        waiting.id, clerk, vin_read=for_sale[0].vin, plate_read=for_sale[0].plate, passed=True
    )
    service.choose_plate(waiting.id, service.offered_plates(waiting)[0].id, citizens[0])
    # Awaiting inspection at Qingdao (work for vehicle), opened online by the buyer (one who
    # proved the ID number, as opening a case online asks: the one who bought before).
    inspect_me = sale(for_sale[1], citizens[6], by_market=False, days_ago=2)
    service.confirm(inspect_me.id, "buyer", citizens[6])
    service.confirm(inspect_me.id, "seller", seller_of[for_sale[1].id])
    # Awaiting the seller's confirmation.
    pending = sale(for_sale[2], citizens[4], days_ago=1)
    service.confirm(pending.id, "buyer", citizens[4])
    # Stopped at once: the vehicle is mortgaged.
    mortgaged = Vehicle.get(
        (Vehicle.status == "mortgaged") & (Vehicle.registration_office == jinan)
    )
    sale(mortgaged, citizens[8], days_ago=5)
    # Failed its inspection at Qingdao, waiting in inspection_failed for the clerk to inspect
    # again or end the case (made with a generator of its own, so that the data the shared one
    # makes, here and in the measures loaded after this one, stays as it was).
    own = random.Random(20210902)
    lamp = vehicle(jinan, citizens[9], 2, gen=own)
    failed = sale(lamp, citizens[8], days_ago=4, gen=own)
    service.confirm(failed.id, "seller", citizens[9])
    service.confirm(failed.id, "buyer", citizens[8])
    office_service.inspect(
        failed.id,
        clerk,
        vin_read=lamp.vin,
        plate_read=lamp.plate,
        passed=False,
        remarks="左前大灯不亮，排气检测未通过。",
    )
    # for_sale[3] (citizens[7]'s car) is left free to walk the whole path by hand.
    notes = getattr(context, "notes", None)  # lines for `flask demo logins`, where supported
    if notes is not None:
        free = for_sale[3]
        notes.append(
            f"{citizens[7].real_name}: sells {free.brand} {free.model_name} {free.plate}, "
            f"VIN {free.vin} (registered in Jinan, no transfer case yet)"
        )
        for case in (done, waiting, inspect_me, pending, failed):
            case = TransferCase.get_by_id(case.id)
            notes.append(
                f"{case.buyer.real_name}: buys in transfer case {case.number} ({case.state})"
            )
        notes.append(
            f"vehicle ({clerk.real_name}): case {failed.number} failed its inspection and waits "
            "in inspection_failed, to be inspected again or ended"
        )
