"""Truck passes as plain functions: the vehicle checks, the rule checks of each application
step, deciding (refuse, approve at once, or queue for review), revoking, and the verifier."""

import datetime as dt
from dataclasses import dataclass, field

from core.audit import audit
from core.clock import beijing_today
from core.identity import identity_proven
from core.states import StateMachine
from models import (
    RestrictedZone,
    TruckPass,
    TruckPassDocument,
    TruckPassZone,
    Vehicle,
    ZoneRule,
    utcnow,
    write_tx,
)
from models.base import compiled_get, compiled_insert, compiled_select
from models.truckpass import (
    APPROVED,
    PASS_TRANSITIONS,
    PENDING_REVIEW,
    REFUSED,
    REVOKED,
)
from models.vehicles import SCRAPPED, SEIZED, STOLEN, TRANSFERRED_OUT
from rules import truckrules
from rules.validators import normalize_plate

PASS_STATE = StateMachine("truck_pass", "status", PASS_TRANSITIONS)

# Which classes a vehicle of each type may apply as (hazardous goods on any truck).
CLASSES_BY_TYPE = {
    "light_truck": ("light", "hazardous"),
    "medium_truck": ("medium", "hazardous"),
    "heavy_truck": ("heavy", "hazardous"),
    "tractor_unit": ("heavy", "hazardous"),
}
# Vehicle states that refuse an application outright (cancelled = scrapped or moved away).
BLOCKING_STATUSES = {STOLEN, SEIZED, SCRAPPED, TRANSFERRED_OUT}


def vehicle_block(vehicle: Vehicle, today: dt.date | None = None) -> str | None:
    """Why this vehicle may not have a pass at all, or None."""
    if vehicle.status in BLOCKING_STATUSES:
        return vehicle.status
    if not vehicle.inspection_valid_on(today or beijing_today()):
        return "inspection-overdue"
    return None


def find_truck(plate: str) -> tuple[Vehicle | None, str | None]:
    """The registered truck with this plate, or (None, why not)."""
    plate = normalize_plate(plate)  # ValidationError for a malformed plate
    vehicle = compiled_get(
        Vehicle, "vehicle-by-plate", lambda: Vehicle.select().where(Vehicle.plate == ""), plate
    )
    if vehicle is None:
        return None, "not-registered"
    if not vehicle.is_truck:
        return None, "not-a-truck"
    return vehicle, None


def is_owner(vehicle, user) -> bool:
    """The user is this vehicle's owner for a pass: the linked account, with its ID number
    proven (an unproven account is treated as anyone else, and goes to a clerk)."""
    return vehicle is not None and vehicle.owner_id == user.id and identity_proven(user)


def own_trucks(user):
    """The trucks the user owns (offered first in the form); none until the account proved its
    ID number (the office links an owner's account by that number)."""
    if not identity_proven(user):
        return []
    return (
        Vehicle.select()
        .where((Vehicle.owner == user) & Vehicle.vehicle_type.in_(list(CLASSES_BY_TYPE)))
        .order_by(Vehicle.plate)
    )


# Every step of every application reads the zones and their rules: their SQL text is built once
# (compiled_sql), once per number of zones asked for.
def active_zones() -> list[RestrictedZone]:
    """The zones currently in force."""
    return list(compiled_select(
        RestrictedZone, "active-zones",
        lambda: RestrictedZone.select().where(RestrictedZone.active == True)  # noqa: E712
        .order_by(RestrictedZone.id),
        True,
    ))  # fmt: skip


def rules_by_zone(zone_ids) -> dict[int, list]:
    """The pure rules of the given zones, keyed by zone id."""
    zone_ids = list(zone_ids)
    found = {zone_id: [] for zone_id in zone_ids}
    rows = compiled_select(
        ZoneRule, f"zone-rules-of-{len(zone_ids)}",
        lambda: ZoneRule.select().where(ZoneRule.zone.in_(zone_ids)), *zone_ids,
    ) if zone_ids else []  # fmt: skip
    for row in rows:
        found[row.zone_id].append(row.as_rule())
    return found


@dataclass
class Application:
    """What an applicant has entered so far (all steps)."""

    vehicle: Vehicle
    truck_class: str
    emission: str
    zone_ids: list
    start: dt.date
    end: dt.date
    windows: list
    purpose: str
    documents: list = field(default_factory=list)  # core.uploads.StoredFile
    rules: dict | None = None  # rules_by_zone(zone_ids), when the steps have read them already


def review_reasons(app: Application, applicant, zone_review: bool) -> list[str]:
    """Why an application that the rules allow still needs a clerk (empty: approve at once)."""
    reasons = ["zone-review"] if zone_review else []
    if app.truck_class == "hazardous":
        reasons.append("hazardous")
    if not is_owner(app.vehicle, applicant):
        reasons.append("not-owner")
    if app.documents:
        reasons.append("documents")
    return reasons


def submit(app: Application, applicant) -> TruckPass:
    """Record the application and decide it in the same transaction."""
    rules = app.rules if app.rules is not None else rules_by_zone(app.zone_ids)
    refusals, zone_review = truckrules.check_application(
        rules, app.truck_class, app.emission, app.start, app.end
    )
    block = vehicle_block(app.vehicle)
    with write_tx():
        truck_pass = TruckPass(
            applicant=applicant,
            vehicle=app.vehicle,
            plate=app.vehicle.plate,
            truck_class=app.truck_class,
            emission=app.emission,
            start_date=app.start,
            end_date=app.end,
            windows=truckrules.format_windows(app.windows),
            purpose=app.purpose,
        )
        compiled_insert(truck_pass)
        for zone_id in app.zone_ids:
            compiled_insert(TruckPassZone(truck_pass=truck_pass, zone=zone_id))
        for stored in app.documents:
            TruckPassDocument.create(
                truck_pass=truck_pass,
                relpath=stored.relpath,
                sha256=stored.sha256,
                mime=stored.mime,
                size=stored.size,
            )
        audit("truck_pass.apply", truck_pass, actor=applicant,
              detail={"zones": app.zone_ids, "class": app.truck_class})  # fmt: skip
        if block or refusals:
            reason = block or ",".join(sorted({r.code for r in refusals}))
            PASS_STATE.apply(truck_pass, REFUSED, reason=reason, decided_at=utcnow())
        elif reasons := review_reasons(app, applicant, zone_review):
            PASS_STATE.apply(truck_pass, PENDING_REVIEW, reason=",".join(reasons))
        else:
            PASS_STATE.apply(truck_pass, APPROVED, reason="", decided_at=utcnow(),
                             detail={"automatic": True})  # fmt: skip
    return truck_pass


def decide(truck_pass: TruckPass, approve: bool, reason: str, clerk) -> bool:
    """A clerk's decision on a queued application; False when someone decided it first."""
    if approve and vehicle_block(Vehicle.get_by_id(truck_pass.vehicle_id)):
        raise ValueError("the vehicle is blocked")
    target = APPROVED if approve else REFUSED
    return PASS_STATE.apply(truck_pass, target, reason=reason.strip(), decided_by=clerk,
                            decided_at=utcnow(), detail={"reason": reason.strip()})  # fmt: skip


def revoke(truck_pass: TruckPass, reason: str, clerk) -> bool:
    """Revoke an issued pass (the verifier says "revoked" from the next check on)."""
    return PASS_STATE.apply(truck_pass, REVOKED, reason=reason.strip(), decided_by=clerk,
                            decided_at=utcnow(), detail={"reason": reason.strip()})  # fmt: skip


def passes_for_plate(plate: str, zone_id: int | None = None):
    """Every pass issued for a plate (optionally covering one zone), newest first."""
    query = TruckPass.select().where(
        (TruckPass.plate == plate) & TruckPass.status.in_([APPROVED, REVOKED])
    )
    if zone_id:
        query = query.join(TruckPassZone).where(TruckPassZone.zone == zone_id)
    return list(query.order_by(TruckPass.id.desc()))


# When several passes answer for one plate, the best verdict wins, in this order.
VERDICT_ORDER = ["valid", "outside-window", "not-yet-valid", "expired-pass", "revoked"]


def plate_verdict(plate: str, zone_id: int | None, local: dt.datetime):
    """The verifier's answer for "has this truck a pass for this zone now?"."""
    passes = passes_for_plate(plate, zone_id)
    if not passes:
        return "no-pass", None
    ranked = sorted(passes, key=lambda p: VERDICT_ORDER.index(p.verdict_at(local)))
    return ranked[0].verdict_at(local), ranked[0]


def zones_of(truck_pass: TruckPass) -> list:
    """The zones a pass covers."""
    return list(
        RestrictedZone.select().join(TruckPassZone).where(TruckPassZone.truck_pass == truck_pass)
    )
