"""Truck electronic pass codes (货车电子通行码) and the city's truck rules kept as data."""

import datetime as dt
import json
import secrets

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from rules.truckrules import Rule, parse_windows, window_covers
from rules.zonegeo import draw

from .base import BaseModel, compiled_select, utcnow
from .people import User
from .vehicles import TRANSFERRED_OUT, Vehicle

# Application and pass statuses. A new application is "submitted" for the instant in which it
# is decided: refused, approved at once, or queued for a clerk's review.
SUBMITTED = "submitted"
PENDING_REVIEW = "pending_review"
APPROVED = "approved"
REFUSED = "refused"
REVOKED = "revoked"
# The applicant took back an application waiting for review; or returned a pass they no longer
# need (the verifier then says so, by its QR and by its plate).
WITHDRAWN = "withdrawn"
RETURNED = "returned"
PASS_STATUSES = (SUBMITTED, PENDING_REVIEW, APPROVED, REFUSED, REVOKED, WITHDRAWN, RETURNED)
# The states in which an application or pass no longer stands: nothing it asked for or gave
# holds any more.
ENDED = (REFUSED, REVOKED, WITHDRAWN, RETURNED)

# The explicit table of allowed moves (performed by core.states.StateMachine).
PASS_TRANSITIONS = {
    SUBMITTED: {APPROVED, PENDING_REVIEW, REFUSED},
    PENDING_REVIEW: {APPROVED, REFUSED, WITHDRAWN},
    APPROVED: {REVOKED, RETURNED},
    REFUSED: set(),
    REVOKED: set(),
    WITHDRAWN: set(),
    RETURNED: set(),
}


class RestrictedZone(BaseModel):
    """A zone of the city where trucks are restricted (限行区域)."""

    name = CharField(max_length=60)
    name_en = CharField(max_length=60, default="")
    description = TextField(default="")
    description_en = TextField(default="")
    map_image = CharField(max_length=200, null=True)  # relative path under UPLOAD_FOLDER
    # GeoJSON text of a Polygon or MultiPolygon (WGS-84 lon/lat), checked by rules/zonegeo.py;
    # "" when the clerk has not drawn it yet.
    boundary = TextField(default="")
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)

    # Every step of every application reads the zones and their rules: their SQL text is built
    # once (compiled_select), once per number of zones asked for.
    @classmethod
    def in_force(cls) -> list["RestrictedZone"]:
        """The zones currently in force."""
        return compiled_select(
            cls,
            "active-zones",
            lambda: cls.select().where(cls.active == True).order_by(cls.id),  # noqa: E712
            True,
        )

    def display_name(self, locale: str) -> str:
        """The zone's name in the UI language."""
        return self.name_en if locale.startswith("en") and self.name_en else self.name

    def display_description(self, locale: str) -> str:
        """The zone's description in the UI language ("" when English is asked and not written:
        the page then shows the Chinese one, marked as Chinese)."""
        return self.description_en if locale.startswith("en") else self.description

    def boundary_drawing(self, width: int = 320, height: int = 220):
        """The boundary projected for an SVG (None when the zone has none)."""
        return draw(json.loads(self.boundary), width, height) if self.boundary else None

    def rules(self):
        """This zone's rules."""
        return ZoneRule.select().where(ZoneRule.zone == self).order_by(ZoneRule.id)


class ZoneRule(BaseModel):
    """One rule of a zone: which classes are restricted when, and who may get a pass."""

    zone = ForeignKeyField(RestrictedZone, backref="rule_rows", on_delete="CASCADE")
    classes = CharField(max_length=60)  # space-separated truck classes
    days = CharField(max_length=7)  # ISO weekdays, e.g. "12345"
    windows = CharField(max_length=200)  # "07:00-09:00, 17:00-19:00"
    emissions = CharField(max_length=60)  # standards that may get a pass
    max_days = IntegerField(default=30)
    needs_review = BooleanField(default=False)
    updated_at = DateTimeField(default=utcnow)

    @classmethod
    def of_zones(cls, zone_ids: list) -> list["ZoneRule"]:
        """The rule rows of these zones (none when no zone is asked for)."""
        if not zone_ids:
            return []
        return compiled_select(
            cls,
            f"zone-rules-of-{len(zone_ids)}",
            lambda: cls.select().where(cls.zone.in_(zone_ids)),
            *zone_ids,
        )

    def as_rule(self) -> Rule:
        """The row as the pure rule the engine in rules/truckrules.py works on."""
        return Rule(
            zone_id=self.zone_id,
            classes=frozenset(self.classes.split()),
            days=frozenset(int(d) for d in self.days),
            windows=tuple(parse_windows(self.windows)),
            emissions=frozenset(self.emissions.split()),
            max_days=self.max_days,
            needs_review=self.needs_review,
        )


def new_pass_handle() -> str:
    """The opaque identifier of a pass in its QR URL."""
    return secrets.token_urlsafe(12)


class TruckPass(BaseModel):
    """An application for a truck pass and, once approved, the pass itself."""

    applicant = ForeignKeyField(User, backref="truck_passes", on_delete="RESTRICT")
    vehicle = ForeignKeyField(Vehicle, backref="truck_passes", on_delete="RESTRICT")
    plate = CharField(max_length=8, index=True)  # the plate when applied (the verifier asks by it)
    truck_class = CharField(max_length=12)
    emission = CharField(max_length=10)
    start_date = DateField()
    end_date = DateField()
    windows = CharField(max_length=200)
    purpose = CharField(max_length=200)
    status = CharField(max_length=16, default=SUBMITTED, index=True)
    reason = CharField(max_length=300, default="")  # why refused / revoked / sent to review
    decided_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    handle = CharField(max_length=32, unique=True, default=new_pass_handle)
    created_at = DateTimeField(default=utcnow)

    @property
    def window_list(self):
        """The pass's daily windows."""
        return parse_windows(self.windows)

    def zone_ids(self) -> list[int]:
        """The zones the pass covers."""
        return [z.zone_id for z in TruckPassZone.select().where(TruckPassZone.truck_pass == self)]

    @classmethod
    def same_application(cls, applicant, vehicle, start, end, zone_ids) -> "TruckPass | None":
        """An application of this applicant still standing (not refused, revoked, withdrawn or
        returned) for this truck, these days and exactly these zones: what a second tap on
        "submit" would repeat."""
        candidates = cls.select().where(
            (cls.applicant == applicant)
            & (cls.vehicle == vehicle)
            & (cls.start_date == start)
            & (cls.end_date == end)
            & cls.status.not_in(ENDED)
        )
        return next((p for p in candidates if p.repeats(applicant, start, end, zone_ids)), None)

    def repeats(self, applicant, start: dt.date, end: dt.date, zone_ids) -> bool:
        """Whether an application by `applicant` for these days and exactly these zones (of the
        same truck) would be this one sent again."""
        return (
            self.applicant_id == applicant.id
            and (self.start_date, self.end_date) == (start, end)
            and set(self.zone_ids()) == set(zone_ids)
        )

    @classmethod
    def standing_near(cls, vehicle, zone_ids, start: dt.date, end: dt.date) -> list["TruckPass"]:
        """The truck's passes and applications still standing in any of these zones whose days
        come within a day of `start` to `end` (a night window reaches into the next morning):
        those a new pass for these days might cover twice. Those of an earlier registration
        (another plate: see moved_on) stand no more."""
        day = dt.timedelta(days=1)
        in_zones = TruckPassZone.select(TruckPassZone.truck_pass).where(
            TruckPassZone.zone.in_(list(zone_ids))
        )
        return list(
            cls.select()
            .join(Vehicle, on=(cls.vehicle == Vehicle.id))
            .where(
                (cls.vehicle == vehicle)
                & (cls.plate == Vehicle.plate)
                & (cls.start_date <= end + day)
                & (cls.end_date >= start - day)
                & cls.status.not_in(ENDED)
                & cls.id.in_(in_zones)
            )
            .order_by(cls.start_date)
        )

    def moved_on(self) -> bool:
        """Whether the truck has left the registration this pass or application was made under:
        a transfer gives it a new owner and a new plate (and a truck whose archive went to
        another office is transferred out here meanwhile). A pass ends with its registration;
        the new owner applies for their own."""
        vehicle = self.vehicle
        return vehicle.plate != self.plate or vehicle.status == TRANSFERRED_OUT

    def verdict_at(self, local: dt.datetime) -> str:
        """The pass's state at a Beijing wall-clock moment, as the verifier says it."""
        if self.status == REVOKED:
            return "revoked"
        if self.status == RETURNED:
            return "returned"
        if self.status != APPROVED:
            return "not-approved"
        if self.moved_on():
            return "expired-pass" if local.date() > self.end_date else "re-registered"
        if window_covers(self.window_list, local, self.start_date, self.end_date):
            return "valid"
        if local.date() < self.start_date:
            return "not-yet-valid"
        if local.date() > self.end_date:
            return "expired-pass"  # a night window's tail after the last date is covered above
        return "outside-window"


class TruckPassZone(BaseModel):
    """A zone a pass (or application) covers."""

    truck_pass = ForeignKeyField(TruckPass, backref="zone_rows", on_delete="CASCADE")
    zone = ForeignKeyField(RestrictedZone, on_delete="RESTRICT")

    class Meta:
        indexes = ((("truck_pass", "zone"), True),)


class TruckPassDocument(BaseModel):
    """A document attached to an application (type checked by content, stored by the server)."""

    truck_pass = ForeignKeyField(TruckPass, backref="documents", on_delete="CASCADE")
    relpath = CharField(max_length=200)
    sha256 = CharField(max_length=64)
    mime = CharField(max_length=40)
    size = IntegerField()
    created_at = DateTimeField(default=utcnow)

    @classmethod
    def attach(cls, truck_pass, stored) -> "TruckPassDocument":
        """Attach a file stored as an upload (core.uploads.StoredFile) to the application."""
        return cls.create(
            truck_pass=truck_pass,
            relpath=stored.relpath,
            sha256=stored.sha256,
            mime=stored.mime,
            size=stored.size,
        )
