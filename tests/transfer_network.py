"""Two cities' deployments for the cross-deployment transfer tests: Qingdao (鲁B, where the
cars are registered: the origin) and Jinan (鲁A, where the buyers register them: the
destination), each with its own database, keys, gunicorn server and outbox worker, peered
both ways; and the steps of one transfer as its people take them, each on its own side."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from blueprints.transfer import links, network_origin, office_service, service
from models import VEHICLE_CLERK, Office, OutboxMessage, OutgoingTransfer, TransferCase
from models.network import OUTBOX_PENDING

from .deployments import Deployment, peer
from .factories import Factory
from .helpers import fresh_database_url, on_postgres


def network_pair(root, workers: bool = True) -> tuple[Deployment, Deployment]:
    """Qingdao and Jinan, peered both ways, with their workers (Jinan on PostgreSQL when the
    suite runs there)."""
    qingdao = Deployment(root, "qingdao")
    jinan = Deployment(root, "jinan", fresh_database_url(root) if on_postgres() else None)
    peer(qingdao, jinan)
    peer(jinan, qingdao)
    if workers:
        qingdao.start_worker()
        jinan.start_worker()
    return qingdao, jinan


def seed(qingdao: Deployment, jinan: Deployment, n: int, plates: int | None = None):
    """n sellers with a Qingdao car each, n Jinan buyers, a clerk on each side, a plate pool."""
    make = Factory()
    with qingdao.act():
        office = Office.get(Office.code == "370200")
        sellers = [make.citizen() for _ in range(n)]
        cars = [make.vehicle(office, s) for s in sellers]
        q_clerk = make.staff(VEHICLE_CLERK, office=office)
        cars = [SimpleNamespace(vin=c.vin, plate=c.plate, id=c.id) for c in cars]
        sellers = [SimpleNamespace(id=s.id, rid=s.resident_id) for s in sellers]
    with jinan.act():
        office = Office.get(Office.code == "370100")
        buyers = [make.citizen(resident_id=make.resident_id(area="370102")) for _ in range(n)]
        j_clerk = make.staff(VEHICLE_CLERK, office=office)
        make.plates(office, plates or n + 5)
    return [
        SimpleNamespace(
            car=cars[i],
            seller_id=sellers[i].id,
            seller_rid=sellers[i].rid,
            buyer_id=buyers[i].id,
            q_clerk_id=q_clerk.id,
            j_clerk_id=j_clerk.id,
            case_id=None,
            out_id=None,
        )
        for i in range(n)
    ]


def user(user_id: int):
    """A user of the deployment in hand."""
    from models import User

    return User.get_by_id(user_id)


# --- The steps, each where it is taken ---------------------------------------------------


def open_case(jinan: Deployment, t, invoice_no: str, buyer_confirms: bool = True) -> TransferCase:
    """Jinan: the buyer opens the case from the invoice (the origin is asked about the car),
    and confirms the purchase at once unless told not to (a case stopped as it opens)."""
    with jinan.act():
        found = links.find_remote_vehicle(t.car.vin, t.car.plate, t.seller_rid)
        assert found is not None
        vehicle, answer = found
        buyer = user(t.buyer_id)
        case = service.open_case(
            vehicle=vehicle,
            buyer=buyer,
            opened_by=buyer,
            market=None,
            destination=Office.get(Office.code == "370100"),
            invoice_no=invoice_no,
            invoice_date=dt.date.today(),
            price=Decimal("65000.00"),
            origin_answer=answer,
        )
        t.case_id = case.id
        if buyer_confirms:
            service.confirm(case.id, "buyer", buyer)
        return case


def outgoing(qingdao: Deployment, t) -> OutgoingTransfer | None:
    """Qingdao's record of the case, once its opening has arrived."""
    with qingdao.act():
        return OutgoingTransfer.get_or_none(OutgoingTransfer.remote_case_id == t.case_id)


def case_state(jinan: Deployment, t) -> str:
    """The case's state at Jinan."""
    with jinan.act():
        return TransferCase.get_by_id(t.case_id).state


def seller_confirms(qingdao: Deployment, t):
    """Qingdao: the seller confirms the sale where they are registered."""
    with qingdao.act():
        return network_origin.seller_confirm(t.out_id, user(t.seller_id))


def inspect(jinan: Deployment, t):
    """Jinan: the clerk inspects the car and finds it as recorded."""
    with jinan.act():
        return office_service.inspect(
            t.case_id, user(t.j_clerk_id), vin_read=t.car.vin, plate_read=t.car.plate, passed=True
        )


def send_archive(qingdao: Deployment, t):
    """Qingdao: the clerk sends the archive."""
    with qingdao.act():
        return network_origin.send_archive(t.out_id, user(t.q_clerk_id))


def register(jinan: Deployment, t):
    """Jinan: the clerk registers the car to the buyer."""
    with jinan.act():
        return office_service.register(t.case_id, user(t.j_clerk_id))


def pending_count(side) -> int:
    """Messages this deployment has yet to deliver."""
    with side.act():
        return OutboxMessage.select().where(OutboxMessage.status == OUTBOX_PENDING).count()
