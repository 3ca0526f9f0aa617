"""Truck passes as plain functions: the vehicle checks, the rule checks of each application
step, deciding (refuse, approve at once, or queue for review), revoking, and the verifier (the
clerks' rule book is in rulebook.py).

Steps follow the service convention (core.steps): an explicit actor, one write transaction,
refusals as StepError naming the form field they belong to.
"""

import datetime as dt
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from core.audit import audit
from core.i18n import in_sentence
from core.identity import identity_proven
from core.states import InvalidTransition, StateMachine
from core.steps import StepError, refuse_all
from core.uploads import store_upload
from models import (
    RestrictedZone,
    TruckPass,
    TruckPassDocument,
    TruckPassZone,
    Vehicle,
    ZoneRule,
    for_update,
    utcnow,
    write_tx,
)
from models.truckpass import (
    APPROVED,
    PASS_TRANSITIONS,
    PENDING_REVIEW,
    REFUSED,
    RETURNED,
    REVOKED,
    WITHDRAWN,
)
from models.vehicles import SCRAPPED, SEIZED, STOLEN, TRANSFERRED_OUT
from rules import truckrules
from rules.clock import beijing_now, beijing_today
from rules.validators import ValidationError, normalize_plate

from .labels import BLOCK_REASONS, CLASS_LABELS, EMISSION_LABELS, join, restricted_hours
from .notices import tell_applicant

PASS_STATE = StateMachine("truck_pass", "status", PASS_TRANSITIONS)

# Which classes a vehicle of each type may apply as (hazardous goods on any truck).
CLASSES_BY_TYPE = {
    "light_truck": ("light", "hazardous"),
    "medium_truck": ("medium", "hazardous"),
    "heavy_truck": ("heavy", "hazardous"),
    "tractor_unit": ("heavy", "hazardous"),
}


def classes_of(truck_class: str, vehicle: Vehicle) -> frozenset:
    """What the rules see a truck as: the class applied as, and for hazardous goods the class
    of the vehicle's type too (a heavy truck carrying them is restricted by both)."""
    base = CLASSES_BY_TYPE.get(vehicle.vehicle_type, (truck_class,))[0]
    return frozenset({truck_class, base})


# Vehicle states that refuse an application outright (cancelled = scrapped or moved away).
BLOCKING_STATUSES = {STOLEN, SEIZED, SCRAPPED, TRANSFERRED_OUT}


def vehicle_block(vehicle: Vehicle, today: dt.date | None = None) -> str | None:
    """Why this vehicle may not have a pass at all, or None."""
    if vehicle.status in BLOCKING_STATUSES:
        return vehicle.status
    if not vehicle.inspection_valid_on(today or beijing_today()):
        return "inspection-overdue"
    return None


def application_block(truck_pass: TruckPass) -> str | None:
    """Why this application may not be issued: its truck's block, or its truck registered to
    someone else since (the application was made under the plate it had)."""
    block = vehicle_block(truck_pass.vehicle)
    if block is None and truck_pass.moved_on():
        return "re-registered"
    return block


def find_truck(plate: str) -> tuple[Vehicle | None, str | None]:
    """The registered truck with this plate, or (None, why not)."""
    plate = normalize_plate(plate)  # ValidationError for a malformed plate
    vehicle = Vehicle.by_plate(plate)
    if vehicle is None:
        return None, "not-registered"
    if not vehicle.is_truck:
        return None, "not-a-truck"
    return vehicle, None


def is_owner(vehicle, user) -> bool:
    """The user is this vehicle's owner for a pass: the linked account, with its ID number
    proven (an unproven account is treated as anyone else, and goes to a clerk)."""
    return vehicle is not None and vehicle.owner_id == user.id and identity_proven(user)


# How long after sending an application the form mentions it (Back from the pass, say).
RECENT_MINUTES = 30


def recent_application(user) -> TruckPass | None:
    """The user's application sent in the last RECENT_MINUTES, if any (the newest): the form
    opened again (Back from the pass, or a second tab) says it was sent and links it, so that
    nobody fills it in again thinking it was lost. One withdrawn or returned since is not
    mentioned: its applicant knows it is gone."""
    since = utcnow() - dt.timedelta(minutes=RECENT_MINUTES)
    return (
        TruckPass.select()
        .where(
            (TruckPass.applicant == user)
            & (TruckPass.created_at >= since)
            & TruckPass.status.not_in([WITHDRAWN, RETURNED])
        )
        .order_by(TruckPass.created_at.desc())
        .first()
    )


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


# --- The application's steps: each decides, and refuses with the field to show it at -----------

DOCUMENT_TYPES = {"application/pdf", "image/jpeg", "image/png"}
# The purpose: "运煤" (carrying coal) says enough; at most what the record holds.
PURPOSE_MIN, PURPOSE_MAX = 2, TruckPass.purpose.max_length
DOCUMENT_MAX_BYTES = 5 * 1024 * 1024
NOTHING_CHANGED = _l(
    "Nothing was changed: someone else decided it first, or the vehicle is blocked."
)


def step_vehicle(plate: str, actor) -> Vehicle:
    """Step 1: the truck the application is for; StepError on `plate` when it may have none.

    The police status of someone else's vehicle (stolen, seized, inspection overdue...) is not
    told to whoever types its plate, not even by a refusal: their application goes on like any
    other for someone else's truck, to a clerk, who sees the status (and cannot approve it).
    Only the owner is told why, at once.
    """
    try:
        vehicle, why = find_truck(plate or "")
    except ValidationError as exc:
        raise StepError(exc.message, "plate") from None
    if why:
        raise StepError(BLOCK_REASONS[why], "plate")
    block = vehicle_block(vehicle)
    if block and is_owner(vehicle, actor):
        raise StepError(BLOCK_REASONS[block], "plate")
    return vehicle


def step_class(truck_class: str, emission: str, allowed) -> None:
    """Step 2: a class this vehicle may apply as, and a known emission standard."""
    if truck_class not in allowed:
        raise StepError(_l("Choose the class of this truck."), "truck_class")
    if emission not in truckrules.EMISSION_STANDARDS:
        raise StepError(_l("Choose the emission standard."), "emission")


def zones_needing_pass(truck_class: str, vehicle: Vehicle) -> list[RestrictedZone]:
    """After step 2: the zones in force that restrict this truck (the only ones step 3 offers);
    StepError at the class when none does: the truck needs no pass anywhere."""
    needed = zones_restricting(active_zones(), classes_of(truck_class, vehicle))
    if not needed:
        raise StepError(
            _l(
                "No zone of the city restricts %(truck_class)s: this truck needs no pass.",
                truck_class=in_sentence(CLASS_LABELS[truck_class]),
            ),
            "truck_class",
        )
    return needed


def step_zones(zone_ids, zone_names: dict, truck_class: str, emission: str, vehicle: Vehicle):
    """Step 3: the zones asked for (those in force) and their rules; refused on `zones` when
    none is chosen or the rules give this truck no pass for one of them (rules.truckrules)."""
    counted = classes_of(truck_class, vehicle)
    # Each zone once (a form posted by hand may repeat one), and only zones in force.
    chosen = list(dict.fromkeys(z for z in zone_ids or [] if z in zone_names))
    if not chosen:
        raise StepError(_l("Choose at least one zone."), "zones")
    rules = rules_by_zone(chosen)
    closed = truckrules.closed_zones(rules, counted)
    if closed:
        # No standard would do: the refusal must not blame this truck's. (Nor name the class
        # applied as: a heavy truck carrying hazardous goods may be closed out as heavy.)
        raise StepError(
            _l(
                "No pass is issued for this truck in: %(zones)s. Leave these zones out.",
                zones=join(zone_names[z] for z in closed),
            ),
            "zones",
        )
    barred = truckrules.barred_zones(rules, counted, emission)
    if barred:
        raise StepError(
            _l(
                "%(emission)s trucks cannot get a pass for: %(zones)s.",
                emission=EMISSION_LABELS[emission],
                zones=join(zone_names[z] for z in barred),
            ),
            "zones",
        )
    free = truckrules.unrestricted_zones(rules, counted)
    if free:
        # No rule of these zones restricts this class: a pass there would cover nothing.
        raise StepError(
            _l(
                "No pass is needed for %(truck_class)s in: %(zones)s. Leave these zones out.",
                zones=join(zone_names[z] for z in free),
                truck_class=in_sentence(CLASS_LABELS[truck_class]),
            ),
            "zones",
        )
    return chosen, rules


def step_dates(
    start, end, windows_text: str, rules: dict, truck_class, emission: str, zone_names=None
):
    """Step 4: the dates and daily windows; returns the windows, refused at each field at
    fault (all of them at once)."""
    errors = []
    if not start:
        errors.append(StepError(_l("Enter a date (YYYY-MM-DD)."), "start_date"))
    elif start < beijing_today():
        errors.append(StepError(_l("The first day cannot be in the past."), "start_date"))
    elif start > beijing_today() + dt.timedelta(days=truckrules.MAX_LEAD_DAYS):
        errors.append(
            StepError(
                _l(
                    "A pass can be applied for at most %(n)d days ahead: apply nearer the time.",
                    n=truckrules.MAX_LEAD_DAYS,
                ),
                "start_date",
            )
        )
    if not end:
        errors.append(StepError(_l("Enter a date (YYYY-MM-DD)."), "end_date"))
    elif start and end < start:
        errors.append(StepError(_l("The last day cannot be before the first."), "end_date"))
    try:
        windows = truckrules.merge_windows(truckrules.parse_windows(windows_text or ""))
    except ValueError:
        errors.append(
            StepError(_l("Write the windows as 09:00-16:00, separated by commas."), "windows")
        )
    missed = [] if errors else truckrules.zones_missed(rules, truck_class, windows)
    if missed:
        # A pass for hours a zone leaves free would cover nothing the driver needs there.
        errors.append(
            StepError(
                _l(
                    "A pass is needed only when the zones restrict this truck: %(hours)s. Give "
                    "the hours the truck will be there within them.",
                    hours=restricted_hours(
                        {z: rules[z] for z in missed}, truck_class, zone_names or {}
                    ),
                ),
                "windows",
            )
        )
    refuse_all(errors)
    refusals, _review = truckrules.check_application(rules, truck_class, emission, start, end)
    too_long = [r for r in refusals if r.code == "too-long"]
    if too_long:
        raise StepError(
            _l("A pass for this zone lasts at most %(n)d days.", n=min(r.limit for r in too_long)),
            "end_date",
        )
    return windows


def covering(vehicle, zone_ids, start, end, windows, applicant=None) -> list[TruckPass]:
    """The truck's issued passes, and `applicant`'s own waiting applications, whose days and
    hours meet these in a shared zone (someone else's waiting application is not counted: it
    may never be issued, and the owner is not held up by it; a clerk approving either sees
    the other issued one here)."""
    wanted = set(zone_ids)
    return [
        other
        for other in TruckPass.standing_near(vehicle, wanted, start, end)
        if (other.status == APPROVED or other.applicant_id == getattr(applicant, "id", None))
        and not (applicant is not None and other.repeats(applicant, start, end, wanted))
        and truckrules.passes_meet(
            start, end, windows, other.start_date, other.end_date, other.window_list
        )
    ]


def refuse_double_cover(
    vehicle, zone_ids, start, end, windows, applicant, zone_names: dict
) -> None:
    """StepError (at the first day) when an issued pass of this truck, or an application of the
    applicant's own still standing, already covers some of these zones, days and hours: one
    truck, one pass for each hour. A repeat of the applicant's own application is a second tap
    on "submit", which submit() leads to."""
    found = covering(vehicle, zone_ids, start, end, windows, applicant)
    if not found:
        return
    other = found[0]
    if other.applicant_id != applicant.id:
        raise StepError(
            _l(
                "This truck already has a pass for some of these days and hours in these "
                "zones. Choose other days or hours."
            ),
            "start_date",
        )
    wanted = set(zone_ids)
    values = {
        "start": other.start_date.isoformat(),
        "end": other.end_date.isoformat(),
        "windows": join(other.window_list),
        "zones": join(zone_names.get(z, "") for z in other.zone_ids() if z in wanted),
    }
    if other.status == APPROVED:
        said = _l(
            "Your pass for this truck from %(start)s to %(end)s, %(windows)s, already covers "
            "%(zones)s on some of these days and hours. Choose other days or hours, or return "
            "that pass first if this one replaces it.",
            **values,
        )
    else:
        said = _l(
            "Your application for this truck from %(start)s to %(end)s, %(windows)s, "
            "already covers %(zones)s on some of these days and hours. Choose other days or "
            "hours, or withdraw that one first if this one replaces it.",
            **values,
        )
    raise StepError(said, "start_date")


def step_purpose(purpose: str, upload) -> list:
    """Step 5: what the truck carries, and the document if one is sent (stored at once, so
    that the last step need not send it again); returns the stored documents."""
    purpose = (purpose or "").strip()
    if len(purpose) < PURPOSE_MIN:
        raise StepError(_l("Say in a few words what the truck carries and where."), "purpose")
    if len(purpose) > PURPOSE_MAX:
        raise StepError(
            _l(
                "Keep it to %(max)d characters (you wrote %(n)d).",
                max=PURPOSE_MAX,
                n=len(purpose),
            ),
            "purpose",
        )
    if not upload or not getattr(upload, "filename", ""):
        return []
    try:
        return [store_upload(upload, "truckpass", DOCUMENT_TYPES, DOCUMENT_MAX_BYTES)]
    except ValidationError as exc:
        raise StepError(exc.message, "document") from None


def active_zones() -> list[RestrictedZone]:
    """The zones currently in force."""
    return RestrictedZone.in_force()


def zones_restricting(zones: list, truck_class) -> list:
    """Of `zones`, those whose rules restrict this truck class or classes (a truck needs no
    pass in the others, so the verifier offers no check there)."""
    free = set(truckrules.unrestricted_zones(rules_by_zone(z.id for z in zones), truck_class))
    return [zone for zone in zones if zone.id not in free]


def rules_by_zone(zone_ids) -> dict[int, list]:
    """The pure rules of the given zones, keyed by zone id."""
    zone_ids = list(zone_ids)
    found = {zone_id: [] for zone_id in zone_ids}
    for row in ZoneRule.of_zones(zone_ids):
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
    zone_names: dict = field(default_factory=dict)  # zone id -> name, for a refusal's words


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


class AlreadyApplied(Exception):
    """The same application stands already (a second tap on "submit"): `truck_pass` is it."""

    def __init__(self, truck_pass: TruckPass):
        """Keep the application that stands."""
        super().__init__(truck_pass.id)
        self.truck_pass = truck_pass


def submit(app: Application, applicant) -> TruckPass:
    """Record the application and decide it in the same transaction; AlreadyApplied when the
    applicant's same application (truck, days, zones) stands already."""
    rules = app.rules if app.rules is not None else rules_by_zone(app.zone_ids)
    refusals, zone_review = truckrules.check_application(
        rules, classes_of(app.truck_class, app.vehicle), app.emission, app.start, app.end
    )
    block = vehicle_block(app.vehicle)
    with write_tx():
        # Two submissions at once (a double tap) queue on the truck's row (SQLite's write lock
        # queues them already), so the second finds the first.
        for_update(Vehicle.select(Vehicle.id).where(Vehicle.id == app.vehicle.id)).first()
        same = TruckPass.same_application(applicant, app.vehicle, app.start, app.end, app.zone_ids)
        if same is not None:
            raise AlreadyApplied(same)
        refuse_double_cover(
            app.vehicle, app.zone_ids, app.start, app.end, app.windows, applicant, app.zone_names
        )
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
        truck_pass.insert_new()
        for zone_id in app.zone_ids:
            TruckPassZone(truck_pass=truck_pass, zone=zone_id).insert_new()
        for stored in app.documents:
            TruckPassDocument.attach(truck_pass, stored)
        audit(
            "truck_pass.apply",
            truck_pass,
            actor=applicant,
            detail={"zones": app.zone_ids, "class": app.truck_class},
        )
        # Someone else's blocked truck goes to a clerk like any of someone else's (its status
        # is not told to the applicant); the owner's is refused with the reason.
        owner_block = block if is_owner(app.vehicle, applicant) else None
        if owner_block or refusals:
            reason = owner_block or ",".join(sorted({r.code for r in refusals}))
            PASS_STATE.apply(
                truck_pass, REFUSED, actor=applicant, reason=reason, decided_at=utcnow()
            )
        elif reasons := review_reasons(app, applicant, zone_review):
            PASS_STATE.apply(truck_pass, PENDING_REVIEW, actor=applicant, reason=",".join(reasons))
        else:
            PASS_STATE.apply(
                truck_pass,
                APPROVED,
                actor=applicant,
                reason="",
                decided_at=utcnow(),
                detail={"automatic": True},
            )
        tell_applicant(truck_pass)
    return truck_pass


CLERK_ACTIONS = ("approve", "refuse", "revoke")


def _move(truck_pass: TruckPass, target: str, refused, tell: bool = False, **fields) -> TruckPass:
    """One move of a pass in its own transaction (the applicant told when `tell`); StepError
    with `refused` when the move is not possible or another one came first."""
    try:
        with write_tx():
            moved = PASS_STATE.apply(truck_pass, target, **fields)
            if moved and tell:
                tell_applicant(truck_pass)
    except InvalidTransition:
        moved = False
    if not moved:
        raise StepError(refused)
    return truck_pass


def _clerk_move(truck_pass: TruckPass, target: str, reason: str, clerk) -> TruckPass:
    """One clerk's move of a pass, the applicant told; refused when not possible or lost."""
    reason = reason.strip()
    return _move(
        truck_pass,
        target,
        NOTHING_CHANGED,
        tell=True,
        actor=clerk,
        reason=reason,
        decided_by=clerk,
        decided_at=utcnow(),
        detail={"reason": reason},
    )


DECIDED_MEANWHILE = _l("This application was decided or withdrawn meanwhile; nothing was changed.")
ENDED = _l("This pass has ended: there is nothing to return.")
REASON_NEEDED = _l("Give the reason; the applicant will see it.")


def may_take_back(truck_pass: TruckPass, now: dt.datetime | None = None) -> bool:
    """What the applicant may still take back: an application waiting for review, or an issued
    pass whose last day has not passed (an ended pass is past returning)."""
    if truck_pass.status == PENDING_REVIEW:
        return True
    verdict = truck_pass.verdict_at(now or beijing_now())
    return truck_pass.status == APPROVED and verdict not in ("expired-pass", "re-registered")


def withdraw(truck_pass: TruckPass, applicant) -> TruckPass:
    """The applicant takes back an application waiting for review, or a pass they no longer
    need (the verifier says "returned" from the next check on); StepError when it is decided,
    withdrawn, returned or ended already."""
    if truck_pass.status == APPROVED and not may_take_back(truck_pass):
        raise StepError(ENDED)
    target = RETURNED if truck_pass.status == APPROVED else WITHDRAWN
    return _move(
        truck_pass, target, DECIDED_MEANWHILE, tell=True, actor=applicant, decided_at=utcnow()
    )


def decide(truck_pass: TruckPass, approve: bool, reason: str, clerk) -> TruckPass:
    """A clerk's decision on a queued application; StepError when someone decided it first or
    the vehicle is blocked (an approval), or when a refusal gives no reason."""
    if not approve and not reason.strip():
        raise StepError(REASON_NEEDED, "reason")
    if approve and application_block(truck_pass):
        raise StepError(NOTHING_CHANGED)
    if approve and (issued := issued_cover(truck_pass)):
        raise StepError(
            _l(
                "This truck has an issued pass for some of these days and hours (from %(start)s "
                "to %(end)s): refuse this application, or revoke that pass first.",
                start=issued.start_date.isoformat(),
                end=issued.end_date.isoformat(),
            )
        )
    return _clerk_move(truck_pass, APPROVED if approve else REFUSED, reason, clerk)


def issued_cover(truck_pass: TruckPass) -> TruckPass | None:
    """An issued pass of the same truck whose days and hours meet this application's in a
    shared zone (applications of several people for one truck wait side by side; only one of
    them may be issued for an hour)."""
    found = covering(
        truck_pass.vehicle_id,
        truck_pass.zone_ids(),
        truck_pass.start_date,
        truck_pass.end_date,
        truck_pass.window_list,
    )
    return next((p for p in found if p.id != truck_pass.id), None)


def revoke(truck_pass: TruckPass, reason: str, clerk) -> TruckPass:
    """Revoke an issued pass (the verifier says "revoked" from the next check on); the reason
    is required, as the holder sees it."""
    if not reason.strip():
        raise StepError(REASON_NEEDED, "reason")
    return _clerk_move(truck_pass, REVOKED, reason, clerk)


def clerk_act(truck_pass: TruckPass, action: str, reason: str, clerk) -> TruckPass:
    """Approve, refuse or revoke, as the clerk's form asks (ValueError for another action)."""
    if action == "revoke":
        return revoke(truck_pass, reason, clerk)
    if action in ("approve", "refuse"):
        return decide(truck_pass, action == "approve", reason, clerk)
    raise ValueError(action)


def passes_of_plate(plate: str, limit: int) -> list[TruckPass]:
    """Every pass and application of a plate, in every state, newest first (for the clerks)."""
    return list(
        TruckPass.select()
        .where(TruckPass.plate == plate)
        .order_by(TruckPass.id.desc())
        .limit(limit)
    )


def passes_for_plate(plate: str, zone_id: int | None = None):
    """Every pass issued for a plate (optionally covering one zone), newest first: revoked and
    returned ones too, which the verifier names as such."""
    query = TruckPass.select().where(
        (TruckPass.plate == plate) & TruckPass.status.in_([APPROVED, REVOKED, RETURNED])
    )
    if zone_id:
        query = query.join(TruckPassZone).where(TruckPassZone.zone == zone_id)
    return list(query.order_by(TruckPass.id.desc()))


# When several passes answer for one plate, the best verdict wins, in this order.
VERDICT_ORDER = [
    "valid",
    "outside-window",
    "not-yet-valid",
    "expired-pass",
    "re-registered",
    "revoked",
    "returned",
]


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
