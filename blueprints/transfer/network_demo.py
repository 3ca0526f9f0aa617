"""The demo network (`make run-network`): Qingdao (鲁B) and Jinan (鲁A), each its own deployment.

`flask network-demo load CITY` gives a fresh deployment its city: vehicle office and used-car
market, an administrator and clerks, citizens proven at the counter, a plate pool, and in
Qingdao a car for each citizen. Jinan's buyers then buy Qingdao's cars, and the other commands
take the cross-deployment cases through their steps, each on the side where it is taken, so
the demo shows a case at every step (scripts/run-network.sh runs them in order, waiting for
each side's outbox to be delivered in between). Demo data only: never in production.
"""

import datetime as dt
import functools
import json
import random
import secrets
import time
from decimal import Decimal

import click
import pyotp
from flask.cli import AppGroup

from blueprints.licence.demo import demo_elicence, make_record
from core.demo import DEMO_KEY, fictional_resident_id
from core.passwords import hash_password
from models import (
    ADMIN,
    MARKET_CLERK,
    POLICE_INSPECTOR,
    VEHICLE_CLERK,
    Office,
    OutboxMessage,
    OutgoingTransfer,
    PlateNumber,
    Setting,
    TransferCase,
    User,
    Vehicle,
    db,
    utcnow,
    write_tx,
)
from models.identity import COUNTER, IdentityProof
from models.network import OUTBOX_PENDING
from rules.clock import beijing_today

network_demo_cli = AppGroup("network-demo", help="The two-city demo network.")


def connected(command):
    """Run a command on a database connection of its own."""

    @functools.wraps(command)
    def wrapped(*args, **kwargs):
        """The command, connected."""
        with db.connection_context():
            return command(*args, **kwargs)

    return wrapped


CITIES = {
    # code, office, office (en), city, city (en), plate prefix, area codes of its citizens
    "qingdao": (
        "370200",
        "青岛市车管所",
        "Qingdao Vehicle Office",
        "青岛",
        "Qingdao",
        "鲁B",
        "370202",
    ),
    "jinan": ("370100", "济南市车管所", "Jinan Vehicle Office", "济南", "Jinan", "鲁A", "370102"),
}
NAMES = {
    "qingdao": ["孙志强", "周丽华", "吴海涛", "郑晓燕", "冯建华", "何雪梅", "马俊杰"],
    "jinan": ["林宇航", "罗静怡", "谢国栋", "宋佳琪", "韩立新", "唐美玲", "曹文博"],
}
CARS = [
    ("大众", "朗逸", "白"),
    ("丰田", "卡罗拉", "银"),
    ("本田", "思域", "黑"),
    ("比亚迪", "秦", "蓝"),
]
# The demo's cross-deployment cases: sale i (1-based) goes as far as the step named here.
STEPS = {1: "registered", 2: "archive_sent", 3: "inspected", 4: "seller_confirmed", 5: "opened"}


def invoice_no(i: int) -> str:
    """The invoice number of demo sale i (how both sides find the case)."""
    return f"DEMO-NET-{i}"


def load_city(city: str) -> dict:
    """Create the city's offices, people, plates (and Qingdao's cars); returns the logins."""
    code, name, name_en, city_zh, city_en, prefix, area = CITIES[city]
    rng = random.Random(f"network-demo-{city}")
    logins = {"staff": [], "citizens": [], "notes": []}
    with write_tx():
        office = Office.create(
            code=code,
            name=name,
            name_en=name_en,
            kind="vehicle_office",
            city=city_zh,
            city_en=city_en,
            plate_prefix=prefix,
            # Where buyers bring cars and collect plates (a fictional street of the demo).
            address=f"{city_zh}市演示路 1 号",
            address_en=f"1 Demo Road, {city_en}",
        )
        market = Office.create(
            code=f"{code}M1",
            name=f"{city_zh}市二手车交易市场",
            name_en=f"{city_en} Used Car Market",
            kind="market",
            city=city_zh,
            city_en=city_en,
            plate_prefix=prefix,
        )
        # The inspector's brigade: a roadside officer belongs to the traffic police, not to
        # the vehicle office (models.people.OFFICE_ROLES).
        brigade = Office.create(
            code=f"{code[:4]}02",
            name=f"{city_zh}市公安局交通警察支队一大队",
            name_en=f"{city_en} Traffic Police Brigade 1",
            kind="police_brigade",
            city=city_zh,
            city_en=city_en,
            plate_prefix=prefix,
        )
        staff = {}
        for username, real_name, at, roles in (
            ("admin", "管理员", office, [ADMIN]),
            ("vehicle", "车管所民警", office, [VEHICLE_CLERK]),
            ("market", "市场开票员", market, [MARKET_CLERK]),
            ("police", "交警", brigade, [POLICE_INSPECTOR]),
        ):
            password, secret = "Demo-" + secrets.token_urlsafe(9), pyotp.random_base32()
            user = User.create(
                is_staff=True,
                username=username,
                real_name=f"{city_zh}{real_name}",
                office=at,
                password_hash=hash_password(password),
                totp_secret=secret,
                totp_enrolled_at=utcnow(),
            )
            user.set_roles(roles)
            staff[username] = user
            logins["staff"].append(
                {"username": username, "password": password, "totp": secret, "roles": roles}
            )
        password = "Demo-" + secrets.token_urlsafe(9)
        logins["citizen_password"] = password
        for i, person in enumerate(NAMES[city]):
            rid = fictional_resident_id(rng, rng.randint(1965, 2000), female=i % 2 == 1)
            rid = area + rid[6:]
            from rules.validators import resident_id_check_char

            rid = rid[:17] + resident_id_check_char(rid[:17])
            mobile = f"13{rng.randint(5, 9)}{rng.randint(0, 99999999):08d}"
            citizen = User.create(
                real_name=person,
                resident_id=rid,
                mobile=mobile,
                password_hash=hash_password(password),
            )
            IdentityProof.create(
                user=citizen,
                resident_id=rid,
                method=COUNTER,
                clerk=staff["vehicle"],
                proven_at=utcnow(),
            )
            logins["citizens"].append({"name": person, "mobile": mobile, "resident_id": rid})
            if city == "qingdao":
                _car(rng, office, citizen, i)
                # Their e-licences, to check in Jinan (by QR, by typed key and code).
                record = make_record(
                    rng,
                    office,
                    rid=rid,
                    name=person,
                    status="valid",
                    classes="C1",
                    seq=i + 1,
                    today=beijing_today(),
                    mobile=mobile,
                )
                demo_elicence(citizen, record)
        for n in range(40):
            PlateNumber.create(plate=f"{prefix}N{n + 100:03d}{'AB'[n % 2]}", office=office)
        if city == "qingdao":
            logins["notes"].append(
                "Each citizen owns a 鲁B car; the first five are being sold to Jinan buyers "
                "(cases at every step), the others are free to sell. Each has an e-licence: "
                "its code page's QR, or its key and code, checked by Jinan's inspector (police) "
                "or any phone at Jinan's /verify, is judged here in Qingdao."
            )
        else:
            logins["notes"].append(
                "The citizens are buyers of Qingdao cars: the first five have cases at every "
                "step (DEMO-NET-1 registered ... DEMO-NET-5 awaiting the seller)."
            )
        Setting.set_value(DEMO_KEY, json.dumps(logins, ensure_ascii=False))
    return logins


def _car(rng, office, owner, i: int) -> Vehicle:
    """A car of the city registered to `owner`, inspected, without violations."""
    brand, model, colour = CARS[i % len(CARS)]
    chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    from rules.validators import vin_check_digit

    body = "LSV" + "".join(rng.choice(chars) for _ in range(13))
    vin = body[:8] + vin_check_digit(body[:8] + "0" + body[8:]) + body[8:]
    vehicle = Vehicle.create(
        vin=vin,
        plate=f"{office.plate_prefix}D{i + 1:04d}",
        brand=brand,
        model_name=model,
        colour=colour,
        engine_no=f"E{rng.randint(0, 10**8):08d}",
        first_registered_on=dt.date(2017 + i % 5, 3, 1),
        owner=owner,
        owner_name=owner.real_name,
        owner_resident_id=owner.resident_id,
        owner_mobile=owner.mobile,
        registration_office=office,
        certificate_no=f"{office.code}{i + 1:06d}",
        inspection_valid_until=dt.date.today() + dt.timedelta(days=300),
    )
    vehicle.record("initial_registration", office, at=dt.datetime(2017 + i % 5, 3, 1, 2))
    return vehicle


def wait_outbox(timeout: float = 120.0) -> None:
    """Wait until every message of this deployment is delivered (the worker runs)."""
    deadline = time.monotonic() + timeout
    while OutboxMessage.select().where(OutboxMessage.status == OUTBOX_PENDING).exists():
        if time.monotonic() > deadline:
            raise click.ClickException("messages still waiting: is the other city up?")
        time.sleep(0.3)


def _user(username: str) -> User:
    """A demo staff account."""
    return User.get(User.username == username)


@network_demo_cli.command("load")
@click.argument("city", type=click.Choice(sorted(CITIES)))
@connected
def load(city):
    """Load the demo city into a fresh deployment (does nothing when it has offices)."""
    if Office.select().exists():
        click.echo("this deployment has offices already: nothing loaded")
        return
    load_city(city)
    click.echo(f"demo {city} loaded")


@network_demo_cli.command("cars")
@connected
def cars():
    """Qingdao: the cars for sale, as the market clerk would read them (JSON)."""
    rows = Vehicle.select().where(Vehicle.plate.startswith("鲁BD")).order_by(Vehicle.plate)
    click.echo(
        json.dumps(
            [{"vin": v.vin, "plate": v.plate, "seller": v.owner_resident_id} for v in rows],
            ensure_ascii=False,
        )
    )


@network_demo_cli.command("cases")
@click.argument("cars_json")
@connected
def cases(cars_json):
    """Jinan: take the demo's cross-deployment cases to their steps here (sale i by buyer i,
    invoiced at the market); Qingdao's steps run with `flask network-demo origin`."""
    from . import links, office_service, service

    market = _user("market")
    clerk = _user("vehicle")
    buyers = list(User.select().where(User.is_staff == False).order_by(User.id))  # noqa: E712
    destination = Office.get((Office.kind == "vehicle_office") & (Office.is_local == True))  # noqa: E712
    for i, car in enumerate(json.loads(cars_json), start=1):
        if (
            i not in STEPS
            or TransferCase.select().where(TransferCase.invoice_no == invoice_no(i)).exists()
        ):
            continue
        found = links.find_remote_vehicle(car["vin"], car["plate"], car["seller"])
        if found is None:
            raise click.ClickException(f"Qingdao does not know {car['plate']}")
        vehicle, answer = found
        case = service.open_case(
            vehicle=vehicle,
            buyer=buyers[i - 1],
            opened_by=market,
            market=market.office,
            destination=destination,
            invoice_no=invoice_no(i),
            invoice_date=dt.date.today() - dt.timedelta(days=i),
            price=Decimal(58000 + 4000 * i),
            origin_answer=answer,
        )
        service.confirm(case.id, "buyer", buyers[i - 1])
    wait_outbox()
    _then(
        "inspected",
        lambda case: office_service.inspect(
            case.id, clerk, vin_read=case.vehicle.vin, plate_read=case.vehicle.plate, passed=True
        ),
    )
    _then(
        "registered", lambda case: office_service.register(case.id, clerk), state="archive_received"
    )
    wait_outbox()


def _then(step: str, run, state: str | None = None) -> None:
    """Jinan: take `step` on the demo cases meant to go that far, once they are ready."""
    order = list(STEPS.values())
    for i, last in STEPS.items():
        if order.index(last) > order.index(step):
            continue
        case = TransferCase.get_or_none(TransferCase.invoice_no == invoice_no(i))
        wanted = state or {"inspected": "awaiting_inspection"}.get(step)
        if case is not None and case.state == wanted:
            run(case)


@network_demo_cli.command("origin")
@click.argument("step", type=click.Choice(["confirm", "send"]))
@connected
def origin(step):
    """Qingdao: the sellers confirm, or the clerk sends the archives, of the demo sales meant to
    go that far."""
    from . import network_origin

    wait_outbox()
    order = list(STEPS.values())
    target = {"confirm": "seller_confirmed", "send": "archive_sent"}[step]
    for i, last in STEPS.items():
        if order.index(last) > order.index(target):
            continue
        out = OutgoingTransfer.get_or_none(OutgoingTransfer.invoice_no == invoice_no(i))
        if out is None:
            continue
        if step == "confirm" and out.state == "open" and out.seller_confirmed_at is None:
            network_origin.seller_confirm(out.id, User.get_by_id(out.seller_id))
        elif step == "send" and out.state == "archive_requested":
            network_origin.send_archive(out.id, _user("vehicle"))
    wait_outbox()


@network_demo_cli.command("wait")
@connected
def wait():
    """Wait until this deployment's outbox is delivered."""
    wait_outbox()


def init_app(app) -> None:
    """Register the demo network's commands."""
    app.cli.add_command(network_demo_cli)
