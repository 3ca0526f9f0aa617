"""Thirty cross-deployment transfers while the destination (Jinan, which receives the archives
and registers the cars) is killed with kill -9 and restarted at random moments (seeded):
afterwards every case is registered exactly once, every car transferred out exactly once at
the origin, no archive accepted twice, no plate issued twice, nothing left undelivered, and
both audit logs verify. On PostgreSQL runs, Jinan's database is PostgreSQL."""

import random
import time

from peewee import fn

from core.network import outbox
from models import (
    ArchiveTransfer,
    AuditEvent,
    OutgoingTransfer,
    PlateNumber,
    TransferCase,
    TransferEvent,
    Vehicle,
    VehicleRecord,
)
from models.vehicles import PLATE_ASSIGNED

from .helpers import wait_for
from .transfer_network import (
    case_state,
    inspect,
    network_pair,
    open_case,
    outgoing,
    pending_count,
    register,
    seed,
    seller_confirms,
    send_archive,
)

N = 30
SEED = 1313
KILLS = 8  # kill -9 and restart the destination this many times, at seeded random moments


def advance(qingdao, jinan, t) -> bool:
    """Take the next step of one sale when it is ready; True when a step was taken.

    `t.stage`: 0 open, 1 seller to confirm, 2 to inspect, 3 archive to send, 4 to register,
    5 waiting for Qingdao to hear the registration, 6 done."""
    if t.stage == 0:
        open_case(jinan, t, f"INV-F{t.n:03d}")
    elif t.stage == 1:
        out = outgoing(qingdao, t)
        if out is None:
            return False
        t.out_id = out.id
        seller_confirms(qingdao, t)
    elif t.stage == 2:
        if case_state(jinan, t) != "awaiting_inspection":
            return False
        inspect(jinan, t)
    elif t.stage == 3:
        if outgoing(qingdao, t).state != "archive_requested":
            return False
        send_archive(qingdao, t)
    elif t.stage == 4:
        if case_state(jinan, t) != "archive_received":
            return False
        register(jinan, t)
    elif t.stage == 5:
        if outgoing(qingdao, t).state != "transferred_out":
            return False
    else:
        return False
    t.stage += 1
    return True


def back_up(qingdao, jinan) -> None:
    """Restart Jinan (server and worker) and, as its administrator would once it is back, have
    both sides try their waiting messages now rather than at their next backoff."""
    jinan.start()
    jinan.start_worker()
    for side, other in ((qingdao, jinan), (jinan, qingdao)):
        with side.act():
            outbox.retry_now(other.url)


def test_thirty_transfers_while_the_destination_is_killed(tmp_path):
    qingdao, jinan = network_pair(tmp_path)
    try:
        sales = seed(qingdao, jinan, N)
        for n, t in enumerate(sales):
            t.n, t.stage = n, 0
        rng = random.Random(SEED)
        # The kills are placed by the steps taken, not by the clock, so a fast machine and a
        # loaded one both kill the destination KILLS times in the middle of the sales: after
        # these many steps taken (seeded); it stays down for a few rounds each time.
        kill_after = sorted(rng.sample(range(1, N * 5), KILLS))
        kills, down, steps, rounds_down = 0, False, 0, 0
        deadline = time.monotonic() + 900
        while any(t.stage < 6 for t in sales):
            assert time.monotonic() < deadline, [t.stage for t in sales]
            for t in rng.sample(sales, len(sales)):
                if rng.random() < 0.5 and advance(qingdao, jinan, t):
                    steps += 1
            if down:
                rounds_down -= 1
                if rounds_down <= 0:
                    back_up(qingdao, jinan)
                    down = False
            elif kill_after and steps >= kill_after[0]:
                jinan.kill()  # mid-message, mid-transaction: wherever it happens to be
                kill_after.pop(0)
                kills, down, rounds_down = kills + 1, True, rng.randint(1, 6)
            time.sleep(0.05)  # let the workers deliver in between
        if down:
            back_up(qingdao, jinan)
        assert kills == KILLS
        check_outcome(qingdao, jinan, sales)
    finally:
        qingdao.stop()
        jinan.stop()


def check_outcome(qingdao, jinan, sales) -> None:
    """Every effect happened exactly once on each side, and both audit logs verify."""
    case_ids = [t.case_id for t in sales]
    # A message's effect shows on the other side before its sender hears the answer.
    for side in (qingdao, jinan):
        wait_for(lambda side=side: pending_count(side) == 0, what=f"{side.city}'s outbox to empty")
    with jinan.act():
        cases = list(TransferCase.select().where(TransferCase.id.in_(case_ids)))
        assert [c.state for c in cases] == ["registered"] * N
        registered = AuditEvent.select().where(AuditEvent.action == "transfer.registered")
        assert registered.count() == N
        for kind in ("registered", "archive_received", "archive_sent"):
            per_case = (
                TransferEvent.select(TransferEvent.case, fn.COUNT(TransferEvent.id))
                .where(TransferEvent.kind == kind)
                .group_by(TransferEvent.case)
                .tuples()
            )
            assert sorted(n for _, n in per_case) == [1] * N, kind
        archives = ArchiveTransfer.select().where(ArchiveTransfer.case.in_(case_ids))
        assert [a.status for a in archives] == ["sent"] * N
        accepted = AuditEvent.select().where(AuditEvent.action == "transfer.archive_sent")
        assert accepted.count() == N
        plates = [c.new_plate for c in cases]
        assert len(set(plates)) == N
        assigned = PlateNumber.select().where(PlateNumber.status == PLATE_ASSIGNED)
        assert sorted(p.plate for p in assigned) == sorted(plates)
        for c in cases:
            assert Vehicle.get_by_id(c.vehicle_id).plate == c.new_plate
    with qingdao.act():
        outs = list(OutgoingTransfer.select())
        assert sorted(o.remote_case_id for o in outs) == sorted(case_ids)
        assert {o.state for o in outs} == {"transferred_out"}
        car_ids = [t.car.id for t in sales]
        assert {v.status for v in Vehicle.select().where(Vehicle.id.in_(car_ids))} == {
            "transferred_out"
        }
        per_car = (
            VehicleRecord.select(VehicleRecord.vehicle, fn.COUNT(VehicleRecord.id))
            .where(VehicleRecord.kind == "transfer_out")
            .group_by(VehicleRecord.vehicle)
            .tuples()
        )
        assert sorted(n for _, n in per_car) == [1] * N
        out_audits = AuditEvent.select().where(AuditEvent.action == "transfer.transferred_out")
        assert out_audits.count() == N
    for side in (qingdao, jinan):
        assert side.flask("audit", "verify").returncode == 0
